//! The service's audit trail: logins (failed too), downloads, state changes
//! and list changes recorded with who, from where and the status; the
//! coordinators' route; the chain intact and checkpointed.

use tiaki_core::store::Timestamp;

use crate::common::{NOW, Server};

#[test]
fn actions_are_recorded_and_the_chain_verifies() {
    for store in tiaki_testkit::stores("server_audit") {
        let server = Server::start(store);
        let nz = server.token("liaison-nz");
        let bad = server.send("POST", "/api/v1/session", None, r#"{"name": "liaison-nz", "password": "wrong password!!"}"#);
        assert_eq!(bad.status, 401);
        assert_eq!(server.get("/api/v1/referrals/R-NZ-0001/package", Some(nz)).status, 200);
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(nz), r#"{"state": "acknowledged"}"#);
        assert_eq!(a.status, 200);
        // Outside the caller's country: 404, and recorded as an attempt.
        assert_eq!(server.get("/api/v1/referrals/R-AU-0001/package", Some(nz)).status, 404);
        let c = server.send("PATCH", "/api/v1/lists/KNOWN_A", Some(server.token("curator-gb")), r#"{"enabled": false}"#);
        assert_eq!(c.status, 200);

        assert_eq!(server.get("/api/v1/audit", Some(nz)).status, 404);
        let log = server.get("/api/v1/audit?limit=1000", Some(server.token("coordinator-gb"))).json();
        let rows = log["entries"].as_array().unwrap();
        let seen: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r["action"].as_str().unwrap().to_owned(),
                    r["actor"].as_str().unwrap().to_owned(),
                    r["target"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let has = |action: &str, actor: &str, target: &str| {
            seen.iter().any(|(a, b, c)| a == action && b == actor && c == target)
        };
        assert!(has("login.failed", "liaison-nz", "session"), "{seen:?}");
        assert!(has("referral.downloaded", "liaison-nz", "/api/v1/referrals/R-NZ-0001/package"), "{seen:?}");
        assert!(has("referral.state_changed", "liaison-nz", "/api/v1/referrals/R-NZ-0001/state"), "{seen:?}");
        assert!(has("list.changed", "curator-gb", "/api/v1/lists/KNOWN_A"), "{seen:?}");
        let down = rows.iter().find(|r| r["action"] == "referral.downloaded").unwrap();
        assert_eq!(down["country"], "NZ");
        assert_eq!(down["detail"]["status"], 200);
        assert_eq!(down["remote_addr"], "127.0.0.1");
        // An attempt on another country's package is recorded with its 404.
        let tried = rows
            .iter()
            .find(|r| r["target"] == "/api/v1/referrals/R-AU-0001/package")
            .unwrap();
        assert_eq!(tried["detail"]["status"], 404);
        // Reading the log is itself recorded (after this answer).
        let again = server.get("/api/v1/audit?action=audit.viewed", Some(server.token("coordinator-gb"))).json();
        assert!(!again["entries"].as_array().unwrap().is_empty());
        assert_eq!(server.get("/api/v1/audit?action=nonsense", Some(server.token("coordinator-gb"))).status, 400);

        // The chain is intact, and a checkpoint signed with the issuer key verifies.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let s = tiaki_core::store::Store::open(server.store.data(), server.store.database())
                .await
                .unwrap();
            let dir = server.store.data();
            tiaki_core::refer::create_issuer_keys(dir, "audit test").unwrap();
            let keys = tiaki_core::refer::load_issuer_keys(dir, "audit test").unwrap();
            tiaki_core::audit::checkpoint(&s, &keys, dir, &Timestamp::from_unix(NOW + 60))
                .await
                .unwrap();
            let public = tiaki_core::refer::issuer_public_key_for(dir, None).unwrap();
            let report = tiaki_core::audit::verify(&s, Some(&public), dir).await.unwrap();
            assert!(report.intact(), "{report:?}");
        });
    }
}

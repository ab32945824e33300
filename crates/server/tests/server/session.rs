//! Browser sessions: login, the cookie's attributes, CSRF on state changes,
//! logout, rate-limited failures, and the idle and absolute timeouts.

use tiaki_core::store::Timestamp;
use tiaki_core::users::{self, SessionPolicy, UserError};
use tiaki_core::types::access::Role;

use crate::common::{NOW, Server, request_with};

fn cookie_of(a: &crate::common::Answer) -> String {
    let c = a.header("set-cookie").expect("a session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(c.contains(attr), "{c} lacks {attr}");
    }
    c.split(';').next().unwrap().to_owned()
}

#[test]
fn login_csrf_logout_and_rate_limit() {
    for store in tiaki_testkit::stores("server_session") {
        let server = Server::start(store);
        let login = |name: &str, pw: &str| {
            server.send(
                "POST",
                "/api/v1/session",
                None,
                &serde_json::json!({"name": name, "password": pw}).to_string(),
            )
        };
        let a = login("liaison-nz", "a long enough password");
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let cookie = cookie_of(&a);
        let csrf = a.json()["csrf_token"].as_str().unwrap().to_owned();
        let me = request_with(server.addr, "GET", "/api/v1/me", &[("Cookie", &cookie)], None);
        assert_eq!(me.json()["name"], "liaison-nz");
        // A state change without the CSRF token is refused, with it allowed.
        let body = br#"{"state": "acknowledged"}"#;
        let path = "/api/v1/referrals/R-NZ-0001/state";
        let a = request_with(server.addr, "POST", path, &[("Cookie", &cookie)], Some(body));
        assert_eq!((a.status, a.json()["code"].as_str()), (403, Some("csrf_rejected")));
        let a = request_with(server.addr, "POST", path, &[("Cookie", &cookie), ("X-CSRF-Token", "0")], Some(body));
        assert_eq!(a.status, 403);
        let a = request_with(server.addr, "POST", path, &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)], Some(body));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        // The session's scope is the user's: another country's referral is 404.
        let a = request_with(server.addr, "GET", "/api/v1/referrals/R-AU-0001", &[("Cookie", &cookie)], None);
        assert_eq!(a.status, 404);
        // Logout ends it.
        let a = request_with(server.addr, "DELETE", "/api/v1/session", &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)], None);
        assert_eq!(a.status, 204);
        assert!(a.header("set-cookie").unwrap().contains("Max-Age=0"));
        let me = request_with(server.addr, "GET", "/api/v1/me", &[("Cookie", &cookie)], None);
        assert_eq!(me.status, 401);

        // Wrong password, unknown user, same answer; then rate limited.
        let wrong = login("analyst-gb", "not the password at all");
        let unknown = login("nobody", "not the password at all");
        assert_eq!((wrong.status, unknown.status), (401, 401));
        assert_eq!(wrong.json(), unknown.json());
        for _ in 0..4 {
            assert_eq!(login("analyst-gb", "not the password at all").status, 401);
        }
        let a = login("analyst-gb", "a long enough password");
        assert_eq!((a.status, a.json()["code"].as_str()), (429, Some("rate_limited")));
        // Another account from the same address is not locked by it.
        assert_eq!(login("curator-gb", "a long enough password").status, 200);
    }
}

#[test]
fn sessions_end_when_idle_or_old_and_with_their_user() {
    for store in tiaki_testkit::stores("server_session_timeouts") {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let s = tiaki_core::store::Store::open(store.data(), store.database()).await.unwrap();
            let t0 = Timestamp::from_unix(NOW);
            let at = |secs: i64| Timestamp::from_unix(NOW + secs);
            users::add_user(&s, "u", "NZ", Role::Analyst, Some("a long enough password"), &t0).await.unwrap();
            let p = SessionPolicy::default();
            let new = users::login(&s, "u", "a long enough password", "127.0.0.1", &t0, &p).await.unwrap();
            // Used every 20 minutes: alive for 12 hours, then over.
            let mut t = 0;
            while t + 1200 < p.absolute_seconds {
                t += 1200;
                assert!(users::authenticate_session(&s, &new.token, &at(t), &p).await.unwrap().is_some(), "at {t}");
            }
            assert!(users::authenticate_session(&s, &new.token, &at(p.absolute_seconds), &p).await.unwrap().is_none());
            // Idle for 31 minutes: over.
            let new = users::login(&s, "u", "a long enough password", "127.0.0.1", &t0, &p).await.unwrap();
            assert!(users::authenticate_session(&s, &new.token, &at(31 * 60), &p).await.unwrap().is_none());
            // Disabled user: over at once.
            let new = users::login(&s, "u", "a long enough password", "127.0.0.1", &t0, &p).await.unwrap();
            users::change_user(&s, "u", None, None, Some(true), None, &t0).await.unwrap();
            assert!(users::authenticate_session(&s, &new.token, &at(1), &p).await.unwrap().is_none());
            assert!(matches!(
                users::login(&s, "u", "a long enough password", "127.0.0.1", &t0, &p).await,
                Err(UserError::BadCredentials)
            ));
        });
    }
}

//! The API's behaviour beyond access: error bodies, state changes,
//! outcomes, tokens.

use crate::common::Server;

#[test]
fn errors_are_json_with_a_code() {
    for store in tiaki_testkit::stores("server_errors") {
        let server = Server::start(store);
        let t = server.token("coordinator-gb");
        // Malformed JSON, a wrong type, an unknown field: 4xx with the body.
        for body in ["{", r#"{"state": 3}"#, r#"{"state": "sent", "colour": "red"}"#] {
            let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(t), body);
            assert!((400..500).contains(&a.status), "{body}: {}", a.status);
            let j = a.json();
            assert!(j["message"].is_string() && j["code"].is_string(), "{j}");
        }
        // An unknown route and a wrong method.
        let a = server.get("/api/v1/nothing-here", Some(t));
        assert_eq!((a.status, a.json()["code"].as_str()), (404, Some("not_found")));
        let a = server.send("DELETE", "/api/v1/stats", Some(t), "");
        assert_eq!(a.status, 405);
        assert!(a.json()["message"].is_string());
        // A bad token, a revoked or expired one.
        let a = server.get("/api/v1/me", Some("tiaki_0000"));
        assert_eq!(a.status, 401);
        assert_eq!(a.header("www-authenticate"), Some("Bearer"));
        // Security headers on every answer.
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
        assert!(a.header("x-request-id").is_some());
    }
}

#[test]
fn states_move_forward_and_outcomes_are_checked() {
    for store in tiaki_testkit::stores("server_states") {
        let server = Server::start(store);
        let nz = server.token("liaison-nz");
        let c = server.token("coordinator-gb");
        // A liaison officer cannot send; the coordinator can.
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(nz), r#"{"state": "sent"}"#);
        assert_eq!(a.status, 400, "{}", String::from_utf8_lossy(&a.body));
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(c), r#"{"state": "sent"}"#);
        assert_eq!((a.status, a.json()["state"].as_str()), (200, Some("sent")));
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(nz), r#"{"state": "acknowledged"}"#);
        assert_eq!((a.status, a.json()["state"].as_str()), (200, Some("acknowledged")));
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(c), r#"{"state": "sent"}"#);
        assert_eq!((a.status, a.json()["code"].as_str()), (409, Some("conflict")));
        // Outcomes: checked like an outcome file; counted ones need a count.
        let a = server.send(
            "POST",
            "/api/v1/referrals/R-NZ-0001/outcomes",
            Some(nz),
            r#"{"at": "2026-11-30T12:00:00Z", "event": "arrest"}"#,
        );
        assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
        assert!(a.json()["message"].as_str().unwrap().contains("needs a count"));
        let a = server.send(
            "POST",
            "/api/v1/referrals/R-NZ-0001/outcomes",
            Some(nz),
            r#"{"at": "2026-12-01T12:00:00Z", "event": "arrest", "count": 2}"#,
        );
        assert_eq!((a.status, a.json()["added"].as_u64()), (200, Some(1)));
        let s = server.get("/api/v1/stats", Some(nz)).json();
        assert_eq!(s["arrests"], 2);
        let s = server.get("/api/v1/stats", Some(server.token("liaison-au"))).json();
        assert_eq!(s["arrests"], 0);
        let d = server.get("/api/v1/referrals/R-NZ-0001", Some(nz)).json();
        let events: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["built", "sent", "acknowledged", "arrest"]);
    }
}

#[test]
fn lists_upload_import_once_and_disable() {
    for store in tiaki_testkit::stores("server_lists") {
        let server = Server::start(store);
        let t = server.token("curator-gb");
        let list = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\nnot a hash\n";
        let a = server.send("POST", "/api/v1/lists?name=UPLOADED", Some(t), list);
        assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
        let j = a.json();
        assert_eq!(j["list"]["entries"], 1);
        assert_eq!(j["import"]["rejected"], 1);
        let rejected = j["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].as_str().unwrap().contains("line 2"), "{rejected:?}");
        // The same file again: nothing imported, 200.
        let a = server.send("POST", "/api/v1/lists?name=UPLOADED", Some(t), list);
        assert_eq!(a.status, 200);
        assert!(a.json()["import"].is_null());
        // Another file under the taken name: 409.
        let a = server.send("POST", "/api/v1/lists?name=UPLOADED", Some(t), "0000000000000000000000000000000000000000000000000000000000000001\n");
        assert_eq!((a.status, a.json()["code"].as_str()), (409, Some("conflict")));
        // A bad format name: 400.
        let a = server.send("POST", "/api/v1/lists?name=X&format=word", Some(t), list);
        assert_eq!(a.status, 400);
        // Listed, then disabled.
        let l = server.get("/api/v1/lists", Some(t)).json();
        assert!(l["lists"].as_array().unwrap().iter().any(|x| x["name"] == "UPLOADED"));
        let a = server.send("PATCH", "/api/v1/lists/UPLOADED", Some(t), r#"{"enabled": false}"#);
        assert_eq!((a.status, a.json()["enabled"].as_bool()), (200, Some(false)));
        let a = server.send("PATCH", "/api/v1/lists/NOPE", Some(t), r#"{"enabled": false}"#);
        assert_eq!(a.status, 404);
    }
}

#[test]
fn triage_queue_new_first_in_pages() {
    for store in tiaki_testkit::stores("server_triage") {
        let server = Server::start(store);
        let t = server.token("analyst-gb");
        let all = server.get("/api/v1/triage?limit=1000", Some(t)).json();
        let total = all["total"].as_u64().unwrap();
        assert!(total > 0);
        let clusters = all["clusters"].as_array().unwrap();
        assert_eq!(clusters.len() as u64, total.min(1000));
        // New material first.
        let states: Vec<&str> = clusters.iter().map(|c| c["state"].as_str().unwrap()).collect();
        let mut sorted = states.clone();
        sorted.sort_by_key(|s| ["new", "near-known", "known"].iter().position(|x| x == s));
        assert_eq!(states, sorted);
        let page = server.get("/api/v1/triage?offset=1&limit=2&members=1", Some(t)).json();
        assert_eq!(page["clusters"][0]["representative"], clusters[1]["representative"]);
        assert!(page["clusters"][0]["members"].as_array().unwrap().len() <= 1);
        assert_eq!(server.get("/api/v1/triage?limit=5000", Some(t)).status, 400);
        assert_eq!(server.get("/api/v1/triage?colour=red", Some(t)).status, 400);
    }
}

#[test]
fn oversized_bodies_are_413_with_the_error_body() {
    for store in tiaki_testkit::stores("server_limits") {
        let limits = tiaki_server::Limits {
            body_bytes: 1024,
            request_seconds: 60,
        };
        let server = Server::start_with(store, limits);
        let big = "0".repeat(4096);
        let a = server.send("POST", "/api/v1/lists?name=BIG", Some(server.token("curator-gb")), &big);
        assert_eq!((a.status, a.json()["code"].as_str()), (413, Some("payload_too_large")));
        let note = format!(r#"{{"state": "acknowledged", "note": "{big}"}}"#);
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(server.token("liaison-nz")), &note);
        assert_eq!((a.status, a.json()["code"].as_str()), (413, Some("payload_too_large")));
        // Nothing was stored by either.
        let l = server.get("/api/v1/lists", Some(server.token("curator-gb"))).json();
        assert!(!l["lists"].as_array().unwrap().iter().any(|x| x["name"] == "BIG"));
        let r = server.get("/api/v1/referrals/R-NZ-0001", Some(server.token("liaison-nz"))).json();
        assert_eq!(r["state"], "built");
    }
}

#[test]
fn metrics_count_routes_by_template() {
    for store in tiaki_testkit::stores("server_metrics") {
        let server = Server::start(store);
        let nz = server.token("liaison-nz");
        for _ in 0..3 {
            assert_eq!(server.get("/api/v1/referrals/R-NZ-0001", Some(nz)).status, 200);
        }
        assert_eq!(server.get("/metrics", Some(nz)).status, 404);
        let a = server.get("/metrics", Some(server.token("admin-gb")));
        assert_eq!(a.status, 200);
        assert!(a.header("content-type").unwrap().starts_with("text/plain"));
        let text = String::from_utf8(a.body).unwrap();
        assert!(
            text.contains(r#"tiaki_http_requests_total{method="GET",route="/api/v1/referrals/{id}",status="200"} 3"#),
            "{text}"
        );
        assert!(text.contains("tiaki_http_request_duration_seconds_bucket"));
        assert!(text.contains("tiaki_index_hashes 2"), "{text}");
        assert!(!text.contains("R-NZ-0001"), "ids never become labels");
    }
}

#[test]
fn a_user_disabled_through_the_api_is_refused_at_once() {
    for store in tiaki_testkit::stores("server_disable") {
        let server = Server::start(store);
        let admin = server.token("admin-gb");
        let nz = server.token("liaison-nz");
        // Good, and now remembered by the token cache.
        assert_eq!(server.get("/api/v1/me", Some(nz)).status, 200);
        let a = server.send("PATCH", "/api/v1/users/liaison-nz", Some(admin), r#"{"disabled": true}"#);
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        // The instance that made the change forgets the token at once.
        assert_eq!(server.get("/api/v1/me", Some(nz)).status, 401);
        let a = server.send("PATCH", "/api/v1/users/liaison-nz", Some(admin), r#"{"disabled": false}"#);
        assert_eq!(a.status, 200);
        assert_eq!(server.get("/api/v1/me", Some(nz)).status, 200);
    }
}

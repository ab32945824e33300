//! Media metadata with matches, and accounts with their person, links and
//! attribution evidence: shapes on both backends, 404 for unknown ids, 400
//! with the error body for bad ids and parameters, and the media view in
//! the audit log.

use serde_json::Value;

use crate::common::Server;

/// The error body of a 4xx, with its status.
fn error(server: &Server, path: &str, token: &str) -> (u16, String) {
    let a = server.get(path, Some(token));
    let j = a.json();
    assert!(j["message"].is_string() && j["type"].is_string(), "{path}: {j}");
    (a.status, j["code"].as_str().unwrap().to_owned())
}

#[test]
fn media_metadata_matches_and_audit() {
    for store in tiaki_testkit::stores("server_media") {
        let backend = store.name();
        let server = Server::start(store);
        let t = server.token("analyst-gb");
        // Every media id of the report, through the triage queue.
        let q = server.get("/api/v1/triage?limit=1000&members=1000", Some(t)).json();
        let mut ids: Vec<i64> = q["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["members"].as_array().unwrap().iter().map(|m| m.as_i64().unwrap()))
            .collect();
        ids.sort_unstable();
        assert_eq!(ids.len(), 40, "{backend}");
        let all: Vec<Value> = ids
            .iter()
            .map(|id| {
                let a = server.get(&format!("/api/v1/media/{id}"), Some(t));
                assert_eq!(a.status, 200, "{backend}: {}", String::from_utf8_lossy(&a.body));
                a.json()
            })
            .collect();
        let m = all
            .iter()
            .find(|m| m["hashes"]["sha256"].is_string() && m["uploader"].is_object())
            .unwrap_or_else(|| panic!("{backend}: no hashed media with an uploader"));
        let id = m["id"].as_i64().unwrap();
        for key in ["intake_id", "report_id", "provider", "provider_id", "line", "account", "hash_state", "stored", "data"] {
            assert!(!m[key].is_null(), "{backend}: {key} in {m}");
        }
        assert_eq!(m["uploader"]["provider_id"], m["account"], "{backend}");
        assert!(m["shared_with"].is_array() && m["shared_by"].is_array(), "{backend}");
        let sha256 = m["hashes"]["sha256"].as_str().unwrap().to_owned();
        assert_eq!(sha256.len(), 64);
        assert!(m["matches"].as_array().unwrap().is_empty(), "{backend}: {m}");
        // Metadata only: no file, no path to one.
        assert!(m.get("file").is_none() && m.get("content").is_none(), "{backend}: {m}");

        // A list holding its SHA-256, imported through the service (which
        // matches earlier intakes against it): the match shows with its entry.
        let list = format!("sha256,series,note\n{sha256},SERIES-A,benign test entry\n");
        let a = server.send("POST", "/api/v1/lists?name=MEDIA_CSV&format=csv", Some(server.token("curator-gb")), &list);
        assert_eq!(a.status, 201, "{backend}: {}", String::from_utf8_lossy(&a.body));
        let m = server.get(&format!("/api/v1/media/{id}"), Some(t)).json();
        assert_eq!(m["triage"], "known", "{backend}: {m}");
        let hit = &m["matches"][0];
        assert_eq!((hit["list"].as_str(), hit["kind"].as_str(), hit["distance"].as_u64()), (Some("MEDIA_CSV"), Some("exact"), Some(0)), "{backend}: {m}");
        assert!(hit["entry"].is_u64(), "{backend}: {hit}");
        assert_eq!(hit["list_entry"]["series"], "SERIES-A", "{backend}: {hit}");
        assert_eq!(hit["list_entry"]["sha256"], sha256.as_str(), "{backend}: {hit}");

        // Unknown and bad ids.
        assert_eq!(error(&server, "/api/v1/media/999999", t), (404, "not_found".into()));
        assert_eq!(error(&server, "/api/v1/media/abc", t).0, 400);
        assert_eq!(error(&server, "/api/v1/media/99999999999999999999", t).0, 400);
        // Outside the role: the same 404.
        assert_eq!(error(&server, &format!("/api/v1/media/{id}"), server.token("liaison-nz")), (404, "not_found".into()));

        // Every view is in the audit log, with its status.
        let log = server.get("/api/v1/audit?action=media.viewed&limit=1000", Some(server.token("coordinator-gb"))).json();
        let rows = log["entries"].as_array().unwrap();
        let seen = |target: &str, status: u64| {
            rows.iter().any(|r| {
                r["actor"] == "analyst-gb" && r["target"] == target && r["detail"]["status"] == status
            })
        };
        assert!(seen(&format!("/api/v1/media/{id}"), 200), "{backend}: {rows:?}");
        assert!(seen("/api/v1/media/999999", 404), "{backend}: {rows:?}");
        assert_eq!(rows.iter().filter(|r| r["actor"] == "analyst-gb").count(), all.len() + 4, "{backend}");
    }
}

#[test]
fn accounts_with_person_links_and_attribution() {
    for store in tiaki_testkit::stores("server_accounts") {
        let backend = store.name();
        let server = Server::start(store);
        let t = server.token("analyst-gb");
        let all = server.get("/api/v1/accounts?limit=1000", Some(t)).json();
        assert_eq!(all["total"], 20, "{backend}: {all}");
        let accounts = all["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 20);
        let ids: Vec<i64> = accounts.iter().map(|a| a["account_id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{backend}: {ids:?}");
        for a in accounts {
            for key in ["intake_id", "report_id", "provider", "provider_id"] {
                assert!(!a[key].is_null(), "{backend}: {key} in {a}");
            }
            assert!(a["attribution"].is_object(), "{backend}: attributed at ingest: {a}");
            assert!(a["findings"].is_array());
        }
        // Pages.
        let page = server.get("/api/v1/accounts?offset=1&limit=2", Some(t)).json();
        assert_eq!(page["total"], 20);
        let got: Vec<i64> = page["accounts"].as_array().unwrap().iter().map(|a| a["account_id"].as_i64().unwrap()).collect();
        assert_eq!(got, ids[1..3]);
        // By intake.
        let intake = accounts[0]["intake_id"].as_i64().unwrap();
        assert_eq!(server.get(&format!("/api/v1/accounts?intake={intake}&limit=1"), Some(t)).json()["total"], 20);
        assert_eq!(server.get("/api/v1/accounts?intake=999999", Some(t)).json()["total"], 0);
        // By person (label or id): the person's members.
        let linked = accounts.iter().find(|a| a["person"].is_string()).expect("a linked account");
        let label = linked["person"].as_str().unwrap();
        let person = server.get(&format!("/api/v1/persons/{label}"), Some(t)).json();
        let members: Vec<i64> = person["members"].as_array().unwrap().iter().map(|m| m["account_id"].as_i64().unwrap()).collect();
        for key in [label.to_owned(), person["id"].to_string()] {
            let of = server.get(&format!("/api/v1/accounts?person={key}&limit=1000"), Some(t)).json();
            let got: Vec<i64> = of["accounts"].as_array().unwrap().iter().map(|a| a["account_id"].as_i64().unwrap()).collect();
            assert_eq!(got, members, "{backend}: person {key}");
        }
        // By country, in either case.
        let attributed = accounts.iter().find(|a| a["attribution"]["country"].is_string()).expect("an attributed account");
        let country = attributed["attribution"]["country"].as_str().unwrap();
        for c in [country.to_owned(), country.to_lowercase()] {
            let of = server.get(&format!("/api/v1/accounts?country={c}&limit=1000"), Some(t)).json();
            let list = of["accounts"].as_array().unwrap();
            assert!(!list.is_empty() && list.iter().all(|a| a["attribution"]["country"] == country), "{backend}: {c}");
        }

        // One account: fields, person, attribution and every link with an end in it.
        let id = linked["account_id"].as_i64().unwrap();
        let d = server.get(&format!("/api/v1/accounts/{id}"), Some(t)).json();
        assert_eq!(d["account_id"], id);
        assert_eq!(d["person"], label);
        assert_eq!(d["data"]["id"], linked["provider_id"], "{backend}: {d}");
        assert!(d["attribution"]["evidence"].is_array() && d["attribution"]["confidence"].is_number(), "{backend}: {d}");
        let links = d["links"].as_array().unwrap();
        let expected: Vec<&Value> = person["links"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["a"]["account_id"] == id || l["b"]["account_id"] == id)
            .collect();
        assert_eq!(links.len(), expected.len(), "{backend}");
        for (l, e) in links.iter().zip(&expected) {
            assert_eq!((&l["id"], &l["kind"], &l["evidence"], &l["weight"]), (&e["id"], &e["kind"], &e["evidence"], &e["weight"]), "{backend}");
        }

        // Unknown ids, bad ids and bad parameters: 404 and 400 with the body.
        assert_eq!(error(&server, "/api/v1/accounts/999999", t), (404, "not_found".into()));
        for bad in [
            "/api/v1/accounts/abc",
            "/api/v1/accounts?limit=5000",
            "/api/v1/accounts?limit=-1",
            "/api/v1/accounts?offset=-1",
            "/api/v1/accounts?offset=9223372036854775808",
            "/api/v1/accounts?intake=x",
            "/api/v1/accounts?country=ZZZ",
            "/api/v1/accounts?country=QQ",
            "/api/v1/accounts?colour=red",
        ] {
            assert_eq!(error(&server, bad, t).0, 400, "{backend}: {bad}");
        }
        // Outside the role: the same 404.
        assert_eq!(error(&server, "/api/v1/accounts", server.token("liaison-nz")), (404, "not_found".into()));
    }
}

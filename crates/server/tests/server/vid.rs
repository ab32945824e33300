//! The victim-identification API (issue 20) on both backends: records and
//! their steps, refusals that change nothing, search by hash and upload,
//! and a liaison officer's view limited to their country's contributions.

use serde_json::{Value, json};

use crate::common::{Server, multipart};

fn send(server: &Server, method: &str, path: &str, token: &str, body: Value) -> crate::common::Answer {
    server.send(method, path, Some(token), &body.to_string())
}

#[test]
fn records_steps_and_scope() {
    for store in tiaki_testkit::stores("server_vid") {
        let backend = store.name();
        let server = Server::start(store);
        let vid = server.token("victim_id-gb");
        let analyst = server.token("analyst-gb");
        let nz = server.token("liaison-nz");

        // A series, contributed by the caller's agency; its name is unique.
        let a = send(&server, "POST", "/api/v1/vid/series", vid, json!({"name": "SERIES GB", "notes": "n"}));
        assert_eq!(a.status, 201, "{backend}: {}", String::from_utf8_lossy(&a.body));
        let s = a.json();
        assert_eq!((s["agency"].as_str(), s["name"].as_str()), (Some("GB"), Some("SERIES GB")));
        let sid = s["id"].as_i64().unwrap();
        let a = send(&server, "POST", "/api/v1/vid/series", vid, json!({"name": "SERIES GB"}));
        assert_eq!((a.status, a.json()["code"].as_str()), (409, Some("conflict")));
        // Analysts read, do not write.
        let a = send(&server, "POST", "/api/v1/vid/series", analyst, json!({"name": "OTHER"}));
        assert_eq!(a.status, 404);

        // A victim: unidentified, then refused a jump, then identified.
        let a = send(&server, "POST", &format!("/api/v1/vid/series/{sid}/victims"), vid, json!({}));
        assert_eq!(a.status, 201, "{backend}: {}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.json()["status"], "unidentified");
        let v = a.json()["id"].as_i64().unwrap();
        let path = format!("/api/v1/vid/victims/{v}");
        let jump = json!({"status": "safeguarded", "country": "GB", "by": "GB"});
        let a = send(&server, "PATCH", &path, vid, jump);
        assert_eq!((a.status, a.json()["code"].as_str()), (409, Some("conflict")), "{backend}");
        assert!(a.json()["message"].as_str().unwrap().contains("nothing was changed"), "{}", a.json());
        let a = send(&server, "PATCH", &path, vid, json!({"status": "identified"}));
        assert_eq!(a.status, 400, "{backend}: {}", a.json());
        assert!(a.json()["message"].as_str().unwrap().contains("country"), "{}", a.json());
        let a = send(&server, "PATCH", &path, vid, json!({"status": "identified", "country": "GB", "by": "GB"}));
        assert_eq!(a.status, 200, "{backend}: {}", a.json());
        assert_eq!((a.json()["status"].as_str(), a.json()["step"]["country"].as_str()), (Some("identified"), Some("GB")));
        let a = send(&server, "PATCH", &path, vid, json!({"colour": "red"}));
        assert_eq!(a.status, 422, "unknown fields are refused");
        // An offender.
        let a = send(&server, "POST", &format!("/api/v1/vid/series/{sid}/offenders"), vid, json!({"notes": "seen"}));
        assert_eq!((a.status, a.json()["status"].as_str()), (201, Some("unidentified")));

        // The series with its history, as analysts read it.
        let a = server.get(&format!("/api/v1/vid/series/{sid}"), Some(analyst));
        assert_eq!(a.status, 200);
        let d = a.json();
        assert_eq!(d["victims"][0]["status"], "identified");
        assert_eq!(d["offenders"].as_array().unwrap().len(), 1);
        let events: Vec<&str> = d["history"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
        assert!(events.contains(&"created") && events.contains(&"status"), "{events:?}");
        // By name too; an unknown one is 404.
        assert_eq!(server.get("/api/v1/vid/series/SERIES%20GB", Some(analyst)).status, 200);
        assert_eq!(server.get("/api/v1/vid/series/NOTHING", Some(analyst)).status, 404);

        // A liaison officer sees their country's contributions only.
        let list = server.get("/api/v1/vid/series", Some(nz)).json();
        let names: Vec<&str> = list["series"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["SERIES NZ"], "{backend}");
        assert_eq!(server.get(&format!("/api/v1/vid/series/{sid}"), Some(nz)).status, 404);
        let a = server.get("/api/v1/vid/victims", Some(nz));
        assert!(a.json()["victims"].as_array().unwrap().iter().all(|v| v["agency"] == "NZ"), "{}", a.json());

        // Media by hash, then search by hash and by upload.
        let png = tiaki_testkit::picture_png(21, 320, 240);
        let pdq = multipart(&server, "/h/hash", vid, "photo", &png, None).json()["pdq"].as_str().unwrap().to_owned();
        let a = send(&server, "POST", &format!("/api/v1/vid/series/{sid}/media"), vid, json!({"hashes": [pdq]}));
        assert_eq!(a.status, 201, "{backend}: {}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.json()["media"][0]["pdq"].as_str(), Some(pdq.as_str()));
        let a = send(&server, "POST", &format!("/api/v1/vid/series/{sid}/media"), vid, json!({"hashes": ["xyz"]}));
        assert_eq!(a.status, 400, "{}", a.json());
        let a = server.get(&format!("/api/v1/vid/search?hash={pdq}"), Some(analyst));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let m = &a.json()["matches"][0];
        assert_eq!((m["series"].as_i64(), m["distance"].as_u64()), (Some(sid), Some(0)), "{}", a.json());
        assert_eq!(m["victim_status"], "identified");
        let a = multipart(&server, "/api/v1/vid/search", analyst, "photo", &png, None);
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.json()["matches"][0]["series"].as_i64(), Some(sid), "{}", a.json());
        // An unrelated picture finds nothing; the liaison officer does not
        // find another country's series.
        let other = tiaki_testkit::picture_png(22, 320, 240);
        let a = multipart(&server, "/api/v1/vid/search", analyst, "photo", &other, None);
        assert_eq!(a.json()["matches"], json!([]), "{}", a.json());
        let a = server.get(&format!("/api/v1/vid/search?hash={pdq}"), Some(nz));
        assert_eq!(a.json()["matches"], json!([]), "{}", a.json());
        let a = server.get("/api/v1/vid/search?hash=nothex", Some(analyst));
        assert_eq!(a.status, 400);

        // Every change is in the audit log.
        let a = server.get("/api/v1/audit?limit=1000", Some(server.token("coordinator-gb")));
        let actions: Vec<String> = a.json()["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        for want in ["vid.series_added", "vid.victim_added", "vid.victim_changed", "vid.offender_added", "vid.media_added"] {
            assert!(actions.iter().any(|a| a == want), "{backend}: no {want} in {actions:?}");
        }
    }
}

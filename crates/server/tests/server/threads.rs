//! Referral threads over HTTP: the coordination unit and the NZ liaison
//! officer converse on R-NZ-0001 with an attachment (stored encrypted,
//! bytes round-trip), read receipts, another country's officer gets 404 on
//! every thread route, an oversized attachment is 413, and
//! `countries_engaged` moves when NZ acknowledges and answers.

use serde_json::Value;

use crate::common::Server;

const BOUNDARY: &str = "tiaki-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body: the message and files (name, type, bytes).
pub fn form(body: &str, files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let mut out = Vec::new();
    out.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n{body}\r\n"
        )
        .as_bytes(),
    );
    for (name, content_type, bytes) in files {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), out)
}

/// Posts a form on a referral's thread.
pub fn post_form(
    server: &Server,
    token: &str,
    referral: &str,
    body: &str,
    files: &[(&str, &str, &[u8])],
) -> crate::common::Answer {
    let (t, b) = form(body, files);
    server.send_typed("POST", &format!("/api/v1/referrals/{referral}/thread"), Some(token), &t, &b)
}

fn engaged(server: &Server, user: &str) -> u64 {
    let s = server.get("/api/v1/stats", Some(server.token(user))).json();
    s["countries_engaged"].as_u64().unwrap()
}

fn not_found(a: &crate::common::Answer, what: &str) {
    assert_eq!(a.status, 404, "{what}: {}", String::from_utf8_lossy(&a.body));
    assert_eq!(
        a.json(),
        serde_json::json!({"message": "not found", "code": "not_found", "type": "invalid_request"}),
        "{what}"
    );
}

#[test]
fn coordinator_and_liaison_converse() {
    for store in tiaki_testkit::stores("server_threads") {
        let backend = store.name();
        let server = Server::start(store);
        let c = server.token("coordinator-gb");
        let nz = server.token("liaison-nz");
        let au = server.token("liaison-au");
        let thread = "/api/v1/referrals/R-NZ-0001/thread";
        assert_eq!(engaged(&server, "coordinator-gb"), 0, "{backend}");

        // The coordinator writes; the NZ officer sees one unread message.
        let a = server.send("POST", thread, Some(c), r#"{"body": "Kia ora, the package is on its way."}"#);
        assert_eq!(a.status, 201, "{backend}: {}", String::from_utf8_lossy(&a.body));
        let first = a.json();
        assert_eq!(first["author"]["role"], "coordinator");
        let t = server.get(thread, Some(nz)).json();
        assert_eq!((t["messages"].as_array().unwrap().len(), t["unread"].as_u64()), (1, Some(1)));

        // NZ acknowledges: not engaged until it answers.
        let a = server.send("POST", "/api/v1/referrals/R-NZ-0001/state", Some(nz), r#"{"state": "acknowledged"}"#);
        assert_eq!(a.status, 200);
        assert_eq!(engaged(&server, "coordinator-gb"), 0, "{backend}");

        // NZ answers with an attachment (benign bytes, not UTF-8).
        let mut bytes = b"benign attachment: case notes \x00\xff\xfe ".to_vec();
        bytes.extend((0..5000u32).map(|i| (i % 251) as u8));
        let a = post_form(&server, nz, "R-NZ-0001", "Received; notes attached.", &[("notes v1.bin", "application/octet-stream", &bytes)]);
        assert_eq!(a.status, 201, "{backend}: {}", String::from_utf8_lossy(&a.body));
        let answer = a.json();
        assert_eq!(answer["author"]["name"], "liaison-nz");
        let att = &answer["attachments"][0];
        assert_eq!(att["size"].as_u64(), Some(bytes.len() as u64));
        assert_eq!(att["file_name"], "notes v1.bin");
        let sha = att["sha256"].as_str().unwrap().to_owned();

        // Engaged: NZ, for everyone who sees it; not AU's figure.
        assert_eq!(engaged(&server, "coordinator-gb"), 1, "{backend}");
        assert_eq!(engaged(&server, "liaison-nz"), 1, "{backend}");
        assert_eq!(engaged(&server, "liaison-au"), 0, "{backend}");

        // The coordinator downloads the bytes as sent; on disk they are encrypted.
        let url = format!("{thread}/attachments/{}", att["id"]);
        let d = server.get(&url, Some(c));
        assert_eq!(d.status, 200);
        assert_eq!(d.body, bytes, "{backend}");
        assert_eq!(d.header("content-type"), Some("application/octet-stream"));
        assert_eq!(d.header("content-disposition"), Some("attachment; filename=\"notes v1.bin\""));
        let blob = server.store.data().join("blobs").join(&sha[..2]).join(format!("{sha}.age"));
        let on_disk = std::fs::read(&blob).unwrap();
        assert!(on_disk.starts_with(b"age-encryption.org/v1"), "{backend}");
        assert!(!on_disk.windows(17).any(|w| w == b"benign attachment"), "{backend}: plaintext on disk");

        // Read receipts.
        let t = server.get(thread, Some(c)).json();
        assert_eq!(t["unread"], 1);
        let a = server.send("POST", &format!("{thread}/read"), Some(c), "{}");
        assert_eq!((a.status, a.json()["marked"].as_u64()), (200, Some(1)));
        let a = server.send("POST", &format!("{thread}/read"), Some(nz), &format!(r#"{{"up_to": {}}}"#, first["id"]));
        assert_eq!(a.json()["marked"], 1);
        let a = server.send("POST", &format!("{thread}/read"), Some(nz), "{}");
        assert_eq!(a.json()["marked"], 0, "own messages are not marked");
        let t = server.get(thread, Some(c)).json();
        assert_eq!(t["unread"], 0);
        let readers: Vec<Value> = t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["read_by"].as_array().unwrap().iter().map(|r| r["name"].clone()).collect())
            .collect();
        assert_eq!(readers, [serde_json::json!(["liaison-nz"]), serde_json::json!(["coordinator-gb"])], "{backend}");
        assert_eq!(t["messages"][1]["read_by"][0]["read_at"], "2026-12-01T00:00:00Z");

        // Another country's officer, and a role without referrals: 404 on every route.
        for (who, token) in [("liaison-au", au), ("analyst-gb", server.token("analyst-gb"))] {
            not_found(&server.get(thread, Some(token)), who);
            not_found(&server.send("POST", thread, Some(token), r#"{"body": "hello"}"#), who);
            not_found(&post_form(&server, token, "R-NZ-0001", "hello", &[("a.txt", "text/plain", b"x")]), who);
            not_found(&server.send("POST", &format!("{thread}/read"), Some(token), "{}"), who);
            not_found(&server.get(&url, Some(token)), who);
        }
        // An attachment through another referral's thread is not found either.
        not_found(&server.get(&format!("/api/v1/referrals/R-AU-0001/thread/attachments/{}", att["id"]), Some(c)), "other thread");

        // Checked input: an empty or too long body, a path as file name, six files.
        let long = format!(r#"{{"body": "{}"}}"#, "a".repeat(20_001));
        for body in [r#"{"body": "  "}"#, long.as_str()] {
            let a = server.send("POST", thread, Some(nz), body);
            assert_eq!((a.status, a.json()["code"].as_str()), (422, Some("invalid_input")), "{backend}");
        }
        let a = post_form(&server, nz, "R-NZ-0001", "x", &[("../etc/passwd", "text/plain", b"x")]);
        assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));
        let six: Vec<(&str, &str, &[u8])> = (0..6).map(|_| ("a.txt", "text/plain", &b"x"[..])).collect();
        let a = post_form(&server, nz, "R-NZ-0001", "x", &six);
        assert_eq!(a.status, 422, "{}", String::from_utf8_lossy(&a.body));

        // Over 20 MiB: 413 with the JSON body, and no message.
        let big = vec![7u8; 20 * 1024 * 1024 + 1];
        let a = post_form(&server, nz, "R-NZ-0001", "too big", &[("big.bin", "application/octet-stream", &big)]);
        assert_eq!(a.status, 413, "{backend}");
        assert_eq!(a.json()["code"], "payload_too_large");
        let t = server.get(thread, Some(c)).json();
        assert_eq!(t["messages"].as_array().unwrap().len(), 2, "{backend}");
    }
}

//! The HMA-compatible routes (spec/interfaces.md): every shape and type,
//! empty answers, the 400/403/404 bodies, created-then-found, on both
//! backends through the real server.

use serde_json::{Value, json};

use crate::common::{NOW, Server, multipart, request_with};

const H: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

/// `H` with its last hex digit moved by `4` bits' worth (distance 4: 0x2 → 0xd).
fn near() -> String {
    let mut s = H[..63].to_string();
    s.push('d');
    s
}

/// A 4xx with HMA's `{"message": …}` (and the service's code).
fn err(a: &crate::common::Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    let j = a.json();
    assert!(j["message"].as_str().is_some_and(|m| !m.is_empty()), "{j}");
    assert_eq!(j["code"], code, "{j}");
}


#[test]
fn hma_routes_have_hmas_shapes() {
    for store in tiaki_testkit::stores("server_hma") {
        let backend = store.name();
        let server = Server::start(store);
        let m = server.token("matcher-gb").to_owned();
        let c = server.token("curator-gb").to_owned();
        let get = |path: &str, t: &str| server.get(path, Some(t));
        let send = |method: &str, path: &str, t: &str, body: Value| {
            server.send(method, path, Some(t), &body.to_string())
        };

        // Banks: the fixture's list is one, its ratio a float.
        let a = get("/c/banks", &c);
        assert_eq!(a.status, 200);
        assert!(
            String::from_utf8_lossy(&a.body)
                .contains(r#"{"name":"KNOWN_A","matching_enabled_ratio":1.0}"#),
            "{backend}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let a = send("POST", "/c/banks", &c, json!({"name": "BANK_A"}));
        assert_eq!(a.status, 201, "{backend}");
        assert_eq!(
            a.json(),
            json!({"name": "BANK_A", "matching_enabled_ratio": 1.0})
        );
        assert!(String::from_utf8_lossy(&a.body).contains("1.0"));
        err(
            &send("POST", "/c/banks", &c, json!({"name": "BANK_A"})),
            403,
            "bank_exists",
        );
        err(
            &send("POST", "/c/banks", &c, json!({"name": "bank-a"})),
            400,
            "invalid_bank_name",
        );
        err(
            &send(
                "POST",
                "/c/banks",
                &c,
                json!({"name": "R", "enabled_ratio": 2.0}),
            ),
            400,
            "invalid_argument",
        );
        err(&get("/c/bank/NOPE", &c), 404, "no_such_bank");
        err(
            &send("PUT", "/c/bank/NOPE", &c, json!({"enabled": true})),
            404,
            "no_such_bank",
        );
        err(
            &server.send("DELETE", "/c/bank/NOPE", Some(&c), ""),
            404,
            "no_such_bank",
        );
        assert_eq!(
            get("/c/bank/BANK_A", &c).json(),
            json!({"name": "BANK_A", "matching_enabled_ratio": 1.0})
        );

        // Nothing yet: {}.
        let lookup = format!("/m/lookup?signal_type=pdq&signal={H}");
        assert_eq!(
            get(&format!("{lookup}&banks=BANK_A"), &m).json(),
            json!({}),
            "{backend}"
        );
        assert_eq!(
            get(
                &format!("/m/raw_lookup?signal_type=pdq&signal={}&banks=BANK_A", H),
                &m
            )
            .json(),
            json!({"matches": []})
        );

        // Created, then found at once.
        err(
            &send("POST", "/c/bank/NOPE/signal", &c, json!({"pdq": H})),
            404,
            "no_such_bank",
        );
        err(
            &send("POST", "/c/bank/BANK_A/signal", &c, json!({"pdq": "xyz"})),
            400,
            "invalid_signal",
        );
        err(
            &send(
                "POST",
                "/c/bank/BANK_A/signal",
                &c,
                json!({"photodna": "00"}),
            ),
            400,
            "invalid_signal",
        );
        let a = send(
            "POST",
            "/c/bank/BANK_A/signal",
            &c,
            json!({"pdq": H, "note": "generated"}),
        );
        assert_eq!(
            a.status,
            200,
            "{backend}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let added = a.json();
        let id = added["id"].as_u64().expect("an integer id");
        assert_eq!(added, json!({"id": id, "signals": {"pdq": H}}));
        let found = get(&lookup, &m).json();
        // KNOWN_A holds the same hash (the fixture's list).
        assert_eq!(
            found["BANK_A"],
            json!([{"bank_content_id": id, "distance": "0"}]),
            "{backend}: {found}"
        );
        assert!(found["KNOWN_A"][0]["distance"].is_string());
        let near_lookup = format!("/m/lookup?signal_type=pdq&signal={}&banks=BANK_A", near());
        assert_eq!(
            get(&near_lookup, &m).json(),
            json!({"BANK_A": [{"bank_content_id": id, "distance": "4"}]})
        );
        let raw = format!("/m/raw_lookup?signal_type=pdq&signal={H}&banks=BANK_A");
        assert_eq!(get(&raw, &m).json(), json!({"matches": [id]}));
        assert_eq!(
            get(&format!("{raw}&include_distance=true"), &m).json(),
            json!({"matches": [{"bank_content_id": id, "distance": "0"}]})
        );
        err(
            &get("/m/lookup?signal_type=pdq&signal=zz", &m),
            400,
            "invalid_signal",
        );
        err(
            &get("/m/lookup?signal_type=tmk&signal=00", &m),
            400,
            "invalid_signal",
        );
        err(&get("/m/lookup", &m), 400, "invalid_signal");

        // video_md5: exact, trimmed and lower-cased, distance "-".
        let a = send(
            "POST",
            "/c/bank/BANK_A/signal",
            &c,
            json!({"video_md5": "0123456789ABCDEF0123456789ABCDEF"}),
        );
        let vid = a.json()["id"].as_u64().unwrap();
        assert_eq!(
            a.json()["signals"],
            json!({"video_md5": "0123456789abcdef0123456789abcdef"})
        );
        assert_eq!(
            get(
                "/m/lookup?signal_type=video_md5&signal=0123456789abcdef0123456789abcdef",
                &m
            )
            .json(),
            json!({"BANK_A": [{"bank_content_id": vid, "distance": "-"}]})
        );

        // Compare: the distance an integer here.
        let a = send("POST", "/m/compare", &m, json!({"pdq": [H, near()]}));
        assert_eq!(a.json(), json!({"pdq": [true, {"distance": 4}]}));
        err(
            &send("POST", "/m/compare", &m, json!({"pdq": [H]})),
            400,
            "invalid_signal",
        );

        // Index status.
        let s = get("/m/index/status?signal_type=pdq", &m).json();
        assert_eq!(s["pdq"]["present"], true);
        assert_eq!(s["pdq"]["built_to"], NOW);
        assert!(s["pdq"]["size"].as_u64().unwrap() >= 2, "{s}");
        err(
            &get("/m/index/status?signal_type=nope", &m),
            400,
            "invalid_signal",
        );

        // A content: get, disable for a while, note, delete.
        let content = format!("/c/bank/BANK_A/content/{id}");
        let bank = json!({"name": "BANK_A", "matching_enabled_ratio": 1.0});
        assert_eq!(
            get(&content, &c).json(),
            json!({"id": id, "disable_until_ts": 1, "bank": bank, "note": "generated"})
        );
        assert_eq!(
            get(&format!("{content}?include_signals=true"), &c).json()["signals"],
            json!({"pdq": H})
        );
        err(
            &get("/c/bank/BANK_A/content/999999", &c),
            404,
            "no_such_content",
        );
        err(
            &get(&format!("/c/bank/KNOWN_A/content/{id}"), &c),
            404,
            "no_such_content",
        );
        let a = send("PUT", &content, &c, json!({"disable_until_ts": NOW + 3600}));
        assert_eq!(a.json()["disable_until_ts"], NOW + 3600);
        assert!(get(&near_lookup, &m).json().as_object().unwrap().is_empty());
        assert_eq!(
            get(&raw, &m).json(),
            json!({"matches": [id]}),
            "raw ignores it"
        );
        err(
            &send("PUT", &content, &c, json!({"disable_until_ts": -5})),
            400,
            "invalid_argument",
        );
        send(
            "PUT",
            &content,
            &c,
            json!({"disable_until_ts": 1, "note": "again"}),
        );
        assert_eq!(
            get(&near_lookup, &m).json()["BANK_A"][0]["bank_content_id"],
            id
        );

        // A disabled bank: out of lookups, not of raw lookups.
        let a = send("PUT", "/c/bank/BANK_A", &c, json!({"enabled": false}));
        assert_eq!(
            a.json(),
            json!({"name": "BANK_A", "matching_enabled_ratio": 0.0})
        );
        assert_eq!(get(&near_lookup, &m).json(), json!({}));
        assert_eq!(get(&raw, &m).json(), json!({"matches": [id]}));
        let a = send("PUT", "/c/bank/BANK_A", &c, json!({"enabled_ratio": 0.5}));
        assert_eq!(a.json()["matching_enabled_ratio"], 0.5);
        assert_eq!(
            get(&format!("{near_lookup}&bypass_coinflip=true"), &m).json()["BANK_A"][0]["bank_content_id"],
            id
        );
        send("PUT", "/c/bank/BANK_A", &c, json!({"enabled": true}));

        // Uploads: hash, bank, look up.
        let png = tiaki_testkit::picture_png(11, 256, 192);
        let a = multipart(&server, "/h/hash", &m, "photo", &png, None);
        assert_eq!(
            a.status,
            200,
            "{backend}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let pdq = a.json()["pdq"].as_str().unwrap().to_owned();
        assert_eq!(pdq.len(), 64);
        assert_eq!(
            multipart(&server, "/m/lookup?banks=BANK_A", &m, "photo", &png, None).json(),
            json!({"pdq": {}})
        );
        let a = multipart(
            &server,
            "/c/bank/BANK_A/content",
            &c,
            "photo",
            &png,
            Some("upload"),
        );
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let up = a.json()["id"].as_u64().unwrap();
        assert_eq!(a.json(), json!({"id": up, "signals": {"pdq": pdq}}));
        assert_eq!(
            multipart(&server, "/m/lookup?banks=BANK_A", &m, "photo", &png, None).json(),
            json!({"pdq": {"BANK_A": [{"bank_content_id": up, "distance": "0"}]}})
        );
        err(
            &multipart(&server, "/h/hash", &m, "photo", b"not a picture", None),
            400,
            "invalid_signal",
        );
        err(
            &send("POST", "/h/hash", &m, json!({})),
            400,
            "invalid_argument",
        );

        // Deletes.
        assert_eq!(
            server.send("DELETE", &content, Some(&c), "").json(),
            json!({"deleted": 1})
        );
        err(&get(&content, &c), 404, "no_such_content");
        err(
            &server.send("DELETE", &content, Some(&c), ""),
            404,
            "no_such_content",
        );
        assert_eq!(get(&raw, &m).json(), json!({"matches": []}));
        assert_eq!(
            server.send("DELETE", "/c/bank/BANK_A", Some(&c), "").json(),
            json!({"message": "Done"})
        );
        err(&get("/c/bank/BANK_A", &c), 404, "no_such_bank");
        assert_eq!(get(&near_lookup, &m).json(), json!({}));

        // /status in plain text.
        let a = get("/status", &m);
        assert_eq!(
            (a.status, a.body.as_slice()),
            (200, b"I-AM-ALIVE".as_slice())
        );

        // Tokens and roles: none is 401; a matcher may not curate, a liaison
        // officer may not match (404, as for anything outside a role).
        assert_eq!(server.get("/m/lookup", None).status, 401);
        err(&get("/c/banks", &m), 404, "not_found");
        err(&get(&lookup, server.token("liaison-nz")), 404, "not_found");
    }
}

/// Issue 19: a signal added on one `tiaki serve` is found by a second
/// instance on the same PostgreSQL database within 2 s (its index catches
/// up each second, in place).
#[test]
fn a_second_instance_finds_a_new_signal_within_two_seconds() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use tiaki_core::store::Timestamp;
    use tiaki_core::{Context, FixedClock};

    let Some(pg) = tiaki_testkit::fresh_postgres("server_hma_two_instances") else {
        return; // allowed only with TIAKI_SKIP_POSTGRES, which says so loudly
    };
    let first = Server::start(tiaki_testkit::TestStore::postgres(pg));
    let url = first.store.database().unwrap().to_owned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ctx = Context::new(
        dir.path().to_owned(),
        Some(url),
        Arc::new(FixedClock(Timestamp::from_unix(NOW))),
    );
    let second = rt.block_on(async {
        let state = tiaki_server::AppState::open(ctx, tiaki_server::Limits::default())
            .await
            .unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            tiaki_server::serve(state, "127.0.0.1:0", std::future::pending(), |a| {
                let _ = tx.send(a);
            })
            .await
            .unwrap();
        });
        rx.await.unwrap()
    });
    let c = first.token("curator-gb");
    let m = first.token("matcher-gb");
    let a = first.send("POST", "/c/banks", Some(c), r#"{"name": "SHARED"}"#);
    assert_eq!(a.status, 201);
    let h = "0f0f0f0f0f0f0f0f33cc33cc33cc33cc55aa55aa55aa55aa0123456789abcdef";
    let body = json!({"pdq": h}).to_string();
    let id = first.send("POST", "/c/bank/SHARED/signal", Some(c), &body).json()["id"].clone();
    let lookup = format!("/m/lookup?signal_type=pdq&signal={h}&banks=SHARED");
    let auth = format!("Bearer {m}");
    let added = Instant::now();
    loop {
        let a = request_with(second, "GET", &lookup, &[("Authorization", &auth)], None);
        if a.json() == json!({"SHARED": [{"bank_content_id": id, "distance": "0"}]}) {
            break;
        }
        assert!(added.elapsed() < Duration::from_secs(2), "not found by the second instance: {}", a.json());
        std::thread::sleep(Duration::from_millis(50));
    }
    rt.shutdown_background();
}

//! The test kit (Kanidm's testkit): a real `tiaki serve` on a free loopback
//! port over a fresh store, users of every role with their tokens, and a
//! minimal HTTP/1.1 client written here (not the server's stack).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use tiaki_core::store::referrals::{ReferralRow, ReferralState};
use tiaki_core::store::ReferralStore;
use tiaki_core::types::access::Role;
use tiaki_core::{Context, FixedClock};
use tiaki_core::store::Timestamp;
use tiaki_server::{AppState, Limits};
use tiaki_testkit::TestStore;

/// Now, for every test server: 2026-12-01T00:00:00Z.
pub const NOW: i64 = 1_796_083_200;

/// A running server and the tokens of its users.
pub struct Server {
    pub addr: SocketAddr,
    /// Kept for the server's lifetime (its directory and database).
    #[allow(dead_code)]
    pub store: TestStore,
    /// (user name, role, country, token).
    pub users: Vec<(String, Role, String, String)>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The users every test server has: one per role in GB, and liaison
/// officers of two countries (NZ, AU).
pub fn user_specs() -> Vec<(String, Role, &'static str)> {
    let mut v: Vec<(String, Role, &'static str)> = Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Liaison)
        .map(|r| (format!("{r}-gb"), r, "GB"))
        .collect();
    v.push(("liaison-nz".into(), Role::Liaison, "NZ"));
    v.push(("liaison-au".into(), Role::Liaison, "AU"));
    v
}

fn referral(id: &str, country: &str) -> ReferralRow {
    ReferralRow {
        id: id.into(),
        country: country.into(),
        agency: format!("Agency of {country}"),
        state: ReferralState::Built,
        accounts: 0,
        persons: 0,
        media: 0,
        created_at: "2026-11-30T00:00:00Z".into(),
        updated_at: "2026-11-30T00:00:00Z".into(),
        package: String::new(),
        tar_sha256: String::new(),
    }
}

impl Server {
    /// Boots a server on `store` with the standard users, one intake and a
    /// referral for each of NZ and AU.
    pub fn start(store: TestStore) -> Server {
        Server::start_with(store, Limits::default())
    }

    pub fn start_with(store: TestStore, limits: Limits) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let now = Timestamp::from_unix(NOW);
        let ctx = Context::new(
            store.data().to_owned(),
            store.database().map(str::to_owned),
            Arc::new(FixedClock(now.clone())),
        );
        let (addr, users) = rt.block_on(async {
            let state = AppState::open(ctx, limits).await.unwrap();
            let mut users = Vec::new();
            for (name, role, country) in user_specs() {
                tiaki_core::users::add_user(
                    &state.store,
                    &name,
                    country,
                    role,
                    Some("a long enough password"),
                    &now,
                )
                .await
                .unwrap();
                let (token, _) = tiaki_core::users::new_token(&state.store, &name, None, &now)
                    .await
                    .unwrap();
                users.push((name, role, country.to_owned(), token));
            }
            for (id, c) in [("R-NZ-0001", "NZ"), ("R-AU-0001", "AU")] {
                // A stand-in package file: the route serves the bytes as built.
                let file = store.data().join(format!("referral-{id}.tar.age"));
                std::fs::write(&file, format!("package of {id}")).unwrap();
                let mut row = referral(id, c);
                row.package = file.to_string_lossy().into_owned();
                state
                    .store
                    .record_referral(&row, &[], &now)
                    .await
                    .unwrap();
            }
            // A generated provider report, ingested, linked and attributed
            // as `tiaki ingest` does it: intakes, accounts and persons exist.
            let bundle = store.data().join("bundle");
            tiaki_core::intake::generate::generate(&tiaki_core::intake::generate::GenOptions {
                accounts: 20,
                media: 40,
                out: bundle.clone(),
                ..Default::default()
            })
            .unwrap();
            {
                let known = state.known.read().await;
                for r in tiaki_core::ingest(
                    &known,
                    store.data(),
                    &bundle,
                    &tiaki_core::IngestOptions::default(),
                    &FixedClock(now.clone()),
                    &tiaki_core::NoProgress,
                )
                .await
                .unwrap()
                {
                    r.unwrap();
                }
            }
            // A known list of two PDQ hashes.
            let pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\n\
                       0000000000000000000000000000000000000000000000000000000000000000\n";
            state
                .known
                .write()
                .await
                .import(
                    std::io::Cursor::new(pdq.as_bytes().to_vec()),
                    tiaki_core::formats::ImportOptions::default(),
                    tiaki_core::store::NewList {
                        name: "KNOWN_A".into(),
                        ..Default::default()
                    },
                    now.clone(),
                    |_| {},
                )
                .await
                .unwrap();
            // Victim-ID series 1 contributed by NZ, 2 by AU, each with a
            // victim and an offender of the same id.
            for c in ["NZ", "AU"] {
                let s = tiaki_core::vid::add_series(
                    &state.store,
                    &format!("SERIES {c}"),
                    c,
                    "",
                    "fixture",
                    &now,
                )
                .await
                .unwrap();
                let key = s.id.to_string();
                fixture_subject::<tiaki_core::types::vid::VictimStatus>(&state, &key, c, &now).await;
                fixture_subject::<tiaki_core::types::vid::OffenderStatus>(&state, &key, c, &now).await;
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                tiaki_server::serve(state, "127.0.0.1:0", std::future::pending(), |a| {
                    let _ = tx.send(a);
                })
                .await
                .unwrap();
            });
            (rx.await.unwrap(), users)
        });
        Server {
            addr,
            store,
            users,
            runtime: Some(rt),
        }
    }

    /// The token of a user by name.
    pub fn token(&self, name: &str) -> &str {
        &self.users.iter().find(|u| u.0 == name).unwrap().3
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Answer {
        request(self.addr, "GET", path, token, None)
    }

    pub fn send(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Answer {
        request(self.addr, method, path, token, Some(body.as_bytes()))
    }

    /// A request with a body of another type (a multipart form).
    #[allow(dead_code)]
    pub fn send_typed(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        request_typed(self.addr, method, path, token, Some((content_type, body)))
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on its own connection (`Connection: close`), the answer
/// read to the end.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    request_with(addr, method, path, &headers, body)
}

/// [`request`] with a body of any content type.
pub fn request_typed(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
) -> Answer {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers: Vec<(&str, &str)> =
        auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    if let Some((t, _)) = body {
        headers.push(("Content-Type", t));
    }
    request_with(addr, method, path, &headers, body.map(|(_, b)| b))
}

/// A request with any headers.
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        // JSON unless the caller says otherwise (a multipart upload).
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    if let Some(b) = body {
        // The server may answer (413) and close before reading it all.
        let _ = s.write_all(b);
    }
    let mut raw = Vec::new();
    // A reset after the answer (a server closing on an unread body) keeps
    // what was read.
    if let Err(e) = s.read_to_end(&mut raw) {
        assert!(!raw.is_empty(), "{method} {path}: {e}");
    }
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the head");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked { dechunk(rest) } else { rest.to_vec() };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&b[..nl]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        b = &b[nl + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// A multipart upload of one file as `field` (and a note), with a bearer token.
pub fn multipart(
    server: &Server,
    path: &str,
    token: &str,
    field: &str,
    file: &[u8],
    note: Option<&str>,
) -> Answer {
    let boundary = "tiaki-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"upload\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n");
    if let Some(n) = note {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n{n}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let auth = format!("Bearer {token}");
    let ct = format!("multipart/form-data; boundary={boundary}");
    request_with(
        server.addr,
        "POST",
        path,
        &[("Authorization", &auth), ("Content-Type", &ct)],
        Some(&body),
    )
}

/// A victim or offender of series `key`, contributed by `country`.
async fn fixture_subject<K: tiaki_core::vid::Subject>(
    state: &AppState,
    key: &str,
    country: &str,
    now: &tiaki_core::store::Timestamp,
) {
    let input = tiaki_core::vid::SubjectInput::<K>::default();
    tiaki_core::vid::add_subject(&state.store, key, &input, country, "fixture", now)
        .await
        .unwrap();
}

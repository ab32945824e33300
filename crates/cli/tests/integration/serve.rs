//! `tiaki users` and `tiaki serve` as a user runs them: accounts and tokens
//! made on the command line, the server a real process on loopback, a
//! token revoked or a user disabled on the command line refused by the
//! running server within its token cache's second, and a clean stop on
//! SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::common::{TestStore, stores, tiaki};

fn cmd_in(s: &TestStore, args: &[&str], stdin: &str) -> std::process::Output {
    let mut c = tiaki()
        .args(s.args())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

/// Starts `tiaki serve` on a free port; returns the child and its address.
// The child is handed to the caller, which stops and waits for it.
#[allow(clippy::zombie_processes)]
fn serve(s: &TestStore) -> (Child, String) {
    let mut child = tiaki()
        .args(s.args())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("TIAKI_ISSUER_PASSPHRASE", "serve test passphrase")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if err.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!("serve stopped before listening: {status:?}");
        }
        if let Some(a) = line.trim().strip_prefix("tiaki: listening on http://") {
            let addr = a.to_owned();
            // Keep draining its log so it never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
            return (child, addr);
        }
    }
}

fn get(addr: &str, path: &str, token: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").map(|x| x.1.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn users_and_tokens_on_the_command_line_serve_and_stop() {
    for s in stores("cli_serve") {
        let o = cmd_in(&s, &["users", "add", "ana", "--agency", "nz", "--role", "liaison"], "short\n");
        assert_eq!(o.status.code(), Some(2), "a short password is refused");
        assert!(String::from_utf8_lossy(&o.stderr).contains("at least 12"));
        let o = cmd_in(
            &s,
            &["users", "add", "ana", "--agency", "nz", "--role", "liaison"],
            "a long enough password\n",
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let o = cmd_in(&s, &["users", "add", "ana", "--agency", "NZ", "--role", "analyst"], "a long enough password\n");
        assert_eq!(o.status.code(), Some(2), "the name is taken");
        let o = cmd_in(&s, &["users", "token", "ana", "--expires", "30"], "");
        assert!(o.status.success());
        let token = String::from_utf8(o.stdout).unwrap().trim().to_owned();
        assert!(token.starts_with("tiaki_") && token.len() == 70, "{token}");

        // A configuration file with a typo is refused, naming the key.
        let bad = s.data().join("bad.toml");
        std::fs::write(&bad, "[sessions]\nidle_minuts = 5\n").unwrap();
        let o = cmd_in(&s, &["serve", "--config", bad.to_str().unwrap()], "");
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("idle_minuts"), "{}", String::from_utf8_lossy(&o.stderr));

        let (mut child, addr) = serve(&s);
        let (status, body) = get(&addr, "/api/v1/me", &token);
        assert_eq!(status, 200, "{body}");
        let me: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(me, serde_json::json!({"name": "ana", "role": "liaison", "country": "NZ"}));
        // A liaison officer's role reads no intakes: 404, as if absent.
        assert_eq!(get(&addr, "/api/v1/intakes", &token).0, 404);

        // Disabled on the command line: the running server refuses within
        // a second (`tiaki_server::auth::TOKEN_CACHE_TTL`).
        assert!(cmd_in(&s, &["users", "disable", "ana"], "").status.success());
        assert_eq!(status_within(&addr, &token, 401), 401);
        assert!(cmd_in(&s, &["users", "enable", "ana"], "").status.success());
        assert_eq!(status_within(&addr, &token, 200), 200);
        // Revoked: refused.
        assert!(cmd_in(&s, &["users", "revoke", "ana"], "").status.success());
        assert_eq!(status_within(&addr, &token, 401), 401);

        let o = cmd_in(&s, &["users", "ls", "--json"], "");
        let u: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!((u["name"].as_str(), u["role"].as_str()), (Some("ana"), Some("liaison")));
        assert!(u.get("password").is_none(), "the password hash is never printed");

        // Each change made on the command line is in the audit log.
        let o = cmd_in(&s, &["audit", "ls", "--json"], "");
        let actions: Vec<(String, String)> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["actor"].as_str().is_some_and(|a| a.starts_with("cli:")))
            .map(|e| (e["action"].as_str().unwrap().to_owned(), e["target"].as_str().unwrap().to_owned()))
            .collect();
        let want = ["user.added", "token.issued", "user.disabled", "user.changed", "token.revoked"];
        assert_eq!(
            actions.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
            want,
            "{actions:?}"
        );
        assert!(actions.iter().all(|(_, t)| t == "ana"), "{actions:?}");

        // SIGTERM: a graceful stop, exit 0.
        let pid = child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}");
        // The stop wrote a checkpoint of the audit chain, and it verifies.
        let o = cmd_in(&s, &["audit", "verify", "--json"], "");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
        let cps = std::fs::read_to_string(s.data().join("audit-checkpoints.ndjson")).unwrap();
        assert_eq!(cps.lines().count(), 1);
    }
}

/// The status of `GET /api/v1/me` once it is `want`, or the last one after
/// twice the token cache's lifetime.
fn status_within(addr: &str, token: &str, want: u16) -> u16 {
    let start = std::time::Instant::now();
    loop {
        let status = get(addr, "/api/v1/me", token).0;
        if status == want || start.elapsed() > std::time::Duration::from_secs(2) {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

//! Schemathesis (PyPI, an independent property-based API tester) against
//! the server's own OpenAPI document, bounded in examples and time: no 5xx,
//! every answer's status, content type and body as documented, and every
//! schema-invalid request refused with a 4xx.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Server;

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance,negative_data_rejection";

#[test]
fn schemathesis_finds_nothing() {
    let Some(python) = tiaki_testkit::peer_python() else {
        return;
    };
    let st = python.with_file_name("schemathesis");
    assert!(st.exists(), "{} is missing: scripts/setup.sh installs it", st.display());
    for store in tiaki_testkit::stores("server_schemathesis") {
        let backend = store.name();
        let server = Server::start(store);
        let base = format!("http://{}", server.addr);
        for user in ["coordinator-gb", "liaison-nz", "admin-gb"] {
            let mut child = Command::new(&st)
                .args(["run", &format!("{base}/api/v1/openapi.json"), "--url", &base])
                .args(["-H", &format!("Authorization: Bearer {}", server.token(user))])
                .args(["--checks", CHECKS, "--max-examples", "12", "--seed", "1"])
                .args(["--no-color", "--suppress-health-check", "all"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let start = Instant::now();
            loop {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if start.elapsed() > Duration::from_secs(600) {
                    child.kill().unwrap();
                    panic!("{backend}: schemathesis as {user} ran over 10 minutes");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{backend}: schemathesis as {user} found failures:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

//! Hostile-input tests under a fixed memory cap and time limit.
//!
//! [`bounded`] runs one test's body again in a child copy of the test
//! binary, with its address space capped (`ulimit -v`, i.e. RLIMIT_AS) and
//! a deadline: an input that makes a reader allocate past the cap fails
//! its allocation in the child (an abort, so the test fails), and one that
//! makes it run past the deadline is killed (the test fails, saying so).
//! The child reports its peak resident memory (VmHWM), which the parent
//! checks too and returns.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The memory every hostile input must be answered within (issue 17).
pub const HOSTILE_MEMORY_BYTES: u64 = 512 << 20;

const CHILD_ENV: &str = "TIAKI_BOUNDED_CHILD";
const PEAK_TAG: &str = "tiaki-bounded-peak-rss-bytes=";

/// What a bounded run measured.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Peak resident memory of the child process.
    pub peak_rss_bytes: u64,
    /// Wall time of the child process, start to exit.
    pub elapsed: Duration,
}

/// Peak resident memory of this process so far (Linux: VmHWM).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `body` in a child process of this test binary under
/// [`HOSTILE_MEMORY_BYTES`] of address space and the `deadline`.
///
/// `test` is the test's full name as the harness knows it
/// (`hostile::zip_bomb`): the child runs exactly that test, which calls
/// `bounded` again and, seeing it is the child, runs `body`. Returns in
/// the child too (with its own measurement), so the test body after
/// `bounded` runs once in each.
pub fn bounded(test: &str, deadline: Duration, body: impl FnOnce()) -> Measured {
    if std::env::var(CHILD_ENV).as_deref() == Ok(test) {
        let start = Instant::now();
        body();
        let peak = peak_rss_bytes().unwrap_or(0);
        println!("{PEAK_TAG}{peak}");
        assert!(
            peak < HOSTILE_MEMORY_BYTES,
            "{test}: peak memory {peak} bytes, over {HOSTILE_MEMORY_BYTES}"
        );
        return Measured {
            peak_rss_bytes: peak,
            elapsed: start.elapsed(),
        };
    }
    let exe = std::env::current_exe().expect("test binary path");
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v "$0" && exec "$@""#)
        .arg((HOSTILE_MEMORY_BYTES / 1024).to_string())
        .arg(&exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, test)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the bounded child");
    // Drain the pipes while waiting, so a chatty child cannot block.
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the bounded child") {
            break Some(status);
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let Some(status) = status else {
        panic!("{test}: still running after {deadline:?}: killed\n{stdout}\n{stderr}");
    };
    assert!(
        status.success(),
        "{test}: failed under a {} MiB memory cap ({status})\n{stdout}\n{stderr}",
        HOSTILE_MEMORY_BYTES >> 20
    );
    assert!(
        stdout.contains("1 passed"),
        "{test}: the child did not run exactly this test\n{stdout}\n{stderr}"
    );
    // The harness prints `test NAME ... ` before the test's own output.
    let peak_rss_bytes = stdout
        .split_once(PEAK_TAG)
        .and_then(|(_, v)| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse().ok())
        .expect("the child's peak memory");
    Measured {
        peak_rss_bytes,
        elapsed,
    }
}

/// `hole` zero bytes (a sparse hole: no disk used) followed by `tail`, as
/// the file `path`: a 1 GiB line or file for nothing.
pub fn sparse_file(path: &std::path::Path, hole: u64, tail: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::File::create(path).expect("create the sparse file");
    f.seek(SeekFrom::Start(hole)).expect("seek past the hole");
    f.write_all(tail).expect("write the tail");
}

/// The "billion laughs" document: a DOCTYPE for `root` declaring ten
/// entities that each expand to ten of the one before (10^9 `lol`s if a
/// parser expanded them), then `body`, which refers to `&lol9;`.
pub fn billion_laughs(root: &str, body: &str) -> String {
    let mut doc = format!("<?xml version=\"1.0\"?>\n<!DOCTYPE {root} [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        doc.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str("]>\n");
    doc.push_str(body);
    doc.push('\n');
    doc
}

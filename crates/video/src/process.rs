//! A child process with a wall-clock deadline: a watchdog thread kills it when
//! the deadline passes, stderr is drained on its own thread (so a chatty
//! child cannot block on a full pipe) and kept up to a cap, and dropping a
//! [`Child`] that was not finished kills and reaps it.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::VideoError;

/// How much of a child's stderr is kept for error messages.
const STDERR_KEEP: usize = 16 * 1024;

pub(crate) struct Child {
    child: Arc<Mutex<std::process::Child>>,
    stdin: Option<ChildStdin>,
    stdout: Option<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    stop_watchdog: Option<Sender<()>>,
    watchdog: Option<JoinHandle<()>>,
    timed_out: Arc<AtomicBool>,
    finished: bool,
}

/// How a finished child ended.
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stderr: String,
    pub timed_out: bool,
}

fn kill(child: &Mutex<std::process::Child>) {
    let mut c = match child.lock() {
        Ok(c) => c,
        Err(poisoned) => poisoned.into_inner(),
    };
    // Fails only when the process has already exited, which is the goal.
    let _ = c.kill();
}

impl Child {
    /// Starts `program args…` with stdin closed and stdout/stderr piped.
    /// `which` names the tool in the not-installed error.
    pub(crate) fn spawn<I, S>(
        program: &Path,
        which: &'static str,
        args: I,
        deadline: Instant,
    ) -> Result<Child, VideoError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::spawn_with(program, which, args, deadline, false, None)
    }

    /// As [`Child::spawn`], with stdin piped when `stdin` is true. With
    /// `info_lines`, stderr is read as ffmpeg's `-v level+…` log: lines
    /// tagged `[info]` go to that channel (while anyone listens) instead of
    /// being kept, so a long stream description cannot crowd out the
    /// warnings and errors.
    pub(crate) fn spawn_with<I, S>(
        program: &Path,
        which: &'static str,
        args: I,
        deadline: Instant,
        stdin: bool,
        info_lines: Option<Sender<String>>,
    ) -> Result<Child, VideoError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(program)
            .args(args)
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    VideoError::FfmpegNotFound {
                        program: which,
                        path: program.to_path_buf(),
                        reason: e.to_string(),
                    }
                }
                _ => VideoError::Io(e),
            })?;
        let stdout = child.stdout.take();
        let stdin = child.stdin.take();
        let stderr = child.stderr.take().map(|err| {
            std::thread::spawn(move || match info_lines {
                None => drain_stderr(err),
                Some(tx) => drain_log_lines(err, tx),
            })
        });
        let child = Arc::new(Mutex::new(child));
        let timed_out = Arc::new(AtomicBool::new(false));
        let (stop_tx, stop_rx) = channel::<()>();
        let watchdog = {
            let child = Arc::clone(&child);
            let timed_out = Arc::clone(&timed_out);
            std::thread::spawn(move || {
                let wait = deadline.saturating_duration_since(Instant::now());
                // A message or a dropped sender means "finished in time".
                if let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(wait) {
                    timed_out.store(true, Ordering::SeqCst);
                    kill(&child);
                }
            })
        };
        Ok(Child {
            child,
            stdin,
            stdout,
            stderr,
            stop_watchdog: Some(stop_tx),
            watchdog: Some(watchdog),
            timed_out,
            finished: false,
        })
    }

    pub(crate) fn stdout(&mut self) -> Result<&mut ChildStdout, VideoError> {
        self.stdout
            .as_mut()
            .ok_or(VideoError::Internal("child stdout missing"))
    }

    /// Writes `data` to the child's stdin and closes it. A child that has
    /// already exited is not an error here: its exit status will say why.
    pub(crate) fn write_stdin_and_close(&mut self, data: &[u8]) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = std::io::Write::write_all(&mut stdin, data);
        }
    }

    /// True once the watchdog has killed the child at the deadline.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::SeqCst)
    }

    pub(crate) fn kill(&self) {
        kill(&self.child);
    }

    /// Closes stdout, waits for the child and collects its stderr.
    pub(crate) fn finish(mut self) -> Result<Finished, VideoError> {
        self.finished = true;
        drop(self.stdin.take());
        // Closing our end first: a child still writing gets EPIPE and exits
        // instead of blocking forever on a pipe nobody reads.
        drop(self.stdout.take());
        let status = {
            let mut c = match self.child.lock() {
                Ok(c) => c,
                Err(poisoned) => poisoned.into_inner(),
            };
            c.wait()?
        };
        drop(self.stop_watchdog.take());
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Ok(Finished {
            status,
            stderr,
            timed_out: self.timed_out.load(Ordering::SeqCst),
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // An early return (an error while reading) must not leave the child
        // running or unreaped.
        kill(&self.child);
        drop(self.stdin.take());
        drop(self.stdout.take());
        if let Ok(mut c) = self.child.lock() {
            let _ = c.wait();
        }
        drop(self.stop_watchdog.take());
        if let Some(w) = self.watchdog.take() {
            let _ = w.join();
        }
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
    }
}

/// Keeps the first [`STDERR_KEEP`] bytes of a child's stderr.
fn drain_stderr(mut err: impl Read) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match err.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = STDERR_KEEP.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Splits a level-tagged ffmpeg log into lines: `info` (and chattier) lines are sent to
/// `tx` (until the receiver goes away), all others are kept, up to
/// [`STDERR_KEEP`] bytes.
fn drain_log_lines(err: impl Read, tx: Sender<String>) -> String {
    use std::io::BufRead;
    let mut kept = String::new();
    let mut listening = true;
    let mut r = std::io::BufReader::new(err);
    let mut line = Vec::new();
    loop {
        line.clear();
        // Lines are bounded by what ffmpeg logs; a hostile file name is
        // still cut at STDERR_KEEP below.
        match r
            .by_ref()
            .take(STDERR_KEEP as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        let level = crate::ffmpeg::split_level(text).0;
        if matches!(level, Some("info" | "verbose" | "debug" | "trace")) {
            if listening && tx.send(text.to_string()).is_err() {
                listening = false;
            }
        } else if kept.len() + text.len() < STDERR_KEEP {
            kept.push_str(text);
            kept.push('\n');
        }
    }
    kept
}

/// Reads until `buf` is full or EOF; returns the bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

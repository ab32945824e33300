//! Progress on stderr: a bar for people, JSON lines for programs.
//!
//! `--progress json` writes one object a line, `{"stage", "done", "total"}`
//! (`total` null when unknown), when a stage starts and then whenever it
//! has moved on by a hundredth of its total (or, without a total, at most
//! every 50 ms). The crash suite kills commands at points chosen from these
//! lines; a script can follow a long run the same way.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use tiaki_core::Progress as CoreProgress;

/// When and how to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Progress {
    /// A bar, only when stdout and stderr are both terminals.
    #[default]
    Auto,
    /// A bar, always.
    Always,
    Never,
    /// JSON lines on stderr (`{"stage","done","total"}`), for programs.
    Json,
}

impl Progress {
    /// Whether a bar is drawn.
    pub fn bar(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Progress::Auto => std::io::stdout().is_terminal() && std::io::stderr().is_terminal(),
            Progress::Always => true,
            Progress::Never | Progress::Json => false,
        }
    }

    /// The reporter the library stages are handed.
    pub fn reporter(self) -> Reporter {
        if self == Progress::Json {
            Reporter::Json(Mutex::new(JsonState::default()))
        } else if self.bar() {
            Reporter::Bar(indicatif::ProgressBar::new(0))
        } else {
            Reporter::Hidden
        }
    }
}

/// A progress display behind the core's [`CoreProgress`] trait.
#[derive(Debug)]
pub enum Reporter {
    Bar(indicatif::ProgressBar),
    Json(Mutex<JsonState>),
    Hidden,
}

#[derive(Debug, Default)]
pub struct JsonState {
    stage: &'static str,
    total: Option<u64>,
    done: u64,
    /// `done` when the last line was written, and when.
    shown: u64,
    at: Option<Instant>,
}

impl JsonState {
    fn emit(&mut self) {
        let line = serde_json::json!({"stage": self.stage, "done": self.done, "total": self.total});
        // Progress is best effort: a closed stderr must not stop the work.
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        self.shown = self.done;
        self.at = Some(Instant::now());
    }
}

impl Reporter {
    /// Removes the bar (JSON lines stay as written).
    pub fn finish(&self) {
        if let Reporter::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}

impl CoreProgress for Reporter {
    fn stage(&self, name: &'static str, total: Option<u64>) {
        match self {
            Reporter::Bar(bar) => {
                bar.reset();
                bar.set_length(total.unwrap_or(0));
                let tpl = if total.is_some() {
                    "{msg:8} {bar:40} {pos}/{len} {per_sec} {eta}"
                } else {
                    "{msg:8} {spinner} {pos} {per_sec}"
                };
                bar.set_style(
                    indicatif::ProgressStyle::with_template(tpl)
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar.set_message(name);
            }
            Reporter::Json(state) => {
                let Ok(mut s) = state.lock() else { return };
                *s = JsonState {
                    stage: name,
                    total,
                    ..JsonState::default()
                };
                s.emit();
            }
            Reporter::Hidden => {}
        }
    }

    fn inc(&self, n: u64) {
        match self {
            Reporter::Bar(bar) => bar.inc(n),
            Reporter::Json(state) => {
                let Ok(mut s) = state.lock() else { return };
                s.done += n;
                let due = match s.total {
                    Some(total) => s.done - s.shown >= (total / 100).max(1) || s.done == total,
                    None => s.at.is_none_or(|at| at.elapsed() >= Duration::from_millis(50)),
                };
                if due {
                    s.emit();
                }
            }
            Reporter::Hidden => {}
        }
    }
}

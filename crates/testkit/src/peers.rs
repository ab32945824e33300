//! The Python that runs the PyPI peers the tests compare with.

use std::path::PathBuf;

/// The Python with the PyPI peers (pdqhash, vpdq, threatexchange,
/// mmdb-writer, Pillow; scripts/setup.sh installs them), from
/// `TIAKI_PEER_PYTHON`. Without it a peer test fails, unless
/// `TIAKI_SKIP_PEERS=1` says to skip it, and then it says so loudly
/// (`None`).
pub fn peer_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TIAKI_PEER_PYTHON").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if std::env::var("TIAKI_SKIP_PEERS").is_ok_and(|v| v == "1") {
        eprintln!("\n*** SKIPPED: peer comparison (TIAKI_SKIP_PEERS=1) ***\n");
        return None;
    }
    panic!(
        "set TIAKI_PEER_PYTHON to a Python with the peers installed (scripts/test.sh does), or TIAKI_SKIP_PEERS=1"
    );
}

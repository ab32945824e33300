//! Expanding the paths given on a command line into files, recursively,
//! following symbolic links, with every problem kept as an entry.

use std::path::{Path, PathBuf};

/// A file to hash, or a path that could not be walked and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walked {
    File(PathBuf),
    Problem(PathBuf, String),
}

/// Every regular file under `roots`, in a stable order (each root in the
/// order given, entries sorted by name). Symbolic links are followed; a
/// link loop, a dangling link or an unreadable directory is reported, never
/// skipped in silence.
pub fn walk(roots: &[PathBuf]) -> Vec<Walked> {
    let mut out = Vec::new();
    for root in roots {
        let it = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        for entry in it {
            match entry {
                Ok(e) if e.file_type().is_file() => out.push(Walked::File(e.into_path())),
                Ok(e) if e.file_type().is_dir() => {}
                Ok(e) => out.push(Walked::Problem(e.into_path(), "not a regular file".into())),
                Err(err) => {
                    let path = err.path().map_or_else(|| root.clone(), Path::to_path_buf);
                    let msg = if let Some(anc) = err.loop_ancestor() {
                        format!("symbolic link loop back to {}", anc.display())
                    } else if let Some(io) = err.io_error() {
                        if io.kind() == std::io::ErrorKind::NotFound {
                            "no such file (or a dangling symbolic link)".to_string()
                        } else {
                            io.to_string()
                        }
                    } else {
                        err.to_string()
                    };
                    out.push(Walked::Problem(path, msg));
                }
            }
        }
    }
    out
}

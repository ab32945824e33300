//! Tidy checks (rust-analyzer's `xtask tidy`): what the docs say about the
//! code is compared with the code, so it cannot go stale.
//!
//! ARCHITECTURE.md's crate diagram is the fenced block after the line
//! starting with `<!-- crate-graph`. One line per workspace crate: the crate,
//! then `→` and every workspace crate it depends on directly (normal
//! dependencies: dev- and build-dependencies are not drawn), or the crate
//! alone when it depends on none. Every arrow points down: a crate is listed
//! above everything it depends on. On a mismatch the test prints the block
//! for the current code, to paste in place of the old one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Crate → the workspace crates it depends on.
type Graph = BTreeMap<String, BTreeSet<String>>;

const MARKER: &str = "<!-- crate-graph";
const ARROW: &str = "→";

#[test]
fn architecture_crate_diagram_matches_cargo_metadata() {
    let root = workspace_root();
    let code = metadata_graph(&root);
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let problems = match parse_diagram(&doc) {
        Ok(drawn) => compare(&code, &drawn),
        Err(e) => vec![e],
    };
    assert!(
        problems.is_empty(),
        "ARCHITECTURE.md's crate diagram does not match `cargo metadata`:\n  {}\n\n\
         The diagram for the current code (the block after `{MARKER}`):\n```text\n{}```\n",
        problems.join("\n  "),
        render(&code)
    );
}

#[test]
fn tidy_diagram_check_names_each_difference() {
    let code: Graph = [
        ("a", &["b", "c"][..]),
        ("b", &["c"][..]),
        ("c", &[][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
    .collect();
    assert_eq!(render(&code), "a → b, c\nb → c\nc\nd\n");
    let doc = format!("x\n{MARKER} -->\n```text\nc → b\na → c, e\nb\nf\n```\n");
    let drawn = parse_diagram(&doc).unwrap();
    assert_eq!(
        compare(&code, &drawn),
        [
            "missing arrow: a → b",
            "extra arrow: a → e (not a dependency in a's Cargo.toml)",
            "missing arrow: b → c",
            "extra arrow: c → b (not a dependency in c's Cargo.toml)",
            "missing crate: d (a workspace crate the diagram does not list)",
            "extra crate: f (not a workspace crate)",
            "arrow points up: a → c (list c below a)",
        ]
    );
    assert!(parse_diagram("no diagram here").is_err());
    assert!(parse_diagram(&format!("{MARKER} -->\n```\na\na\n```\n")).is_err());
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every workspace crate and the workspace crates among its normal
/// dependencies, as `cargo metadata` (the cargo running this test) says.
fn metadata_graph(root: &Path) -> Graph {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .output()
        .expect("cannot run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // With --no-deps, `packages` is exactly the workspace's members.
    let packages = meta["packages"].as_array().unwrap();
    let name = |v: &serde_json::Value| v["name"].as_str().unwrap().to_owned();
    let members: BTreeSet<String> = packages.iter().map(name).collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                // `kind` is null for normal dependencies, "dev" or "build" otherwise.
                .filter(|d| d["kind"].is_null())
                .map(name)
                .filter(|d| members.contains(d))
                .collect();
            (name(p), deps)
        })
        .collect()
}

/// The diagram's crates in the order drawn, each with its arrows.
fn parse_diagram(doc: &str) -> Result<Vec<(String, BTreeSet<String>)>, String> {
    let mut lines = doc.lines().skip_while(|l| !l.starts_with(MARKER)).skip(1);
    if !lines.next().is_some_and(|l| l.starts_with("```")) {
        return Err(format!(
            "no diagram: a line starting with `{MARKER}` followed by a fenced block"
        ));
    }
    let mut drawn: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in lines.take_while(|l| !l.starts_with("```")) {
        let (name, deps) = line.split_once(ARROW).unwrap_or((line, ""));
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        if drawn.iter().any(|(n, _)| n == name) {
            return Err(format!("{name} has two lines in the diagram"));
        }
        let deps = deps
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        drawn.push((name.to_owned(), deps));
    }
    Ok(drawn)
}

/// Each difference between the code's graph and the drawn one, in words.
fn compare(code: &Graph, drawn: &[(String, BTreeSet<String>)]) -> Vec<String> {
    let drawn_map: Graph = drawn.iter().cloned().collect();
    let mut problems = Vec::new();
    for (name, deps) in code {
        let Some(drawn_deps) = drawn_map.get(name) else {
            problems.push(format!(
                "missing crate: {name} (a workspace crate the diagram does not list)"
            ));
            continue;
        };
        for d in deps.difference(drawn_deps) {
            problems.push(format!("missing arrow: {name} → {d}"));
        }
        for d in drawn_deps.difference(deps) {
            problems.push(format!(
                "extra arrow: {name} → {d} (not a dependency in {name}'s Cargo.toml)"
            ));
        }
    }
    for name in drawn_map.keys().filter(|n| !code.contains_key(*n)) {
        problems.push(format!("extra crate: {name} (not a workspace crate)"));
    }
    // "Dependencies only point downwards": every crate is drawn above what it
    // depends on.
    for (i, (name, deps)) in drawn.iter().enumerate() {
        for d in deps {
            if drawn[..i].iter().any(|(n, _)| n == d) {
                problems.push(format!("arrow points up: {name} → {d} (list {d} below {name})"));
            }
        }
    }
    problems
}

/// The diagram for `graph`: crates by height (the longest chain of arrows
/// below them), highest first, then by name; arrows aligned.
fn render(graph: &Graph) -> String {
    fn height(graph: &Graph, name: &str, memo: &mut BTreeMap<String, usize>) -> usize {
        if let Some(&h) = memo.get(name) {
            return h;
        }
        let h = graph.get(name).map_or(0, |deps| {
            deps.iter()
                .map(|d| height(graph, d, memo) + 1)
                .max()
                .unwrap_or(0)
        });
        memo.insert(name.to_owned(), h);
        h
    }
    let mut memo = BTreeMap::new();
    let mut order: Vec<(usize, &String)> =
        graph.keys().map(|n| (height(graph, n, &mut memo), n)).collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let width = graph
        .iter()
        .filter(|(_, d)| !d.is_empty())
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (_, name) in order {
        let deps = &graph[name];
        if deps.is_empty() {
            out.push_str(name);
        } else {
            let list: Vec<&str> = deps.iter().map(String::as_str).collect();
            out.push_str(&format!("{name:width$} {ARROW} {}", list.join(", ")));
        }
        out.push('\n');
    }
    out
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The generated scenario end to end with a CIDR CSV geolocation source.

use tiaki_attrib::GeoDb;
use tiaki_attrib::scenario::{ScenarioConfig, generate};

#[test]
fn scenario_with_cidr_csv() {
    let s = generate(&ScenarioConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("networks.csv");
    std::fs::write(&csv, s.cidr_csv()).unwrap();
    let geo = GeoDb::open(&[&csv]).unwrap();
    assert!(geo.warnings().is_empty(), "{:?}", geo.warnings());
    let r = crate::support::run(&s, &geo);
    let rate = crate::support::check(&s, &r);
    eprintln!("consistent accounts right: {:.2} %", rate * 100.0);
    // Output is plain serialisable data.
    let json = serde_json::to_string(&r.accounts[0]).unwrap();
    assert!(json.contains("\"confidence\""));
    let json = serde_json::to_string(&r.linking.links[0]).unwrap();
    assert!(json.contains("\"pair_weight\""));
}

#[test]
fn several_seeds() {
    for seed in 2..5 {
        let s = generate(&ScenarioConfig {
            accounts: 800,
            logins: 5000,
            seed,
        });
        let mut geo = GeoDb::empty();
        geo.add_networks("synthetic", s.networks.iter().copied());
        let r = crate::support::run(&s, &geo);
        crate::support::check(&s, &r);
    }
}

#[test]
fn bad_geo_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mmdb");
    let e = GeoDb::open(&[&missing]).unwrap_err().to_string();
    assert!(e.contains("missing.mmdb"), "{e}");
    let junk = dir.path().join("junk.csv");
    std::fs::write(&junk, "hello,world\nfoo\n").unwrap();
    let e = GeoDb::open(&[&junk]).unwrap_err().to_string();
    assert!(
        e.contains("junk.csv") && e.contains("no usable network"),
        "{e}"
    );
    // A truncated mmdb: has the marker but no valid structure.
    let bad = dir.path().join("bad.mmdb");
    std::fs::write(&bad, b"\xAB\xCD\xEFMaxMind.com\x00garbage").unwrap();
    let e = GeoDb::open(&[&bad]).unwrap_err().to_string();
    assert!(e.contains("bad.mmdb"), "{e}");
}

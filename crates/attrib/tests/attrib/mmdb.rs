#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `.mmdb` sources built with a real writer (PyPI `mmdb-writer`, run by the Python in
//! `TIAKI_PEER_PYTHON`), cross-checked against Debian's `mmdblookup`, then used for the
//! whole generated scenario.
//!
//! Without `TIAKI_PEER_PYTHON`, the test is skipped when `TIAKI_SKIP_PEERS=1` and fails
//! otherwise, saying what to install.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tiaki_attrib::scenario::{ScenarioConfig, generate};
use tiaki_attrib::{Country, GeoDb};
use tiaki_testkit::peer_python;

fn mmdblookup() -> PathBuf {
    let p = PathBuf::from("/usr/bin/mmdblookup");
    assert!(
        p.exists(),
        "mmdblookup not found: install Debian's mmdb-bin (apt-get install -y mmdb-bin)"
    );
    p
}

/// The value `mmdblookup` prints for `path` (e.g. `country iso_code`), or `None`.
fn lookup_with_mmdblookup(file: &Path, ip: IpAddr, path: &[&str]) -> Option<String> {
    let out = Command::new(mmdblookup())
        .arg("--file")
        .arg(file)
        .arg("--ip")
        .arg(ip.to_string())
        .args(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // Output looks like `\n  "DE" <utf8_string>\n`; nothing (and a message) when absent.
    let start = text.find('"')?;
    let end = text[start + 1..].find('"')? + start + 1;
    Some(text[start + 1..end].to_string())
}

/// Builds the two databases from the scenario's networks, with layout variants.
fn write_databases(
    python: &Path,
    dir: &Path,
    networks: &[(ipnet::IpNet, Country)],
) -> (PathBuf, PathBuf) {
    let mut list = Vec::new();
    for (i, (net, c)) in networks.iter().enumerate() {
        // Every fifth network has only registered_country; every seventh is a proxy range.
        let layout = if i % 5 == 4 {
            "registered_only"
        } else if i % 7 == 6 {
            "proxy"
        } else {
            "country"
        };
        list.push(serde_json::json!({
            "network": net.to_string(), "country": c.alpha2(), "name": c.name(), "layout": layout,
        }));
    }
    // A network answered with a code that is not a country.
    list.push(serde_json::json!({
        "network": "5.5.0.0/16", "country": "EU", "name": "Europe", "layout": "country",
    }));
    let json = dir.join("networks.json");
    std::fs::write(&json, serde_json::to_vec(&list).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/write_mmdb.py");
    let status = Command::new(python)
        .arg(&script)
        .arg(&json)
        .arg(dir)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(status.success(), "write_mmdb.py failed");
    (
        dir.join("geoip2-country.mmdb"),
        dir.join("ipinfo-lite.mmdb"),
    )
}

#[test]
fn mmdb_sources_agree_with_mmdblookup_and_attribute_the_scenario() {
    let Some(python) = peer_python() else {
        return;
    };
    let s = generate(&ScenarioConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let (geoip2, ipinfo) = write_databases(&python, dir.path(), &s.networks);

    let g = GeoDb::open(&[&geoip2]).unwrap();
    let i = GeoDb::open(&[&ipinfo]).unwrap();
    // Probe addresses: a few in each network, one in the non-country network, one outside.
    let mut probes: Vec<IpAddr> = Vec::new();
    for (net, _) in &s.networks {
        let hosts = [net.network(), net.broadcast()];
        probes.extend(hosts);
        if let ipnet::IpNet::V4(n) = net {
            probes.push(IpAddr::V4(std::net::Ipv4Addr::from(
                u32::from(n.network()) + 4242,
            )));
        }
    }
    probes.push("5.5.1.1".parse().unwrap());
    probes.push("9.9.9.9".parse().unwrap());
    probes.push("2a0b:ffff::1".parse().unwrap());

    let mut checked = 0;
    for ip in probes {
        // GeoIP2 layout: country.iso_code, falling back to registered_country.iso_code.
        let want = lookup_with_mmdblookup(&geoip2, ip, &["country", "iso_code"])
            .or_else(|| lookup_with_mmdblookup(&geoip2, ip, &["registered_country", "iso_code"]));
        let l = g.lookup(ip);
        let got = l.answers.first().map(|a| a.country.alpha2().to_string());
        match want.as_deref() {
            Some("EU") => {
                assert!(got.is_none() && !l.problems.is_empty(), "{ip}: {l:?}");
            }
            _ => assert_eq!(got, want, "geoip2 layout, {ip}"),
        }
        // IPinfo layout: top-level country_code.
        let want = lookup_with_mmdblookup(&ipinfo, ip, &["country_code"]);
        let got = i
            .lookup(ip)
            .answers
            .first()
            .map(|a| a.country.alpha2().to_string());
        if want.as_deref() != Some("EU") {
            assert_eq!(got, want, "ipinfo layout, {ip}");
        }
        checked += 1;
    }
    assert!(checked > 100);
    // The proxy trait is read.
    let proxy_net = s.networks[6].0;
    let l = g.lookup(proxy_net.network());
    assert!(l.answers[0].proxy, "{l:?}");

    // Both databases together: every IP answered twice, weight split, same results.
    let both = GeoDb::open(&[&geoip2, &ipinfo]).unwrap();
    assert_eq!(both.sources(), ["geoip2-country.mmdb", "ipinfo-lite.mmdb"]);
    let r = crate::support::run(&s, &both);
    let rate = crate::support::check(&s, &r);
    eprintln!(
        "with .mmdb sources, consistent accounts right: {:.2} %",
        rate * 100.0
    );
}

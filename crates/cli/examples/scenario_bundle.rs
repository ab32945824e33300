//! Writes a generated linking/attribution scenario (`tiaki_attrib::scenario`)
//! as one provider-report/1 bundle, with the CIDR→country CSV of its
//! networks, for `bench/attrib.sh`.
//!
//! `scenario_bundle OUT_DIR [ACCOUNTS] [LOGINS]` (defaults 150000, 1000000)
//! writes `OUT_DIR/bundle/` and `OUT_DIR/networks.csv`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use tiaki_attrib::Country;
use tiaki_attrib::scenario::{ScenarioConfig, generate};
use tiaki_store::Timestamp;

fn time(t: i64) -> String {
    Timestamp::from_unix(t).as_str().to_string()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: scenario_bundle OUT_DIR [ACCOUNTS] [LOGINS]")?,
    );
    let accounts: usize = args.next().map_or(Ok(150_000), |a| a.parse())?;
    let logins: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let s = generate(&ScenarioConfig {
        accounts,
        logins,
        seed: 42,
    });
    let dir = out.join("bundle");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(out.join("networks.csv"), s.cidr_csv())?;
    let mut acc_w = BufWriter::new(std::fs::File::create(dir.join("accounts.ndjson"))?);
    let mut media_w = BufWriter::new(std::fs::File::create(dir.join("media.ndjson"))?);
    let mut n = 0;
    for (i, a) in s.accounts.iter().enumerate() {
        let mut acc = serde_json::json!({
            "id": format!("acc{i}"),
            "emails": a.emails,
            "phones": a.phones,
            "devices": a.device_ids,
            "logins": a.logins.iter().map(|l| serde_json::json!({
                "ip": l.ip, "at": l.at.map(time), "possible_proxy": l.possible_proxy,
            })).collect::<Vec<_>>(),
        });
        if let Some(c) = a.declared_country.as_deref().and_then(Country::parse) {
            acc["declared_country"] = c.alpha2().into();
        }
        if let Some(c) = &a.estimated_location {
            acc["estimated_location"] = serde_json::json!({"country_code": c});
        }
        writeln!(acc_w, "{acc}")?;
        for u in &a.uploads {
            let Some(key) = u.content_key else { continue };
            let hex = tiaki_types::hex::encode(&key);
            let mut m = serde_json::json!({"id": format!("m{n}"), "account": format!("acc{i}"),
                "hashes": {"sha256": hex}});
            if let Some(ip) = &u.ip {
                m["upload_ip"] = ip.ip.clone().into();
                m["uploaded_at"] = ip.at.map(time).into();
            }
            writeln!(media_w, "{m}")?;
            n += 1;
        }
    }
    acc_w.flush()?;
    media_w.flush()?;
    let manifest = serde_json::json!({
        "format": "provider-report/1",
        "report_id": format!("SCENARIO-{accounts}"),
        "provider": {"name": "Example Share Ltd", "country": "NZ", "contact": "trust@example.test"},
        "created_at": time(s.now),
        "incident_type": "distribution",
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string())?;
    let total: usize = s.accounts.iter().map(|a| a.logins.len()).sum();
    println!(
        "wrote {} accounts, {total} logins, {n} media, {} true persons to {}",
        s.accounts.len(),
        s.persons.len(),
        dir.display()
    );
    Ok(())
}

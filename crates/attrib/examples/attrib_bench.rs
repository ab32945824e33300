//! Links and attributes a generated scenario and prints timings.
//!
//! `cargo run --release -p tiaki-attrib --example attrib_bench -- [ACCOUNTS] [LOGINS] [THREADS]`
//! (defaults: 150000 accounts, 1000000 logins, 2 threads).

use std::time::Instant;

use tiaki_attrib::scenario::{Profile, ScenarioConfig, generate};
use tiaki_attrib::{
    AttributionConfig, Attributor, GeoDb, LinkConfig, PreparedAccount, attribute_all, link, prepare,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let accounts: usize = args.next().map_or(Ok(150_000), |a| a.parse())?;
    let logins: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let threads: usize = args.next().map_or(Ok(2), |a| a.parse())?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()?;

    let t = Instant::now();
    let s = generate(&ScenarioConfig {
        accounts,
        logins,
        seed: 42,
    });
    let total_logins: usize = s.accounts.iter().map(|a| a.logins.len()).sum();
    println!(
        "generated {} accounts, {} logins, {} persons in {:.2?} (not timed below)",
        s.accounts.len(),
        total_logins,
        s.persons.len(),
        t.elapsed()
    );

    let dir = std::env::temp_dir().join(format!("tiaki-attrib-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("networks.csv");
    std::fs::write(&csv, s.cidr_csv())?;

    let start = Instant::now();
    let geo = GeoDb::open(&[&csv])?;
    let t_geo = start.elapsed();

    let t = Instant::now();
    use rayon::prelude::*;
    let prepared: Vec<PreparedAccount> = s.accounts.par_iter().map(prepare).collect();
    let t_prepare = t.elapsed();

    let t = Instant::now();
    let linking = link(&prepared, &LinkConfig::default());
    let t_link = t.elapsed();

    let t = Instant::now();
    let attributor = Attributor::new(&geo, AttributionConfig::default(), s.now);
    let (acc, per) = attribute_all(&attributor, prepared, &linking.persons);
    let t_attr = t.elapsed();
    let total = start.elapsed();

    let consistent: Vec<_> = s
        .truth
        .iter()
        .zip(&acc)
        .filter(|(t, _)| t.profile != Profile::Conflicting)
        .collect();
    let right = consistent
        .iter()
        .filter(|(t, a)| a.country == Some(t.country))
        .count();
    let got: Vec<Vec<u32>> = linking.persons.iter().map(|p| p.members.clone()).collect();
    println!("threads            {threads}");
    println!("open geo source    {t_geo:.2?}");
    println!("normalise          {t_prepare:.2?}");
    println!(
        "link               {t_link:.2?}  ({} links, {} persons, {} skipped values)",
        linking.links.len(),
        linking.persons.len(),
        linking.skipped.len()
    );
    println!(
        "attribute          {t_attr:.2?}  ({} accounts, {} persons)",
        acc.len(),
        per.len()
    );
    println!("total              {total:.2?}");
    println!(
        "check: consistent accounts right {}/{} ({:.3} %), persons exact: {}",
        right,
        consistent.len(),
        100.0 * right as f64 / consistent.len().max(1) as f64,
        got == s.persons
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

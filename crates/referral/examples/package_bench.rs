#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Builds the packages of a full operation: 130 countries, 150,000 accounts
//! and 2,000,000 media references, skewed like real data (a few countries
//! hold most of it), all generated benign data.
//!
//! ```text
//! cargo run --release -p tiaki-referral --example package_bench [-- COUNTRIES ACCOUNTS MEDIA]
//! ```
//!
//! Prints the time to generate the records (not part of the target) and
//! the time to build, encrypt and sign every package with rayon.

use std::time::Instant;

use rayon::prelude::*;
use tiaki_formats::model::{Md5, Sha1, Sha256};
use tiaki_formats::{Category, CategoryScheme};
use tiaki_hash::pdq::PdqHash;
use tiaki_referral::*;
use tiaki_types::hex;
use tiaki_types::rng::Rng;

fn country_code(i: usize) -> String {
    let a = b'A' + (i / 26) as u8;
    let b = b'A' + (i % 26) as u8;
    String::from_utf8(vec![a, b]).unwrap()
}

/// Splits `total` over `n` countries with Zipf-like weights 1/(k+1)^1.2.
fn skewed(total: usize, n: usize) -> Vec<usize> {
    let w: Vec<f64> = (0..n).map(|k| 1.0 / ((k + 1) as f64).powf(1.2)).collect();
    let sum: f64 = w.iter().sum();
    let mut parts: Vec<usize> = w
        .iter()
        .map(|x| (x / sum * total as f64) as usize)
        .collect();
    let short = total - parts.iter().sum::<usize>();
    parts[0] += short;
    parts
}

fn generate(country: usize, n_accounts: usize, n_media: usize) -> PackageContent {
    let cc = country_code(country);
    let mut rng = Rng::new(country as u64 * 7919 + 1);
    let accounts = (0..n_accounts)
        .map(|i| PackageAccount {
            report_id: format!("ACME-2019-10-{:04}", i % 3),
            id: format!("u-{country}-{i}"),
            username: Some(format!("user_{country}_{i}")),
            identifiers: vec![
                Identifier {
                    kind: "email".into(),
                    value: format!("user{i}@example.org"),
                },
                Identifier {
                    kind: "phone".into(),
                    value: format!("+64 21 555 {:04}", i % 10000),
                },
            ],
            person: (i % 3 != 0).then(|| format!("P-{country}-{}", i / 3)),
            country: cc.clone(),
            confidence: 0.6 + (rng.below(40) as f64) / 100.0,
            evidence: vec![Evidence {
                kind: "ip_geolocation".into(),
                value: format!("203.0.113.{}", i % 250),
                country: Some(cc.clone()),
                weight: Some(0.7),
                detail: Some("GeoLite2-City test".into()),
            }],
        })
        .collect();
    let media = (0..n_media)
        .map(|i| {
            let roll = rng.below(100);
            let status = match roll {
                0..20 => MediaStatus::Known,
                20..25 => MediaStatus::New,
                _ => MediaStatus::Unmatched,
            };
            let known = status == MediaStatus::Known;
            PackageMedia {
                id: Some(format!("f-{i}")),
                md5: Some(Md5::from_hex(&hex::encode(&rng.bytes::<16>())).unwrap()),
                sha1: Some(Sha1::from_hex(&hex::encode(&rng.bytes::<20>())).unwrap()),
                sha256: Some(Sha256::from_hex(&hex::encode(&rng.bytes::<32>())).unwrap()),
                pdq: Some(PdqHash([
                    rng.next_u64(),
                    rng.next_u64(),
                    rng.next_u64(),
                    rng.next_u64(),
                ])),
                pdq_quality: Some(100),
                size: Some(100_000 + rng.below(1_000_000) as u64),
                category: known.then(|| Category::new(CategoryScheme::VicsUs, "1")),
                status,
                series: (known && roll < 6).then(|| format!("S-{}", roll)),
                matches: if known {
                    vec![MediaMatch {
                        list: "vics-national".into(),
                        entry: format!("{}", rng.below(1_000_000)),
                        kind: "pdq".into(),
                        distance: Some(rng.below(32) as u32),
                    }]
                } else {
                    vec![]
                },
                viewed_by_provider: [Some(true), Some(false), None][rng.below(3)],
                viewed_by_ncmec: None,
                industry_classification: None,
                shared_with: Vec::new(),
                accounts: vec![rng.below(n_accounts)],
                original_name: Some(format!("IMG_{i:05}.jpg")),
                file: None,
            }
        })
        .collect();
    PackageContent {
        referral_id: format!("2019-{cc}-0001"),
        country: cc.clone(),
        agency_name: format!("Agency of {cc}"),
        issuer: "Benchmark Issuer".into(),
        created_at: "2019-11-01T00:00:00Z".into(),
        accounts,
        media,
        figures: vec![],
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: COUNTRIES ACCOUNTS MEDIA"))
        .collect();
    let countries = args.first().copied().unwrap_or(130);
    let total_accounts = args.get(1).copied().unwrap_or(150_000);
    let total_media = args.get(2).copied().unwrap_or(2_000_000);

    let files = IssuerKeys::generate("benchmark").unwrap();
    let keys = IssuerKeys::load_secret(&files.secret_key, "benchmark").unwrap();
    let recipient = AgeRecipient::X25519(age::x25519::Identity::generate().to_public());

    let t = Instant::now();
    let accounts = skewed(total_accounts, countries);
    let media = skewed(total_media, countries);
    let mut contents: Vec<PackageContent> = (0..countries)
        .into_par_iter()
        .map(|c| generate(c, accounts[c].max(1), media[c]))
        .collect();
    // Largest first, so the biggest package does not start last.
    contents.sort_by_key(|c| std::cmp::Reverse(c.media.len()));
    println!(
        "generated {} countries, {} accounts, {} media in {:.1?} (largest: {} accounts, {} media)",
        contents.len(),
        contents.iter().map(|c| c.accounts.len()).sum::<usize>(),
        contents.iter().map(|c| c.media.len()).sum::<usize>(),
        t.elapsed(),
        contents[0].accounts.len(),
        contents[0].media.len(),
    );

    let out = tempfile::tempdir().unwrap();
    let opts = BuildOptions::default();
    let t = Instant::now();
    let built: Vec<BuiltPackage> = contents
        .par_iter()
        .map(|c| build_package(c, &recipient, &keys, &out.path().join(&c.country), &opts).unwrap())
        .collect();
    let elapsed = t.elapsed();
    let bytes: u64 = built.iter().map(|b| b.package_bytes).sum();
    println!(
        "built {} packages ({:.0} MB encrypted) in {:.2?} with {} threads",
        built.len(),
        bytes as f64 / 1e6,
        elapsed,
        rayon::current_num_threads()
    );

    let t = Instant::now();
    let key = keys.public_key().clone();
    built.par_iter().for_each(|b| {
        verify(&b.package, &key).unwrap();
    });
    println!("verified all in {:.2?}", t.elapsed());
}

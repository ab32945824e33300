//! IP → country from MaxMind-format `.mmdb` databases and CIDR→country CSV files.
//!
//! # Sources
//! [`GeoDb::open`] takes any number of files; each becomes one source, named by its file name.
//! A file holding the MaxMind DB metadata marker is read as `.mmdb`, anything else as CSV.
//!
//! `.mmdb` layouts understood, tried in this order for each record:
//! 1. `country.iso_code` (GeoIP2/GeoLite2 Country and City, DB-IP, which copies that layout);
//! 2. `registered_country.iso_code` (the same databases, for networks with no located country,
//!    e.g. some satellite and anycast ranges);
//! 3. a top-level `country_code` string (IPinfo Lite);
//! 4. a top-level `country` string (IPinfo's older country database: a code; a name is
//!    accepted too).
//!
//! `traits.is_anonymous_proxy` / `traits.is_anonymous` (GeoIP2 and the Anonymous IP database)
//! set [`GeoAnswer::proxy`], which lowers the IP's weight like a provider's proxy flag.
//!
//! CSV lines: `cidr,country` (a bare address is a /32 or /128) or `start_ip,end_ip,country`
//! (DB-IP's "country lite" CSV form); further columns are ignored, `#` starts a comment, and a
//! first line that is not data is a header. The country may be an alpha-2 or alpha-3 code or a
//! name. Lines that cannot be used are reported as [`GeoWarning`]s with the file and line;
//! when two lines give the same network different countries, the first wins and the second is
//! reported. A more specific network wins over a wider one (longest prefix match).
//!
//! # Several sources
//! [`GeoDb::lookup`] asks every source and returns every answer, because each is evidence
//! and disagreement between databases is worth seeing. Attribution splits one sighting's
//! weight evenly between the answers, so adding a database never makes an IP count more.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use serde::{Deserialize, Serialize};

use crate::country::Country;

/// A geolocation file could not be used at all.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid MaxMind DB file: {source}")]
    Mmdb {
        path: PathBuf,
        #[source]
        source: maxminddb::MaxMindDbError,
    },
    #[error("{path}: no usable network in the file ({warnings} lines reported)")]
    NoNetworks { path: PathBuf, warnings: usize },
}

/// A line of a CSV source that was not used, or a record of an `.mmdb` that was odd.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoWarning {
    pub file: String,
    /// 1-based line number (0 for warnings about the whole file).
    pub line: usize,
    pub reason: String,
}

/// One source's answer for one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeoAnswer {
    pub country: Country,
    /// Index of the source in [`GeoDb::sources`].
    pub source: usize,
    /// The database marks the network as an anonymous proxy.
    pub proxy: bool,
}

/// Everything the sources said about one address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeoLookup {
    pub answers: Vec<GeoAnswer>,
    /// Answers that were not countries (`"EU"`, `"ZZ"`) or records that failed to decode,
    /// as readable text naming the source.
    pub problems: Vec<String>,
}

enum Backend {
    Mmdb(Box<maxminddb::Reader<Vec<u8>>>),
    Cidr(CidrTable),
}

struct Source {
    name: String,
    backend: Backend,
}

/// A set of geolocation sources, asked together.
pub struct GeoDb {
    sources: Vec<Source>,
    warnings: Vec<GeoWarning>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("sources", &self.sources())
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

const MMDB_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

impl GeoDb {
    /// No sources: every lookup answers nothing.
    pub fn empty() -> GeoDb {
        GeoDb {
            sources: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Opens each file as one source, in the given order.
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<GeoDb, GeoError> {
        let mut db = GeoDb::empty();
        for p in paths {
            db.add_file(p.as_ref())?;
        }
        Ok(db)
    }

    /// Adds one file as a source.
    pub fn add_file(&mut self, path: &Path) -> Result<(), GeoError> {
        let bytes = std::fs::read(path).map_err(|source| GeoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let is_mmdb = bytes
            .windows(MMDB_MARKER.len())
            .rev()
            .any(|w| w == MMDB_MARKER);
        if is_mmdb {
            let reader =
                maxminddb::Reader::from_source(bytes).map_err(|source| GeoError::Mmdb {
                    path: path.to_path_buf(),
                    source,
                })?;
            self.sources.push(Source {
                name,
                backend: Backend::Mmdb(Box::new(reader)),
            });
        } else {
            let text = String::from_utf8_lossy(&bytes);
            let (table, warnings) = CidrTable::parse_csv(&name, &text);
            if table.is_empty() {
                return Err(GeoError::NoNetworks {
                    path: path.to_path_buf(),
                    warnings: warnings.len(),
                });
            }
            self.warnings.extend(warnings);
            self.sources.push(Source {
                name,
                backend: Backend::Cidr(table),
            });
        }
        Ok(())
    }

    /// Adds an in-memory CIDR source (for callers that hold networks already, and for tests).
    pub fn add_networks(
        &mut self,
        name: &str,
        networks: impl IntoIterator<Item = (IpNet, Country)>,
    ) {
        let mut table = CidrTable::default();
        for (i, (net, country)) in networks.into_iter().enumerate() {
            if let Err(reason) = table.insert(net, country) {
                self.warnings.push(GeoWarning {
                    file: name.to_string(),
                    line: i + 1,
                    reason,
                });
            }
        }
        self.sources.push(Source {
            name: name.to_string(),
            backend: Backend::Cidr(table),
        });
    }

    /// The source names, in lookup order.
    pub fn sources(&self) -> Vec<&str> {
        self.sources.iter().map(|s| s.name.as_str()).collect()
    }

    /// The name of source `i` (`"?"` if out of range).
    pub fn source_name(&self, i: usize) -> &str {
        self.sources.get(i).map_or("?", |s| s.name.as_str())
    }

    /// Lines of CSV sources that were not used.
    pub fn warnings(&self) -> &[GeoWarning] {
        &self.warnings
    }

    /// Asks every source about `ip`.
    pub fn lookup(&self, ip: IpAddr) -> GeoLookup {
        let mut out = GeoLookup::default();
        for (i, s) in self.sources.iter().enumerate() {
            match &s.backend {
                Backend::Cidr(t) => {
                    if let Some(country) = t.lookup(ip) {
                        out.answers.push(GeoAnswer {
                            country,
                            source: i,
                            proxy: false,
                        });
                    }
                }
                Backend::Mmdb(r) => match mmdb_lookup(r, ip) {
                    Ok(None) => {}
                    Ok(Some(MmdbAnswer { code, proxy })) => match Country::parse(&code) {
                        Some(country) => out.answers.push(GeoAnswer {
                            country,
                            source: i,
                            proxy,
                        }),
                        None => out.problems.push(format!(
                            "{} answered {code:?}, which is not a country",
                            s.name
                        )),
                    },
                    Err(e) => out.problems.push(format!("{}: {e}", s.name)),
                },
            }
        }
        out
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CountryField {
    Code(String),
    Record { iso_code: Option<String> },
}

#[derive(Deserialize, Default)]
struct MmdbTraits {
    is_anonymous_proxy: Option<bool>,
    is_anonymous: Option<bool>,
}

#[derive(Deserialize)]
struct MmdbRecord {
    country: Option<CountryField>,
    registered_country: Option<CountryField>,
    country_code: Option<String>,
    traits: Option<MmdbTraits>,
}

struct MmdbAnswer {
    code: String,
    proxy: bool,
}

fn mmdb_lookup(
    r: &maxminddb::Reader<Vec<u8>>,
    ip: IpAddr,
) -> Result<Option<MmdbAnswer>, maxminddb::MaxMindDbError> {
    if r.metadata().ip_version == 4 && ip.is_ipv6() {
        return Ok(None);
    }
    let found = r.lookup(ip)?;
    let Some(rec) = found.decode::<MmdbRecord>()? else {
        return Ok(None);
    };
    let record_code = |f: Option<CountryField>| match f {
        Some(CountryField::Record { iso_code }) => iso_code,
        _ => None,
    };
    let (top_level, country_record) = match rec.country {
        Some(CountryField::Code(c)) => (Some(c), None),
        other => (None, record_code(other)),
    };
    let code = country_record
        .or_else(|| record_code(rec.registered_country))
        .or(rec.country_code)
        .or(top_level);
    let traits = rec.traits.unwrap_or_default();
    let proxy = traits.is_anonymous_proxy.unwrap_or(false) || traits.is_anonymous.unwrap_or(false);
    Ok(code.map(|code| MmdbAnswer { code, proxy }))
}

/// Longest-prefix-match table: one hash map per prefix length present, longest first.
#[derive(Default)]
struct CidrTable {
    v4: Vec<(u8, HashMap<u32, Country>)>,
    v6: Vec<(u8, HashMap<u128, Country>)>,
}

fn mask_v4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(len)))
    }
}

fn mask_v6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(len)))
    }
}

fn insert_len<K: std::hash::Hash + Eq + Copy>(
    levels: &mut Vec<(u8, HashMap<K, Country>)>,
    len: u8,
    key: K,
    country: Country,
) -> Result<(), String> {
    let pos = match levels.iter().position(|(l, _)| *l <= len) {
        Some(p) if levels[p].0 == len => p,
        Some(p) => {
            levels.insert(p, (len, HashMap::new()));
            p
        }
        None => {
            levels.push((len, HashMap::new()));
            levels.len() - 1
        }
    };
    let map = &mut levels[pos].1;
    match map.get(&key) {
        Some(&old) if old != country => Err(format!(
            "network already mapped to {old}; keeping {old}, ignoring {country}"
        )),
        Some(_) => Ok(()),
        None => {
            map.insert(key, country);
            Ok(())
        }
    }
}

impl CidrTable {
    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    fn insert(&mut self, net: IpNet, country: Country) -> Result<(), String> {
        match net.trunc() {
            IpNet::V4(n) => insert_len(
                &mut self.v4,
                n.prefix_len(),
                u32::from(n.network()),
                country,
            ),
            IpNet::V6(n) => insert_len(
                &mut self.v6,
                n.prefix_len(),
                u128::from(n.network()),
                country,
            ),
        }
    }

    fn lookup(&self, ip: IpAddr) -> Option<Country> {
        match ip {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4
                    .iter()
                    .find_map(|(len, m)| m.get(&mask_v4(a, *len)).copied())
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6
                    .iter()
                    .find_map(|(len, m)| m.get(&mask_v6(a, *len)).copied())
            }
        }
    }

    fn parse_csv(file: &str, text: &str) -> (CidrTable, Vec<GeoWarning>) {
        let mut table = CidrTable::default();
        let mut warnings = Vec::new();
        let mut seen_data = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let warn = |reason: String| GeoWarning {
                file: file.to_string(),
                line: i + 1,
                reason,
            };
            let cols: Vec<&str> = line
                .split([',', '\t', ';'])
                .map(|c| c.trim().trim_matches('"').trim())
                .collect();
            let first_line = !seen_data;
            seen_data = true;
            match parse_csv_row(&cols) {
                Ok((nets, country)) => {
                    for n in nets {
                        if let Err(reason) = table.insert(n, country) {
                            warnings.push(warn(reason));
                        }
                    }
                }
                // A first line that does not start with an address is a header.
                Err(_) if first_line && parse_addr_or_net(cols[0]).is_none() => {}
                Err(reason) => warnings.push(warn(reason)),
            }
        }
        (table, warnings)
    }
}

enum AddrOrNet {
    Addr(IpAddr),
    Net(IpNet),
}

fn parse_addr_or_net(s: &str) -> Option<AddrOrNet> {
    if let Ok(a) = s.parse::<IpAddr>() {
        return Some(AddrOrNet::Addr(a));
    }
    s.parse::<IpNet>().ok().map(AddrOrNet::Net)
}

fn parse_country(s: &str) -> Result<Country, String> {
    if s.is_empty() {
        return Err("no country column".into());
    }
    Country::parse(s).ok_or_else(|| format!("{s:?} is not an ISO 3166-1 country"))
}

fn parse_csv_row(cols: &[&str]) -> Result<(Vec<IpNet>, Country), String> {
    let first = parse_addr_or_net(cols.first().copied().unwrap_or("")).ok_or_else(|| {
        format!(
            "{:?} is not an IP network",
            cols.first().copied().unwrap_or("")
        )
    })?;
    let second = cols.get(1).copied().unwrap_or("");
    match (first, parse_addr_or_net(second)) {
        (AddrOrNet::Addr(start), Some(AddrOrNet::Addr(end))) => {
            let country = parse_country(cols.get(2).copied().unwrap_or(""))?;
            Ok((range_to_nets(start, end)?, country))
        }
        (AddrOrNet::Addr(a), _) => Ok((vec![IpNet::from(a)], parse_country(second)?)),
        (AddrOrNet::Net(n), _) => Ok((vec![n], parse_country(second)?)),
    }
}

fn range_to_nets(start: IpAddr, end: IpAddr) -> Result<Vec<IpNet>, String> {
    match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) if s <= e => {
            Ok(Ipv4Subnets::new(s, e, 0).map(IpNet::V4).collect())
        }
        (IpAddr::V6(s), IpAddr::V6(e)) if s <= e => {
            Ok(Ipv6Subnets::new(s, e, 0).map(IpNet::V6).collect())
        }
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            Err(format!("range start {start} is after its end {end}"))
        }
        _ => Err(format!("range {start} - {end} mixes IPv4 and IPv6")),
    }
}

impl tiaki_types::codes::ErrorCode for GeoError {
    fn error_code(&self) -> tiaki_types::codes::Code {
        match self {
            GeoError::Io { source, .. } => tiaki_types::codes::ErrorCode::error_code(source),
            _ => tiaki_types::codes::Code::InvalidInput,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Country {
        Country::from_alpha2(s).unwrap()
    }

    #[test]
    fn csv_longest_prefix_and_warnings() {
        let text = "network,country\n\
            # comment\n\
            81.0.0.0/8,DE\n\
            81.2.0.0/16,FR\n\
            81.2.3.4,GBR   # single host\n\
            2a01::/16,\"Netherlands\"\n\
            not-a-net,DE\n\
            82.0.0.0/8,ZZ\n\
            81.0.0.0/8,IT\n\
            5.0.0.0,5.0.0.255,SE\n\
            6.0.0.9,6.0.0.1,SE\n\
            83.0.0.0/8\n";
        let (t, w) = CidrTable::parse_csv("x.csv", text);
        assert_eq!(t.lookup("81.9.9.9".parse().unwrap()), Some(c("DE")));
        assert_eq!(t.lookup("81.2.9.9".parse().unwrap()), Some(c("FR")));
        assert_eq!(t.lookup("81.2.3.4".parse().unwrap()), Some(c("GB")));
        assert_eq!(t.lookup("2a01:1::1".parse().unwrap()), Some(c("NL")));
        assert_eq!(t.lookup("5.0.0.200".parse().unwrap()), Some(c("SE")));
        assert_eq!(t.lookup("5.0.1.0".parse().unwrap()), None);
        assert_eq!(t.lookup("9.9.9.9".parse().unwrap()), None);
        let lines: Vec<usize> = w.iter().map(|w| w.line).collect();
        assert_eq!(lines, [7, 8, 9, 11, 12], "{w:#?}");
        assert!(w[2].reason.contains("keeping DE"));
    }

    #[test]
    fn headerless_first_bad_line_is_reported_not_swallowed() {
        let (_, w) = CidrTable::parse_csv("x.csv", "1.0.0.0/8,QQ\n");
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, 1);
    }
}

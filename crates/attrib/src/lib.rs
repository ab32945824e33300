//! Linking accounts into persons, and attributing accounts and persons to countries.
//!
//! Plain data in, plain data out; no database, no clock, no network.
//!
//! - [`country`]: the built-in ISO 3166-1 table.
//! - [`normalise`]: e-mail, phone, IP and device-id normalisation; [`normalise::prepare`] turns
//!   one raw [`AccountInput`] into a [`PreparedAccount`] that both linking and attribution use.
//! - [`geo`]: IP → country from MaxMind-format `.mmdb` files and CIDR→country CSV files.
//! - [`link`]: links between accounts (shared identifiers, same IP at the same time, shared
//!   uploads) and persons as connected components.
//! - [`attribute`]: a country with a confidence, runner-up and all evidence, per account and
//!   per person. The scoring is explained in `docs/attribution.md`.
//! - [`scenario`]: a generated benign scenario with known truth, for tests, benchmarks and demos.
//!
//! Malformed input never stops a run: it becomes a [`Finding`] on the account.

#![forbid(unsafe_code)]

pub mod attribute;
/// The ISO 3166-1 table lives in `tiaki-types` (every stage names countries).
pub use tiaki_types::country;
pub mod geo;
pub mod link;
pub mod normalise;
pub mod scenario;

use serde::{Deserialize, Serialize};

//
pub use attribute::{
    Attribution, AttributionConfig, Attributor, Collected, CountryShare, Evidence, EvidenceKind,
    EvidenceWeights, attribute_all,
};
pub use country::Country;
pub use geo::{GeoAnswer, GeoDb, GeoError, GeoLookup, GeoWarning};
pub use link::{Link, LinkConfig, LinkKind, LinkWeights, Linking, Person, SkippedIdentifier, link};
pub use normalise::{PreparedAccount, add_upload, finish_uploads, prepare};

/// Unix time in seconds (UTC). Times are always passed in; this crate never reads the clock.
pub use tiaki_types::time::UnixTime;
/// Shared with every later stage (stored with the account, shown by the service).
pub use tiaki_types::attribution::Finding;

/// One IP sighting as a provider reports it: a login, or the address an upload came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpEvent {
    /// The address as text (IPv4 or IPv6; `a.b.c.d:port` and `[v6]:port` are accepted).
    pub ip: String,
    /// When, if known.
    pub at: Option<UnixTime>,
    /// The provider flagged the address as a possible proxy/VPN.
    pub possible_proxy: bool,
}

/// One upload: where it came from and the content key of what was uploaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadInput {
    /// The upload's IP sighting, if the report gives one.
    pub ip: Option<IpEvent>,
    /// SHA-256 of the uploaded file, if known.
    pub content_key: Option<[u8; 32]>,
}

/// Everything known about one account, as raw text from the report or intake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInput {
    /// Country the account holder declared (code or name, free text).
    pub declared_country: Option<String>,
    /// CyberTipline `estimatedLocation` country (code or name).
    pub estimated_location: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub device_ids: Vec<String>,
    pub logins: Vec<IpEvent>,
    pub uploads: Vec<UploadInput>,
}

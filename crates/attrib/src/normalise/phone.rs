//! Phone numbers: E.164 for linking, and the number's region for attribution, using the
//! libphonenumber metadata compiled into the `phonenumber` crate (metadata 9.0.33).
//!
//! A number written with `+` (or in RFC 3966 `tel:` form) is read as international. A
//! number without `+` is read in the default region (the account's declared country) when
//! there is one, so `020 7946 0000` with declared GB becomes `+442079460000`. Without a
//! default region, a leading `00` (the ITU-recommended international prefix, used by most
//! countries) is read as `+`; anything else is a finding, because the country code cannot be
//! known.
//!
//! Only numbers that libphonenumber calls valid for their region are kept: a typo'd or
//! placeholder number (`+1 000 000 0000`) must neither link two people nor vote for a country.
//!
//! Regions that are not ISO 3166-1 countries: `AC` (Ascension) and `TA` (Tristan da Cunha)
//! are reported as `SH`, the ISO code that covers Saint Helena, Ascension and Tristan da Cunha.
//! Non-geographic numbers (`+800`, `+882`...) are kept for linking and give no country.

use std::sync::Once;

use phonenumber::{Mode, country::Id};

use crate::country::Country;

/// A normalised phone number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    /// E.164 form, e.g. `+442079460000`.
    pub e164: String,
    /// The region the number belongs to, when it is geographic.
    pub region: Option<Country>,
}

/// Compiled regexes kept by `phonenumber`; enough for every region's patterns.
const REGEX_CACHE_CAPACITY: usize = 16_384;

/// `phonenumber` 0.3 compiles its metadata patterns lazily into one shared LRU cache of 100
/// regexes. Numbers from more than a handful of regions overflow it, and every parse then
/// recompiles regexes (about 1000× slower; upstream removed the cache after 0.3.10, see
/// whisperfish/rust-phonenumber#102). The cache is reachable through `Database::cache()`,
/// so it is replaced once by a large one; compiled patterns then stay for the process's life
/// (a few MB per hundred regions seen).
fn enlarge_regex_cache() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            *cache = regex_cache::RegexCache::new(REGEX_CACHE_CAPACITY);
        }
    });
}

/// Normalises a number; `Err` carries the reason it is unusable.
pub fn normalise_phone(raw: &str, default_region: Option<Country>) -> Result<Phone, String> {
    enlarge_regex_cache();
    let t = raw.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return Err("no digits".into());
    }
    let region_id = default_region.and_then(|c| c.alpha2().parse::<Id>().ok());
    let international = t.starts_with('+') || t.starts_with("tel:");
    let text = if !international && region_id.is_none() {
        match t.strip_prefix("00") {
            Some(rest) => format!("+{rest}"),
            None => {
                return Err("no country code (+) and no declared country to read it in".to_string());
            }
        }
    } else {
        t.to_string()
    };
    let number = phonenumber::parse(region_id, &text).map_err(|e| format!("not a number: {e}"))?;
    if !phonenumber::is_valid(&number) {
        return Err("not a valid number for its region (libphonenumber metadata)".into());
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    let region = number.country().id().and_then(|id| match id.as_ref() {
        "AC" | "TA" => Country::from_alpha2("SH"),
        code => Country::from_alpha2(code),
    });
    Ok(Phone { e164, region })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Option<Country> {
        Country::from_alpha2(s)
    }

    #[test]
    fn parses_and_finds_region() {
        let p = normalise_phone("+44 20 7946 0000", None).unwrap();
        assert_eq!(p.e164, "+442079460000");
        assert_eq!(p.region, c("GB"));
        let p = normalise_phone("020 7946 0000", c("GB")).unwrap();
        assert_eq!(p.e164, "+442079460000");
        let p = normalise_phone("0044 20 7946 0000", None).unwrap();
        assert_eq!(p.e164, "+442079460000");
        // A foreign number written with + keeps its own region whatever the declared country.
        let p = normalise_phone("+49 30 123456", c("FR")).unwrap();
        assert_eq!(p.region, c("DE"));
        let p = normalise_phone("+1 415 555 2671", None).unwrap();
        assert_eq!(p.region, c("US"));
    }

    #[test]
    fn malformed() {
        for (bad, region) in [
            ("", None),
            ("abc", None),
            ("020 7946 0000", None),
            ("+44 12", None),
            ("+999 123456789", None),
            ("+1 000 000 0000", None),
        ] {
            assert!(normalise_phone(bad, region).is_err(), "{bad:?} accepted");
        }
    }
}

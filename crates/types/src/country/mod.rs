//! ISO 3166-1 countries: the 249 officially assigned codes, built in.
//!
//! [`Country`] is a two-byte `Copy` value holding the alpha-2 code; it can only be made from
//! the built-in table, so every value names a real entry.
//!
//! One user-assigned code is accepted as well: `XK` (Kosovo, alpha-3 `XKX`, no numeric code).
//! ISO has not assigned it, but MaxMind, DB-IP, IPinfo and libphonenumber (+383) all use it,
//! and dropping it would leave those accounts without a country.

mod table;

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use table::{ROWS, Row};

/// The user-assigned Kosovo row (see the module docs); numeric 0 stands for "none".
const KOSOVO: Row = Row {
    alpha2: *b"XK",
    alpha3: "XKX",
    numeric: 0,
    name: "Kosovo",
    common_name: None,
    official_name: Some("Republic of Kosovo"),
};

/// Names accepted in free evidence text (declared countries, report fields) that are neither
/// a code nor an ISO name. Kept short on purpose: each is unambiguous in practice.
const ALIASES: &[(&str, [u8; 2])] = &[
    // "UK" is not an ISO code (it is exceptionally reserved) but is what people write for GB.
    ("uk", *b"GB"),
    ("great britain", *b"GB"),
    ("britain", *b"GB"),
    ("england", *b"GB"),
    ("scotland", *b"GB"),
    ("wales", *b"GB"),
    ("northern ireland", *b"GB"),
    ("usa", *b"US"),
    ("u.s.", *b"US"),
    ("u.s.a.", *b"US"),
    ("america", *b"US"),
    ("russia", *b"RU"),
    ("south korea", *b"KR"),
    ("north korea", *b"KP"),
    ("czech republic", *b"CZ"),
    ("turkey", *b"TR"),
    ("holland", *b"NL"),
];

/// An ISO 3166-1 country (or the user-assigned `XK`), stored as its alpha-2 code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// Every country of the built-in table, sorted by alpha-2 (249 ISO codes, then `XK`).
    pub fn all() -> impl Iterator<Item = Country> {
        ROWS.iter()
            .chain(std::iter::once(&KOSOVO))
            .map(|r| Country(r.alpha2))
    }

    /// Looks up an alpha-2 code, case-insensitively (`"gb"`, `"GB"`). No aliases.
    pub fn from_alpha2(code: &str) -> Option<Country> {
        let b = code.as_bytes();
        if b.len() != 2 {
            return None;
        }
        let key = [b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()];
        if key == KOSOVO.alpha2 {
            return Some(Country(key));
        }
        ROWS.binary_search_by(|r| r.alpha2.cmp(&key))
            .ok()
            .map(|_| Country(key))
    }

    /// Looks up an alpha-3 code, case-insensitively (`"gbr"`).
    pub fn from_alpha3(code: &str) -> Option<Country> {
        if code.len() != 3 {
            return None;
        }
        ROWS.iter()
            .chain(std::iter::once(&KOSOVO))
            .find(|r| r.alpha3.eq_ignore_ascii_case(code))
            .map(|r| Country(r.alpha2))
    }

    /// Looks up a numeric code (`826`).
    pub fn from_numeric(code: u16) -> Option<Country> {
        if code == 0 {
            return None;
        }
        ROWS.iter()
            .find(|r| r.numeric == code)
            .map(|r| Country(r.alpha2))
    }

    /// Looks up an English name: the ISO short name, the common or official name that
    /// Debian's iso-codes gives, or one of a few documented aliases (`"UK"`, `"England"`,
    /// `"USA"`...). Case and surrounding/repeated white space are ignored.
    pub fn from_name(name: &str) -> Option<Country> {
        NAMES.get(&fold_name(name)).copied()
    }

    /// Parses evidence text: an alpha-2 code, alpha-3 code, numeric code (`"826"`, `"076"`) or
    /// a name as in [`Country::from_name`]. `"UK"` is read as GB here (it is exceptionally
    /// reserved by ISO and never another country).
    pub fn parse(text: &str) -> Option<Country> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if let Some(c) = Country::from_alpha2(t) {
            return Some(c);
        }
        if let Some(c) = Country::from_alpha3(t) {
            return Some(c);
        }
        if t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()) {
            return t.parse().ok().and_then(Country::from_numeric);
        }
        Country::from_name(t)
    }

    fn row(self) -> &'static Row {
        if self.0 == KOSOVO.alpha2 {
            return &KOSOVO;
        }
        match ROWS.binary_search_by(|r| r.alpha2.cmp(&self.0)) {
            Ok(i) => &ROWS[i],
            // Unreachable: a Country is only ever built from a table row.
            Err(_) => &KOSOVO,
        }
    }

    /// The alpha-2 code, upper case (`"GB"`).
    pub fn alpha2(self) -> &'static str {
        let r = self.row();
        // The table only holds ASCII, so this cannot fail; fall back to the alpha-3 anyway.
        std::str::from_utf8(&r.alpha2).unwrap_or(r.alpha3)
    }

    /// The alpha-3 code, upper case (`"GBR"`).
    pub fn alpha3(self) -> &'static str {
        self.row().alpha3
    }

    /// The numeric code (`826`); `None` only for the user-assigned `XK`.
    pub fn numeric(self) -> Option<u16> {
        match self.row().numeric {
            0 => None,
            n => Some(n),
        }
    }

    /// The English short name as ISO 3166-1 gives it (`"Korea, Republic of"`).
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// The name people use when it differs from the ISO one (`"South Korea"`), else the ISO name.
    pub fn common_name(self) -> &'static str {
        let r = self.row();
        r.common_name.unwrap_or(r.name)
    }
}

fn fold_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

static NAMES: LazyLock<HashMap<String, Country>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for r in ROWS.iter().chain(std::iter::once(&KOSOVO)) {
        let c = Country(r.alpha2);
        for n in [Some(r.name), r.common_name, r.official_name]
            .into_iter()
            .flatten()
        {
            m.insert(fold_name(n), c);
        }
    }
    for (alias, code) in ALIASES {
        m.entry((*alias).to_string()).or_insert(Country(*code));
    }
    m
});

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alpha2())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.alpha2())
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.alpha2())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Country::from_alpha2(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("{s:?} is not an ISO 3166-1 alpha-2 code"))
        })
    }
}

// `Country` serialises as its alpha-2 code (above): so is its schema.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Country {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[A-Z]{2}$"))
            .description(Some("ISO 3166-1 alpha-2 country code."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Country {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_consistent() {
        assert_eq!(ROWS.len(), 249);
        assert!(ROWS.windows(2).all(|w| w[0].alpha2 < w[1].alpha2));
        let mut a3: Vec<_> = ROWS.iter().map(|r| r.alpha3).collect();
        a3.sort_unstable();
        a3.dedup();
        assert_eq!(a3.len(), 249);
        let mut num: Vec<_> = ROWS.iter().map(|r| r.numeric).collect();
        num.sort_unstable();
        num.dedup();
        assert_eq!(num.len(), 249);
        assert_eq!(Country::all().count(), 250);
    }

    #[test]
    fn lookups() {
        let gb = Country::from_alpha2("gb").unwrap();
        assert_eq!(gb.alpha3(), "GBR");
        assert_eq!(gb.numeric(), Some(826));
        assert_eq!(gb.name(), "United Kingdom");
        assert_eq!(Country::from_alpha3("gbr"), Some(gb));
        assert_eq!(Country::from_numeric(826), Some(gb));
        assert_eq!(Country::parse("UK"), Some(gb));
        assert_eq!(Country::parse(" united   KINGDOM "), Some(gb));
        assert_eq!(Country::parse("826"), Some(gb));
        assert_eq!(Country::parse("076").map(Country::alpha2), Some("BR"));
        assert_eq!(
            Country::parse("South Korea").map(Country::alpha2),
            Some("KR")
        );
        assert_eq!(
            Country::parse("Korea, Republic of").map(Country::alpha2),
            Some("KR")
        );
        assert_eq!(Country::parse("xk").map(Country::alpha3), Some("XKX"));
        assert_eq!(Country::from_alpha2("UK"), None);
        assert_eq!(Country::parse("ZZ"), None);
        assert_eq!(Country::parse("EU"), None);
        assert_eq!(Country::parse(""), None);
        assert_eq!(Country::from_numeric(0), None);
        assert_eq!(std::mem::size_of::<Country>(), 2);
    }

    #[test]
    fn every_country_round_trips() {
        for c in Country::all() {
            assert_eq!(Country::from_alpha2(c.alpha2()), Some(c));
            assert_eq!(Country::from_alpha3(c.alpha3()), Some(c));
            assert_eq!(Country::from_name(c.name()), Some(c));
            if let Some(n) = c.numeric() {
                assert_eq!(Country::from_numeric(n), Some(c));
            }
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Country>(&json).unwrap(), c);
        }
    }
}

//! Category schemes and the tables that translate codes between them.
//!
//! A category code only means something under its scheme: `1` is "CAM" under
//! the VICS US profile, while the legacy DHS scheme has six codes and UK lists
//! grade A/B/C (spec/formats.md §1.6, §3.1, §3.4). Entries therefore keep
//! `(scheme, raw_code)` and are translated only on request, through a table.
//!
//! The built-in table ([`BUILTIN_CLASSES`], [`BUILTIN_MAPPINGS`]) is
//! deliberately conservative: a row exists only where the target code follows
//! from the published definitions. Where the target scheme is finer than the
//! source (VICS US `1` → UK A, B or C?) there is no row and [`map`] answers
//! `None`: guessing a grade would be worse than leaving it out. Organisations
//! with their own agreed translations load them with [`CategoryMap::from_toml`]
//! (same shape as the built-in rows; see `crates/formats/CATEGORIES.md`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The category numbering a list uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategoryScheme {
    /// Project VIC VICS 2.0 `US` profile: 0 non-pertinent, 1 CAM, 2 age
    /// difficult (non-CAM), 3 CGI/animation, 4 comparison.
    VicsUs,
    /// VICS 2.0 `UK` profile (CAID). Its numeric codes are not public, so they
    /// are kept but have no table rows.
    VicsUk,
    /// VICS 2.0 `Default` profile. Meaning of codes not published.
    VicsDefault,
    /// VICS 2.0 `CUSTOM` profile (RECON). Meaning of codes not published.
    VicsCustom,
    /// VICS 1.x, which names no profile (NIST's CAID-format export writes 8).
    Vics1,
    /// Legacy DHS scheme of older forensic tools: 0 uncategorized, 1 unlawful,
    /// 2 age difficult, 3 CGI/animation, 4 exemplar/comparison, 5 non-pertinent.
    VicsDhs,
    /// UK legal grades A, B, C.
    UkLegal,
    /// Tech Coalition industry classification A1, A2, B1, B2 (NCMEC
    /// `classification` / `industryClassification`).
    Industry,
    /// A code whose scheme the source does not say.
    Unknown,
}

impl CategoryScheme {
    pub const ALL: [CategoryScheme; 9] = [
        CategoryScheme::VicsUs,
        CategoryScheme::VicsUk,
        CategoryScheme::VicsDefault,
        CategoryScheme::VicsCustom,
        CategoryScheme::Vics1,
        CategoryScheme::VicsDhs,
        CategoryScheme::UkLegal,
        CategoryScheme::Industry,
        CategoryScheme::Unknown,
    ];

    /// Stable text name (also the serde name).
    pub fn name(self) -> &'static str {
        match self {
            CategoryScheme::VicsUs => "vics-us",
            CategoryScheme::VicsUk => "vics-uk",
            CategoryScheme::VicsDefault => "vics-default",
            CategoryScheme::VicsCustom => "vics-custom",
            CategoryScheme::Vics1 => "vics1",
            CategoryScheme::VicsDhs => "vics-dhs",
            CategoryScheme::UkLegal => "uk-legal",
            CategoryScheme::Industry => "industry",
            CategoryScheme::Unknown => "unknown",
        }
    }

    /// The VICS 2.0 profile segment of `@odata.context` for this scheme.
    /// Schemes with no VICS profile of their own are written as `Default`.
    pub fn vics_profile(self) -> &'static str {
        match self {
            CategoryScheme::VicsUs => "US",
            CategoryScheme::VicsUk => "UK",
            CategoryScheme::VicsCustom => "CUSTOM",
            _ => "Default",
        }
    }

    /// The scheme a VICS 2.0 profile segment implies (case-insensitive);
    /// unknown profiles (e.g. a Canadian one) are [`CategoryScheme::Unknown`].
    pub fn from_vics_profile(profile: &str) -> CategoryScheme {
        match profile.trim().to_ascii_uppercase().as_str() {
            "US" => CategoryScheme::VicsUs,
            "UK" => CategoryScheme::VicsUk,
            "DEFAULT" => CategoryScheme::VicsDefault,
            "CUSTOM" => CategoryScheme::VicsCustom,
            _ => CategoryScheme::Unknown,
        }
    }

    /// The scheme-independent meaning of `code` in the built-in table.
    pub fn class_of(self, code: &str) -> Option<CategoryClass> {
        // Table codes are upper-case: this is `normalise_code(code) ==
        // r.code` without allocating (it runs once per imported entry).
        let code = code.trim();
        BUILTIN_CLASSES
            .iter()
            .find(|r| r.scheme == self && r.code.eq_ignore_ascii_case(code))
            .map(|r| r.class)
    }

    /// The published label of `code`, if the built-in table has one.
    pub fn label(self, code: &str) -> Option<&'static str> {
        // Table codes are upper-case: this is `normalise_code(code) ==
        // r.code` without allocating (it runs once per imported entry).
        let code = code.trim();
        BUILTIN_CLASSES
            .iter()
            .find(|r| r.scheme == self && r.code.eq_ignore_ascii_case(code))
            .map(|r| r.label)
    }

    /// A scheme for a bare code from a source that names none (CSV columns):
    /// `A1`…`B2` are industry codes, `A`/`B`/`C` UK grades, anything else
    /// unknown. Numbers stay unknown: 1 differs between VICS profiles.
    pub fn guess(code: &str) -> CategoryScheme {
        match normalise_code(code).as_str() {
            "A1" | "A2" | "B1" | "B2" => CategoryScheme::Industry,
            "A" | "B" | "C" => CategoryScheme::UkLegal,
            _ => CategoryScheme::Unknown,
        }
    }
}

impl fmt::Display for CategoryScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a string names no category scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown category scheme {0:?} (expected one of vics-us, vics-uk, vics-default, vics-custom, vics1, vics-dhs, uk-legal, industry, unknown, or a VICS profile US/UK/Default/CUSTOM)"
)]
pub struct UnknownScheme(pub String);

impl FromStr for CategoryScheme {
    type Err = UnknownScheme;
    /// Accepts the scheme names and, for `--profile`, the VICS profile
    /// segments `US`, `UK`, `Default`, `CUSTOM` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        if let Some(found) = CategoryScheme::ALL.iter().find(|c| c.name() == norm) {
            return Ok(*found);
        }
        Ok(match norm.as_str() {
            "us" => CategoryScheme::VicsUs,
            "uk" | "caid" => CategoryScheme::VicsUk,
            "default" => CategoryScheme::VicsDefault,
            "custom" => CategoryScheme::VicsCustom,
            "dhs" => CategoryScheme::VicsDhs,
            "uk-grades" | "abc" => CategoryScheme::UkLegal,
            "industry-classification" | "tech-coalition" => CategoryScheme::Industry,
            _ => return Err(UnknownScheme(s.to_string())),
        })
    }
}

/// What a category says, independent of the numbering that said it.
///
/// Named after the VICS US codes that have them; see each scheme's rows in
/// [`BUILTIN_CLASSES`] for which codes carry which class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CategoryClass {
    /// Known material of no interest (VICS US 0, DHS 5).
    NonPertinent,
    /// Explicitly not yet categorized (DHS 0).
    Uncategorized,
    /// Material that is unlawful to hold (VICS US 1, DHS 1, UK A/B/C,
    /// industry A1–B2).
    Pertinent,
    /// Pertinent but not unlawful, or age difficult (VICS US 2, DHS 2).
    AgeDifficult,
    /// Computer-generated or animated (VICS US 3, DHS 3).
    Animated,
    /// Comparison/exemplar material for internal use (VICS US 4, DHS 4).
    Comparison,
}

/// One row of the code → class table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRow<S = String> {
    pub scheme: CategoryScheme,
    pub code: S,
    pub class: CategoryClass,
    pub label: S,
}

/// One row of the translation table: `code` under `from` is `to_code` under `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapRow<S = String> {
    pub from: CategoryScheme,
    pub code: S,
    pub to: CategoryScheme,
    pub to_code: S,
    /// Why this translation holds (kept so reviewers can check each row).
    pub why: S,
}

use CategoryClass as K;
use CategoryScheme as Sc;

macro_rules! class_rows {
    ($( $s:ident $c:literal => $k:ident, $l:literal; )*) => {
        &[ $( ClassRow { scheme: Sc::$s, code: $c, class: K::$k, label: $l }, )* ]
    };
}

/// Built-in code → class rows (spec/formats.md §1.6, §3.1, §3.4).
pub static BUILTIN_CLASSES: &[ClassRow<&str>] = class_rows! {
    VicsUs "0" => NonPertinent, "Non-Pertinent";
    VicsUs "1" => Pertinent, "CAM";
    VicsUs "2" => AgeDifficult, "Non-CAM / Age Difficult";
    VicsUs "3" => Animated, "CGI/Animation";
    VicsUs "4" => Comparison, "Comparison Images";
    VicsDhs "0" => Uncategorized, "Uncategorized";
    VicsDhs "1" => Pertinent, "Category 1 (unlawful)";
    VicsDhs "2" => AgeDifficult, "Category 2 (non-unlawful / age difficult)";
    VicsDhs "3" => Animated, "CGI/Animation";
    VicsDhs "4" => Comparison, "Exemplar/Comparison (internal use only)";
    VicsDhs "5" => NonPertinent, "Non-pertinent";
    UkLegal "A" => Pertinent, "UK grade A";
    UkLegal "B" => Pertinent, "UK grade B";
    UkLegal "C" => Pertinent, "UK grade C";
    Industry "A1" => Pertinent, "A1 (prepubescent, act)";
    Industry "A2" => Pertinent, "A2 (prepubescent, exhibition)";
    Industry "B1" => Pertinent, "B1 (pubescent, act)";
    Industry "B2" => Pertinent, "B2 (pubescent, exhibition)";
};

macro_rules! map_rows {
    ($( $f:ident $c:literal => $t:ident $tc:literal, $why:literal; )*) => {
        &[ $( MapRow { from: Sc::$f, code: $c, to: Sc::$t, to_code: $tc, why: $why }, )* ]
    };
}

/// Built-in translations. Identity (same scheme) needs no row.
pub static BUILTIN_MAPPINGS: &[MapRow<&str>] = map_rows! {
    // VICS US and legacy DHS number the same five meanings; DHS adds 0.
    VicsUs "0" => VicsDhs "5", "both non-pertinent";
    VicsUs "1" => VicsDhs "1", "both the unlawful category";
    VicsUs "2" => VicsDhs "2", "both age difficult / non-unlawful";
    VicsUs "3" => VicsDhs "3", "both CGI/animation";
    VicsUs "4" => VicsDhs "4", "both comparison/exemplar";
    VicsDhs "1" => VicsUs "1", "both the unlawful category";
    VicsDhs "2" => VicsUs "2", "both age difficult / non-unlawful";
    VicsDhs "3" => VicsUs "3", "both CGI/animation";
    VicsDhs "4" => VicsUs "4", "both comparison/exemplar";
    VicsDhs "5" => VicsUs "0", "both non-pertinent";
    // Every UK grade and every industry class is unlawful material, which is
    // VICS US / DHS 1. The reverse has no row: 1 does not say which grade.
    UkLegal "A" => VicsUs "1", "UK graded material is unlawful: US 1";
    UkLegal "B" => VicsUs "1", "UK graded material is unlawful: US 1";
    UkLegal "C" => VicsUs "1", "UK graded material is unlawful: US 1";
    UkLegal "A" => VicsDhs "1", "UK graded material is unlawful: DHS 1";
    UkLegal "B" => VicsDhs "1", "UK graded material is unlawful: DHS 1";
    UkLegal "C" => VicsDhs "1", "UK graded material is unlawful: DHS 1";
    Industry "A1" => VicsUs "1", "industry classes are unlawful material: US 1";
    Industry "A2" => VicsUs "1", "industry classes are unlawful material: US 1";
    Industry "B1" => VicsUs "1", "industry classes are unlawful material: US 1";
    Industry "B2" => VicsUs "1", "industry classes are unlawful material: US 1";
    Industry "A1" => VicsDhs "1", "industry classes are unlawful material: DHS 1";
    Industry "A2" => VicsDhs "1", "industry classes are unlawful material: DHS 1";
    Industry "B1" => VicsDhs "1", "industry classes are unlawful material: DHS 1";
    Industry "B2" => VicsDhs "1", "industry classes are unlawful material: DHS 1";
    // Rank 2 (exhibition, no act) is neither grade A (penetrative, animal,
    // sadism) nor B (non-penetrative activity), so it is C "other". Rank 1
    // (an act) can be A or B: no row.
    Industry "A2" => UkLegal "C", "exhibition without an act: UK C (review locally)";
    Industry "B2" => UkLegal "C", "exhibition without an act: UK C (review locally)";
};

/// Codes compare trimmed and upper-cased (`a1` = `A1`, ` 1` = `1`).
fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

/// Translates `code` from scheme `from` to scheme `to` with the built-in
/// table. Same scheme: the code itself. `None` where no translation exists.
pub fn map(from: CategoryScheme, to: CategoryScheme, code: &str) -> Option<String> {
    let code = code.trim();
    if from == to {
        return Some(code.to_string());
    }
    let norm = normalise_code(code);
    BUILTIN_MAPPINGS
        .iter()
        .find(|r| r.from == from && r.to == to && r.code == norm)
        .map(|r| r.to_code.to_string())
}

/// A translation table: built-in rows, rows loaded from TOML, or both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CategoryMap {
    #[serde(default, rename = "class")]
    pub classes: Vec<ClassRow>,
    #[serde(default, rename = "mapping")]
    pub mappings: Vec<MapRow>,
}

/// Why a mapping table file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("category mapping table: {0}")]
pub struct CategoryMapError(pub String);

impl CategoryMap {
    /// The built-in rows.
    pub fn builtin() -> CategoryMap {
        CategoryMap {
            classes: BUILTIN_CLASSES
                .iter()
                .map(|r| ClassRow {
                    scheme: r.scheme,
                    code: r.code.to_string(),
                    class: r.class,
                    label: r.label.to_string(),
                })
                .collect(),
            mappings: BUILTIN_MAPPINGS
                .iter()
                .map(|r| MapRow {
                    from: r.from,
                    code: r.code.to_string(),
                    to: r.to,
                    to_code: r.to_code.to_string(),
                    why: r.why.to_string(),
                })
                .collect(),
        }
    }

    /// Reads `[[class]]` and `[[mapping]]` tables (shape in CATEGORIES.md).
    pub fn from_toml(text: &str) -> Result<CategoryMap, CategoryMapError> {
        toml::from_str(text).map_err(|e| CategoryMapError(e.to_string()))
    }

    /// This table's rows first, then the built-in ones: loaded rows win.
    pub fn with_builtin(mut self) -> CategoryMap {
        let b = CategoryMap::builtin();
        self.classes.extend(b.classes);
        self.mappings.extend(b.mappings);
        self
    }

    /// See [`map`]: the first matching row of this table.
    pub fn map(&self, from: CategoryScheme, to: CategoryScheme, code: &str) -> Option<String> {
        let code = code.trim();
        if from == to {
            return Some(code.to_string());
        }
        let norm = normalise_code(code);
        self.mappings
            .iter()
            .find(|r| r.from == from && r.to == to && normalise_code(&r.code) == norm)
            .map(|r| r.to_code.clone())
    }

    /// The class of `code` under `scheme` in this table.
    pub fn class_of(&self, scheme: CategoryScheme, code: &str) -> Option<CategoryClass> {
        let norm = normalise_code(code);
        self.classes
            .iter()
            .find(|r| r.scheme == scheme && normalise_code(&r.code) == norm)
            .map(|r| r.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_codes_are_upper_case() {
        // `class_of` and `label` compare case-insensitively on this premise.
        for r in BUILTIN_CLASSES {
            assert_eq!(r.code, normalise_code(r.code), "{r:?}");
        }
    }

    #[test]
    fn identity_and_documented_rows() {
        assert_eq!(map(Sc::Vics1, Sc::Vics1, "8").as_deref(), Some("8"));
        assert_eq!(map(Sc::VicsUs, Sc::VicsDhs, "0").as_deref(), Some("5"));
        assert_eq!(map(Sc::VicsDhs, Sc::VicsUs, "5").as_deref(), Some("0"));
        assert_eq!(map(Sc::Industry, Sc::VicsUs, "b2").as_deref(), Some("1"));
        assert_eq!(map(Sc::UkLegal, Sc::VicsUs, "A").as_deref(), Some("1"));
        assert_eq!(map(Sc::Industry, Sc::UkLegal, "A2").as_deref(), Some("C"));
    }

    #[test]
    fn no_row_means_none() {
        // A finer target cannot be guessed.
        assert_eq!(map(Sc::VicsUs, Sc::UkLegal, "1"), None);
        assert_eq!(map(Sc::Industry, Sc::UkLegal, "A1"), None);
        assert_eq!(map(Sc::VicsDhs, Sc::VicsUs, "0"), None);
        // NIST's 8 has no published meaning.
        assert_eq!(map(Sc::Vics1, Sc::VicsUs, "8"), None);
        assert_eq!(map(Sc::VicsUs, Sc::VicsDhs, "9"), None);
    }

    #[test]
    fn every_mapping_row_preserves_class() {
        // A translation must not change what the category says, except
        // where the target class is coarser (industry/UK → pertinent).
        for r in BUILTIN_MAPPINGS {
            let a = r.from.class_of(r.code);
            let b = r.to.class_of(r.to_code);
            assert!(a.is_some() && a == b, "{r:?}: {a:?} vs {b:?}");
        }
    }

    #[test]
    fn scheme_names_and_profiles() {
        for s in CategoryScheme::ALL {
            assert_eq!(s.name().parse::<CategoryScheme>().unwrap(), s);
        }
        assert_eq!("US".parse::<CategoryScheme>().unwrap(), Sc::VicsUs);
        assert_eq!(
            CategoryScheme::from_vics_profile("Default"),
            Sc::VicsDefault
        );
        assert_eq!(CategoryScheme::from_vics_profile("CA"), Sc::Unknown);
        assert_eq!(CategoryScheme::guess("a1"), Sc::Industry);
        assert_eq!(CategoryScheme::guess("C"), Sc::UkLegal);
        assert_eq!(CategoryScheme::guess("1"), Sc::Unknown);
    }

    #[test]
    fn categories_md_matches_builtin_table() {
        let doc = include_str!("../CATEGORIES.md");
        let start = doc.find("```toml").map(|i| i + "```toml".len()).unwrap();
        let end = doc[start..].find("```").map(|i| i + start).unwrap();
        let from_doc = CategoryMap::from_toml(&doc[start..end]).unwrap();
        assert_eq!(from_doc, CategoryMap::builtin());
    }

    #[test]
    fn toml_table_overrides_builtin() {
        let t = r#"
            [[mapping]]
            from = "vics-us"
            code = "1"
            to = "uk-legal"
            to_code = "A"
            why = "local agreement"

            [[class]]
            scheme = "vics-uk"
            code = "1"
            class = "pertinent"
            label = "local"
        "#;
        let m = CategoryMap::from_toml(t).unwrap().with_builtin();
        assert_eq!(m.map(Sc::VicsUs, Sc::UkLegal, "1").as_deref(), Some("A"));
        assert_eq!(m.map(Sc::VicsUs, Sc::VicsDhs, "1").as_deref(), Some("1"));
        assert_eq!(m.class_of(Sc::VicsUk, "1"), Some(K::Pertinent));
        assert!(CategoryMap::from_toml("[[mapping]]\nfrom = 3").is_err());
    }
}

//! Boolean fields written as text, the one copy of `parse_bool`.
//!
//! Two kinds of input write flags differently: real hash-list exports write
//! `yes`/`t`/`1` (spec/formats.md §1.3), while intake bundles and CyberTip
//! reports follow `xs:boolean`. Which spellings a reader accepts is part of
//! its contract, so the caller says which it wants.

/// The spellings a boolean field may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spellings {
    /// `y/yes/t/true/1` or `n/no/f/false/0`, in any case (hash lists).
    Lenient,
    /// `xs:boolean` (`true/1`, `false/0`) plus the `True`/`TRUE` and
    /// `False`/`FALSE` that exporters write (intake bundles, CyberTip XML).
    XsBoolean,
}

const LENIENT_TRUE: [&str; 5] = ["y", "yes", "t", "true", "1"];
const LENIENT_FALSE: [&str; 5] = ["n", "no", "f", "false", "0"];
const XS_TRUE: [&str; 4] = ["true", "1", "True", "TRUE"];
const XS_FALSE: [&str; 4] = ["false", "0", "False", "FALSE"];

/// The flag `s` states (surrounding white space ignored), or `None` when it
/// is not one of the spellings: anything else, including the empty string,
/// is "not stated".
pub fn parse_bool(s: &str, spellings: Spellings) -> Option<bool> {
    let t = s.trim();
    match spellings {
        Spellings::Lenient => {
            if LENIENT_TRUE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
                Some(true)
            } else if LENIENT_FALSE.iter().any(|w| t.eq_ignore_ascii_case(w)) {
                Some(false)
            } else {
                None
            }
        }
        Spellings::XsBoolean => {
            if XS_TRUE.contains(&t) {
                Some(true)
            } else if XS_FALSE.contains(&t) {
                Some(false)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings() {
        use Spellings::*;
        for (s, lenient, xs) in [
            ("yes", Some(true), None),
            (" Y ", Some(true), None),
            ("t", Some(true), None),
            ("TRUE", Some(true), Some(true)),
            ("True", Some(true), Some(true)),
            ("tRuE", Some(true), None),
            ("1", Some(true), Some(true)),
            ("no", Some(false), None),
            ("F", Some(false), None),
            ("false", Some(false), Some(false)),
            (" 0\n", Some(false), Some(false)),
            ("", None, None),
            ("2", None, None),
            ("maybe", None, None),
        ] {
            assert_eq!(parse_bool(s, Lenient), lenient, "{s:?}");
            assert_eq!(parse_bool(s, XsBoolean), xs, "{s:?}");
        }
    }

    proptest! {
        /// What `xs:boolean` accepts, the lenient reading accepts the same way.
        #[test]
        fn xs_is_within_lenient(s in "\\PC{0,8}") {
            if let Some(b) = parse_bool(&s, Spellings::XsBoolean) {
                prop_assert_eq!(parse_bool(&s, Spellings::Lenient), Some(b));
            }
        }

        /// Surrounding white space never changes the answer.
        #[test]
        fn trims(s in "[a-zA-Z01]{0,6}", pad in "[ \t\r\n]{0,3}") {
            for sp in [Spellings::Lenient, Spellings::XsBoolean] {
                prop_assert_eq!(parse_bool(&format!("{pad}{s}{pad}"), sp), parse_bool(&s, sp));
            }
        }
    }
}

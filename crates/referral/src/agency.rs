//! The agencies file: who receives each country's packages.
//!
//! ```toml
//! [[agency]]
//! country = "NZ"                 # ISO 3166-1 alpha-2
//! name = "Digital Child Exploitation Team"
//! age_recipient = "age1…"        # the agency's age public key
//! contact = "dcet@example.govt.nz"
//! ```
//!
//! Only the shape of `country` is checked here (two upper-case ASCII
//! letters); whether it is an assigned ISO code is the caller's table. The
//! recipient is parsed with the `age` crate: an X25519 `age1…` key, or an
//! `ssh-ed25519` / `ssh-rsa` public key line (the `age` CLI decrypts those
//! with `-i ~/.ssh/id_ed25519`). One agency per country: a second entry for
//! the same country is an error, so a package never silently goes to the
//! wrong one of two.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

/// Why the agencies file was rejected. Entries are numbered from 1, in file
/// order, and the line of the offending value is given where known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgencyError {
    /// Not TOML, or not the expected shape (missing field, wrong type,
    /// unknown field).
    #[error("{}: {message}", line.map_or_else(|| "agencies file".to_owned(), |l| format!("line {l}")))]
    Syntax {
        line: Option<usize>,
        message: String,
    },
    /// One field of one entry is invalid.
    #[error("agency {index} ({field}, line {line}): {reason}")]
    Field {
        /// 1-based position of the `[[agency]]` entry.
        index: usize,
        field: &'static str,
        line: usize,
        reason: String,
    },
    /// Two entries for the same country.
    #[error(
        "agency {index} (country, line {line}): country {country} is already given to agency {first}"
    )]
    DuplicateCountry {
        index: usize,
        line: usize,
        country: String,
        first: usize,
    },
}

/// A parsed age recipient an agency decrypts with.
#[derive(Clone)]
pub enum AgeRecipient {
    /// `age1…` X25519 key (`age-keygen`).
    X25519(age::x25519::Recipient),
    /// `ssh-ed25519 …` or `ssh-rsa …` public key.
    Ssh(age::ssh::Recipient),
}

impl AgeRecipient {
    /// The recipient as the `age` crate's encryptor takes it.
    pub fn as_recipient(&self) -> &dyn age::Recipient {
        match self {
            AgeRecipient::X25519(r) => r,
            AgeRecipient::Ssh(r) => r,
        }
    }
}

impl FromStr for AgeRecipient {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("age1") {
            return age::x25519::Recipient::from_str(s)
                .map(AgeRecipient::X25519)
                .map_err(|e| format!("not a valid age X25519 recipient: {e}"));
        }
        if s.starts_with("ssh-") {
            return age::ssh::Recipient::from_str(s)
                .map(AgeRecipient::Ssh)
                .map_err(|e| match e {
                    age::ssh::ParseRecipientKeyError::Unsupported(t) => {
                        format!(
                            "ssh key type {t} is not supported by age (use ssh-ed25519 or ssh-rsa)"
                        )
                    }
                    age::ssh::ParseRecipientKeyError::RsaModulusTooSmall => {
                        "ssh-rsa key is shorter than 2048 bits".to_owned()
                    }
                    age::ssh::ParseRecipientKeyError::RsaModulusTooLarge => {
                        "ssh-rsa key is longer than age supports".to_owned()
                    }
                    _ => "not a valid ssh public key".to_owned(),
                });
        }
        Err(
            "expected an age recipient (age1…) or an ssh public key (ssh-ed25519 …, ssh-rsa …)"
                .to_owned(),
        )
    }
}

impl fmt::Display for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgeRecipient::X25519(r) => write!(f, "{r}"),
            AgeRecipient::Ssh(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Debug for AgeRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgeRecipient({self})")
    }
}

impl PartialEq for AgeRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// One receiving agency.
#[derive(Debug, Clone, PartialEq)]
pub struct Agency {
    /// ISO 3166-1 alpha-2 shape: two upper-case ASCII letters.
    pub country: String,
    pub name: String,
    /// The recipient text as written in the file.
    pub age_recipient: String,
    /// The same, parsed.
    pub recipient: AgeRecipient,
    pub contact: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    agency: Vec<RawAgency>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgency {
    country: Spanned<String>,
    name: Spanned<String>,
    age_recipient: Spanned<String>,
    contact: Spanned<String>,
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Whether `s` has the shape of an ISO 3166-1 alpha-2 code.
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// Parses and checks an agencies file, entries in file order.
pub fn parse_agencies(text: &str) -> Result<Vec<Agency>, AgencyError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| AgencyError::Syntax {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let mut out: Vec<Agency> = Vec::with_capacity(raw.agency.len());
    for (i, a) in raw.agency.into_iter().enumerate() {
        let index = i + 1;
        let field_err =
            |field: &'static str, v: &Spanned<String>, reason: String| AgencyError::Field {
                index,
                field,
                line: line_of(text, v.span().start),
                reason,
            };
        let country = a.country.get_ref().trim();
        if !is_country_code(country) {
            return Err(field_err(
                "country",
                &a.country,
                format!("{country:?} is not a two-letter upper-case country code"),
            ));
        }
        if let Some(first) = out.iter().position(|o| o.country == country) {
            return Err(AgencyError::DuplicateCountry {
                index,
                line: line_of(text, a.country.span().start),
                country: country.to_owned(),
                first: first + 1,
            });
        }
        let name = a.name.get_ref().trim();
        if name.is_empty() {
            return Err(field_err("name", &a.name, "is empty".into()));
        }
        let contact = a.contact.get_ref().trim();
        if contact.is_empty() {
            return Err(field_err("contact", &a.contact, "is empty".into()));
        }
        let recipient_text = a.age_recipient.get_ref().trim();
        let recipient = AgeRecipient::from_str(recipient_text)
            .map_err(|reason| field_err("age_recipient", &a.age_recipient, reason))?;
        out.push(Agency {
            country: country.to_owned(),
            name: name.to_owned(),
            age_recipient: recipient_text.to_owned(),
            recipient,
            contact: contact.to_owned(),
        });
    }
    Ok(out)
}

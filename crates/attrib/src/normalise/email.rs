//! E-mail addresses: a canonical form for linking, and the ccTLD country for attribution.
//!
//! Normalisation for linking, in order:
//! 1. Trim white space, drop one trailing dot of the domain, lower-case the whole address.
//!    RFC 5321 lets the local part be case-sensitive, but no large provider treats it so,
//!    and every fraud/identity tool (Sift, Stripe Radar, the `normalize-email` family)
//!    lower-cases it.
//! 2. `googlemail.com` becomes `gmail.com` (the same mailboxes, Google's own statement).
//! 3. Gmail only: dots in the local part are removed (`j.doe` = `jdoe`, Google documents
//!    that dots are ignored). No other provider is treated so, because at others the dot is
//!    significant (at Outlook `j.doe` and `jdoe` are different mailboxes).
//! 4. Sub-address tags (`local+tag`) are cut at the first `+` for the providers that document
//!    `+` sub-addressing: [`PLUS_TAG_DOMAINS`] (Gmail, Microsoft consumer mail, Apple iCloud,
//!    Fastmail, Proton, Yandex, Zoho). Elsewhere `+` is kept: on an unknown mail server it can
//!    be part of a real, different mailbox, and merging two people is worse than missing a
//!    link. Yahoo's `base-keyword` disposable addresses are not folded: the base name is not
//!    the login, so folding would not recover the account.
//!
//! A syntactically impossible address (no `@`, empty local part, white space inside, a domain
//! with one label or an unknown top-level domain) is a finding, not an error.

use crate::country::Country;

/// Domains whose mail service documents `+tag` sub-addressing, so `a+x@d` and `a@d` are one mailbox.
pub const PLUS_TAG_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "passport.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "hotmail.it",
    "hotmail.es",
    "live.co.uk",
    "live.fr",
    "live.de",
    "live.it",
    "outlook.fr",
    "outlook.de",
    "outlook.es",
    "outlook.it",
    "icloud.com",
    "me.com",
    "mac.com",
    "fastmail.com",
    "fastmail.fm",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "yandex.ru",
    "yandex.com",
    "ya.ru",
    "zoho.com",
];

/// Country-code TLDs that are marketed and used worldwide as generic names (Google's list of
/// "generic ccTLDs" that it does not geotarget, plus a few of the same kind). They give no
/// country: `x@startup.io` says nothing about where its owner lives.
pub const GENERIC_CCTLDS: &[&str] = &[
    "ad", "ai", "as", "bz", "cc", "cd", "co", "dj", "fm", "gg", "io", "la", "me", "ms", "nu", "sc",
    "sh", "sr", "tk", "to", "tv", "vc", "ws", "ly", "gl", "im",
];

/// A normalised e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Email {
    /// The canonical form used for linking.
    pub normalised: String,
    /// Country of the domain's ccTLD, when it has one that names a country.
    pub country: Option<Country>,
}

/// Normalises an address; `Err` carries the reason it is unusable.
pub fn normalise_email(raw: &str) -> Result<Email, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err("empty".into());
    }
    let Some((local, domain)) = t.rsplit_once('@') else {
        return Err("no '@'".into());
    };
    if local.is_empty() {
        return Err("empty local part".into());
    }
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("white space or control character inside the address".into());
    }
    if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
        return Err("more than one '@'".into());
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain).to_lowercase();
    if domain.is_empty() {
        return Err("empty domain".into());
    }
    if domain.starts_with('[') {
        return Err("address literal domain (no mail provider, no country)".into());
    }
    if domain.split('.').any(|label| {
        label.is_empty()
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_alphanumeric() || c == '-')
    }) {
        return Err("domain is not a valid host name".into());
    }
    // At least two labels under a top-level domain that the public suffix list knows.
    // A domain that is itself a listed suffix (`mail.pl`, `co.uk`) is accepted: some of
    // them do host mail, and refusing them would lose real addresses.
    if !domain.contains('.') {
        return Err("domain has a single label".into());
    }
    if psl::suffix(domain.as_bytes()).is_none_or(|s| !s.is_known()) {
        return Err("domain's top-level domain is not in the public suffix list".into());
    }
    let mut local = local.to_lowercase();
    let domain = if domain == "googlemail.com" {
        "gmail.com".to_string()
    } else {
        domain
    };
    if PLUS_TAG_DOMAINS.contains(&domain.as_str())
        && let Some(i) = local.find('+')
    {
        local.truncate(i);
    }
    if domain == "gmail.com" {
        local.retain(|c| c != '.');
    }
    if local.is_empty() {
        return Err("local part is empty once normalised".into());
    }
    let country = cctld_country(&domain);
    Ok(Email {
        normalised: format!("{local}@{domain}"),
        country,
    })
}

/// The country of a domain's ccTLD: the last label of its public suffix, when that is a
/// two-letter ccTLD naming an ISO 3166-1 country. `uk` is read as GB (the one ccTLD that
/// differs from the ISO code). Generic TLDs, `eu`, `su`, `ac` and [`GENERIC_CCTLDS`] give none.
pub fn cctld_country(domain: &str) -> Option<Country> {
    let suffix = psl::suffix(domain.as_bytes())?;
    if !suffix.is_known() {
        return None;
    }
    let suffix = std::str::from_utf8(suffix.trim().as_bytes()).ok()?;
    let tld = suffix.rsplit('.').next()?;
    if tld.len() != 2 || !tld.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let tld = tld.to_ascii_lowercase();
    if GENERIC_CCTLDS.contains(&tld.as_str()) {
        return None;
    }
    match tld.as_str() {
        "uk" => Country::from_alpha2("GB"),
        // Exceptionally reserved or retired codes, not countries.
        "ac" | "eu" | "su" => None,
        _ => Country::from_alpha2(&tld),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalise_email(s).unwrap().normalised
    }

    #[test]
    fn provider_rules() {
        assert_eq!(n("  J.Doe+news@GoogleMail.com "), "jdoe@gmail.com");
        assert_eq!(n("j.doe@gmail.com."), "jdoe@gmail.com");
        assert_eq!(n("J.Doe+x@outlook.com"), "j.doe@outlook.com");
        assert_eq!(n("a+b@example.org"), "a+b@example.org");
        assert_eq!(n("a.b@example.org"), "a.b@example.org");
        assert_eq!(n("user@Mail.Example.CO.UK"), "user@mail.example.co.uk");
    }

    #[test]
    fn countries() {
        let c = |s: &str| normalise_email(s).unwrap().country.map(|c| c.alpha2());
        assert_eq!(c("a@example.co.uk"), Some("GB"));
        assert_eq!(c("a@web.de"), Some("DE"));
        assert_eq!(c("a@mail.com.br"), Some("BR"));
        assert_eq!(c("a@gmail.com"), None);
        assert_eq!(c("a@startup.io"), None);
        assert_eq!(c("a@example.eu"), None);
        assert_eq!(c("a@example.tv"), None);
    }

    #[test]
    fn malformed() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "@example.com",
            "a@",
            "a b@example.com",
            "a@@example.com",
            "a@localhost",
            "a@example.zz",
            "a@exa_mple.com",
            "a@-x.com",
            "a@[127.0.0.1]",
            "+tag@gmail.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?} accepted");
        }
    }
}

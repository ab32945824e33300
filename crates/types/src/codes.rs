//! The error-code table (Meilisearch's `make_error_codes!`): every error
//! Tiaki reports has one stable [`Code`], and the code alone decides the
//! HTTP status the service answers with and the exit status of the command
//! line. Library error enums implement [`ErrorCode`]; the binaries never
//! decide a status from an error's text.
//!
//! The table is a public contract: codes are never renamed or reused, and
//! the rows are checked by a snapshot test (`table_is_stable`) so a change is
//! a reviewed change. Exit statuses follow ripgrep's convention, which the
//! CLI has always had: 0 all good, 1 the output is complete but some inputs
//! had errors (listed in it), 2 the command failed; and 3 for one verdict
//! that is not a failure to run: `tiaki audit verify` found the audit log
//! tampered with.

use serde::{Deserialize, Serialize};

/// A user-facing error kind with a stable name.
pub trait ErrorCode {
    fn error_code(&self) -> Code;
}

/// Who is to act on an error: the caller (fix the request or input), or the
/// operator of the system (a store down, a disk full, a bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorType {
    InvalidRequest,
    Auth,
    System,
    Internal,
}

macro_rules! error_codes {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $name:literal, $kind:ident, $http:literal, $exit:literal;
    )*) => {
        /// Every error code (see the module docs for the contract).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable name (`not_found`), as the service's error answers and
            /// the CLI's `--json` errors carry it.
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn error_type(self) -> ErrorType {
                match self { $(Code::$variant => ErrorType::$kind,)* }
            }

            /// The HTTP status the service answers with.
            pub fn http_status(self) -> u16 {
                match self { $(Code::$variant => $http,)* }
            }

            /// The command line's exit status.
            pub fn exit_status(self) -> u8 {
                match self { $(Code::$variant => $exit,)* }
            }

            /// What the code means, one sentence (the table's documentation).
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => concat!($($doc),*).trim_ascii(),)* }
            }

            /// The code of a stable name.
            pub fn from_name(name: &str) -> Option<Code> {
                match name { $($name => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// A command-line argument or request field is missing or malformed.
    InvalidArgument = "invalid_argument", InvalidRequest, 400, 2;
    /// An input document (bundle, list, outcome file, agencies file) is malformed as a whole;
    /// nothing of it was stored.
    InvalidInput = "invalid_input", InvalidRequest, 422, 2;
    /// The thing named does not exist, or the caller may not see it (the service answers both
    /// the same way, so that existence does not leak across countries).
    NotFound = "not_found", InvalidRequest, 404, 2;
    /// The request conflicts with what is stored (a list name taken, a state that cannot go
    /// back).
    Conflict = "conflict", InvalidRequest, 409, 2;
    /// The request body or an input file is larger than the configured limit.
    PayloadTooLarge = "payload_too_large", InvalidRequest, 413, 2;
    /// No valid credentials were given.
    Unauthenticated = "unauthenticated", Auth, 401, 2;
    /// A key, passphrase or signature does not open or verify.
    BadKey = "bad_key", Auth, 403, 2;
    /// The store cannot be reached or refuses writes (server down, disk full).
    StoreUnavailable = "store_unavailable", System, 503, 2;
    /// Stored data is not what Tiaki wrote (hand edits, a damaged file, a newer schema).
    StoreCorrupt = "store_corrupt", System, 500, 2;
    /// A file or directory could not be read or written (named in the message).
    Io = "io", System, 500, 2;
    /// An external program (ffmpeg, a worker) failed or was stopped.
    Subprocess = "subprocess", System, 500, 2;
    /// A bug: a task stopped unexpectedly. The message says which.
    Internal = "internal", Internal, 500, 2;
    /// The output is complete but some inputs had errors, each named in it.
    PartialInput = "partial_input", InvalidRequest, 200, 1;
    /// Too many failed logins for this account or from this address; try again later.
    RateLimited = "rate_limited", Auth, 429, 2;
    /// A state-changing request of a browser session lacks the session's CSRF token.
    CsrfRejected = "csrf_rejected", Auth, 403, 2;
    /// A bank name is not HMA's UPPER_WITH_UNDER (`[A-Z_][A-Z0-9_]*`).
    InvalidBankName = "invalid_bank_name", InvalidRequest, 400, 2;
    /// A signal type is unknown, a signal (hash) is malformed, or an upload could not be hashed.
    InvalidSignal = "invalid_signal", InvalidRequest, 400, 2;
    /// A bank of that name already exists (HMA answers 403).
    BankExists = "bank_exists", InvalidRequest, 403, 2;
    /// No bank of that name.
    NoSuchBank = "no_such_bank", InvalidRequest, 404, 2;
    /// No content with that id in that bank.
    NoSuchContent = "no_such_content", InvalidRequest, 404, 2;
    /// The audit log is not what was recorded: a row edited, deleted or moved, or a checkpoint
    /// that does not verify or names a head the log no longer has (exit 3, so that a monitor
    /// tells a tampered log from a check that could not run).
    AuditTampered = "audit_tampered", System, 500, 3;
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Code::from_name(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown code {s:?}")))
    }
}

/// An error as answered to a client (the service's JSON error body, the
/// CLI's `--json` error line): `{message, code, type}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorAnswer {
    pub message: String,
    pub code: Code,
    #[serde(rename = "type")]
    pub error_type: ErrorType,
}

impl ErrorAnswer {
    pub fn new(code: Code, message: impl Into<String>) -> ErrorAnswer {
        ErrorAnswer {
            message: message.into(),
            code,
            error_type: code.error_type(),
        }
    }
}

impl<T: ErrorCode + ?Sized> ErrorCode for Box<T> {
    fn error_code(&self) -> Code {
        (**self).error_code()
    }
}

impl ErrorCode for std::io::Error {
    fn error_code(&self) -> Code {
        match self.kind() {
            std::io::ErrorKind::NotFound => Code::NotFound,
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                Code::InvalidInput
            }
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Code::StoreUnavailable
            }
            _ => Code::Io,
        }
    }
}

impl ErrorCode for crate::time::TimeError {
    fn error_code(&self) -> Code {
        Code::InvalidArgument
    }
}

// `Code` serialises as its name (above): its schema is the list of names.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Code::ALL.iter().map(|c| c.name())))
            .description(Some("A stable error code (the code table of tiaki_types::codes)."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Code {}

/// The table as the Markdown docs/errors.md carries (between its
/// `codes:begin` and `codes:end` marks; a test keeps the file current).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| code | type | HTTP status | exit status | meaning |\n|---|---|---|---|---|\n",
    );
    for c in Code::ALL {
        let ty = serde_json::to_value(c.error_type())
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | `{ty}` | {} | {} | {} |\n",
            c.name(),
            c.http_status(),
            c.exit_status(),
            c.meaning().replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/errors.md shows the table as it is. `TIAKI_BLESS=1 cargo test
    /// -p tiaki-types` rewrites it after a reviewed change.
    #[test]
    fn docs_errors_md_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/errors.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- codes:begin -->\n", "<!-- codes:end -->");
        let start = doc.find(begin).expect("the codes:begin mark") + begin.len();
        let stop = doc.find(end).expect("the codes:end mark");
        let table = markdown_table();
        if doc.get(start..stop) != Some(table.as_str()) {
            if std::env::var_os("TIAKI_BLESS").is_some() {
                let new = format!("{}{table}{}", &doc[..start], &doc[stop..]);
                std::fs::write(&path, new).unwrap();
            } else {
                panic!("docs/errors.md is not the code table: run TIAKI_BLESS=1 cargo test -p tiaki-types");
            }
        }
    }

    /// The table as text: a change to it shows up here and is reviewed.
    #[test]
    fn table_is_stable() {
        let rows: Vec<String> = Code::ALL
            .iter()
            .map(|c| {
                format!(
                    "{} {:?} {} {}",
                    c.name(),
                    c.error_type(),
                    c.http_status(),
                    c.exit_status()
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                "invalid_argument InvalidRequest 400 2",
                "invalid_input InvalidRequest 422 2",
                "not_found InvalidRequest 404 2",
                "conflict InvalidRequest 409 2",
                "payload_too_large InvalidRequest 413 2",
                "unauthenticated Auth 401 2",
                "bad_key Auth 403 2",
                "store_unavailable System 503 2",
                "store_corrupt System 500 2",
                "io System 500 2",
                "subprocess System 500 2",
                "internal Internal 500 2",
                "partial_input InvalidRequest 200 1",
                "rate_limited Auth 429 2",
                "csrf_rejected Auth 403 2",
                "invalid_bank_name InvalidRequest 400 2",
                "invalid_signal InvalidRequest 400 2",
                "bank_exists InvalidRequest 403 2",
                "no_such_bank InvalidRequest 404 2",
                "no_such_content InvalidRequest 404 2",
                "audit_tampered System 500 3",
            ]
        );
    }

    #[test]
    fn names_round_trip_and_every_code_has_a_meaning() {
        for &c in Code::ALL {
            assert_eq!(Code::from_name(c.name()), Some(c));
            assert!(c.meaning().ends_with('.'), "{}", c.meaning());
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), c);
        }
        let a = ErrorAnswer::new(Code::NotFound, "no referral with id \"R-NZ-1\"");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"message":"no referral with id \"R-NZ-1\"","code":"not_found","type":"invalid_request"}"#
        );
    }
}


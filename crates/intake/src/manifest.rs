//! manifest.json of a provider bundle: required, and strict, because it
//! names the report and everything else hangs off it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::BundleError;
use crate::fields::{self, Obj, str_v, time_v};
use crate::model::{ReportHeader, SourceKind};

/// The only format string this reader accepts.
pub const FORMAT: &str = "provider-report/1";

pub(crate) struct Manifest {
    pub(crate) header: ReportHeader,
    /// `(file, lower-case hex)`, in name order.
    pub(crate) files_sha256: Vec<(String, String)>,
}

pub(crate) fn empty_header() -> ReportHeader {
    ReportHeader {
        source_kind: SourceKind::ProviderReport,
        provider_name: String::new(),
        provider_country: None,
        report_id: String::new(),
        created_at: None,
        incident_type: None,
        description: None,
        extra: Map::new(),
    }
}

pub(crate) fn read(path: &Path, max_bytes: u64) -> Result<Manifest, BundleError> {
    let invalid = |reason: String| BundleError::Manifest {
        path: path.to_path_buf(),
        reason,
    };
    let f = File::open(path).map_err(|e| BundleError::io(path, e))?;
    let mut bytes = Vec::new();
    f.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(invalid(format!("larger than {max_bytes} bytes")));
    }
    parse(&bytes).map_err(invalid)
}

/// Parses manifest text (a leading byte-order mark is allowed).
pub(crate) fn parse(bytes: &[u8]) -> Result<Manifest, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut o = fields::object(v, "manifest")?;
    match o.remove("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(Value::String(f)) => {
            return Err(format!("format is {f:?}, this reader reads {FORMAT:?}"));
        }
        None | Some(Value::Null) => return Err(format!("format: missing (must be {FORMAT:?})")),
        Some(other) => {
            return Err(format!(
                "format: expected a string, found {}",
                fields::kind(&other)
            ));
        }
    }
    let report_id = fields::req_id_v(o.remove("report_id"), "report_id")?;
    let mut provider = match o.remove("provider") {
        None | Some(Value::Null) => return Err("provider: missing (required)".into()),
        Some(v) => fields::object(v, "provider")?,
    };
    let provider_name = match str_v(provider.remove("name"), "provider.name")? {
        Some(n) if !n.trim().is_empty() => n,
        Some(_) => return Err("provider.name: is empty".into()),
        None => return Err("provider.name: missing (required)".into()),
    };
    let provider_country = fields::country_v(provider.remove("country"), "provider.country")?;
    let created_at = time_v(o.remove("created_at"), "created_at")?;
    let incident_type = str_v(o.remove("incident_type"), "incident_type")?;
    let description = str_v(o.remove("description"), "description")?;
    let files_sha256 = match o.remove("files_sha256") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => checksums(fields::object(v, "files_sha256")?)?,
    };
    let mut extra: Obj = o;
    if !provider.is_empty() {
        extra.insert("provider".into(), Value::Object(provider));
    }
    Ok(Manifest {
        header: ReportHeader {
            source_kind: SourceKind::ProviderReport,
            provider_name,
            provider_country,
            report_id,
            created_at,
            incident_type,
            description,
            extra,
        },
        files_sha256,
    })
}

fn checksums(o: Obj) -> Result<Vec<(String, String)>, String> {
    o.into_iter()
        .map(|(file, v)| match v {
            Value::String(s) => fields::hex_digest(s, 64, "SHA-256")
                .map(|h| (file.clone(), h))
                .map_err(|e| format!("files_sha256[{file:?}]: {e}")),
            other => Err(format!(
                "files_sha256[{file:?}]: expected a string, found {}",
                fields::kind(&other)
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_and_errors() {
        let m = parse(
            br#"{"format":"provider-report/1","report_id":"R1","provider":{"name":"P","contact":"c"},"x":1}"#,
        )
        .unwrap();
        assert_eq!(m.header.report_id, "R1");
        assert_eq!(m.header.extra["provider"]["contact"], "c");
        assert_eq!(m.header.extra["x"], 1);
        for (text, needle) in [
            (
                r#"{"report_id":"R","provider":{"name":"P"}}"#,
                "format: missing",
            ),
            (
                r#"{"format":"provider-report/2","report_id":"R","provider":{"name":"P"}}"#,
                "provider-report/2",
            ),
            (
                r#"{"format":"provider-report/1","provider":{"name":"P"}}"#,
                "report_id",
            ),
            (
                r#"{"format":"provider-report/1","report_id":"R","provider":{}}"#,
                "provider.name",
            ),
            (
                r#"{"format":"provider-report/1","report_id":"R","provider":{"name":"P"},"created_at":"x"}"#,
                "created_at",
            ),
            ("[", "not valid JSON"),
        ] {
            let e = parse(text.as_bytes()).err().unwrap();
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
    }
}

//! Provider bundles as directories: manifest, per-line rules, files.

use std::fs;

use tiaki_intake::{Bundle, BundleError, Limits, LineErrorKind, SourceKind};

use crate::common::{MANIFEST, MD5, open_dir, write_bundle};

const ACCOUNTS: &str = r#"{"id": "u-1", "username": "kiwi_77", "display_name": "K", "created_at": "2018-02-01T10:00:00Z", "emails": ["someone@example.co.nz"], "phones": ["+64 21 555 0100"], "declared_country": "NZ", "devices": ["android-id:8f2c"], "logins": [{"ip": "203.0.113.9", "at": "2019-10-02T11:00:00Z", "possible_proxy": false}], "profile_url": "https://acme.example/u/kiwi_77"}
{"id": "u-2"}
"#;

#[test]
fn spec_example_reads_with_every_field() {
    let tmp = tempfile::tempdir().unwrap();
    let media = format!(
        r#"{{"id": "f-88", "account": "u-1", "uploaded_at": "2019-10-03T09:12:00Z", "upload_ip": "203.0.113.9", "original_name": "IMG_0042.jpg", "shared_with": ["u-2", "u-3"], "group": "g-17", "hashes": {{"md5": "{MD5}", "pdq": "{pdq}", "vpdq": ["{pdq},100,0.000", "{pdq},90,1.000"]}}, "viewed_by_provider": false}}
"#,
        pdq = "f".repeat(64)
    );
    let events = r#"{"type": "share", "from": "u-1", "to": ["u-2"], "media": "f-88", "at": "2019-10-03T09:13:00Z"}
{"type": "login", "account": "u-2", "ip": "198.51.100.7", "at": "2019-10-03T09:00:00Z"}
{"type": "group_join", "account": "u-3", "group": "g-17", "at": "2019-10-01T00:00:00Z"}
"#;
    write_bundle(
        tmp.path(),
        Some(MANIFEST),
        Some(ACCOUNTS),
        Some(&media),
        Some(events),
    );
    let b = Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).unwrap();
    let h = b.header();
    assert_eq!(h.source_kind, SourceKind::ProviderReport);
    assert_eq!(h.provider_name, "Acme File Share Ltd");
    assert_eq!(h.provider_country.as_deref(), Some("NZ"));
    assert_eq!(h.report_id, "R-1");
    assert_eq!(h.created_at.as_deref(), Some("2019-10-14T03:00:00Z"));
    assert_eq!(h.incident_type.as_deref(), Some("distribution"));
    assert_eq!(h.extra["provider"]["contact"], "trust@acme.example");

    let all = open_dir(tmp.path());
    assert!(all.errors.is_empty(), "{:#?}", all.errors);
    let a = &all.accounts[0];
    assert_eq!((a.file, a.line), ("accounts.ndjson", 1));
    let a = &a.value;
    assert_eq!(a.id, "u-1");
    assert_eq!(a.username.as_deref(), Some("kiwi_77"));
    assert_eq!(a.emails, ["someone@example.co.nz"]);
    assert_eq!(a.phones, ["+64 21 555 0100"]);
    assert_eq!(a.declared_country.as_deref(), Some("NZ"));
    assert_eq!(a.devices, ["android-id:8f2c"]);
    assert_eq!(a.logins[0].ip, "203.0.113.9");
    assert_eq!(a.logins[0].possible_proxy, Some(false));
    assert_eq!(
        a.profile_url.as_deref(),
        Some("https://acme.example/u/kiwi_77")
    );
    let m = &all.media[0].value;
    assert_eq!(m.id, "f-88");
    assert_eq!(m.account, "u-1");
    assert_eq!(m.shared_with, ["u-2", "u-3"]);
    assert_eq!(m.group.as_deref(), Some("g-17"));
    assert_eq!(m.hashes.md5.as_deref(), Some(MD5));
    assert_eq!(m.hashes.vpdq.len(), 2);
    assert_eq!(m.viewed_by_provider, Some(false));
    assert_eq!(all.events.len(), 3);
    assert_eq!(all.events[0].value.kind, "share");
    assert_eq!(all.events[0].value.to, ["u-2"]);
    assert_eq!(all.events[1].value.ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(all.events[2].value.group.as_deref(), Some("g-17"));
}

#[test]
fn bad_lines_are_reported_with_file_line_and_reason_and_the_rest_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let accounts = r#"{"id": "u-1"}
{"id": "u-2", "username": }
{"username": "no id"}
{"id": "u-3", "created_at": "2019-02-30T10:00:00Z"}
{"id": "u-4", "logins": [{"ip": "203.0.113.9", "at": "noon"}]}
[1, 2]
{"id": "u-5"}
"#;
    let media = format!(
        r#"{{"id": "m-1", "account": "u-1", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-2", "account": "u-1", "hashes": {{"md5": "xyz"}}}}
{{"id": "m-3", "account": "u-1", "hashes": {{"sha1": "{MD5}"}}}}
{{"id": "m-4", "account": "u-1", "hashes": {{"pdq": "{MD5}"}}}}
{{"id": "m-5", "account": "u-1", "hashes": {{"vpdq": ["abc,1,0"]}}}}
{{"account": "u-1", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-7", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-8", "account": "u-1"}}
{{"id": "m-9", "account": "u-1", "uploaded_at": "2019-10-03", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-10", "account": "u-5", "upload_ip": "999.1.1.1", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-11", "account": "u-5", "hashes": {{"md5": "{MD5}"}}}}
"#
    );
    write_bundle(
        tmp.path(),
        Some(MANIFEST),
        Some(accounts),
        Some(&media),
        None,
    );
    let all = open_dir(tmp.path());
    let ids: Vec<_> = all.accounts.iter().map(|r| r.value.id.as_str()).collect();
    assert_eq!(ids, ["u-1", "u-5"]);
    let ids: Vec<_> = all.media.iter().map(|r| r.value.id.as_str()).collect();
    assert_eq!(ids, ["m-1", "m-10", "m-11"]);
    assert_eq!(all.media[2].line, 11);
    // An address that is not one keeps its line, noted (issue 6: a finding
    // on the account, not a failure).
    assert_eq!(all.media[1].value.upload_ip.as_deref(), Some("999.1.1.1"));
    assert!(
        all.media[1].notes[0].contains("upload_ip"),
        "{:?}",
        all.media[1].notes
    );
    assert!(all.media[0].notes.is_empty());

    let msg = |f: &str, l: u64| all.error_at(f, l).message.clone();
    assert!(msg("accounts.ndjson", 2).contains("not valid JSON"));
    assert!(msg("accounts.ndjson", 3).contains("id: missing"));
    assert!(msg("accounts.ndjson", 4).contains("created_at: not an RFC 3339 timestamp"));
    assert!(msg("accounts.ndjson", 5).contains("logins[0].at"));
    assert!(msg("accounts.ndjson", 6).contains("expected a JSON object"));
    assert!(msg("media.ndjson", 2).contains("hashes.md5: not a MD5 hash"));
    assert!(msg("media.ndjson", 3).contains("hashes.sha1"));
    assert!(msg("media.ndjson", 4).contains("hashes.pdq"));
    assert!(msg("media.ndjson", 5).contains("hashes.vpdq[0]"));
    assert!(msg("media.ndjson", 6).contains("id: missing"));
    assert!(msg("media.ndjson", 7).contains("account: missing"));
    assert!(msg("media.ndjson", 8).contains("neither file nor hashes"));
    assert!(msg("media.ndjson", 9).contains("uploaded_at"));
    assert_eq!(all.errors.len(), 5 + 8);
    assert!(all.errors.iter().all(|e| e.kind == LineErrorKind::Invalid));
    // The Display form names file and line.
    assert!(
        all.error_at("media.ndjson", 2)
            .to_string()
            .starts_with("media.ndjson line 2: media \"m-2\": hashes.md5")
    );
}

#[test]
fn duplicate_ids_and_unknown_or_rejected_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let accounts = r#"{"id": "u-1"}
{"id": "u-2", "created_at": "bad"}
{"id": "u-1", "username": "second"}
{"id": "u-2"}
"#;
    let media = format!(
        r#"{{"id": "m-1", "account": "u-1", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-1", "account": "u-1", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-2", "account": "u-2", "hashes": {{"md5": "{MD5}"}}}}
{{"id": "m-3", "account": "u-404", "hashes": {{"md5": "{MD5}"}}}}
{{"id": 4, "account": 1, "hashes": {{"md5": "{MD5}"}}}}
"#
    );
    write_bundle(
        tmp.path(),
        Some(MANIFEST),
        Some(accounts),
        Some(&media),
        None,
    );
    let all = open_dir(tmp.path());
    assert_eq!(all.accounts.len(), 1);
    assert_eq!(
        all.accounts[0].value.username, None,
        "the first u-1 is kept"
    );
    let e = all.error_at("accounts.ndjson", 3);
    assert!(
        e.message
            .contains("duplicate account id \"u-1\" (first on line 1)"),
        "{e}"
    );
    let e = all.error_at("accounts.ndjson", 4);
    assert!(
        e.message.contains("first on line 2, which was rejected"),
        "{e}"
    );
    let e = all.error_at("media.ndjson", 2);
    assert!(
        e.message
            .contains("duplicate media id \"m-1\" (first on line 1)"),
        "{e}"
    );
    let e = all.error_at("media.ndjson", 3);
    assert!(
        e.message
            .contains("account \"u-2\" was rejected (accounts.ndjson line 2)"),
        "{e}"
    );
    let e = all.error_at("media.ndjson", 4);
    assert!(
        e.message
            .contains("account \"u-404\" is not in accounts.ndjson"),
        "{e}"
    );
    // Integer ids are accepted as their decimal text; account "1" is unknown.
    let e = all.error_at("media.ndjson", 5);
    assert!(e.message.contains("media \"4\": account \"1\""), "{e}");
}

#[test]
fn manifest_missing_or_invalid_rejects_the_bundle() {
    let cases: &[(Option<&str>, &str)] = &[
        (None, "no manifest.json"),
        (Some("{"), "not valid JSON"),
        (
            Some(r#"{"format": "provider-report/2", "report_id": "R", "provider": {"name": "P"}}"#),
            "provider-report/2",
        ),
        (
            Some(r#"{"report_id": "R", "provider": {"name": "P"}}"#),
            "format: missing",
        ),
        (
            Some(r#"{"format": "provider-report/1", "provider": {"name": "P"}}"#),
            "report_id: missing",
        ),
        (
            Some(r#"{"format": "provider-report/1", "report_id": "R"}"#),
            "provider: missing",
        ),
        (
            Some(r#"{"format": "provider-report/1", "report_id": "R", "provider": {"name": ""}}"#),
            "provider.name: is empty",
        ),
        (
            Some(
                r#"{"format": "provider-report/1", "report_id": "R", "provider": {"name": "P"}, "created_at": "2019"}"#,
            ),
            "created_at",
        ),
        (
            Some(
                r#"{"format": "provider-report/1", "report_id": "R", "provider": {"name": "P"}, "files_sha256": {"media.ndjson": "abc"}}"#,
            ),
            "files_sha256",
        ),
    ];
    for (manifest, needle) in cases {
        let tmp = tempfile::tempdir().unwrap();
        write_bundle(tmp.path(), *manifest, Some(""), Some(""), None);
        let e = Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).unwrap_err();
        assert!(e.to_string().contains(needle), "{e} lacks {needle:?}");
    }
    // Required record files.
    let tmp = tempfile::tempdir().unwrap();
    write_bundle(tmp.path(), Some(MANIFEST), Some(""), None, None);
    let e = Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).unwrap_err();
    assert!(
        matches!(
            e,
            BundleError::MissingFile {
                name: "media.ndjson",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn checksums_are_checked_before_any_record() {
    let tmp = tempfile::tempdir().unwrap();
    let accounts = "{\"id\": \"u-1\"}\n";
    let good = crate::common::sha256_hex(accounts.as_bytes());
    let manifest = |sum: &str, file: &str| {
        format!(
            r#"{{"format": "provider-report/1", "report_id": "R", "provider": {{"name": "P"}}, "files_sha256": {{"{file}": "{sum}"}}}}"#
        )
    };
    write_bundle(
        tmp.path(),
        Some(&manifest(&good, "accounts.ndjson")),
        Some(accounts),
        Some(""),
        None,
    );
    assert_eq!(open_dir(tmp.path()).accounts.len(), 1);

    let wrong = "0".repeat(64);
    write_bundle(
        tmp.path(),
        Some(&manifest(&wrong, "accounts.ndjson")),
        None,
        None,
        None,
    );
    let e = Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).unwrap_err();
    assert!(matches!(e, BundleError::ChecksumMismatch { .. }), "{e}");
    assert!(e.to_string().contains(&good), "{e}");

    write_bundle(
        tmp.path(),
        Some(&manifest(&wrong, "../outside")),
        None,
        None,
        None,
    );
    let e = Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).unwrap_err();
    assert!(matches!(e, BundleError::ChecksumFile { .. }), "{e}");

    write_bundle(
        tmp.path(),
        Some(&manifest(&good.to_uppercase(), "accounts.ndjson")),
        None,
        None,
        None,
    );
    assert!(Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).is_ok());
}

#[test]
fn file_paths_must_stay_inside_and_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bundle");
    fs::create_dir_all(root.join("files/sub")).unwrap();
    fs::write(root.join("files/ok.jpg"), b"x").unwrap();
    fs::write(tmp.path().join("outside.jpg"), b"secret").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(tmp.path().join("outside.jpg"), root.join("files/out.jpg"))
            .unwrap();
        std::os::unix::fs::symlink("../ok.jpg", root.join("files/sub/in.jpg")).unwrap();
        std::os::unix::fs::symlink("nothing.jpg", root.join("files/dangling.jpg")).unwrap();
    }
    let line =
        |id: &str, file: &str| format!(r#"{{"id": "{id}", "account": "u-1", "file": "{file}"}}"#);
    let media = [
        line("m-1", "files/ok.jpg"),
        line("m-2", "../outside.jpg"),
        line("m-3", "/etc/passwd"),
        line("m-4", "files/out.jpg"),
        line("m-5", "files/missing.jpg"),
        line("m-6", "files/sub/in.jpg"),
        line("m-7", "files/sub"),
        line("m-8", "files/dangling.jpg"),
        line("m-9", "./files/../files/ok.jpg"),
    ]
    .join("\n");
    write_bundle(
        &root,
        Some(MANIFEST),
        Some("{\"id\": \"u-1\"}"),
        Some(&media),
        None,
    );
    let all = open_dir(&root);
    let ok: Vec<_> = all.media.iter().map(|r| r.value.id.as_str()).collect();
    assert_eq!(ok, ["m-1", "m-6"]);
    let msg = |l: u64| all.error_at("media.ndjson", l).message.clone();
    assert!(msg(2).contains("contains `..`"), "{}", msg(2));
    assert!(msg(3).contains("absolute path"), "{}", msg(3));
    assert!(msg(4).contains("resolves outside the bundle"), "{}", msg(4));
    assert!(msg(5).contains("file not found"), "{}", msg(5));
    assert!(msg(7).contains("not a regular file"), "{}", msg(7));
    assert!(msg(8).contains("symbolic link to nothing"), "{}", msg(8));
    assert!(msg(9).contains("`..`"), "{}", msg(9));

    let b = Bundle::open(&root, &tmp.path().join("s"), &Limits::default()).unwrap();
    assert_eq!(
        b.resolve_file("files/ok.jpg").unwrap(),
        fs::canonicalize(root.join("files/ok.jpg")).unwrap()
    );
    assert!(b.resolve_file("").is_err());
}

#[test]
fn bom_blank_lines_crlf_and_unknown_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = format!("\u{feff}{MANIFEST}");
    let accounts = "\u{feff}{\"id\": \"u-1\", \"tier\": \"gold\", \"logins\": [{\"ip\": \"2001:db8::1\", \"asn\": 64496}], \"estimated_location\": {\"country_code\": \"au\", \"city\": \"Perth\", \"source\": \"ip\"}}\r\n\r\n   \n{\"id\": \"u-2\", \"declared_country\": \"nz\"}\r\n";
    let media = format!(
        "\u{feff}\n{{\"id\": \"m-1\", \"account\": \"u-1\", \"note\": {{\"k\": [1]}}, \"hashes\": {{\"md5\": \"{}\", \"photodna\": \"AAAA\"}}}}\n",
        MD5.to_uppercase()
    );
    let events = "{\"type\": \"profile_update\", \"account\": \"u-1\", \"field\": \"bio\"}\n";
    write_bundle(
        tmp.path(),
        Some(&manifest),
        Some(accounts),
        Some(&media),
        Some(events),
    );
    let all = open_dir(tmp.path());
    assert!(all.errors.is_empty(), "{:#?}", all.errors);
    let a = &all.accounts[0].value;
    assert_eq!(a.extra["tier"], "gold");
    assert_eq!(a.logins[0].extra["asn"], 64496);
    let loc = a.estimated_location.as_ref().unwrap();
    assert_eq!(loc.country_code.as_deref(), Some("AU"));
    assert_eq!(loc.extra["source"], "ip");
    assert_eq!(all.accounts[1].line, 4);
    assert_eq!(
        all.accounts[1].value.declared_country.as_deref(),
        Some("NZ")
    );
    let m = &all.media[0];
    assert_eq!(m.line, 2);
    assert_eq!(m.value.extra["note"]["k"][0], 1);
    assert_eq!(
        m.value.hashes.md5.as_deref(),
        Some(MD5),
        "upper case is normalised"
    );
    assert_eq!(m.value.hashes.extra["photodna"], "AAAA");
    let e = &all.events[0].value;
    assert_eq!(e.kind, "profile_update");
    assert_eq!(e.extra["field"], "bio");
    // The model serialises back with the spec's names, extras inline-able.
    let json = serde_json::to_value(&all.events[0].value).unwrap();
    assert_eq!(json["type"], "profile_update");
}

#[test]
fn events_are_optional_and_media_can_be_read_first() {
    let tmp = tempfile::tempdir().unwrap();
    let media =
        format!("{{\"id\": \"m-1\", \"account\": \"u-1\", \"hashes\": {{\"md5\": \"{MD5}\"}}}}\n");
    write_bundle(
        tmp.path(),
        Some(MANIFEST),
        Some("{\"id\": \"u-1\"}\n"),
        Some(&media),
        None,
    );
    let mut b = Bundle::open(tmp.path(), &tmp.path().join("s"), &Limits::default()).unwrap();
    assert!(!b.has_events());
    assert_eq!(b.events().count(), 0);
    // media() reads the accounts itself when they were not read.
    let media: Vec<_> = b.media().collect();
    assert!(media[0].is_ok(), "{media:?}");
    // And reading again gives the same.
    let again: Vec<_> = b.media().collect();
    assert_eq!(format!("{media:?}"), format!("{again:?}"));
}

#[test]
fn overlong_and_non_utf8_lines_are_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let long = format!("{{\"id\": \"u-long\", \"pad\": \"{}\"}}", "x".repeat(5000));
    let mut accounts = format!("{{\"id\": \"u-1\"}}\n{long}\n").into_bytes();
    accounts.extend_from_slice(b"{\"id\": \"u-\xff\"}\n{\"id\": \"u-2\"}\n");
    fs::create_dir_all(tmp.path()).unwrap();
    fs::write(tmp.path().join("accounts.ndjson"), &accounts).unwrap();
    write_bundle(tmp.path(), Some(MANIFEST), None, Some(""), None);
    let limits = Limits {
        max_line_bytes: 1000,
        ..Limits::default()
    };
    let mut b = Bundle::open(tmp.path(), &tmp.path().join("s"), &limits).unwrap();
    let r: Vec<_> = b.accounts().collect();
    assert_eq!(r.len(), 4);
    assert!(
        r[1].as_ref()
            .unwrap_err()
            .message
            .contains("longer than the limit")
    );
    assert!(r[2].as_ref().unwrap_err().message.contains("not UTF-8"));
    assert_eq!(r[3].as_ref().unwrap().value.id, "u-2");
    assert_eq!(r[3].as_ref().unwrap().line, 4);
}

#[test]
fn not_a_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.txt");
    fs::write(&f, "hello").unwrap();
    let e = Bundle::open(&f, &tmp.path().join("s"), &Limits::default()).unwrap_err();
    assert!(matches!(e, BundleError::NotABundle { .. }), "{e}");
    let e = Bundle::open(
        &tmp.path().join("nope"),
        &tmp.path().join("s"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, BundleError::Io { .. }), "{e}");
}

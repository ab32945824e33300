//! CyberTipline report XML: the public samples and hand-made variants.

use std::fs;
use std::path::{Path, PathBuf};

use tiaki_intake::{CyberTip, CyberTipError, CyberTipOptions, CyberTipReport, SourceKind};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cybertip")
        .join(name)
}

fn only_report(path: &Path) -> CyberTipReport {
    let tip = CyberTip::open(path).unwrap();
    let mut all: Vec<_> = tip.reports().collect();
    assert_eq!(all.len(), 1);
    all.remove(0).unwrap()
}

#[test]
fn all_sections_sample() {
    let r = only_report(&data("report.all-sections.example.xml"));
    let h = &r.header;
    assert_eq!(h.source_kind, SourceKind::CyberTip);
    assert_eq!(
        h.report_id, "report.all-sections.example",
        "no own id: file stem"
    );
    assert_eq!(
        h.incident_type.as_deref(),
        Some("Child Pornography (possession, manufacture, and distribution)")
    );
    // No espService: the reporting person's e-mail domain names the reporter.
    assert_eq!(h.provider_name, "company.com");
    assert_eq!(
        h.description.as_deref(),
        Some("Multiple incidents reported over the past week")
    );
    let s = &h.extra["incidentSummary"];
    assert_eq!(
        s["reportAnnotations"],
        serde_json::json!(["sextortion", "csamSolicitation"])
    );
    assert_eq!(s["incidentDateTime"], "2024-01-15T14:30:00.000Z");
    assert_eq!(s["escalateToHighPriority"], "Immediate risk to child");
    assert_eq!(h.extra["internetDetails"].as_array().unwrap().len(), 4);
    assert_eq!(
        h.extra["internetDetails"][0]["webPageIncident"]["@thirdPartyHostedContent"],
        "true"
    );
    assert_eq!(h.extra["lawEnforcement"]["caseNumber"], "FBI-2024-001");
    assert_eq!(
        h.extra["reporter"]["reportingPerson"]["email"]["@verified"],
        "true"
    );
    // Recipients and victims are kept, but are not accounts.
    assert_eq!(h.extra["intendedRecipient"]["espIdentifier"], "USER123");
    assert_eq!(h.extra["victim"]["schoolName"], "Springfield High School");

    assert_eq!(r.accounts.len(), 1);
    let a = &r.accounts[0];
    assert_eq!(
        a.id, "suspicious_user_123",
        "no espIdentifier: the screen name"
    );
    assert_eq!(a.username.as_deref(), Some("suspicious_user_123"));
    assert_eq!(a.logins.len(), 1);
    assert_eq!(a.logins[0].ip, "192.168.1.100");
    assert_eq!(a.logins[0].at.as_deref(), Some("2024-01-15T12:00:00.000Z"));
    assert_eq!(a.logins[0].extra["eventName"], "Upload");
    assert_eq!(a.devices, ["IMEI:123456789012345"]);
    assert_eq!(a.extra["deviceId"][0]["eventName"], "Login");
    assert_eq!(
        a.extra["personOrUserReportedPerson"]["firstName"],
        "Unknown"
    );
    assert!(r.media.is_empty());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn doc_example_sample() {
    let r = only_report(&data("report.doc-example.xml"));
    assert_eq!(r.header.report_id, "report.doc-example");
    assert_eq!(r.header.provider_name, "example.com");
    assert_eq!(
        r.header.extra["incidentSummary"]["reportAnnotations"],
        serde_json::json!([
            "sextortion",
            "csamSolicitation",
            "minorToMinorInteraction",
            "spam",
            "sadisticOnlineExploitation",
            "informational"
        ])
    );
    assert_eq!(
        r.header.extra["incidentSummary"]["incidentDateTime"],
        "2012-10-15T08:00:00-07:00"
    );
    assert_eq!(
        r.header.extra["internetDetails"]["webPageIncident"]["url"],
        "http://badsite.com/baduri.html"
    );
    assert!(r.accounts.is_empty());
    assert!(r.media.is_empty());
}

#[test]
fn file_details_alone_is_not_a_report() {
    let tip = CyberTip::open(&data("fileDetails.all-fields.example.xml")).unwrap();
    let all: Vec<_> = tip.reports().collect();
    assert_eq!(all.len(), 1);
    let e = all.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(e, CyberTipError::NotAReport { .. }), "{e}");
}

/// A folder: report 123456 (the all-sections sample under that name), the
/// fileDetails sample for it, its file, the doc example, one broken file,
/// one orphan fileDetails and one non-XML file.
fn folder() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::copy(
        data("report.all-sections.example.xml"),
        d.join("123456.xml"),
    )
    .unwrap();
    fs::copy(
        data("fileDetails.all-fields.example.xml"),
        d.join("123456-file1.xml"),
    )
    .unwrap();
    fs::copy(data("report.doc-example.xml"), d.join("200.xml")).unwrap();
    fs::write(
        d.join("150-broken.xml"),
        "<report>\n  <incidentSummary>\n</report>\n",
    )
    .unwrap();
    fs::write(
        d.join("300-orphan.xml"),
        "<fileDetails><reportId>999</reportId><fileId>f</fileId></fileDetails>",
    )
    .unwrap();
    fs::write(d.join("notes.txt"), "not xml").unwrap();
    fs::create_dir_all(d.join("files")).unwrap();
    fs::write(d.join("files/FILE789"), b"generated bytes").unwrap();
    tmp
}

#[test]
fn folder_reads_report_by_report_with_errors_for_bad_files() {
    let tmp = folder();
    let tip = CyberTip::open(tmp.path()).unwrap();
    assert_eq!(tip.report_count(), 2);
    let all: Vec<_> = tip.reports().collect();
    // File-name order: 123456-file1 (attached, yields nothing), 123456,
    // 150-broken, 200, 300-orphan.
    assert_eq!(all.len(), 4, "{all:#?}");
    let r = all[0].as_ref().unwrap();
    assert_eq!(r.header.report_id, "123456");
    match all[1].as_ref().unwrap_err() {
        CyberTipError::Xml { path, line, .. } => {
            assert!(path.ends_with("150-broken.xml"));
            assert_eq!(*line, 3, "the mismatched end tag is on line 3");
        }
        e => panic!("{e}"),
    }
    assert_eq!(all[2].as_ref().unwrap().header.report_id, "200");
    let e = all[3].as_ref().unwrap_err();
    assert!(
        matches!(e, CyberTipError::OrphanFileDetails { report_id, .. } if report_id == "999"),
        "{e}"
    );
    assert!(e.to_string().contains("300-orphan.xml"));

    // The fileDetails sample became report 123456's media item.
    assert_eq!(r.media.len(), 1);
    let m = &r.media[0];
    assert_eq!(m.id, "FILE789");
    assert_eq!(m.account, "suspicious_user_123");
    assert_eq!(m.original_name.as_deref(), Some("original_evidence.jpg"));
    assert_eq!(m.viewed_by_provider, Some(true));
    assert_eq!(m.industry_classification.as_deref(), Some("A1"));
    assert_eq!(
        m.hashes.md5.as_deref(),
        Some("e86fdc2283aff4179685f2a918a769eb")
    );
    // The sample's "SHA1" has 64 digits: not taken, kept, warned about.
    assert_eq!(m.hashes.sha1, None);
    assert_eq!(m.extra["originalFileHash"][0]["@hashType"], "SHA1");
    assert!(
        r.warnings.iter().any(|w| w.contains("SHA-1")),
        "{:?}",
        r.warnings
    );
    assert_eq!(m.hashes.extra["photodna"], "hash_value_1");
    assert_eq!(m.upload_ip.as_deref(), Some("192.168.5.100"));
    assert_eq!(m.extra["publiclyAvailable"], false);
    assert_eq!(m.extra["exifViewedByEsp"], true);
    assert_eq!(m.extra["fileRelevance"], "Reported");
    assert_eq!(
        m.extra["fileAnnotations"],
        serde_json::json!(["viral", "liveStreaming"])
    );
    assert_eq!(
        m.extra["locationOfFile"],
        "https://platform.com/files/evidence.jpg"
    );
    assert_eq!(m.extra["details"][0]["nameValuePair"][0]["value"], "Canon");
    assert_eq!(m.file.as_deref(), Some("files/FILE789"));
    assert_eq!(
        fs::read(r.resolve_file("files/FILE789").unwrap()).unwrap(),
        b"generated bytes"
    );

    // Deterministic.
    let again: Vec<_> = tip.reports().map(|r| format!("{r:?}")).collect();
    let first: Vec<_> = all.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(again, first);
}

#[test]
fn hand_made_report_maps_every_account_field() {
    let tmp = tempfile::tempdir().unwrap();
    let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<report>
  <reportId>CT-77</reportId>
  <incidentSummary><incidentType>Child Sex Tourism</incidentType><incidentDateTime>2019-10-01T00:00:00Z</incidentDateTime></incidentSummary>
  <reporter><reportingPerson><email>safety@acme.example</email></reportingPerson></reporter>
  <personOrUserReported>
    <personOrUserReportedPerson>
      <firstName>A</firstName>
      <phone countryCallingCode=\"+64\" type=\"Mobile\">21 555 0100</phone>
      <phone>+61 4 5550 0001</phone>
      <email verified=\"true\">a@example.co.nz</email>
      <email>b@example.org</email>
      <address><country>NZ</country></address>
    </personOrUserReportedPerson>
    <espIdentifier>u-1029</espIdentifier>
    <espService>Acme Share</espService>
    <screenName>kiwi_77</screenName>
    <displayName>K</displayName>
    <displayName>Kiwi</displayName>
    <profileUrl>https://acme.example/u/kiwi_77</profileUrl>
    <ipCaptureEvent><ipAddress>203.0.113.9</ipAddress><eventName>Login</eventName><dateTime>2019-10-02T11:00:00Z</dateTime><possibleProxy>true</possibleProxy><port>443</port></ipCaptureEvent>
    <ipCaptureEvent><ipAddress>not-an-ip</ipAddress></ipCaptureEvent>
    <ipCaptureEvent><ipAddress>2001:db8::7</ipAddress><dateTime>yesterday</dateTime></ipCaptureEvent>
    <deviceId><idType>android-id</idType><idValue>8f2c</idValue></deviceId>
    <estimatedLocation verified=\"true\" timestamp=\"2019-10-02T00:00:00Z\"><city>Auckland</city><region>Auckland</region><countryCode>nz</countryCode></estimatedLocation>
  </personOrUserReported>
  <fileDetails>
    <fileId>abc123</fileId>
    <originalFileName>pic.png</originalFileName>
    <uploadedToEspTimestamp>2019-10-03T09:12:00Z</uploadedToEspTimestamp>
    <fileViewedByEsp>false</fileViewedByEsp>
    <originalFileHash hashType=\"MD5\">0123456789ABCDEF0123456789ABCDEF</originalFileHash>
    <originalFileHash hashType=\"SHA256\">" .to_owned()
        + &"a".repeat(64)
        + "</originalFileHash>
    <ipCaptureEvent><ipAddress>198.51.100.7</ipAddress><eventName>Upload</eventName></ipCaptureEvent>
  </fileDetails>
  <additionalInfo>first &amp; main</additionalInfo>
</report>";
    fs::write(tmp.path().join("x.xml"), xml).unwrap();
    fs::create_dir_all(tmp.path().join("files/CT-77")).unwrap();
    fs::write(tmp.path().join("files/CT-77/pic.png"), b"png").unwrap();
    let r = only_report(&tmp.path().join("x.xml"));
    assert_eq!(r.header.report_id, "CT-77");
    assert_eq!(r.header.provider_name, "Acme Share");
    assert_eq!(r.header.description.as_deref(), Some("first & main"));
    let a = &r.accounts[0];
    assert_eq!(a.id, "u-1029");
    assert_eq!(a.username.as_deref(), Some("kiwi_77"));
    assert_eq!(a.display_name.as_deref(), Some("K"));
    assert_eq!(a.extra["displayName"], serde_json::json!(["Kiwi"]));
    assert_eq!(a.emails, ["a@example.co.nz", "b@example.org"]);
    assert_eq!(a.phones, ["+64 21 555 0100", "+61 4 5550 0001"]);
    assert_eq!(
        a.profile_url.as_deref(),
        Some("https://acme.example/u/kiwi_77")
    );
    assert_eq!(a.devices, ["android-id:8f2c"]);
    assert_eq!(a.logins.len(), 2);
    assert_eq!(a.logins[0].possible_proxy, Some(true));
    assert_eq!(a.logins[0].extra["port"], "443");
    assert_eq!(a.logins[1].ip, "2001:db8::7");
    assert_eq!(a.logins[1].at, None);
    assert_eq!(a.logins[1].extra["dateTime"], "yesterday");
    assert_eq!(a.extra["ipCaptureEvent"][0]["ipAddress"], "not-an-ip");
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    let loc = a.estimated_location.as_ref().unwrap();
    assert_eq!(loc.country_code.as_deref(), Some("NZ"));
    assert_eq!(loc.city.as_deref(), Some("Auckland"));
    assert_eq!(loc.verified, Some(true));
    assert_eq!(
        a.extra["personOrUserReportedPerson"]["address"]["country"],
        "NZ"
    );
    assert_eq!(a.extra["espService"], "Acme Share");

    let m = &r.media[0];
    assert_eq!(m.id, "abc123");
    assert_eq!(m.account, "u-1029");
    assert_eq!(m.file.as_deref(), Some("files/CT-77/pic.png"));
    assert_eq!(m.uploaded_at.as_deref(), Some("2019-10-03T09:12:00Z"));
    assert_eq!(m.viewed_by_provider, Some(false));
    assert_eq!(
        m.hashes.md5.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(m.hashes.sha256.as_deref(), Some("a".repeat(64).as_str()));
    assert_eq!(m.upload_ip.as_deref(), Some("198.51.100.7"));

    // The provider name can be set by the caller.
    let tip = CyberTip::open_with(
        &tmp.path().join("x.xml"),
        &CyberTipOptions {
            provider_name: Some("Acme File Share Ltd".into()),
            ..CyberTipOptions::default()
        },
    )
    .unwrap();
    let r = tip.reports().next().unwrap().unwrap();
    assert_eq!(r.header.provider_name, "Acme File Share Ltd");
}

#[test]
fn media_without_reported_user_get_a_placeholder_account() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("9.xml"),
        "<report><incidentSummary><incidentType>T</incidentType></incidentSummary>\
         <fileDetails><fileId>f1</fileId><originalFileHash hashType=\"MD5\">0123456789abcdef0123456789abcdef</originalFileHash></fileDetails></report>",
    )
    .unwrap();
    let r = only_report(&tmp.path().join("9.xml"));
    assert_eq!(r.accounts.len(), 1);
    assert_eq!(r.accounts[0].id, "9#reported-user-1");
    assert_eq!(r.media[0].account, "9#reported-user-1");
    assert_eq!(r.media[0].file, None);
}

#[test]
fn malformed_and_foreign_xml_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text, needle) in [
        ("a.xml", "<report><x></y></report>", "line 1"),
        ("b.xml", "", "no root element"),
        ("c.xml", "<queryResult/>", "root element is <queryResult>"),
        ("d.xml", "<report><a>", "ends inside"),
        ("e.xml", "\u{0}\u{1}garbage", "malformed XML"),
    ] {
        let p = tmp.path().join(name);
        fs::write(&p, text).unwrap();
        let tip = CyberTip::open(&p).unwrap();
        let e = tip.reports().next().unwrap().unwrap_err();
        let s = e.to_string();
        assert!(s.contains(name), "{s}");
        assert!(s.contains(needle), "{name}: {s} lacks {needle:?}");
    }
}

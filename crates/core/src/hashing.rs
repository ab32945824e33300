//! Hashing one media file of an intake: the same per-file path as
//! `tiaki hash`, plus the comparison with the provider's hashes and the
//! blob store.

use std::path::Path;

use tiaki_hash::pdq::{PdqHash, PdqHasher};
use tiaki_media::{FileRecord, HashOptions, Kind, hash_file};
use serde::Deserialize as _;
use tiaki_store::intake::{FindingRow, HashState, HashedMedia, MediaHashes, PendingMedia};
use tiaki_types::hex;
use tiaki_types::model::{MediaData, ProvidedHashes};

use crate::blobs::BlobStore;

/// Parses lowercase or uppercase hex of exactly `N` bytes.
pub fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    hex::decode::<N>(s.trim()).ok()
}

/// The hashes of a `tiaki hash` record.
pub fn hashes_of_record(r: &FileRecord) -> MediaHashes {
    MediaHashes {
        md5: r.md5.as_deref().and_then(parse_hex::<16>),
        sha1: r.sha1.as_deref().and_then(parse_hex::<20>),
        sha256: r.sha256.as_deref().and_then(parse_hex::<32>),
        pdq: r.pdq,
        pdq_quality: r.pdq_quality,
        vpdq: r.vpdq.clone(),
    }
}

/// The provider's hashes of a media line (already validated by the
/// reader; anything unparsable is ignored here).
pub fn provided_hashes(h: &ProvidedHashes) -> MediaHashes {
    MediaHashes {
        md5: h.md5.as_deref().and_then(parse_hex::<16>),
        sha1: h.sha1.as_deref().and_then(parse_hex::<20>),
        sha256: h.sha256.as_deref().and_then(parse_hex::<32>),
        pdq: h.pdq.as_deref().and_then(|p| PdqHash::from_hex(p).ok()),
        pdq_quality: None,
        vpdq: provided_vpdq(h.vpdq.iter().map(String::as_str)),
    }
}

/// A provider's vPDQ frames (python-threatexchange signal entries,
/// `"hex,quality,timestamp"`, already checked by the intake reader), or
/// `None` when there are none.
pub fn provided_vpdq<'a>(
    frames: impl Iterator<Item = &'a str>,
) -> Option<Vec<tiaki_hash::vpdq::VpdqFeature>> {
    let v: Vec<_> = frames
        .enumerate()
        .filter_map(|(i, f)| tiaki_hash::vpdq::format::parse_signal_entry(f, i as u64).ok())
        .collect();
    (!v.is_empty()).then_some(v)
}

/// Where the provider's hashes disagree with ours: one finding each. Both
/// values are kept (the provider's in the media line, ours in the row).
pub fn disagreements(
    file: &str,
    line: u64,
    subject: &str,
    provided: &MediaHashes,
    computed: &MediaHashes,
) -> Vec<FindingRow> {
    let mut out = Vec::new();
    let mut check = |name: &str, ours: Option<String>, theirs: Option<String>| {
        if let (Some(o), Some(t)) = (ours, theirs)
            && o != t
        {
            out.push(FindingRow {
                file: file.to_string(),
                line,
                subject: subject.to_string(),
                code: format!("{name}_mismatch"),
                message: format!("the provider's {name} is {t}, the file's is {o}"),
            });
        }
    };
    check(
        "md5",
        computed.md5.map(|d| hex::encode(&d)),
        provided.md5.map(|d| hex::encode(&d)),
    );
    check(
        "sha1",
        computed.sha1.map(|d| hex::encode(&d)),
        provided.sha1.map(|d| hex::encode(&d)),
    );
    check(
        "sha256",
        computed.sha256.map(|d| hex::encode(&d)),
        provided.sha256.map(|d| hex::encode(&d)),
    );
    if let (Some(o), Some(t)) = (computed.pdq, provided.pdq)
        && o != t
    {
        out.push(FindingRow {
            file: file.to_string(),
            line,
            subject: subject.to_string(),
            code: "pdq_mismatch".into(),
            message: format!(
                "the provider's PDQ {} is {} bits from the file's {}",
                t.to_hex(),
                o.distance(&t),
                o.to_hex()
            ),
        });
    }
    out
}

/// Hashes one pending media file. A file that cannot be read or decoded
/// becomes a `Failed` row with its error and a finding, keeping whatever
/// hashes could be computed (the digests, usually): that is the input's
/// fault and a rerun would fail the same way. A file that cannot be kept in
/// the blob store (our disk full, our directory unwritable) is an error
/// instead: the operator's to fix, after which the same command hashes it,
/// so it must not be recorded as the file's fault.
pub fn hash_pending(
    p: &PendingMedia,
    media_file: &str,
    opts: &HashOptions,
    hasher: &mut PdqHasher,
    blobs: Option<&BlobStore>,
) -> Result<HashedMedia, crate::blobs::BlobError> {
    let rec = hash_file(Path::new(&p.file), p.file.clone(), opts, hasher);
    let hashes = hashes_of_record(&rec);
    // `media.data` as the intake wrote it (`MediaData`); a row whose data
    // does not read back has no provider hashes to compare, and says so.
    let (provided, unreadable) = match MediaData::deserialize(&p.data) {
        Ok(d) => (d.hashes.as_deref().map(provided_hashes).unwrap_or_default(), None),
        Err(e) => (MediaHashes::default(), Some(e)),
    };
    let mut findings = disagreements(media_file, p.line, &p.provider_id, &provided, &hashes);
    if let Some(e) = unreadable {
        findings.push(FindingRow {
            file: media_file.to_string(),
            line: p.line,
            subject: p.provider_id.clone(),
            code: "stored_data_unreadable".into(),
            message: format!("the stored media line does not read back ({e}); the provider's hashes were not compared"),
        });
    }
    let error = rec.error.clone();
    let mut stored = false;
    if let (Some(blobs), Some(sha)) = (blobs, hashes.sha256) {
        blobs.put_file(Path::new(&p.file), &sha)?;
        stored = true;
    }
    if let Some(e) = &error {
        findings.push(FindingRow {
            file: media_file.to_string(),
            line: p.line,
            subject: p.provider_id.clone(),
            code: "hash_failed".into(),
            message: format!("{}: {e}", p.file),
        });
    }
    Ok(HashedMedia {
        id: p.id,
        intake_id: p.intake_id,
        hashes,
        kind: rec.kind.map(|k| match k {
            Kind::Image => "image".to_string(),
            Kind::Video => "video".to_string(),
            Kind::Other => "other".to_string(),
        }),
        width: rec.width,
        height: rec.height,
        bytes: rec.bytes,
        state: if error.is_some() { HashState::Failed } else { HashState::Hashed },
        error,
        stored,
        triage: None,
        matches: Vec::new(),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let d = [0xABu8, 0x01, 0xff, 0x10];
        assert_eq!(parse_hex::<4>(&hex::encode(&d)), Some(d));
        assert_eq!(parse_hex::<4>("AB01FF10"), Some(d));
        assert_eq!(parse_hex::<4>("AB01FF1"), None);
        assert_eq!(parse_hex::<4>("AB01FF1G"), None);
    }

    #[test]
    fn disagreement_names_both_values() {
        let a = MediaHashes { md5: Some([1; 16]), ..MediaHashes::default() };
        let b = MediaHashes { md5: Some([2; 16]), sha1: Some([3; 20]), ..MediaHashes::default() };
        let f = disagreements("media.ndjson", 7, "f-1", &a, &b);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "md5_mismatch");
        assert!(
            f[0].message.contains(&hex::encode(&[1; 16]))
                && f[0].message.contains(&hex::encode(&[2; 16]))
        );
        assert!(disagreements("m", 1, "x", &a, &a).is_empty());
    }
}

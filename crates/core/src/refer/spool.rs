//! Per-country spool files. A build reads the media table once, in id
//! order, and routes each item (and its matches) to the file of its
//! uploader's country; each package is then built from its own file. A
//! country's media are spread over the whole table, so this turns one
//! random lookup per media item into one sequential pass, while memory
//! holds only the packages being built.
//!
//! The format is private to one build (written and read by the same
//! binary, then deleted): records of a tag byte and little-endian fields.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tiaki_hash::PdqHash;
use tiaki_store::MatchKind;
use tiaki_store::intake::{MatchRow, MediaHashes, Triage};
use tiaki_store::referrals::AccountMedia;
use tiaki_types::model::MediaData;

const MEDIA: u8 = 1;
const MATCH: u8 = 2;

/// Appends one country's records.
pub struct SpoolWriter {
    w: BufWriter<File>,
    path: PathBuf,
}

impl SpoolWriter {
    pub fn create(path: PathBuf) -> io::Result<SpoolWriter> {
        let f = File::create(&path)?;
        Ok(SpoolWriter {
            w: BufWriter::with_capacity(64 << 10, f),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn media(&mut self, m: &AccountMedia) -> io::Result<()> {
        let w = &mut self.w;
        w.write_all(&[MEDIA])?;
        w.write_all(&m.id.to_le_bytes())?;
        w.write_all(&m.account_id.to_le_bytes())?;
        put_str(w, &m.provider_id)?;
        put_opt_str(w, m.original_name.as_deref())?;
        let h = &m.hashes;
        let flags = u8::from(h.md5.is_some())
            | u8::from(h.sha1.is_some()) << 1
            | u8::from(h.sha256.is_some()) << 2
            | u8::from(h.pdq.is_some()) << 3
            | u8::from(h.pdq_quality.is_some()) << 4
            | u8::from(m.bytes.is_some()) << 5
            | u8::from(m.stored) << 6;
        let viewed = match m.viewed_by_provider {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let triage = match m.triage {
            None => 0,
            Some(Triage::Known) => 1,
            Some(Triage::New) => 2,
        };
        w.write_all(&[flags, viewed, triage])?;
        if let Some(d) = &h.md5 {
            w.write_all(d)?;
        }
        if let Some(d) = &h.sha1 {
            w.write_all(d)?;
        }
        if let Some(d) = &h.sha256 {
            w.write_all(d)?;
        }
        if let Some(p) = &h.pdq {
            for limb in p.0 {
                w.write_all(&limb.to_le_bytes())?;
            }
        }
        if let Some(q) = h.pdq_quality {
            w.write_all(&[q])?;
        }
        if let Some(b) = m.bytes {
            w.write_all(&b.to_le_bytes())?;
        }
        // Rare (most media lines say nothing beside the columns): as JSON.
        let data = m
            .data
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(io::Error::other)?;
        put_opt_str(w, data.as_deref())
    }

    pub fn matched(&mut self, media_id: i64, x: &MatchRow) -> io::Result<()> {
        let w = &mut self.w;
        let kind = match x.kind {
            MatchKind::Exact => 0,
            MatchKind::Pdq => 1,
            MatchKind::Vpdq => 2,
        };
        w.write_all(&[MATCH, kind])?;
        w.write_all(&media_id.to_le_bytes())?;
        w.write_all(&x.entry_id.to_le_bytes())?;
        w.write_all(&x.list_id.to_le_bytes())?;
        w.write_all(&x.distance.to_le_bytes())?;
        put_opt_str(w, x.variant.as_deref())
    }

    /// Flushes and closes the file; its path.
    pub fn finish(self) -> io::Result<PathBuf> {
        let SpoolWriter { w, path } = self;
        w.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(path)
    }
}

fn put_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    let n = u32::try_from(s.len()).map_err(|_| io::Error::other("string over 4 GiB"))?;
    w.write_all(&n.to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn put_opt_str(w: &mut impl Write, s: Option<&str>) -> io::Result<()> {
    match s {
        None => w.write_all(&[0]),
        Some(s) => {
            w.write_all(&[1])?;
            put_str(w, s)
        }
    }
}

/// A spool's media (in the order written) and their matches.
pub type Spooled = (Vec<AccountMedia>, Vec<(i64, MatchRow)>);

/// Reads a spool file back and removes it.
pub fn read_spool(path: &Path) -> io::Result<Spooled> {
    let bytes = fs::read(path)?;
    fs::remove_file(path)?;
    decode(&bytes).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "spool file is truncated or corrupt",
        )
    })
}

fn decode(bytes: &[u8]) -> Option<Spooled> {
    let mut r = Reader(bytes);
    let (mut media, mut matches) = (Vec::new(), Vec::new());
    while let Some(tag) = r.u8() {
        match tag {
            MEDIA => media.push(r.media()?),
            MATCH => matches.push(r.matched()?),
            _ => return None,
        }
    }
    Some((media, matches))
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }

    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(u32::from_le_bytes(self.take()?)).ok()?;
        let (s, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        String::from_utf8(s.to_vec()).ok()
    }

    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.str().map(Some),
            _ => None,
        }
    }

    fn media(&mut self) -> Option<AccountMedia> {
        let id = self.i64()?;
        let account_id = self.i64()?;
        let provider_id = self.str()?;
        let original_name = self.opt_str()?;
        let [flags, viewed, triage] = self.take()?;
        let has = |bit: u8| flags & (1 << bit) != 0;
        let md5 = if has(0) { Some(self.take()?) } else { None };
        let sha1 = if has(1) { Some(self.take()?) } else { None };
        let sha256 = if has(2) { Some(self.take()?) } else { None };
        let pdq = if has(3) {
            Some(PdqHash([
                self.u64()?,
                self.u64()?,
                self.u64()?,
                self.u64()?,
            ]))
        } else {
            None
        };
        let pdq_quality = if has(4) { Some(self.u8()?) } else { None };
        let bytes = if has(5) { Some(self.u64()?) } else { None };
        let data = match self.opt_str()? {
            None => None,
            Some(text) => Some(Box::new(serde_json::from_str::<MediaData>(&text).ok()?)),
        };
        Some(AccountMedia {
            id,
            account_id,
            provider_id,
            original_name,
            viewed_by_provider: match viewed {
                0 => None,
                1 => Some(false),
                2 => Some(true),
                _ => return None,
            },
            hashes: MediaHashes {
                md5,
                sha1,
                sha256,
                pdq,
                pdq_quality,
                vpdq: None,
            },
            triage: match triage {
                0 => None,
                1 => Some(Triage::Known),
                2 => Some(Triage::New),
                _ => return None,
            },
            bytes,
            stored: has(6),
            data,
        })
    }

    fn matched(&mut self) -> Option<(i64, MatchRow)> {
        let kind = match self.u8()? {
            0 => MatchKind::Exact,
            1 => MatchKind::Pdq,
            2 => MatchKind::Vpdq,
            _ => return None,
        };
        let media_id = self.i64()?;
        let entry_id = self.u64()?;
        let list_id = self.i64()?;
        let distance = u32::from_le_bytes(self.take()?);
        let variant = self.opt_str()?;
        Some((
            media_id,
            MatchRow {
                entry_id,
                list_id,
                kind,
                distance,
                variant,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(id: i64, full: bool) -> AccountMedia {
        AccountMedia {
            id,
            account_id: id * 7,
            provider_id: format!("m{id}"),
            original_name: full.then(|| "é x.jpg".to_owned()),
            viewed_by_provider: full.then_some(id % 2 == 0),
            hashes: MediaHashes {
                md5: full.then_some([1; 16]),
                sha1: full.then_some([2; 20]),
                sha256: Some([3; 32]),
                pdq: full.then_some(PdqHash([4, 5, 6, u64::MAX])),
                pdq_quality: full.then_some(90),
                vpdq: None,
            },
            triage: full.then_some(Triage::New),
            bytes: full.then_some(1 << 40),
            stored: full,
            data: full.then(|| {
                Box::new(MediaData {
                    shared_with: vec!["u-2".to_owned(), "u-3".to_owned()].into(),
                    viewed_by_ncmec: Some(false),
                    industry_classification: Some("B1".into()),
                    ..MediaData::default()
                })
            }),
        }
    }

    #[test]
    fn records_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWriter::create(dir.path().join("NZ")).unwrap();
        let want_media = vec![media(1, true), media(2, false), media(-3, true)];
        let want_matches = vec![
            (
                1,
                MatchRow {
                    entry_id: 9,
                    list_id: 2,
                    kind: MatchKind::Pdq,
                    distance: 12,
                    variant: Some("flip".into()),
                },
            ),
            (
                -3,
                MatchRow {
                    entry_id: u64::MAX,
                    list_id: -1,
                    kind: MatchKind::Exact,
                    distance: 0,
                    variant: None,
                },
            ),
        ];
        w.media(&want_media[0]).unwrap();
        w.matched(want_matches[0].0, &want_matches[0].1).unwrap();
        w.media(&want_media[1]).unwrap();
        w.media(&want_media[2]).unwrap();
        w.matched(want_matches[1].0, &want_matches[1].1).unwrap();
        let path = w.finish().unwrap();
        let (m, x) = read_spool(&path).unwrap();
        assert_eq!(m, want_media);
        assert_eq!(x, want_matches);
        assert!(!path.exists());
    }

    #[test]
    fn truncated_spool_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpoolWriter::create(dir.path().join("NZ")).unwrap();
        w.media(&media(1, true)).unwrap();
        let path = w.finish().unwrap();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(
            read_spool(&path).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}

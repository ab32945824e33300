//! Triage: every stored media item grouped into near-duplicate clusters
//! across accounts and reports, new material first.
//!
//! Two media are in one cluster when they have the same content (SHA-256,
//! else MD5, else SHA-1) or PDQ hashes within the radius (quality ≥ 50),
//! transitively (union-find). A cluster is `new` when none of its media
//! matched a known list, `known` when all did, and `near-known` when some
//! did: new media that look like known material.
//!
//! [`media`] is one member seen alone: its metadata and its matches, with
//! the list entries they hit.

use std::collections::HashSet;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use tiaki_hash::pdq::{PdqHash, QUALITY_THRESHOLD};
use tiaki_index::{PdqIndex, PdqIndexConfig};
use tiaki_formats::ListEntry;
use tiaki_store::intake::{IntakeStore, MatchRow, MediaInfo, Triage};
use tiaki_store::{ListStore, StoreError};
use tiaki_types::hashes::{Dihedral, Hit};

use crate::pages::media_pages;

/// Media rows read per page.
const PAGE: u32 = 20_000;

/// How a cluster relates to the known lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterState {
    New,
    NearKnown,
    Known,
}

/// One group of near-duplicate media.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cluster {
    pub state: ClusterState,
    /// Media items (occurrences) in the cluster.
    pub media: u64,
    /// Distinct accounts that have one of them.
    pub accounts: u64,
    /// Distinct intakes (reports) they came from.
    pub reports: u64,
    /// The lowest media id of the cluster: its representative.
    pub representative: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Media ids, lowest first (all of them; callers may cut).
    pub members: Vec<i64>,
    /// Matches of the cluster's known media, filled by [`with_matches`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<MatchRow>,
}

/// Options of [`clusters`].
#[derive(Debug, Clone)]
pub struct TriageOptions {
    /// PDQ distance that makes two media near-duplicates.
    pub radius: u32,
    /// Only media of this intake (clusters still span only what is read).
    pub intake: Option<i64>,
}

impl Default for TriageOptions {
    fn default() -> Self {
        TriageOptions {
            radius: tiaki_hash::pdq::MATCH_DISTANCE,
            intake: None,
        }
    }
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let parent = self.0[x as usize];
            self.0[x as usize] = self.0[parent as usize];
            x = parent;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller root wins, so a cluster's root is its first media.
        if ra < rb {
            self.0[rb as usize] = ra;
        } else if rb < ra {
            self.0[ra as usize] = rb;
        }
    }
}

/// The content a media item is keyed by: its SHA-256, else MD5, else SHA-1
/// (fixed arrays: no allocation per media item).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum ContentKey {
    Sha256([u8; 32]),
    Md5([u8; 16]),
    Sha1([u8; 20]),
}

/// Dense numbers for (intake, account) pairs, looked up by `&str` so a
/// known account costs no key of its own.
#[derive(Default)]
struct AccountNumbers {
    by_intake: FxHashMap<i64, FxHashMap<String, u32>>,
    count: u32,
}

impl AccountNumbers {
    fn number(&mut self, intake: i64, account: String) -> u32 {
        let of_intake = self.by_intake.entry(intake).or_default();
        if let Some(&n) = of_intake.get(account.as_str()) {
            return n;
        }
        let n = self.count;
        self.count = self.count.saturating_add(1);
        of_intake.insert(account, n);
        n
    }
}

/// Per media, what clustering needs (compact: millions fit).
struct Item {
    id: i64,
    intake: i64,
    account: u32,
    known: bool,
}

/// Reads every media item (of one intake, or all) and clusters it.
/// Order: new clusters first, then near-known, then known; within each,
/// most media first, then lowest representative id.
pub async fn clusters<S: IntakeStore + Clone + 'static>(
    store: &S,
    opts: &TriageOptions,
) -> Result<Vec<Cluster>, StoreError> {
    let mut items: Vec<Item> = Vec::new();
    let mut accounts = AccountNumbers::default();
    let mut content: FxHashMap<ContentKey, u32> = FxHashMap::default();
    let mut pdqs: FxHashMap<PdqHash, u32> = FxHashMap::default();
    let mut pdq_list: Vec<PdqHash> = Vec::new();
    let mut pdq_of_item: Vec<Option<u32>> = Vec::new();
    let mut uf = UnionFind(Vec::new());
    let mut pages = media_pages(store, opts.intake, PAGE);
    while let Some(page) = pages.next().await? {
        for m in page {
            let idx = u32::try_from(items.len())
                .map_err(|_| StoreError::Corrupt("too many media".into()))?;
            uf.0.push(idx);
            let account = accounts.number(m.intake_id, m.account);
            let h = &m.hashes;
            let key = h
                .sha256
                .map(ContentKey::Sha256)
                .or_else(|| h.md5.map(ContentKey::Md5))
                .or_else(|| h.sha1.map(ContentKey::Sha1));
            if let Some(k) = key {
                let first = *content.entry(k).or_insert(idx);
                uf.union(first, idx);
            }
            let pdq = h
                .pdq
                .filter(|_| h.pdq_quality.is_none_or(|q| q >= QUALITY_THRESHOLD))
                .map(|p| {
                    let n = u32::try_from(pdq_list.len()).unwrap_or(u32::MAX);
                    *pdqs.entry(p).or_insert_with(|| {
                        pdq_list.push(p);
                        n
                    })
                });
            pdq_of_item.push(pdq);
            items.push(Item {
                id: m.id,
                intake: m.intake_id,
                account,
                known: m.triage == Some(Triage::Known),
            });
        }
    }
    // Items sharing a PDQ hash: union through the first item of each hash.
    let mut first_of_pdq: Vec<u32> = vec![u32::MAX; pdq_list.len()];
    for (i, p) in pdq_of_item.iter().enumerate() {
        if let Some(p) = p {
            let i = i as u32;
            let slot = &mut first_of_pdq[*p as usize];
            if *slot == u32::MAX {
                *slot = i;
            } else {
                uf.union(*slot, i);
            }
        }
    }
    // Distinct hashes within the radius of each other.
    if opts.radius > 0 && pdq_list.len() > 1 {
        let mut index = PdqIndex::new(PdqIndexConfig::default());
        for (i, p) in pdq_list.iter().enumerate() {
            index.insert(*p, 100, i as u64)?;
        }
        index.flush()?;
        let pairs: Vec<(u32, u32)> = pdq_list
            .par_chunks(1024)
            .enumerate()
            .flat_map_iter(|(c, chunk)| {
                let hits = index.query_batch(chunk, opts.radius);
                hits.into_iter().enumerate().flat_map(move |(j, ms)| {
                    let me = (c * 1024 + j) as u32;
                    ms.into_iter().filter_map(move |m| {
                        u32::try_from(m.id)
                            .ok()
                            .filter(|&o| o > me)
                            .map(|o| (me, o))
                    })
                })
            })
            .collect();
        for (a, b) in pairs {
            uf.union(first_of_pdq[a as usize], first_of_pdq[b as usize]);
        }
    }
    // Gather.
    let mut groups: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for i in 0..items.len() as u32 {
        let r = uf.find(i);
        groups.entry(r).or_default().push(i);
    }
    let sha_of: FxHashMap<u32, ContentKey> = content.into_iter().map(|(k, v)| (v, k)).collect();
    let mut out: Vec<Cluster> = groups
        .into_values()
        .map(|members| {
            let known = members.iter().filter(|&&i| items[i as usize].known).count();
            let state = if known == 0 {
                ClusterState::New
            } else if known == members.len() {
                ClusterState::Known
            } else {
                ClusterState::NearKnown
            };
            let accounts: FxHashSet<u32> =
                members.iter().map(|&i| items[i as usize].account).collect();
            let reports: FxHashSet<i64> =
                members.iter().map(|&i| items[i as usize].intake).collect();
            let first = members[0];
            Cluster {
                state,
                media: members.len() as u64,
                accounts: accounts.len() as u64,
                reports: reports.len() as u64,
                representative: items[first as usize].id,
                pdq: members
                    .iter()
                    .find_map(|&i| pdq_of_item[i as usize])
                    .map(|p| pdq_list[p as usize].to_hex()),
                sha256: members
                    .iter()
                    .find_map(|i| sha_of.get(i))
                    .and_then(|k| match k {
                        ContentKey::Sha256(d) => Some(tiaki_types::hex::encode(d)),
                        ContentKey::Md5(_) | ContentKey::Sha1(_) => None,
                    }),
                members: members.iter().map(|&i| items[i as usize].id).collect(),
                matches: Vec::new(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (a.state, std::cmp::Reverse(a.media), a.representative).cmp(&(
            b.state,
            std::cmp::Reverse(b.media),
            b.representative,
        ))
    });
    Ok(out)
}

/// Fills the matches of known and near-known clusters (deduplicated by
/// entry, closest first).
pub async fn with_matches<S: IntakeStore>(
    store: &S,
    clusters: &mut [Cluster],
) -> Result<(), StoreError> {
    for c in clusters.iter_mut().filter(|c| c.state != ClusterState::New) {
        let mut rows: Vec<MatchRow> = store
            .matches_of(&c.members)
            .await?
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        rows.sort_by_key(|m| (m.distance, m.entry_id));
        let mut seen = HashSet::new();
        rows.retain(|m| seen.insert(m.entry_id));
        c.matches = rows;
    }
    Ok(())
}

/// A media item's match: the [`Hit`] as `tiaki lookup` prints it (list
/// name, entry id, kind, distance, dihedral variant) and the entry it hit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaMatch {
    #[serde(flatten)]
    pub hit: Hit,
    /// The entry as its list gave it (hashes, category, series, source
    /// id); `None` when it was deleted since the match.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub list_entry: Option<ListEntry>,
}

/// One media item: its metadata (never its file) and its matches.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MediaDetail {
    #[serde(flatten)]
    pub media: MediaInfo,
    /// Every stored match, closest first (then by entry id).
    pub matches: Vec<MediaMatch>,
}

/// The media item `id` (`media.id`, as clusters list their members) with
/// its matches; `None` when there is none.
pub async fn media<S: IntakeStore + ListStore>(
    store: &S,
    id: i64,
) -> Result<Option<MediaDetail>, StoreError> {
    let Some(media) = store.media(id).await? else {
        return Ok(None);
    };
    let mut rows: Vec<MatchRow> = store
        .matches_of(&[id])
        .await?
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    rows.sort_by_key(|m| (m.distance, m.entry_id));
    let mut matches = Vec::with_capacity(rows.len());
    if !rows.is_empty() {
        let names: FxHashMap<i64, String> = store
            .lists()
            .await?
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect();
        let ids: Vec<u64> = rows.iter().map(|m| m.entry_id).collect();
        let entries: FxHashMap<u64, ListEntry> = store
            .entries_by_ids(&ids)
            .await?
            .into_iter()
            .map(|e| (e.id, e.entry))
            .collect();
        for m in rows {
            let list = names
                .get(&m.list_id)
                .cloned()
                .unwrap_or_else(|| format!("list {}", m.list_id));
            let variant = m
                .variant
                .as_deref()
                .and_then(|v| v.parse::<Dihedral>().ok())
                .map(Dihedral::name);
            matches.push(MediaMatch {
                hit: Hit {
                    list,
                    entry: m.entry_id,
                    kind: m.kind,
                    distance: m.distance,
                    variant,
                    list_id: m.list_id,
                },
                // An entry hit twice (exact and PDQ) is shown with each.
                list_entry: entries.get(&m.entry_id).cloned(),
            });
        }
    }
    Ok(Some(MediaDetail { media, matches }))
}

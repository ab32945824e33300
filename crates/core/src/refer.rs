//! Refer: agencies, the issuer's key pair, per-country packages built from
//! the store, and the ledger each package enters (its state and the outcome
//! events agencies report).
//!
//! Packages themselves are `tiaki-referral`'s; this module gathers what goes
//! into them from the store and records what was built. Nothing here reads
//! the clock or prompts: times and the passphrase are passed in.
//!
//! **Referral ids** are derived from content: `R-<country>-<16 hex>`, the hex
//! being the start of the SHA-256 of the country and the (report id, account
//! id) pairs carried. Rebuilding the same accounts (`again`) therefore gives
//! the same referral, and with the same `created_at` the same plaintext tar;
//! the ledger records it as `rebuilt`, not as a second referral.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::Deserialize as _;
use sha2::{Digest, Sha256};
use tiaki_formats::model::HexDigest;
use tiaki_referral::{
    AgeIdentity, AgeRecipient, BuildOptions, Evidence, IssuerKeys, IssuerPublicKey, KeyError,
    MediaMatch, MediaStatus, PackageAccount, PackageContent, PackageMedia,
};
use tiaki_store::intake::{MatchRow, Triage};
use tiaki_store::referrals::{
    AccountMedia, AgencyChange, AttributedAccount, NewAgency, NewReferralEvent, ReferableAccount,
    ReferralEvent, ReferralRow, ReferralState, Uploaders,
};
use tiaki_store::{ListStore, MatchKind, ReferralStore, StoreError, StoredEntry, Timestamp};
use tiaki_types::attribution::Evidence as StoredEvidence;
use tiaki_types::hex;
use tiaki_types::model::Account;

use crate::Progress;
use crate::blobs::{BlobError, BlobStore};

mod spool;

use spool::SpoolWriter;

/// The issuer's public key file in the data directory.
pub const ISSUER_PUB: &str = "issuer.pub";
/// The issuer's secret key file (encrypted with the issuer passphrase).
pub const ISSUER_KEY: &str = "issuer.key";
/// The report of countries without an agency, in the output directory.
pub const NO_RECIPIENT: &str = "no-recipient.json";

/// Why a referral operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ReferError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("issuer key: {0}")]
    Key(#[from] KeyError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "the issuer key pair in {} is incomplete ({} is missing); restore it from a backup, or remove the other file to make a new pair",
        dir.display(), missing
    )]
    IncompleteKeys { dir: PathBuf, missing: &'static str },
    #[error("no issuer key in {}: run `tiaki keys issuer` to create one", .0.display())]
    NoKeys(PathBuf),
    #[error("agency of {country}: stored age recipient is unusable: {why}")]
    StoredAgency { country: String, why: String },
    #[error("country {country}: {source}")]
    Build {
        country: String,
        source: tiaki_referral::BuildError,
    },
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("a package build stopped: {0}")]
    Worker(String),
    #[error(transparent)]
    Agencies(#[from] tiaki_referral::AgencyError),
    #[error("line {line}: {message}")]
    Outcome { line: usize, message: String },
    #[error("line {line}: unknown referral id {id:?}; nothing was imported")]
    UnknownReferral { line: usize, id: String },
    #[error("no referral with id {0:?}")]
    NoSuchReferral(String),
    #[error(
        "account {account} of report {report_id}: its stored {field} is not readable ({error})"
    )]
    StoredAccount {
        report_id: String,
        account: String,
        field: &'static str,
        error: String,
    },
    #[error("issuer key passphrase: {0}")]
    Passphrase(String),
    /// A received package (or the identity to open it) that does not
    /// verify or open; the source says why and carries its own code.
    #[error("{}: {source}", path.display())]
    Verify {
        path: PathBuf,
        source: tiaki_referral::VerifyError,
    },
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: tiaki_referral::OpenError,
    },
    #[error("referral {id} is {from}; it cannot go back to {to}")]
    Backwards {
        id: String,
        from: &'static str,
        to: &'static str,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ReferError + '_ {
    move |source| ReferError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// Issuer keys

/// The issuer's public key file content, if the data directory has a pair.
pub fn issuer_public_key(dir: &Path) -> Result<Option<String>, ReferError> {
    let (public, secret) = (dir.join(ISSUER_PUB), dir.join(ISSUER_KEY));
    match (public.is_file(), secret.is_file()) {
        (true, true) => fs::read_to_string(&public)
            .map(Some)
            .map_err(io_at(&public)),
        (false, false) => Ok(None),
        (true, false) => Err(ReferError::IncompleteKeys {
            dir: dir.to_path_buf(),
            missing: ISSUER_KEY,
        }),
        (false, true) => Err(ReferError::IncompleteKeys {
            dir: dir.to_path_buf(),
            missing: ISSUER_PUB,
        }),
    }
}

/// Makes the issuer key pair (secret key encrypted with `passphrase`) and
/// returns the public key file content. The secret file is created mode
/// 0600 and never overwritten.
pub fn create_issuer_keys(dir: &Path, passphrase: &str) -> Result<String, ReferError> {
    fs::create_dir_all(dir).map_err(io_at(dir))?;
    let files = IssuerKeys::generate(passphrase)?;
    let secret = dir.join(ISSUER_KEY);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&secret).map_err(io_at(&secret))?;
    f.write_all(files.secret_key.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io_at(&secret))?;
    // The public file appears last: its presence means the pair is complete.
    let public = dir.join(ISSUER_PUB);
    let tmp = dir.join(".issuer.pub.tmp");
    fs::write(&tmp, &files.public_key).map_err(io_at(&tmp))?;
    fs::rename(&tmp, &public).map_err(io_at(&public))?;
    Ok(files.public_key)
}

/// Decrypts the data directory's issuer key pair.
pub fn load_issuer_keys(dir: &Path, passphrase: &str) -> Result<IssuerKeys, ReferError> {
    let Some(public) = issuer_public_key(dir)? else {
        return Err(ReferError::NoKeys(dir.to_path_buf()));
    };
    let path = dir.join(ISSUER_KEY);
    let secret = fs::read_to_string(&path).map_err(io_at(&path))?;
    Ok(IssuerKeys::load(&secret, &public, passphrase)?)
}

/// Where the issuer passphrase comes from: the command line reads the
/// environment or asks on a terminal, the service its configuration.
/// `creating`: the key pair is being made (a terminal asks twice).
pub type PassphraseSource<'a> = &'a mut dyn FnMut(bool) -> Result<String, String>;

/// The issuer's public key, the key pair made first when the data
/// directory has none (`created` then holds the files made and the
/// passphrase they were made with, so the caller does not ask twice).
#[derive(Debug)]
pub struct IssuerPublic {
    pub text: String,
    pub created: Option<CreatedKeys>,
}

/// A key pair just made.
pub struct CreatedKeys {
    pub public: PathBuf,
    pub secret: PathBuf,
    passphrase: String,
}

/// Without the passphrase: a debug print must never show it.
impl std::fmt::Debug for CreatedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKeys")
            .field("public", &self.public)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// [`issuer_public_key`], making the pair on first use.
pub fn ensure_issuer_public(
    dir: &Path,
    passphrase: PassphraseSource<'_>,
) -> Result<IssuerPublic, ReferError> {
    if let Some(text) = issuer_public_key(dir)? {
        return Ok(IssuerPublic {
            text,
            created: None,
        });
    }
    let p = passphrase(true).map_err(ReferError::Passphrase)?;
    let text = create_issuer_keys(dir, &p)?;
    Ok(IssuerPublic {
        text,
        created: Some(CreatedKeys {
            public: dir.join(ISSUER_PUB),
            secret: dir.join(ISSUER_KEY),
            passphrase: p,
        }),
    })
}

/// The issuer key pair, decrypted (made first when there is none). The
/// second value names the files when they were made now.
pub fn issuer_keys(
    dir: &Path,
    passphrase: PassphraseSource<'_>,
) -> Result<(IssuerKeys, Option<CreatedKeys>), ReferError> {
    let public = ensure_issuer_public(dir, passphrase)?;
    let p = match &public.created {
        Some(c) => c.passphrase.clone(),
        None => passphrase(false).map_err(ReferError::Passphrase)?,
    };
    Ok((load_issuer_keys(dir, &p)?, public.created))
}

/// The public key to check packages with: a key file given, else the data
/// directory's.
pub fn issuer_public_key_for(
    dir: &Path,
    key: Option<&Path>,
) -> Result<IssuerPublicKey, ReferError> {
    let text = match key {
        Some(path) => fs::read_to_string(path).map_err(io_at(path))?,
        None => issuer_public_key(dir)?.ok_or_else(|| ReferError::NoKeys(dir.to_path_buf()))?,
    };
    Ok(IssuerPublicKey::from_text(&text)?)
}

// ---------------------------------------------------------------------------
// Packages received: verify and open (what a receiving country runs)

/// A package whose signature holds (`tiaki referrals verify`). Fields in
/// name order: the JSON answer has always listed them so.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyAnswer {
    pub country: String,
    pub created_at: String,
    pub key_id: String,
    pub referral_id: String,
    pub tar_sha256: String,
    pub valid: bool,
}

/// Checks a package's signature.
pub fn verify_package(file: &Path, key: &IssuerPublicKey) -> Result<VerifyAnswer, ReferError> {
    let info = tiaki_referral::verify(file, key).map_err(|source| ReferError::Verify {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(VerifyAnswer {
        country: info.country,
        created_at: info.created_at,
        key_id: info.key_id,
        referral_id: info.referral_id,
        tar_sha256: info.tar_sha256,
        valid: true,
    })
}

/// A package opened and unpacked (`tiaki referrals open`). Fields in name
/// order, as the JSON answer has always listed them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenAnswer {
    pub accounts: u64,
    pub country: String,
    pub dir: PathBuf,
    /// The manifest's files and the manifest itself.
    pub files: usize,
    pub media: u64,
    pub persons: u64,
    pub referral_id: String,
}

/// Checks, decrypts and unpacks a package with the agency's age identity
/// (the text of an `age-keygen` file or an ssh key).
pub fn open_package(
    file: &Path,
    key: &IssuerPublicKey,
    identity: &Path,
    out: &Path,
) -> Result<OpenAnswer, ReferError> {
    let text = fs::read_to_string(identity).map_err(io_at(identity))?;
    let id = AgeIdentity::from_text(&text).map_err(|source| ReferError::Open {
        path: identity.to_path_buf(),
        source,
    })?;
    let opened = tiaki_referral::open(file, key, &id, out).map_err(|source| ReferError::Open {
        path: file.to_path_buf(),
        source,
    })?;
    Ok(OpenAnswer {
        accounts: opened.manifest.accounts,
        country: opened.info.country,
        dir: opened.dir,
        files: opened.manifest.files.len() + 1,
        media: opened.manifest.media,
        persons: opened.manifest.persons,
        referral_id: opened.info.referral_id,
    })
}

/// One referral with its events (`tiaki referrals show`, the service's
/// referral page).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferralDetail {
    #[serde(flatten)]
    pub referral: ReferralRow,
    pub events: Vec<tiaki_store::referrals::StoredReferralEvent>,
}

/// [`ReferralDetail`] of a referral id.
pub async fn referral_detail<S: ReferralStore>(
    store: &S,
    id: &str,
) -> Result<ReferralDetail, ReferError> {
    let referral = store
        .referral(id)
        .await?
        .ok_or_else(|| ReferError::NoSuchReferral(id.to_owned()))?;
    let events = store.referral_events(id).await?;
    Ok(ReferralDetail { referral, events })
}

// ---------------------------------------------------------------------------
// Agencies

/// Checks an agencies file (`tiaki-referral`'s rules) and upserts it.
pub async fn import_agencies<S: ReferralStore>(
    store: &S,
    text: &str,
    now: &Timestamp,
) -> Result<Vec<(String, AgencyChange)>, ReferError> {
    let parsed = tiaki_referral::parse_agencies(text)?;
    let rows: Vec<NewAgency> = parsed
        .into_iter()
        .map(|a| NewAgency {
            country: a.country,
            name: a.name,
            age_recipient: a.age_recipient,
            contact: a.contact,
        })
        .collect();
    let changes = store.import_agencies(&rows, now).await?;
    Ok(rows.into_iter().map(|r| r.country).zip(changes).collect())
}

// ---------------------------------------------------------------------------
// Building

/// What `referrals build` is asked.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub out: PathBuf,
    /// One country only.
    pub country: Option<String>,
    /// Copy media files into packages (`--include-media`) ...
    pub include_media: bool,
    /// ... only for these countries, when given (`--media-countries`).
    pub media_countries: Option<Vec<String>>,
    /// Refer accounts again that earlier referrals carried (`--again`).
    pub again: bool,
    /// RFC 3339 time written into the packages (injected: determinism).
    pub created_at: String,
    /// Who issues the referrals.
    pub issuer: String,
}

/// A country with attributed accounts but no agency to receive them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoRecipient {
    pub country: String,
    pub accounts: u64,
    pub unreferred: u64,
}

/// A country for which no package was built, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub country: String,
    pub reason: String,
}

/// What a build did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BuildReport {
    pub built: Vec<ReferralRow>,
    pub skipped: Vec<Skipped>,
    pub no_recipient: Vec<NoRecipient>,
    /// Where the no-recipient report was written.
    pub no_recipient_file: PathBuf,
}

/// Builds one package per country that has (unreferred, unless `again`)
/// attributed accounts and an agency, records each in the ledger, and writes
/// `out/no-recipient.json` listing the countries that have accounts but no
/// agency (empty list when there are none).
///
/// A pipeline: this task reads one country's records from the store while
/// up to [`build_workers`] blocking tasks turn earlier countries into
/// packages (JSON, tar, age, minisign: CPU work); each finished package is
/// recorded in the ledger in country order. At most that many countries
/// plus the one being read are held in memory.
///
/// Safe to kill at any moment, and to run again after: a package file
/// appears (renamed from a `.partial` name, then synced) before its ledger
/// row is committed, so no ledger row is without its file; a package whose
/// row was not committed is built again by the next run (same accounts,
/// same referral id, same file name) and replaces the file; `.partial`
/// files a killed run left are removed when the next build starts in that
/// country's folder. Progress: `routing` (the pass over the media), then
/// `building` (one step a recorded package).
pub async fn build_referrals<S>(
    store: &S,
    blobs: &Arc<BlobStore>,
    keys: &Arc<IssuerKeys>,
    req: &BuildRequest,
    now: &Timestamp,
    progress: &dyn Progress,
) -> Result<BuildReport, ReferError>
where
    S: ReferralStore + ListStore,
{
    let agencies: HashMap<String, _> = store
        .agencies()
        .await?
        .into_iter()
        .map(|a| (a.country.clone(), a))
        .collect();
    let mut report = BuildReport::default();
    let countries = store.attributed_countries().await?;
    if let Some(c) = &req.country
        && !countries.iter().any(|x| &x.country == c)
    {
        report.skipped.push(Skipped {
            country: c.clone(),
            reason: "no attributed accounts".into(),
        });
    }
    let list_names: Arc<HashMap<i64, String>> = Arc::new(
        store
            .lists()
            .await?
            .into_iter()
            .map(|l| (l.id, l.name))
            .collect(),
    );
    // Which accounts each country would refer: one small query for all.
    let mut referable: BTreeMap<String, Vec<ReferableAccount>> = BTreeMap::new();
    for r in store.referable_accounts(req.again).await? {
        referable.entry(r.country.clone()).or_default().push(r);
    }

    // The countries to build, in order.
    let mut plan: Vec<Planned> = Vec::new();
    for c in countries {
        if req.country.as_ref().is_some_and(|x| x != &c.country) {
            continue;
        }
        let Some(agency) = agencies.get(&c.country) else {
            report.no_recipient.push(NoRecipient {
                country: c.country,
                accounts: c.accounts,
                unreferred: c.unreferred,
            });
            continue;
        };
        let accounts = referable.remove(&c.country).unwrap_or_default();
        if accounts.is_empty() {
            report.skipped.push(Skipped {
                country: c.country,
                reason: format!(
                    "all {} attributed accounts were referred already (--again refers them again)",
                    c.accounts
                ),
            });
            continue;
        }
        plan.push(Planned {
            country: c.country,
            agency: agency.name.clone(),
            recipient: agency.age_recipient.clone(),
            accounts,
            entry_ids: BTreeSet::new(),
        });
    }
    for p in &plan {
        remove_partials(&req.out.join(&p.country))?;
    }
    // Every planned country's media, in one pass over the media table.
    progress.stage("routing", None);
    let spool_dir = tempfile::tempdir().map_err(io_at(&std::env::temp_dir()))?;
    let spools = route_media(store, &mut plan, spool_dir.path()).await?;
    progress.stage("building", Some(plan.len() as u64));

    let workers = build_workers();
    let mut running: VecDeque<tokio::task::JoinHandle<Result<BuiltCountry, ReferError>>> =
        VecDeque::new();
    let mut result = Ok(());
    for (p, spool) in plan.into_iter().zip(spools) {
        let recipient = match AgeRecipient::from_str(&p.recipient) {
            Ok(r) => r,
            Err(why) => {
                result = Err(ReferError::StoredAgency {
                    country: p.country.clone(),
                    why,
                });
                break;
            }
        };
        let job = match gather(store, &p).await {
            Ok((accounts, entries)) => BuildJob {
                include_media: req.include_media
                    && req
                        .media_countries
                        .as_ref()
                        .is_none_or(|l| l.contains(&p.country)),
                out: req.out.join(&p.country),
                country: p.country,
                agency: p.agency,
                recipient,
                accounts,
                spool,
                entries,
                list_names: Arc::clone(&list_names),
                blobs: Arc::clone(blobs),
                keys: Arc::clone(keys),
                issuer: req.issuer.clone(),
                created_at: req.created_at.clone(),
            },
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        running.push_back(tokio::task::spawn_blocking(move || job.run()));
        while running.len() >= workers {
            if let Err(e) = finish(store, &mut running, req, now, &mut report, progress).await {
                result = Err(e);
                break;
            }
        }
        if result.is_err() {
            break;
        }
    }
    // Every started build ends (and is recorded) before returning, even
    // after an error: no package is written behind the caller's back.
    while !running.is_empty() {
        let done = finish(store, &mut running, req, now, &mut report, progress).await;
        if result.is_ok() {
            result = done;
        }
    }
    result?;
    fs::create_dir_all(&req.out).map_err(io_at(&req.out))?;
    let path = req.out.join(NO_RECIPIENT);
    let doc = serde_json::json!({ "countries": report.no_recipient });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    // Whole or not at all, as the packages: a kill mid-write leaves the
    // previous file.
    let partial = req.out.join(format!(".{NO_RECIPIENT}.partial"));
    fs::write(&partial, text).map_err(io_at(&partial))?;
    fs::rename(&partial, &path).map_err(io_at(&path))?;
    report.no_recipient_file = path;
    Ok(report)
}

/// Removes the `.partial` files a killed build left in a country's folder
/// (`tiaki_referral::build_package` writes under those names and renames
/// at the end, so one found before a build starts belongs to no package).
fn remove_partials(dir: &Path) -> Result<(), ReferError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_at(dir)(e)),
    };
    for entry in entries {
        let path = entry.map_err(io_at(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("referral-") && name.ends_with(".partial") {
            fs::remove_file(&path).map_err(io_at(&path))?;
        }
    }
    Ok(())
}

/// How many packages are built at once: one per core (at least one).
fn build_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// A country to build: who receives it, the accounts it would refer and
/// the hash-list entries their media matched.
struct Planned {
    country: String,
    agency: String,
    recipient: String,
    accounts: Vec<ReferableAccount>,
    entry_ids: BTreeSet<u64>,
}

/// Media ids per store call: a page of this many media is a few MB of
/// JSON.
const MEDIA_PAGE: i64 = 20_000;

/// Reads the media table once, in id order, routing each item of a
/// planned country's accounts (and its matches) to that country's spool
/// file in `dir`. The spools' paths, in plan order.
async fn route_media<S: ReferralStore>(
    store: &S,
    plan: &mut [Planned],
    dir: &Path,
) -> Result<Vec<PathBuf>, ReferError> {
    let mut uploaders = Uploaders::default();
    let mut country_of: HashMap<i64, usize> = HashMap::new();
    let mut spools = Vec::with_capacity(plan.len());
    for (k, p) in plan.iter().enumerate() {
        for a in &p.accounts {
            uploaders.insert(a.intake_id, a.provider_id.clone(), a.account_id);
            country_of.insert(a.account_id, k);
        }
        let path = dir.join(format!("{k}.spool"));
        spools.push(SpoolWriter::create(path.clone()).map_err(io_at(&path))?);
    }
    let range = if plan.is_empty() {
        None
    } else {
        store.media_id_range().await?
    };
    if let Some((first, last)) = range {
        let mut after = first.saturating_sub(1);
        while after < last {
            let upto = after.saturating_add(MEDIA_PAGE).min(last);
            let page = store.uploaded_media(after, upto, &uploaders).await?;
            after = upto;
            let mut matches = page.matches.iter().peekable();
            for m in &page.media {
                let Some(&k) = country_of.get(&m.account_id) else {
                    continue;
                };
                let (Some(p), Some(spool)) = (plan.get_mut(k), spools.get_mut(k)) else {
                    continue;
                };
                let mut written = spool.media(m);
                while matches.next_if(|(id, _)| *id < m.id).is_some() {}
                while let Some((id, x)) = matches.next_if(|(id, _)| *id == m.id) {
                    p.entry_ids.insert(x.entry_id);
                    written = written.and_then(|()| spool.matched(*id, x));
                }
                written.map_err(|source| ReferError::Io {
                    path: spool.path().to_path_buf(),
                    source,
                })?;
            }
        }
    }
    spools
        .into_iter()
        .map(|s| {
            let path = s.path().to_path_buf();
            s.finish().map_err(io_at(&path))
        })
        .collect()
}

/// A country's accounts and the hash-list entries its media matched.
async fn gather<S: ReferralStore + ListStore>(
    store: &S,
    p: &Planned,
) -> Result<(Vec<AttributedAccount>, HashMap<u64, StoredEntry>), ReferError> {
    let ids: Vec<i64> = p.accounts.iter().map(|a| a.account_id).collect();
    let mut accounts = store.attributed_accounts(&ids).await?;
    // An account attributed elsewhere since `referable_accounts` is not
    // this country's to refer (its media are dropped when the package is
    // built).
    accounts.retain(|a| a.country == p.country);
    let entry_ids: Vec<u64> = p.entry_ids.iter().copied().collect();
    let entries = store
        .entries_by_ids(&entry_ids)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok((accounts, entries))
}

/// Waits for the oldest running build and records its package.
async fn finish<S: ReferralStore>(
    store: &S,
    running: &mut VecDeque<tokio::task::JoinHandle<Result<BuiltCountry, ReferError>>>,
    req: &BuildRequest,
    now: &Timestamp,
    report: &mut BuildReport,
    progress: &dyn Progress,
) -> Result<(), ReferError> {
    let Some(handle) = running.pop_front() else {
        return Ok(());
    };
    let done = handle
        .await
        .map_err(|e| ReferError::Worker(e.to_string()))??;
    let row = ReferralRow {
        id: done.referral_id.clone(),
        country: done.country.clone(),
        agency: done.agency.clone(),
        state: ReferralState::Built,
        accounts: done.built.manifest.accounts,
        persons: done.built.manifest.persons,
        media: done.built.manifest.media,
        created_at: req.created_at.clone(),
        updated_at: now.as_str().to_owned(),
        package: done.built.package.display().to_string(),
        tar_sha256: done.built.tar_sha256.clone(),
    };
    store.record_referral(&row, &done.account_ids, now).await?;
    progress.inc(1);
    report
        .built
        .push(store.referral(&row.id).await?.unwrap_or(row));
    Ok(())
}

/// Everything one blocking task needs to build a country's package.
struct BuildJob {
    country: String,
    agency: String,
    recipient: AgeRecipient,
    /// Sorted as [`ReferralStore::attributed_accounts`] gives them.
    accounts: Vec<AttributedAccount>,
    /// The spool file of the country's media (see [`spool`]).
    spool: PathBuf,
    entries: HashMap<u64, StoredEntry>,
    list_names: Arc<HashMap<i64, String>>,
    include_media: bool,
    blobs: Arc<BlobStore>,
    keys: Arc<IssuerKeys>,
    out: PathBuf,
    issuer: String,
    created_at: String,
}

/// What a package is built from: its accounts, their media by media id,
/// and those media's matches by media id.
struct Records {
    accounts: Vec<AttributedAccount>,
    media: Vec<AccountMedia>,
    matches: Vec<(i64, MatchRow)>,
}

/// A package built and synced, waiting to enter the ledger.
struct BuiltCountry {
    country: String,
    agency: String,
    referral_id: String,
    account_ids: Vec<i64>,
    built: tiaki_referral::BuiltPackage,
}

impl BuildJob {
    fn run(self) -> Result<BuiltCountry, ReferError> {
        let (mut media, matches) = spool::read_spool(&self.spool).map_err(io_at(&self.spool))?;
        // Media of an account dropped in `gather` go with it.
        let kept: HashSet<i64> = self.accounts.iter().map(|a| a.account_id).collect();
        media.retain(|m| kept.contains(&m.account_id));
        let records = &Records {
            accounts: self.accounts,
            media,
            matches,
        };
        let spool = tempfile::tempdir().map_err(io_at(&std::env::temp_dir()))?;
        let mut content = package_content(&self.list_names, &self.entries, records)?;
        content.referral_id = referral_id(&self.country, &records.accounts);
        content.country.clone_from(&self.country);
        content.agency_name.clone_from(&self.agency);
        content.issuer.clone_from(&self.issuer);
        content.created_at.clone_from(&self.created_at);
        if self.include_media {
            attach_files(&self.blobs, &records.media, &mut content, spool.path())?;
        }
        let opts = BuildOptions {
            include_media: self.include_media,
            ..BuildOptions::default()
        };
        let built =
            tiaki_referral::build_package(&content, &self.recipient, &self.keys, &self.out, &opts)
                .map_err(|source| ReferError::Build {
                    country: self.country.clone(),
                    source,
                })?;
        // The ledger points at the files: make them durable first.
        for p in [&built.package, &built.signature] {
            fs::File::open(p)
                .and_then(|f| f.sync_all())
                .map_err(io_at(p))?;
        }
        Ok(BuiltCountry {
            referral_id: content.referral_id,
            account_ids: records.accounts.iter().map(|a| a.account_id).collect(),
            country: self.country,
            agency: self.agency,
            built,
        })
    }
}

/// `R-<country>-<16 hex>` from the country and the accounts carried.
pub fn referral_id(country: &str, accounts: &[AttributedAccount]) -> String {
    let mut h = Sha256::new();
    h.update(b"tiaki-referral/1\n");
    h.update(country.as_bytes());
    let keys: BTreeSet<(&str, &str)> = accounts
        .iter()
        .map(|a| (a.report_id.as_str(), a.provider_id.as_str()))
        .collect();
    for (r, a) in keys {
        // Lengths first: no two different lists hash the same bytes.
        h.update(format!("\n{}:{r}{}:{a}", r.len(), a.len()).as_bytes());
    }
    let d = h.finalize();
    format!("R-{country}-{}", &hex::encode(&d)[..16])
}

/// Attribution evidence (`tiaki_types::attribution::Evidence`, as
/// `tiaki_core::attribute` stored it) as a package states it: where it came
/// from, how many sightings it groups and the proxy flag go into `detail`.
fn package_evidence(stored: &[StoredEvidence]) -> Vec<Evidence> {
    stored
        .iter()
        .map(|x| {
            let mut detail: Vec<String> = Vec::new();
            if !x.source.is_empty() {
                detail.push(x.source.clone());
            }
            if x.count > 1 {
                detail.push(format!("{} sightings", x.count));
            }
            if x.proxy {
                detail.push("possible proxy".into());
            }
            Evidence {
                kind: x.kind.as_str().to_owned(),
                value: x.value.clone(),
                country: x.country.map(|c| c.alpha2().to_owned()),
                weight: Some(x.weight),
                detail: (!detail.is_empty()).then(|| detail.join("; ")),
            }
        })
        .collect()
}

/// Accounts and media as a package says them (id, country, agency, issuer
/// and time are the caller's to fill in).
fn package_content(
    list_names: &HashMap<i64, String>,
    entries: &HashMap<u64, StoredEntry>,
    records: &Records,
) -> Result<PackageContent, ReferError> {
    let (accounts, media) = (&records.accounts, &records.media);
    let index: HashMap<i64, usize> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.account_id, i))
        .collect();
    let package_accounts = accounts
        .iter()
        .map(|a| {
            // Stored JSON is read through the types that wrote it: a stored
            // value of another shape is an error naming the account, never
            // an account referred without its identifiers or evidence.
            let stored = |field: &'static str, e: serde_json::Error| ReferError::StoredAccount {
                report_id: a.report_id.clone(),
                account: a.provider_id.clone(),
                field,
                error: e.to_string(),
            };
            let data = Account::deserialize(&a.data).map_err(|e| stored("data", e))?;
            let evidence = <Vec<StoredEvidence>>::deserialize(&a.evidence)
                .map_err(|e| stored("evidence", e))?;
            Ok(PackageAccount {
                report_id: a.report_id.clone(),
                id: a.provider_id.clone(),
                username: a.username.clone(),
                identifiers: data.identifiers(),
                person: a.person.clone(),
                country: a.country.clone(),
                confidence: a.confidence.clamp(0.0, 1.0),
                evidence: package_evidence(&evidence),
            })
        })
        .collect::<Result<Vec<_>, ReferError>>()?;
    // Matches come sorted by media id, like the media: one merge pass.
    let mut matches = records.matches.iter().peekable();
    let mut out_media = Vec::with_capacity(media.len());
    for m in media {
        let h = &m.hashes;
        let mut pm = PackageMedia {
            id: Some(m.provider_id.clone()),
            md5: h.md5.map(HexDigest),
            sha1: h.sha1.map(HexDigest),
            sha256: h.sha256.map(HexDigest),
            pdq: h.pdq,
            pdq_quality: h.pdq_quality,
            size: m.bytes,
            status: match m.triage {
                Some(Triage::Known) => MediaStatus::Known,
                Some(Triage::New) => MediaStatus::New,
                None => MediaStatus::Unmatched,
            },
            viewed_by_provider: m.viewed_by_provider,
            viewed_by_ncmec: m.data.as_ref().and_then(|d| d.viewed_by_ncmec),
            industry_classification: m
                .data
                .as_ref()
                .and_then(|d| d.industry_classification.as_deref())
                .map(str::to_owned),
            shared_with: m
                .data
                .as_ref()
                .map(|d| d.shared_with.to_vec())
                .unwrap_or_default(),
            accounts: index.get(&m.account_id).copied().into_iter().collect(),
            original_name: m.original_name.clone(),
            ..PackageMedia::default()
        };
        while matches.next_if(|(id, _)| *id < m.id).is_some() {}
        while let Some((_, x)) = matches.next_if(|(id, _)| *id == m.id) {
            let entry = entries.get(&x.entry_id);
            let e = entry.map(|e| &e.entry);
            if pm.category.is_none() {
                pm.category = e.and_then(|e| e.category.clone());
            }
            if pm.series.is_none() {
                pm.series = e.and_then(|e| e.series.clone());
            }
            // Which digest an exact match was on.
            let kind = match x.kind {
                MatchKind::Pdq => "pdq",
                MatchKind::Vpdq => "vpdq",
                MatchKind::Exact => match e {
                    Some(e) if e.md5.is_some() && e.md5.map(|d| d.0) == h.md5 => "md5",
                    Some(e) if e.sha1.is_some() && e.sha1.map(|d| d.0) == h.sha1 => "sha1",
                    _ => "sha256",
                },
            };
            pm.matches.push(MediaMatch {
                list: list_names
                    .get(&x.list_id)
                    .cloned()
                    .unwrap_or_else(|| format!("list {}", x.list_id)),
                entry: e
                    .and_then(|e| e.source_id.clone())
                    .unwrap_or_else(|| x.entry_id.to_string()),
                kind: kind.to_owned(),
                distance: matches!(x.kind, MatchKind::Pdq | MatchKind::Vpdq).then_some(x.distance),
            });
        }
        out_media.push(pm);
    }
    Ok(PackageContent {
        accounts: package_accounts,
        media: out_media,
        ..PackageContent::default()
    })
}

/// Decrypts the stored files of the package's media into `spool` and points
/// the media at them (one file per distinct content).
fn attach_files(
    blobs: &BlobStore,
    media: &[AccountMedia],
    content: &mut PackageContent,
    spool: &Path,
) -> Result<(), ReferError> {
    let mut written: HashMap<[u8; 32], PathBuf> = HashMap::new();
    for (m, pm) in media.iter().zip(content.media.iter_mut()) {
        let Some(sha) = m.hashes.sha256 else { continue };
        if !m.stored || !blobs.contains(&sha) {
            continue;
        }
        if let Some(p) = written.get(&sha) {
            pm.file = Some(p.clone());
            continue;
        }
        let path = spool.join(hex::encode(&sha));
        let bytes = blobs.read(&sha)?;
        fs::write(&path, bytes).map_err(io_at(&path))?;
        written.insert(sha, path.clone());
        pm.file = Some(path);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The ledger

/// Outcome events an agency may report, and the state each implies.
pub const OUTCOME_EVENTS: [(&str, Option<ReferralState>); 6] = [
    ("acknowledged", Some(ReferralState::Acknowledged)),
    ("investigation_opened", Some(ReferralState::Investigating)),
    // An arrest or a safeguarded child means an investigation is running.
    ("arrest", Some(ReferralState::Investigating)),
    ("children_safeguarded", Some(ReferralState::Investigating)),
    ("closed", Some(ReferralState::Closed)),
    ("note", None),
];

/// Events that carry a `count` (required, at least 1).
const COUNTED: [&str; 2] = ["arrest", "children_safeguarded"];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeLine {
    referral_id: String,
    at: String,
    event: String,
    #[serde(default)]
    count: Option<serde_json::Value>,
    #[serde(default)]
    note: Option<String>,
}

/// Parses and checks outcome NDJSON; every line is checked before anything
/// is returned. Lines are numbered from 1; blank lines are skipped.
pub fn parse_outcomes(text: &str) -> Result<Vec<(usize, NewReferralEvent)>, ReferError> {
    let mut out = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let n = i + 1;
        let err = |message: String| ReferError::Outcome { line: n, message };
        if line.trim().is_empty() {
            continue;
        }
        let o: OutcomeLine =
            serde_json::from_str(line).map_err(|e| err(format!("not an outcome event: {e}")))?;
        if o.referral_id.trim().is_empty() {
            return Err(err("referral_id is empty".into()));
        }
        if !tiaki_types::time::is_rfc3339(&o.at) {
            return Err(err(format!(
                "at {:?} is not an RFC 3339 time (e.g. 2021-03-01T00:00:00Z)",
                o.at
            )));
        }
        let Some(&(_, moves_to)) = OUTCOME_EVENTS.iter().find(|(e, _)| *e == o.event) else {
            let names: Vec<&str> = OUTCOME_EVENTS.iter().map(|(e, _)| *e).collect();
            return Err(err(format!(
                "unknown event {:?} (expected one of {})",
                o.event,
                names.join(", ")
            )));
        };
        let count = match (&o.count, COUNTED.contains(&o.event.as_str())) {
            (Some(v), true) => match v.as_u64() {
                Some(c) if c >= 1 => c,
                _ => {
                    return Err(err(format!(
                        "count {v} of {} is not a whole number of at least 1",
                        o.event
                    )));
                }
            },
            (None, true) => return Err(err(format!("event {} needs a count", o.event))),
            (Some(_), false) => {
                return Err(err(format!(
                    "event {} takes no count (only {} do)",
                    o.event,
                    COUNTED.join(" and ")
                )));
            }
            (None, false) => 0,
        };
        out.push((
            n,
            NewReferralEvent {
                event: ReferralEvent {
                    referral_id: o.referral_id,
                    at: o.at,
                    event: o.event,
                    count,
                    note: o.note.unwrap_or_default(),
                },
                moves_to,
            },
        ));
    }
    Ok(out)
}

/// What an outcomes import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutcomesImported {
    pub events: u64,
    pub added: u64,
    /// Already in the ledger (a file imported twice).
    pub duplicates: u64,
}

/// Imports outcome NDJSON: all lines valid and every referral known, or
/// nothing is imported. Re-importing the same events adds nothing.
pub async fn import_outcomes<S: ReferralStore>(
    store: &S,
    text: &str,
    now: &Timestamp,
    progress: &dyn Progress,
) -> Result<OutcomesImported, ReferError> {
    let events = parse_outcomes(text)?;
    progress.stage("checking", Some(events.len() as u64));
    let mut known: BTreeSet<&str> = BTreeSet::new();
    for (line, e) in &events {
        progress.inc(1);
        let id = e.event.referral_id.as_str();
        if known.contains(id) {
            continue;
        }
        if store.referral(id).await?.is_none() {
            return Err(ReferError::UnknownReferral {
                line: *line,
                id: id.to_owned(),
            });
        }
        known.insert(id);
    }
    let rows: Vec<NewReferralEvent> = events.into_iter().map(|(_, e)| e).collect();
    // One transaction: a kill leaves all of the file recorded or none.
    progress.stage("recording", None);
    let added = store.add_referral_events(&rows, now).await?;
    Ok(OutcomesImported {
        events: rows.len() as u64,
        added: added.added,
        duplicates: added.duplicates,
    })
}

/// Moves a referral forward (`referrals mark ID --state sent`), recording
/// the event `<state>` at `now`.
pub async fn mark_referral<S: ReferralStore>(
    store: &S,
    id: &str,
    state: ReferralState,
    note: Option<&str>,
    now: &Timestamp,
) -> Result<ReferralRow, ReferError> {
    let Some(current) = store.referral(id).await? else {
        return Err(ReferError::NoSuchReferral(id.to_owned()));
    };
    if state < current.state {
        return Err(ReferError::Backwards {
            id: id.to_owned(),
            from: current.state.name(),
            to: state.name(),
        });
    }
    let event = NewReferralEvent {
        event: ReferralEvent {
            referral_id: id.to_owned(),
            at: now.as_str().to_owned(),
            event: state.name().to_owned(),
            count: 0,
            note: note.unwrap_or_default().to_owned(),
        },
        moves_to: Some(state),
    };
    store.add_referral_events(&[event], now).await?;
    store
        .referral(id)
        .await?
        .ok_or_else(|| ReferError::NoSuchReferral(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_lines_are_checked() {
        let ok = "{\"referral_id\":\"R\",\"at\":\"2021-03-01T00:00:00Z\",\"event\":\"arrest\",\"count\":2}\n\n\
                  {\"referral_id\":\"R\",\"at\":\"2021-03-02T00:00:00Z\",\"event\":\"closed\",\"note\":\"done\"}\n";
        let v = parse_outcomes(ok).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].0, v[0].1.event.count), (1, 2));
        assert_eq!((v[1].0, v[1].1.moves_to), (3, Some(ReferralState::Closed)));
        for (bad, want) in [
            (
                "{\"referral_id\":\"R\",\"at\":\"2021-03-01T00:00:00Z\",\"event\":\"arrest\"}",
                "needs a count",
            ),
            (
                "{\"referral_id\":\"R\",\"at\":\"2021-03-01T00:00:00Z\",\"event\":\"arrest\",\"count\":-1}",
                "at least 1",
            ),
            (
                "{\"referral_id\":\"R\",\"at\":\"2021-03-01T00:00:00Z\",\"event\":\"closed\",\"count\":1}",
                "takes no count",
            ),
            (
                "{\"referral_id\":\"R\",\"at\":\"2021-03-01T00:00:00Z\",\"event\":\"party\"}",
                "unknown event",
            ),
            (
                "{\"referral_id\":\"R\",\"at\":\"yesterday\",\"event\":\"closed\"}",
                "RFC 3339",
            ),
            (
                "{\"referral_id\":\"R\",\"at\":\"2021-03-01T00:00:00Z\",\"event\":\"closed\",\"x\":1}",
                "unknown field",
            ),
        ] {
            let text = format!("{}\n{bad}\n", ok.lines().next().unwrap());
            let e = parse_outcomes(&text).unwrap_err().to_string();
            assert!(e.starts_with("line 2: ") && e.contains(want), "{e}");
        }
    }
}

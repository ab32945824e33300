//! Banks on both backends (`tiaki_testkit::stores`): created then found at
//! once, two processes on one database catching up, deletes, enablement,
//! and lookups against a linear scan after random adds and deletes.

use tiaki_hash::pdq::PdqHash;
use tiaki_store::Store;
use tiaki_testkit::{TestStore, stores};
use tiaki_types::rng::Rng;

use super::*;
use crate::known::{IndexLoad, Synced};

fn hash(rng: &mut Rng) -> PdqHash {
    PdqHash([
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64(),
    ])
}

/// `h` with its first `k` bits flipped (distance exactly `k`).
fn flip(h: PdqHash, k: u32) -> PdqHash {
    let mut w = h.0;
    for i in 0..k as usize {
        w[i / 64] ^= 1 << (i % 64);
    }
    PdqHash(w)
}

async fn open(s: &TestStore) -> Known<Store> {
    Known::open_in(s.data(), s.database()).await.unwrap()
}

fn named(name: &str) -> BankRequest {
    BankRequest {
        name: Some(name.into()),
        ..BankRequest::default()
    }
}

fn all() -> LookupOptions {
    LookupOptions::default()
}

fn now() -> Timestamp {
    Timestamp::from_unix(1_733_560_000)
}

fn ids(m: &BTreeMap<String, Vec<BankMatch>>, bank: &str) -> Vec<EntryId> {
    m.get(bank)
        .map(|v| v.iter().map(|m| m.bank_content_id).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn created_then_found_at_once() {
    for s in stores("banks_created_then_found") {
        let mut k = open(&s).await;
        let b = k.create_bank(&named("BANK_A"), &now()).await.unwrap();
        assert_eq!(b.matching_enabled_ratio, 1.0, "{}", s.name());
        assert!(
            k.lookup(&Signal::Pdq(PdqHash([7; 4])), &all())
                .await
                .unwrap()
                .is_empty()
        );

        let mut rng = Rng::with_stream(1, 0);
        let h = hash(&mut rng);
        let gen_before = k.store().generation().await.unwrap();
        let added = k
            .add_signals("BANK_A", &[Signal::Pdq(h)], Some("a note"))
            .await
            .unwrap();
        assert_eq!(added.signals.get("pdq"), Some(&h.to_hex()));
        // The store's generation moved with the insert, and the index with it.
        assert_eq!(k.store().generation().await.unwrap(), gen_before + 1);
        assert_eq!(k.generation(), gen_before + 1);
        assert_eq!(k.max_id(), added.id);

        let found = k.lookup(&Signal::Pdq(flip(h, 4)), &all()).await.unwrap();
        assert_eq!(ids(&found, "BANK_A"), vec![added.id], "{}", s.name());
        assert_eq!(found["BANK_A"][0].distance_text(), "4");
        assert!(
            k.lookup(&Signal::Pdq(flip(h, 32)), &all())
                .await
                .unwrap()
                .is_empty(),
            "32 is over HMA's threshold"
        );
        let raw = k.raw_lookup(&Signal::Pdq(h), None).await.unwrap();
        assert_eq!(
            raw,
            vec![BankMatch {
                bank_content_id: added.id,
                distance: Some(0)
            }]
        );

        // Exact signals.
        let md5 = Signal::parse("video_md5", " 0123456789ABCDEF0123456789abcdef\n").unwrap();
        let v = k.add_signals("BANK_A", &[md5], None).await.unwrap();
        assert_eq!(
            v.signals,
            BTreeMap::from([(
                "video_md5".to_string(),
                "0123456789abcdef0123456789abcdef".to_string()
            )])
        );
        let found = k.lookup(&md5, &all()).await.unwrap();
        assert_eq!(ids(&found, "BANK_A"), vec![v.id]);
        assert_eq!(found["BANK_A"][0].distance_text(), "-");
        // The same MD5 as an `md5` signal finds the entry too.
        let as_md5 = Signal::parse("md5", "0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            ids(&k.lookup(&as_md5, &all()).await.unwrap(), "BANK_A"),
            vec![v.id]
        );

        let c = k.content("BANK_A", added.id).await.unwrap();
        assert_eq!(
            (
                c.id,
                c.disable_until_ts,
                c.note.as_deref(),
                c.bank.name.as_str()
            ),
            (added.id, ENABLED, Some("a note"), "BANK_A")
        );
        let status = k.index_status(Some("pdq"), 5).unwrap();
        assert_eq!(
            status["pdq"],
            IndexStatus {
                present: true,
                built_to: 5,
                size: 1
            }
        );

        // A reopened store without a saved index catches up, no rebuild.
        drop(k);
        let k = open(&s).await;
        assert_eq!(k.index_load, IndexLoad::Loaded, "{}", s.name());
        let found = k.lookup(&Signal::Pdq(h), &all()).await.unwrap();
        assert_eq!(ids(&found, "BANK_A"), vec![added.id]);
    }
}

#[tokio::test]
async fn errors_have_hmas_statuses() {
    for s in stores("banks_errors") {
        let mut k = open(&s).await;
        let status = |e: BankError| e.error_code().http_status();
        for bad in ["bank_a", "1BANK", "", "BANK-A", "BANK A"] {
            let e = k.create_bank(&named(bad), &now()).await.unwrap_err();
            assert_eq!(status(e), 400, "{bad:?}");
        }
        k.create_bank(&named("_OK_1"), &now()).await.unwrap();
        let e = k.create_bank(&named("_OK_1"), &now()).await.unwrap_err();
        assert!(matches!(e, BankError::BankExists(_)));
        assert_eq!(status(e), 403);
        let e = k
            .create_bank(
                &BankRequest {
                    enabled_ratio: Some(1.5),
                    ..named("R")
                },
                &now(),
            )
            .await
            .unwrap_err();
        assert_eq!(status(e), 400);
        assert_eq!(status(k.bank("NOPE").await.unwrap_err()), 404);
        assert_eq!(
            status(k.update_bank("NOPE", &named("X")).await.unwrap_err()),
            404
        );
        assert_eq!(status(k.delete_bank("NOPE").await.unwrap_err()), 404);
        assert_eq!(status(k.content("_OK_1", 999).await.unwrap_err()), 404);
        assert_eq!(
            status(k.delete_content("_OK_1", 999).await.unwrap_err()),
            404
        );
        let e = k
            .add_signals("NOPE", &[Signal::Pdq(PdqHash([1; 4]))], None)
            .await;
        assert_eq!(status(e.unwrap_err()), 404);
        assert_eq!(
            status(k.add_signals("_OK_1", &[], None).await.unwrap_err()),
            400
        );
        for (t, v) in [
            ("pdq", "abc"),
            ("pdq", &"g".repeat(64)),
            ("sha1", "00"),
            ("md5", "0"),
        ] {
            assert_eq!(status(Signal::parse(t, v).unwrap_err()), 400, "{t} {v}");
        }
        assert_eq!(
            status(k.index_status(Some("photodna"), 0).unwrap_err()),
            400
        );
        let long = "x".repeat(256);
        let e = k
            .add_signals("_OK_1", &[Signal::Pdq(PdqHash([1; 4]))], Some(&long))
            .await;
        assert_eq!(status(e.unwrap_err()), 400);

        // A rename onto a taken name is 403; another bank's content is 404.
        k.create_bank(&named("OTHER"), &now()).await.unwrap();
        let e = k.update_bank("OTHER", &named("_OK_1")).await.unwrap_err();
        assert_eq!(status(e), 403);
        let a = k
            .add_signals("OTHER", &[Signal::Pdq(PdqHash([1; 4]))], None)
            .await
            .unwrap();
        assert_eq!(status(k.content("_OK_1", a.id).await.unwrap_err()), 404);
        let renamed = k.update_bank("OTHER", &named("RENAMED")).await.unwrap();
        assert_eq!(renamed.name, "RENAMED");
        assert_eq!(
            k.content("RENAMED", a.id).await.unwrap().bank.name,
            "RENAMED"
        );
        assert_eq!(
            k.banks()
                .await
                .unwrap()
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>(),
            ["RENAMED", "_OK_1"]
        );
    }
}

#[tokio::test]
async fn deleted_is_never_found_and_enablement_counts() {
    for s in stores("banks_delete_enable") {
        let mut k = open(&s).await;
        k.create_bank(&named("A"), &now()).await.unwrap();
        k.create_bank(&named("B"), &now()).await.unwrap();
        let mut rng = Rng::with_stream(2, 0);
        let h = hash(&mut rng);
        let a = k.add_signals("A", &[Signal::Pdq(h)], None).await.unwrap();
        let b = k
            .add_signals("B", &[Signal::Pdq(flip(h, 2))], None)
            .await
            .unwrap();
        let q = Signal::Pdq(h);
        let found = k.lookup(&q, &all()).await.unwrap();
        assert_eq!(
            (ids(&found, "A"), ids(&found, "B")),
            (vec![a.id], vec![b.id])
        );
        let only_b = LookupOptions {
            banks: Some(vec!["B".into()]),
            ..all()
        };
        assert_eq!(
            k.lookup(&q, &only_b)
                .await
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["B"]
        );

        // Disabled bank: not in lookup, still in raw lookup.
        let off = BankRequest {
            enabled: Some(false),
            ..BankRequest::default()
        };
        assert_eq!(
            k.update_bank("B", &off)
                .await
                .unwrap()
                .matching_enabled_ratio,
            0.0
        );
        assert!(!k.lookup(&q, &all()).await.unwrap().contains_key("B"));
        assert_eq!(k.raw_lookup(&q, None).await.unwrap().len(), 2);
        // `lists enable` (the list flag) brings it back at its ratio.
        k.set_enabled("B", true).await.unwrap();
        assert_eq!(k.bank("B").await.unwrap().matching_enabled_ratio, 1.0);

        // A ratio counts against the lookup's draw.
        let half = BankRequest {
            enabled_ratio: Some(0.5),
            ..BankRequest::default()
        };
        assert_eq!(
            k.update_bank("B", &half)
                .await
                .unwrap()
                .matching_enabled_ratio,
            0.5
        );
        let draw = |coinflip| LookupOptions { coinflip, ..all() };
        assert!(k.lookup(&q, &draw(0.4)).await.unwrap().contains_key("B"));
        assert!(!k.lookup(&q, &draw(0.6)).await.unwrap().contains_key("B"));
        assert!(k.lookup(&q, &draw(0.6)).await.unwrap().contains_key("A"));
        let zero = BankRequest {
            enabled_ratio: Some(0.0),
            ..BankRequest::default()
        };
        k.update_bank("B", &zero).await.unwrap();
        assert!(!k.lookup(&q, &draw(0.0)).await.unwrap().contains_key("B"));
        assert_eq!(coinflip_of_seed("content-1"), coinflip_of_seed("content-1"));
        assert!((0.0..1.0).contains(&random_coinflip()));

        // disable_until_ts, against the caller's time.
        let t = now().unix();
        let until = |ts| ContentUpdate {
            disable_until_ts: Some(ts),
            note: None,
        };
        let c = k
            .update_content("A", a.id, &until(t + 100), t)
            .await
            .unwrap();
        assert_eq!(c.disable_until_ts, t + 100);
        let at = |now| LookupOptions { now, ..all() };
        assert!(k.lookup(&q, &at(t)).await.unwrap().is_empty());
        assert_eq!(
            ids(&k.lookup(&q, &at(t + 100)).await.unwrap(), "A"),
            vec![a.id]
        );
        k.update_content("A", a.id, &until(DISABLED), t)
            .await
            .unwrap();
        assert!(k.lookup(&q, &at(i64::MAX)).await.unwrap().is_empty());
        assert_eq!(
            k.raw_lookup(&q, Some(&["A".to_string()]))
                .await
                .unwrap()
                .len(),
            1
        );
        let e = k
            .update_content("A", a.id, &until(-1), t)
            .await
            .unwrap_err();
        assert_eq!(e.error_code().http_status(), 400);
        let e = k
            .update_content("A", a.id, &until(t + MAX_DISABLE_SECONDS + 1), t)
            .await
            .unwrap_err();
        assert_eq!(e.error_code().http_status(), 400);
        let noted = ContentUpdate {
            disable_until_ts: Some(ENABLED),
            note: Some(Some("n".into())),
        };
        let c = k.update_content("A", a.id, &noted, t).await.unwrap();
        assert_eq!(
            (c.disable_until_ts, c.note.as_deref()),
            (ENABLED, Some("n"))
        );

        // Deleted: gone at once from the index and from answers.
        assert_eq!(k.delete_content("A", a.id).await.unwrap(), 1);
        assert!(
            k.raw_lookup(&q, Some(&["A".to_string()]))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(k.index().pdq.len(), 1);
        assert_eq!(k.delete_bank("B").await.unwrap(), 1);
        assert!(k.raw_lookup(&q, None).await.unwrap().is_empty());
        assert_eq!(k.index().pdq.len(), 0);
        assert!(matches!(k.bank("B").await, Err(BankError::NoSuchBank(_))));
        // Ids are never reused: a new content gets a new id.
        let c = k.add_signals("A", &[Signal::Pdq(h)], None).await.unwrap();
        assert!(c.id > b.id, "{} after {}", c.id, b.id);
    }
}

/// Two `Known`s on one database (PostgreSQL: two data directories, as two
/// `tiaki serve` processes; SQLite: one directory, two handles).
async fn pair(s: &TestStore) -> (Known<Store>, Known<Store>, tempfile::TempDir) {
    let other = tempfile::tempdir().unwrap();
    let dir2 = if s.database().is_some() {
        other.path()
    } else {
        s.data()
    };
    let k1 = open(s).await;
    let k2 = Known::open_in(dir2, s.database()).await.unwrap();
    (k1, k2, other)
}

#[tokio::test]
async fn another_process_catches_up_incrementally() {
    for s in stores("banks_two_processes") {
        let (mut k1, mut k2, _keep) = pair(&s).await;
        k1.create_bank(&named("SHARED"), &now()).await.unwrap();
        let mut rng = Rng::with_stream(3, 0);
        let h = hash(&mut rng);
        let a = k1
            .add_signals("SHARED", &[Signal::Pdq(h)], None)
            .await
            .unwrap();
        let q = Signal::Pdq(h);
        assert!(
            k2.lookup(&q, &all()).await.unwrap().is_empty(),
            "not synced yet"
        );
        let synced = k2.sync().await.unwrap();
        assert_eq!((synced.added, synced.rebuilt), (1, false), "{}", s.name());
        assert_eq!(
            ids(&k2.lookup(&q, &all()).await.unwrap(), "SHARED"),
            vec![a.id]
        );
        assert_eq!(k2.sync().await.unwrap(), Synced::default(), "nothing moved");

        // An add on the second is found by the first after its sync.
        let h2 = hash(&mut rng);
        let b = k2
            .add_signals("SHARED", &[Signal::Pdq(h2)], None)
            .await
            .unwrap();
        k1.sync().await.unwrap();
        assert_eq!(
            ids(
                &k1.lookup(&Signal::Pdq(h2), &all()).await.unwrap(),
                "SHARED"
            ),
            vec![b.id]
        );

        // A delete on the first is never reported by the second, even before
        // its sync (hits are read back), and leaves its index after it.
        k1.delete_content("SHARED", a.id).await.unwrap();
        assert!(k2.lookup(&q, &all()).await.unwrap().is_empty());
        assert!(k2.raw_lookup(&q, None).await.unwrap().is_empty());
        assert_eq!(k2.index().pdq.len(), 2);
        let synced = k2.sync().await.unwrap();
        assert_eq!((synced.removed, synced.added), (1, 0));
        assert_eq!(k2.index().pdq.len(), 1);

        // An add on k2 while k1 is behind: k1's own add catches up first.
        let h3 = hash(&mut rng);
        let c = k2
            .add_signals("SHARED", &[Signal::Pdq(h3)], None)
            .await
            .unwrap();
        let h4 = hash(&mut rng);
        let d = k1
            .add_signals("SHARED", &[Signal::Pdq(h4)], None)
            .await
            .unwrap();
        for h in [h3, h4] {
            let got = ids(&k1.lookup(&Signal::Pdq(h), &all()).await.unwrap(), "SHARED");
            assert_eq!(got.len(), 1);
        }
        assert_eq!(k1.index().pdq.len(), 3, "{}", s.name());
        assert!(d.id > c.id);
        assert_eq!(k1.generation(), k1.store().generation().await.unwrap());
    }
}

/// After random adds and deletes on two handles, every lookup of either
/// (the second synced) equals a linear scan of what is stored.
#[tokio::test]
async fn lookups_equal_a_linear_scan() {
    for s in stores("banks_linear_scan") {
        for seed in 0..3u64 {
            let (mut k1, mut k2, _keep) = pair(&s).await;
            // The store keeps the earlier seeds' banks: counted apart.
            let before = k1.index().pdq.len();
            let banks = [format!("S{seed}_A"), format!("S{seed}_B")];
            for b in &banks {
                k1.create_bank(&named(b), &now()).await.unwrap();
            }
            let mut rng = Rng::with_stream(seed, 7);
            // (id, bank, hash) alive.
            let mut model: Vec<(EntryId, usize, PdqHash)> = Vec::new();
            let mut bases: Vec<PdqHash> = (0..4).map(|_| hash(&mut rng)).collect();
            for step in 0..60 {
                let k = if rng.chance(50) { &mut k1 } else { &mut k2 };
                if !model.is_empty() && rng.chance(30) {
                    let (id, bank, _) = model.swap_remove(rng.below(model.len()));
                    k.delete_content(&banks[bank], id).await.unwrap();
                } else {
                    // Near-duplicates of a few bases, so radius matters.
                    let base = bases[rng.below(bases.len())];
                    let h = flip(base, rng.below(40) as u32);
                    let h = if rng.chance(20) { hash(&mut rng) } else { h };
                    if rng.chance(10) {
                        bases.push(h);
                    }
                    let bank = rng.below(2);
                    let a = k
                        .add_signals(&banks[bank], &[Signal::Pdq(h)], None)
                        .await
                        .unwrap();
                    model.push((a.id, bank, h));
                }
                if step % 7 == 0 {
                    k1.sync().await.unwrap();
                    k2.sync().await.unwrap();
                }
            }
            k1.sync().await.unwrap();
            k2.sync().await.unwrap();
            assert_eq!(k1.index().pdq.len(), before + model.len());
            assert_eq!(k2.index().pdq.len(), before + model.len());
            let these = LookupOptions {
                banks: Some(banks.to_vec()),
                ..all()
            };
            let mut queries: Vec<PdqHash> = Vec::new();
            for b in &bases {
                queries.push(flip(*b, rng.below(20) as u32));
            }
            for _ in 0..3 {
                queries.push(hash(&mut rng));
            }
            for q in queries {
                let mut want: BTreeMap<String, Vec<BankMatch>> = BTreeMap::new();
                let mut sorted = model.clone();
                sorted.sort_by_key(|m| m.0);
                for (id, bank, h) in sorted {
                    let d = h.distance(&q);
                    if d <= PDQ_THRESHOLD {
                        want.entry(banks[bank].clone())
                            .or_default()
                            .push(BankMatch {
                                bank_content_id: id,
                                distance: Some(d),
                            });
                    }
                }
                for k in [&k1, &k2] {
                    let got = k.lookup(&Signal::Pdq(q), &these).await.unwrap();
                    assert_eq!(got, want, "{} seed {seed}", s.name());
                    let raw = k.raw_lookup(&Signal::Pdq(q), Some(&banks)).await.unwrap();
                    assert_eq!(raw.len(), want.values().map(Vec::len).sum::<usize>());
                }
            }
        }
    }
}

#[tokio::test]
async fn an_uploaded_picture_is_hashed_banked_and_found() {
    for s in stores("banks_upload") {
        let mut k = open(&s).await;
        k.create_bank(&named("PICS"), &now()).await.unwrap();
        let png = tiaki_testkit::picture_png(7, 320, 240);
        let rec = hash_upload(&png, &HashOptions::default()).unwrap();
        let hashes = hma_hashes(&rec).unwrap();
        let pdq = rec.pdq.unwrap();
        assert_eq!(hashes, BTreeMap::from([("pdq".to_string(), pdq.to_hex())]));
        let added = k.add_upload("PICS", &rec, Some("generated")).await.unwrap();
        assert_eq!(added.signals, hashes, "{}", s.name());
        let found = k.lookup(&Signal::Pdq(pdq), &all()).await.unwrap();
        assert_eq!(ids(&found, "PICS"), vec![added.id]);
        // Its digests are kept too: Tiaki's exact lookups find it.
        let sha = Signal::parse("sha256", rec.sha256.as_deref().unwrap()).unwrap();
        assert_eq!(
            ids(&k.lookup(&sha, &all()).await.unwrap(), "PICS"),
            vec![added.id]
        );
        // Not media: a 400 before anything is stored.
        let rec = hash_upload(b"just some text", &HashOptions::default()).unwrap();
        let e = k.add_upload("PICS", &rec, None).await.unwrap_err();
        assert_eq!(e.error_code().http_status(), 400);
        let e = k.add_upload("NOPE", &rec, None).await.unwrap_err();
        assert_eq!(e.error_code().http_status(), 404);
    }
}

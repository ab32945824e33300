//! The paged bulk reads (SQLite: one JSON text per page, see
//! `src/json_page.rs`; PostgreSQL: plain rows) on both backends: every row once, in id order, across page boundaries,
//! with text that needs escaping and every optional column absent or present.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::intake;

use tiaki_hash::pdq::PdqHash;
use tiaki_hash::vpdq::VpdqFeature;
use tiaki_store::intake::{AccountRow, Begun, HashState, MediaHashes, MediaRow, Triage};
use tiaki_store::persons::{AccountSource, Uploaders};
use tiaki_store::{IntakeStore, LinkStore, Store, Timestamp};

fn account(provider_id: &str, country: Option<&str>) -> AccountRow {
    AccountRow {
        provider_id: provider_id.into(),
        line: 1,
        username: None,
        declared_country: country.map(str::to_string),
        data: format!(
            r#"{{"id":"{}","note":"a \"quoted\" \\ é"}}"#,
            provider_id.escape_default()
        ),
    }
}

fn media(provider_id: &str, account: &str, hashes: MediaHashes, ip: Option<&str>) -> MediaRow {
    MediaRow {
        provider_id: provider_id.into(),
        line: 1,
        account: account.into(),
        file: None,
        original_name: None,
        uploaded_at: ip.map(|_| "2026-01-02T03:04:05Z".to_string()),
        upload_ip: ip.map(str::to_string),
        viewed_by_provider: None,
        hashes,
        hash_state: HashState::Provided,
        triage: None,
        matches: Vec::new(),
        data: "{}".into(),
    }
}

fn full_hashes(n: u8) -> MediaHashes {
    let mut pdq = [0u8; 32];
    pdq[0] = n;
    pdq[31] = 0xab;
    MediaHashes {
        md5: Some([n; 16]),
        sha1: Some([n.wrapping_add(1); 20]),
        sha256: Some([n.wrapping_add(2); 32]),
        pdq: Some(PdqHash::from_bytes(&pdq)),
        pdq_quality: Some(90),
        vpdq: None,
    }
}

async fn check(store: &Store) {
    let now = Timestamp::from_unix(1_700_000_000);
    let Begun::New(one) = store.begin_intake(&intake("r1"), &now).await.unwrap() else {
        panic!("new intake")
    };
    let Begun::New(two) = store.begin_intake(&intake("r2"), &now).await.unwrap() else {
        panic!("new intake")
    };
    let odd = "acc \"q\" \\ ✓";
    store
        .insert_accounts(
            one.id,
            &[account("a1", Some("NZ")), account(odd, None)],
            &[],
        )
        .await
        .unwrap();
    store
        .insert_accounts(two.id, &[account("b1", None)], &[])
        .await
        .unwrap();
    let mut vpdq_hashes = MediaHashes {
        md5: Some([7; 16]),
        ..MediaHashes::default()
    };
    vpdq_hashes.vpdq = Some(vec![VpdqFeature {
        frame: 3,
        timestamp: 0.1,
        quality: 80,
        hash: PdqHash::from_bytes(&[5; 32]),
    }]);
    let rows_one = vec![
        media("m1", "a1", full_hashes(1), Some("192.0.2.1")),
        media("m2 \"x\"", odd, MediaHashes::default(), None),
        media("m3", "ghost", full_hashes(3), Some("192.0.2.3")),
        media("m4", odd, vpdq_hashes.clone(), Some("192.0.2.4")),
        media("m5", "a1", full_hashes(5), None),
    ];
    store.insert_media(one.id, &rows_one, &[]).await.unwrap();
    store
        .insert_media(two.id, &[media("m6", "b1", full_hashes(6), None)], &[])
        .await
        .unwrap();

    // media_hashes_page, two at a time, all intakes.
    let mut got = Vec::new();
    let mut after = 0;
    loop {
        let page = store.media_hashes_page(None, after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = last.id;
        got.extend(page);
    }
    assert_eq!(got.len(), 6);
    assert!(got.windows(2).all(|w| w[0].id < w[1].id));
    let pids: Vec<&str> = got.iter().map(|m| m.provider_id.as_str()).collect();
    assert_eq!(pids, ["m1", "m2 \"x\"", "m3", "m4", "m5", "m6"]);
    assert_eq!(got[0].hashes, full_hashes(1));
    assert_eq!(got[0].account, "a1");
    assert_eq!(got[0].intake_id, one.id);
    assert_eq!(got[1].hashes, MediaHashes::default());
    assert_eq!(got[1].account, odd);
    assert_eq!(got[3].hashes, vpdq_hashes);
    assert_eq!(got[5].intake_id, two.id);
    assert!(got.iter().all(|m| m.triage.is_none()));

    // One intake only.
    let page = store.media_hashes_page(Some(two.id), 0, 10).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].provider_id, "m6");

    // Triage is read back once set.
    let known_id = got[4].id;
    store
        .add_matches(&[(
            known_id,
            tiaki_store::intake::MatchRow {
                entry_id: 1,
                list_id: 1,
                kind: tiaki_store::MatchKind::Exact,
                distance: 0,
                variant: None,
            },
        )])
        .await
        .unwrap();
    let page = store
        .media_hashes_page(None, known_id - 1, 1)
        .await
        .unwrap();
    assert_eq!(page[0].id, known_id);
    assert_eq!(page[0].triage, Some(Triage::Known));

    // upload_sources_page: media with an address or a SHA-256 whose
    // uploader is asked for (not m2: neither; not m3: no account line, so
    // not among the uploaders); read after the accounts, as attribution does.
    let mut uploaders = Uploaders::default();
    for a in &accounts_read(store).await {
        uploaders.insert(a.intake_id, a.provider_id.clone(), a.id);
    }
    let mut ups = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .upload_sources_page(after, 2, &uploaders)
            .await
            .unwrap();
        let Some(last) = page.last else { break };
        assert!(last > after);
        after = last;
        ups.extend(page.uploads);
    }
    let ids: Vec<i64> = ups.iter().map(|u| u.media_id).collect();
    assert_eq!(ids, [got[0].id, got[3].id, got[4].id, got[5].id]);
    assert_eq!(ups[0].upload_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(ups[0].uploaded_at.as_deref(), Some("2026-01-02T03:04:05Z"));
    assert_eq!(ups[0].sha256, Some([3; 32]));
    assert_eq!(ups[1].sha256, None);
    assert_eq!(ups[2].upload_ip, None);

    // account_sources_page, one at a time.
    let accs = accounts_read(store).await;
    let names: Vec<&str> = accs.iter().map(|a| a.provider_id.as_str()).collect();
    assert_eq!(names, ["a1", odd, "b1"]);
    assert_eq!(accs[0].declared_country.as_deref(), Some("NZ"));
    assert_eq!(accs[1].declared_country, None);
    assert_eq!(accs[1].data, account(odd, None).data);
    assert_eq!(ups[0].account_id, accs[0].id);
    assert_eq!(ups[1].account_id, accs[1].id);
    assert_eq!(ups[3].account_id, accs[2].id);
}

/// Every account, through `account_sources_page` one at a time.
async fn accounts_read<S: LinkStore>(store: &S) -> Vec<AccountSource> {
    let mut accs = Vec::new();
    let mut after = 0;
    loop {
        let page = store.account_sources_page(after, 1).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        accs.extend(page);
    }
    accs
}

#[tokio::test]
async fn pages_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), None).await.unwrap();
    check(&store).await;
}

#[tokio::test]
async fn pages_on_postgres() {
    let Some(pg) = tiaki_testkit::fresh_postgres("store_pages") else {
        return;
    };
    let url = pg.url().to_owned();
    {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Some(&url)).await.unwrap();
        assert_eq!(store.backend_name(), "postgres");
        check(&store).await;
    }
    // Dropping `pg` drops the database (kept if the test failed).
    drop(pg);
}

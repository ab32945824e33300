//! What the service shows one at a time, on both backends: a media item
//! with its uploader and the accounts it was shared with (the media line's
//! `shared_with` and the report's share events), and accounts with their
//! person, attribution and links, filtered and paged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::intake;

use tiaki_hash::pdq::PdqHash;
use tiaki_store::intake::{AccountRow, Begun, EventRow, HashState, MediaHashes, MediaRow};
use tiaki_store::persons::{AccountFilter, AttributionRow, LinkResult, LinkRow, PersonRow};
use tiaki_store::{IntakeStore, LinkStore, Store, Timestamp};

fn account(provider_id: &str) -> AccountRow {
    AccountRow {
        provider_id: provider_id.into(),
        line: 1,
        username: Some(format!("user {provider_id}")),
        declared_country: None,
        data: format!(r#"{{"id":"{provider_id}","emails":["{provider_id}@example.org"]}}"#),
    }
}

fn media(provider_id: &str, uploader: &str, data: &str) -> MediaRow {
    MediaRow {
        provider_id: provider_id.into(),
        line: 2,
        account: uploader.into(),
        file: None,
        original_name: Some("holiday.jpg".into()),
        uploaded_at: Some("2026-01-02T03:04:05Z".into()),
        upload_ip: Some("192.0.2.1".into()),
        viewed_by_provider: Some(false),
        hashes: MediaHashes {
            md5: Some([1; 16]),
            sha256: Some([2; 32]),
            pdq: Some(PdqHash::from_bytes(&[3; 32])),
            pdq_quality: Some(90),
            ..MediaHashes::default()
        },
        hash_state: HashState::Provided,
        triage: None,
        matches: Vec::new(),
        data: data.into(),
    }
}

fn attribution(account_id: i64, person_id: Option<i64>, country: Option<&str>) -> AttributionRow {
    AttributionRow {
        account_id,
        person_id,
        country: country.map(str::to_owned),
        confidence: if country.is_some() { 0.8 } else { 0.0 },
        runner_up: None,
        runner_up_share: None,
        evidence: "[]".into(),
        shares: "[]".into(),
        findings: "[]".into(),
    }
}

async fn check(store: &Store) {
    let now = Timestamp::from_unix(1_700_000_000);
    let Begun::New(one) = store.begin_intake(&intake("r1"), &now).await.unwrap() else {
        panic!("new intake")
    };
    store
        .insert_accounts(one.id, &[account("a1"), account("a2"), account("a3")], &[])
        .await
        .unwrap();
    store
        .insert_media(
            one.id,
            &[
                media("m1", "a1", r#"{"shared_with":["a2","nobody"]}"#),
                media("m2", "ghost", "{}"),
            ],
            &[],
        )
        .await
        .unwrap();
    let share = |line: u64, media: &str| EventRow {
        line,
        kind: "share".into(),
        at: None,
        data: format!(r#"{{"type":"share","from":"a3","to":["a2","a1"],"media":"{media}"}}"#),
    };
    store
        .insert_events(one.id, &[share(1, "m1"), share(2, "m2-other")], &[])
        .await
        .unwrap();

    // Media: ids as the pages give them.
    let page = store.media_hashes_page(None, 0, 10).await.unwrap();
    let (m1, m2) = (page[0].id, page[1].id);
    let m = store.media(m1).await.unwrap().unwrap();
    assert_eq!((m.intake_id, m.report_id.as_str(), m.provider_id.as_str()), (one.id, "r1", "m1"));
    assert_eq!(m.hashes, page[0].hashes);
    assert_eq!(m.hash_state, HashState::Provided);
    assert_eq!(m.uploader.as_ref().unwrap().provider_id, "a1");
    let ids = |v: &[tiaki_store::persons::AccountRef]| -> Vec<String> {
        v.iter().map(|a| a.provider_id.clone()).collect()
    };
    // The line's `shared_with` and the event's recipients, once each;
    // `nobody` has no account line.
    assert_eq!(ids(&m.shared_with), ["a1", "a2"]);
    assert_eq!(ids(&m.shared_by), ["a3"]);
    assert_eq!(m.data.shared_with.to_vec(), ["a2", "nobody"]);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["hashes"]["md5"], "01".repeat(16));
    assert_eq!(json["hashes"]["sha1"], serde_json::Value::Null);
    assert_eq!(json["hashes"]["pdq"], "03".repeat(32));
    let ghost = store.media(m2).await.unwrap().unwrap();
    assert!(ghost.uploader.is_none() && ghost.shared_with.is_empty() && ghost.shared_by.is_empty());
    assert!(store.media(m2 + 100).await.unwrap().is_none());

    // Accounts before any attribution: no person, no attribution.
    let all = store.accounts(&AccountFilter::default(), 0, 10).await.unwrap();
    assert_eq!(all.total, 3);
    assert!(all.accounts.iter().all(|a| a.person.is_none() && a.attribution.is_none()));
    let [a1, a2, a3] = [0, 1, 2].map(|i| all.accounts[i].account.account_id);

    // One person of a1 and a2 in NZ; a3 alone, weakly linked to a2.
    let result = LinkResult {
        persons: vec![PersonRow {
            id: 1,
            label: format!("P-{a1}"),
            country: Some("NZ".into()),
            confidence: 0.8,
            runner_up: None,
            runner_up_share: None,
            evidence: "[]".into(),
            shares: "[]".into(),
            accounts: 2,
        }],
        attributions: vec![
            attribution(a1, Some(1), Some("NZ")),
            attribution(a2, Some(1), Some("NZ")),
            attribution(a3, None, None),
        ],
        links: vec![
            LinkRow { id: 1, a: a1, b: a2, kind: "email".into(), evidence: "x@example.org".into(), weight: 0.9, pair_weight: 0.9 },
            LinkRow { id: 2, a: a2, b: a3, kind: "ip_time".into(), evidence: "192.0.2.1".into(), weight: 0.2, pair_weight: 0.2 },
        ],
    };
    store.replace_links(&result, &now).await.unwrap();
    let label = format!("P-{a1}");
    let of = |f: AccountFilter, offset: u64, limit: u32| async move {
        let p = store.accounts(&f, offset, limit).await.unwrap();
        let ids: Vec<i64> = p.accounts.iter().map(|a| a.account.account_id).collect();
        (p.total, ids)
    };
    assert_eq!(of(AccountFilter::default(), 1, 1).await, (3, vec![a2]));
    let person = |p: &str| AccountFilter { person: Some(p.into()), ..AccountFilter::default() };
    assert_eq!(of(person(&label), 0, 10).await, (2, vec![a1, a2]));
    assert_eq!(of(person("1"), 0, 10).await, (2, vec![a1, a2]));
    assert_eq!(of(person("P-none"), 0, 10).await, (0, vec![]));
    let nz = AccountFilter { country: Some("NZ".into()), ..AccountFilter::default() };
    assert_eq!(of(nz, 0, 10).await, (2, vec![a1, a2]));
    let other = AccountFilter { intake: Some(one.id + 1), ..AccountFilter::default() };
    assert_eq!(of(other, 0, 10).await, (0, vec![]));
    let first = store.accounts(&AccountFilter::default(), 0, 1).await.unwrap();
    let info = &first.accounts[0];
    assert_eq!(info.person.as_deref(), Some(label.as_str()));
    assert_eq!(info.attribution.as_ref().unwrap().country.as_deref(), Some("NZ"));

    // One account: its data, its person, its links with the other end's person.
    let d = store.account(a2).await.unwrap().unwrap();
    assert_eq!(d.data.id, "a2");
    assert_eq!(d.data.emails, ["a2@example.org"]);
    assert_eq!(d.info.person.as_deref(), Some(label.as_str()));
    let links: Vec<(i64, Option<&str>)> =
        d.links.iter().map(|l| (l.id, l.other_person.as_deref())).collect();
    assert_eq!(links, [(1, None), (2, None)]);
    let d = store.account(a3).await.unwrap().unwrap();
    assert!(d.info.person.is_none());
    assert_eq!(d.info.attribution.as_ref().unwrap().country, None);
    let links: Vec<(i64, Option<&str>)> =
        d.links.iter().map(|l| (l.id, l.other_person.as_deref())).collect();
    assert_eq!(links, [(2, Some(label.as_str()))]);
    assert!(store.account(a3 + 100).await.unwrap().is_none());
    // The person's own view is unchanged by the shared link reader.
    let p = store.person(&label).await.unwrap().unwrap();
    let links: Vec<(i64, Option<&str>)> =
        p.links.iter().map(|l| (l.id, l.other_person.as_deref())).collect();
    assert_eq!(links, [(1, None), (2, None)]);
}

#[tokio::test]
async fn views_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), None).await.unwrap();
    check(&store).await;
}

#[tokio::test]
async fn views_on_postgres() {
    let Some(pg) = tiaki_testkit::fresh_postgres("store_views") else {
        return;
    };
    let url = pg.url().to_owned();
    {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Some(&url)).await.unwrap();
        check(&store).await;
    }
    drop(pg);
}

//! An intake's bulk writes on both backends: a batch replayed in part (an
//! ingest resumed after kill -9) stores only what is new, with its matches,
//! and leaves the store as one clean pass would (PostgreSQL: `COPY` fails
//! on the unique key and the batch goes in again through `INSERT … ON
//! CONFLICT`); rows must name an existing intake; the intake's bulk
//! connection is let go when it leaves the reading state and a later batch
//! gets a new one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::intake;

use tiaki_store::intake::{
    Begun, EventRow, HashState, IntakeState, MatchRow, MediaHashes, MediaRow, Triage,
};
use tiaki_store::{IntakeStore, MatchKind, Store, Timestamp};

/// Media line `n`; every third carries a match (and is known).
fn media(n: u8) -> MediaRow {
    let matched = n.is_multiple_of(3);
    MediaRow {
        provider_id: format!("m{n}"),
        line: u64::from(n),
        account: "a".into(),
        file: None,
        original_name: Some(format!("name \"{n}\" é")),
        uploaded_at: None,
        upload_ip: Some("192.0.2.1".into()),
        viewed_by_provider: Some(n.is_multiple_of(2)),
        hashes: MediaHashes {
            md5: Some([n; 16]),
            sha256: Some([n; 32]),
            pdq_quality: Some(100),
            ..MediaHashes::default()
        },
        hash_state: HashState::Provided,
        triage: Some(if matched { Triage::Known } else { Triage::New }),
        matches: if matched {
            vec![MatchRow {
                entry_id: u64::from(n),
                list_id: 1,
                kind: MatchKind::Exact,
                distance: 0,
                variant: None,
            }]
        } else {
            Vec::new()
        },
        data: "{}".into(),
    }
}

fn event(n: u64) -> EventRow {
    EventRow {
        line: n,
        kind: "login".into(),
        at: None,
        data: format!(r#"{{"n":{n}}}"#),
    }
}

async fn new_intake(store: &Store, report: &str) -> i64 {
    let now = Timestamp::from_unix(1_700_000_000);
    let Begun::New(info) = store.begin_intake(&intake(report), &now).await.unwrap() else {
        panic!("new intake")
    };
    info.id
}

async fn check(store: &Store) {
    let now = Timestamp::from_unix(1_700_000_000);
    // One clean pass ...
    let clean = new_intake(store, "clean").await;
    let all: Vec<MediaRow> = (1..=9).map(media).collect();
    store.insert_media(clean, &all, &[]).await.unwrap();
    let events: Vec<EventRow> = (1..=5).map(event).collect();
    store.insert_events(clean, &events, &[]).await.unwrap();

    // ... and one replayed in part: 1-5, then 4-9 (4 and 5 again).
    let replayed = new_intake(store, "replayed").await;
    store.insert_media(replayed, &all[..5], &[]).await.unwrap();
    store.insert_media(replayed, &all[3..], &[]).await.unwrap();
    store
        .insert_events(replayed, &events[..3], &[])
        .await
        .unwrap();
    store
        .insert_events(replayed, &events[1..], &[])
        .await
        .unwrap();

    for id in [clean, replayed] {
        let c = store.intake_counts(Some(id)).await.unwrap();
        assert_eq!(
            (c.media, c.media_known, c.media_new, c.events),
            (9, 3, 6, 5)
        );
    }
    let dump = store.dump_intakes().await.unwrap();
    let of = |report: &str| -> Vec<String> {
        dump.iter()
            .filter(|l| l.contains(report))
            .map(|l| l.replace(report, "|R|"))
            .collect()
    };
    assert!(!of("|clean|").is_empty());
    assert_eq!(of("|clean|"), of("|replayed|"));
    // Matches: once each, on the right rows.
    let page = store
        .media_hashes_page(Some(replayed), 0, 100)
        .await
        .unwrap();
    let ids: Vec<i64> = page.iter().map(|m| m.id).collect();
    let mut matched: Vec<(String, u64)> = store
        .matches_of(&ids)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, m)| {
            let pid = &page.iter().find(|r| r.id == id).unwrap().provider_id;
            (pid.clone(), m.entry_id)
        })
        .collect();
    matched.sort();
    assert_eq!(
        matched,
        [("m3".into(), 3), ("m6".into(), 6), ("m9".into(), 9)]
    );

    // Rows must name an intake.
    assert!(store.insert_media(9_999, &all[..1], &[]).await.is_err());
    assert!(store.insert_events(9_999, &events[..1], &[]).await.is_err());

    // Leaving the reading state lets the bulk connection go; a later
    // batch (a resumed ingest) gets a new one.
    store
        .set_intake_state(replayed, IntakeState::Hashing, &now)
        .await
        .unwrap();
    let mut extra = media(10);
    extra.line = 10;
    store.insert_media(replayed, &[extra], &[]).await.unwrap();
    let c = store.intake_counts(Some(replayed)).await.unwrap();
    assert_eq!(c.media, 10);
}

#[tokio::test]
async fn bulk_writes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), None).await.unwrap();
    check(&store).await;
}

#[tokio::test]
async fn bulk_writes_on_postgres() {
    let Some(pg) = tiaki_testkit::fresh_postgres("store_bulk") else {
        return;
    };
    let url = pg.url().to_owned();
    {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Some(&url)).await.unwrap();
        check(&store).await;
        // The per-statement checks that stand for the foreign keys
        // (migrations/postgres/0007): intake_id is fixed, and deleting an
        // intake deletes its media and events (and the media's matches).
        let db = sqlx::PgPool::connect(&url).await.unwrap();
        let moved = sqlx::query("UPDATE media SET intake_id = intake_id + 1")
            .execute(&db)
            .await;
        assert!(moved.is_err());
        sqlx::query("DELETE FROM intakes WHERE report_id = 'replayed'")
            .execute(&db)
            .await
            .unwrap();
        let left: (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM media), (SELECT COUNT(*) FROM events), \
             (SELECT COUNT(*) FROM media_matches)",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(left, (9, 5, 3));
        db.close().await;
    }
    // Dropping `pg` drops the database (kept if the test failed).
    drop(pg);
}

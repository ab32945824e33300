//! The victim-identification database on both backends: every status
//! transition of victims and offenders with its history event, impossible
//! transitions refused with nothing written, media by hash, merging series,
//! and the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tiaki_store::intake::MediaHashes;
use tiaki_store::vid::{NewSeries, NewSubject, NewVidMedia, SubjectChange, VidCounts};
use tiaki_store::{Store, StoreError, Timestamp, VidStore};
use tiaki_types::codes::{Code, ErrorCode};
use tiaki_types::hashes::PdqHash;
use tiaki_types::vid::{
    OffenderStatus, Refusal, StatusStep, VictimStatus, VidEventKind, VidMediaKind, VidRecord,
};

const ACTOR: &str = "cli:tester";

fn step(country: &str, date: &str) -> StatusStep {
    StatusStep {
        country: Some(country.into()),
        agency: Some("GB".into()),
        date: Some(date.into()),
    }
}

fn series(name: &str) -> NewSeries {
    NewSeries {
        name: name.into(),
        agency: "NZ".into(),
        notes: String::new(),
    }
}

async fn check(store: &Store) {
    let t0 = Timestamp::from_unix(1_796_083_200);
    let t1 = Timestamp::from_unix(1_796_083_260);
    let a = store
        .add_series(&series("Alpha"), ACTOR, &t0)
        .await
        .unwrap();
    assert_eq!(
        (a.name.as_str(), a.agency.as_str(), a.media),
        ("Alpha", "NZ", 0)
    );
    let e = store
        .add_series(&series("Alpha"), ACTOR, &t0)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::SeriesExists(_)), "{e}");
    assert_eq!(e.error_code(), Code::Conflict);

    // A victim through every status, one event each.
    let v = store
        .add_victim(
            &NewSubject {
                series_id: a.id,
                status: VictimStatus::Unidentified,
                step: StatusStep::default(),
                agency: "NZ".into(),
                notes: "first seen".into(),
            },
            ACTOR,
            &t0,
        )
        .await
        .unwrap();
    assert_eq!(v.status, VictimStatus::Unidentified);
    let to = |s: VictimStatus, st: StatusStep| SubjectChange {
        status: Some((s, st)),
        notes: None,
    };
    // Impossible: straight to safeguarded, refused, nothing written.
    let before = store.vid_events(Some(a.id), None).await.unwrap();
    let e = store
        .set_victim(
            v.id,
            &to(VictimStatus::Safeguarded, step("AU", "2026-12-01")),
            ACTOR,
            &t1,
        )
        .await
        .unwrap_err();
    let StoreError::Transition(t) = &e else {
        panic!("{e}")
    };
    assert_eq!(t.refusal, Refusal::Skips { next: "identified" });
    assert_eq!(e.error_code(), Code::Conflict);
    assert_eq!(
        e.to_string(),
        format!(
            "victim {} is unidentified and cannot become safeguarded before it is identified; nothing was changed",
            v.id
        )
    );
    assert_eq!(
        store.victims(Some(a.id)).await.unwrap(),
        std::slice::from_ref(&v)
    );
    assert_eq!(store.vid_events(Some(a.id), None).await.unwrap(), before);

    let v1 = store
        .set_victim(
            v.id,
            &to(VictimStatus::Identified, step("AU", "2026-12-01")),
            ACTOR,
            &t1,
        )
        .await
        .unwrap();
    assert_eq!(v1.status, VictimStatus::Identified);
    assert_eq!(v1.step, step("AU", "2026-12-01"));
    // Backwards and the same again: refused.
    for s in [VictimStatus::Unidentified, VictimStatus::Identified] {
        let e = store
            .set_victim(v.id, &to(s, StatusStep::default()), ACTOR, &t1)
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Transition(_)), "{e}");
    }
    let v2 = store
        .set_victim(
            v.id,
            &SubjectChange {
                status: Some((VictimStatus::Safeguarded, step("AU", "2026-12-02"))),
                notes: Some("safe".into()),
            },
            ACTOR,
            &t1,
        )
        .await
        .unwrap();
    assert_eq!(
        (v2.status, v2.notes.as_str()),
        (VictimStatus::Safeguarded, "safe")
    );
    let history = store
        .vid_events(None, Some((VidRecord::Victim, v.id)))
        .await
        .unwrap();
    let kinds: Vec<_> = history
        .iter()
        .map(|e| (e.event, e.from.as_deref(), e.to.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            (VidEventKind::Created, None, Some("unidentified")),
            (
                VidEventKind::Status,
                Some("unidentified"),
                Some("identified")
            ),
            (
                VidEventKind::Status,
                Some("identified"),
                Some("safeguarded")
            ),
            (VidEventKind::Notes, None, None),
        ]
    );
    assert_eq!(history[0].note.as_deref(), Some("first seen"));
    assert_eq!(history[1].step, step("AU", "2026-12-01"));
    assert!(history.iter().all(|e| e.actor == ACTOR && e.series == a.id));
    assert_eq!(history[2].at, t1.as_str());

    // An offender through every status.
    let o = store
        .add_offender(
            &NewSubject {
                series_id: a.id,
                status: OffenderStatus::Unidentified,
                step: StatusStep::default(),
                agency: "NZ".into(),
                notes: String::new(),
            },
            ACTOR,
            &t0,
        )
        .await
        .unwrap();
    for s in [OffenderStatus::Identified, OffenderStatus::Arrested] {
        let got = store
            .set_offender(
                o.id,
                &SubjectChange {
                    status: Some((s, step("US", "2026-12-03"))),
                    notes: None,
                },
                ACTOR,
                &t1,
            )
            .await
            .unwrap();
        assert_eq!(got.status, s);
    }
    let e = store
        .set_offender(
            o.id,
            &SubjectChange {
                status: Some((OffenderStatus::Identified, StatusStep::default())),
                notes: None,
            },
            ACTOR,
            &t1,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot go back"), "{e}");
    let e = store
        .set_offender(
            999,
            &SubjectChange {
                status: None,
                notes: None,
            },
            ACTOR,
            &t1,
        )
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "no offender with id 999");
    assert_eq!(e.error_code(), Code::NotFound);
    assert_eq!(
        store
            .vid_events(None, Some((VidRecord::Offender, o.id)))
            .await
            .unwrap()
            .len(),
        3
    );

    // Media by hash, in series Beta, then Beta merged into Alpha.
    let b = store.add_series(&series("Beta"), ACTOR, &t0).await.unwrap();
    let pdq = PdqHash([1, 2, 3, 4]);
    let media = store
        .add_vid_media(
            &[NewVidMedia {
                series_id: b.id,
                kind: VidMediaKind::Image,
                hashes: MediaHashes {
                    md5: Some([7; 16]),
                    pdq: Some(pdq),
                    pdq_quality: Some(90),
                    ..MediaHashes::default()
                },
                stored: false,
                source: "hash".into(),
                agency: "AU".into(),
                notes: String::new(),
            }],
            ACTOR,
            &t0,
        )
        .await
        .unwrap();
    assert_eq!(media[0].pdq.as_deref(), Some(pdq.to_hex().as_str()));
    assert_eq!(media[0].md5.as_deref(), Some("07".repeat(16).as_str()));
    assert_eq!(store.vid_media_max_id().await.unwrap(), media[0].id);
    let by_ids = store.vid_media_by_ids(&[999, media[0].id]).await.unwrap();
    assert_eq!(by_ids, media);
    let page = store.vid_media_hashes_page(0, 10).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!((page[0].series_id, page[0].hashes.pdq), (b.id, Some(pdq)));

    let merged = store.merge_series(b.id, a.id, ACTOR, &t1).await.unwrap();
    assert_eq!((merged.id, merged.media, merged.victims), (a.id, 1, 1));
    let b_after = store.series_by_name("Beta").await.unwrap().unwrap();
    assert_eq!((b_after.merged_into, b_after.media), (Some(a.id), 0));
    let e = store
        .merge_series(b.id, a.id, ACTOR, &t1)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::SeriesMerged { .. }), "{e}");
    let e = store
        .merge_series(a.id, a.id, ACTOR, &t1)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "series \"Alpha\" cannot be merged into itself"
    );
    let moved = store
        .vid_events(None, Some((VidRecord::Media, media[0].id)))
        .await
        .unwrap();
    assert_eq!(moved.last().unwrap().event, VidEventKind::Merged);
    assert_eq!(moved.last().unwrap().series, a.id);
    assert_eq!(store.vid_media(Some(a.id)).await.unwrap().len(), 1);

    assert_eq!(
        store.vid_counts().await.unwrap(),
        VidCounts {
            series: 1,
            media: 1,
            victims_unidentified: 0,
            victims_identified: 1,
            victims_safeguarded: 1,
            offenders_identified: 1,
        }
    );
    assert!(store.intake_media_hashes(1, "m1").await.unwrap().is_none());
}

/// The history refuses to be rewritten, whoever connects.
async fn history_is_append_only<DB: sqlx::Database>(pool: &sqlx::Pool<DB>)
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    for sql in [
        "UPDATE vid_events SET actor = 'someone else'",
        "DELETE FROM vid_events",
    ] {
        let mut conn = pool.acquire().await.unwrap();
        let Err(e) = sqlx::query(sql).execute(&mut *conn).await else {
            panic!("{sql}: allowed")
        };
        assert!(
            e.to_string().contains("vid_events is append-only"),
            "{sql}: {e}"
        );
    }
}

#[tokio::test]
async fn vid_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), None).await.unwrap();
    check(&store).await;
    let url = format!("sqlite://{}", dir.path().join("tiaki.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    history_is_append_only(&pool).await;
}

#[tokio::test]
async fn vid_on_postgres() {
    let Some(pg) = tiaki_testkit::fresh_postgres("store_vid") else {
        return;
    };
    let url = pg.url().to_owned();
    {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Some(&url)).await.unwrap();
        check(&store).await;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        history_is_append_only(&pool).await;
        pool.close().await;
    }
    drop(pg);
}

//! Referral threads on both backends: messages with attachments in one
//! transaction, read receipts up to a message, unread counts per referral
//! and country, and the engaged countries (acknowledged, and answered on
//! the thread by the country's liaison officer or an outcome recorded).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tiaki_store::referrals::{
    NewReferralEvent, ReferralEvent, ReferralRow, ReferralState,
};
use tiaki_store::threads::{NewThreadAttachment, NewThreadMessage};
use tiaki_store::users::NewUser;
use tiaki_store::{ReferralStore, Store, StoreError, ThreadStore, Timestamp, UserStore};
use tiaki_types::access::Role;

fn referral(id: &str, country: &str) -> ReferralRow {
    ReferralRow {
        id: id.into(),
        country: country.into(),
        agency: format!("Agency of {country}"),
        state: ReferralState::Built,
        accounts: 0,
        persons: 0,
        media: 0,
        created_at: "2026-11-30T00:00:00Z".into(),
        updated_at: "2026-11-30T00:00:00Z".into(),
        package: String::new(),
        tar_sha256: String::new(),
    }
}

fn event(referral: &str, event: &str, moves_to: Option<ReferralState>) -> NewReferralEvent {
    NewReferralEvent {
        event: ReferralEvent {
            referral_id: referral.into(),
            at: "2026-12-01T00:00:00Z".into(),
            event: event.into(),
            count: 0,
            note: String::new(),
        },
        moves_to,
    }
}

async fn check(store: &Store) {
    let now = Timestamp::from_unix(1_796_083_200);
    let mut users = Vec::new();
    for (name, role, country) in [
        ("coord", Role::Coordinator, "GB"),
        ("nz", Role::Liaison, "NZ"),
        ("au", Role::Liaison, "AU"),
    ] {
        let u = store
            .add_user(
                &NewUser {
                    name: name.into(),
                    country: country.into(),
                    role,
                    password: None,
                },
                &now,
            )
            .await
            .unwrap();
        users.push(u);
    }
    let (coord, nz, au) = (&users[0], &users[1], &users[2]);
    for (id, c) in [("R-NZ-1", "NZ"), ("R-AU-1", "AU"), ("R-FR-1", "FR")] {
        store.record_referral(&referral(id, c), &[], &now).await.unwrap();
    }
    let message = |by: &tiaki_store::users::UserRow, referral: &str, body: &str| NewThreadMessage {
        referral_id: referral.into(),
        author_id: by.id,
        author_name: by.name.clone(),
        author_role: by.role,
        author_country: by.country.clone(),
        body: body.into(),
        attachments: Vec::new(),
    };
    // Nothing engaged yet; an unknown referral is refused.
    assert!(store.engaged_countries().await.unwrap().is_empty());
    let e = store
        .add_thread_message(&message(coord, "R-XX-9", "hello"), &now)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NoSuchReferral(_)), "{e}");

    let mut first = message(coord, "R-NZ-1", "Kia ora: please confirm receipt");
    first.attachments = vec![
        NewThreadAttachment {
            file_name: "guidance.pdf".into(),
            content_type: "application/pdf".into(),
            size: 12,
            sha256: "ab".repeat(32),
        },
        NewThreadAttachment {
            file_name: "notes.txt".into(),
            content_type: "text/plain".into(),
            size: 3,
            sha256: "cd".repeat(32),
        },
    ];
    let m1 = store.add_thread_message(&first, &now).await.unwrap();
    assert_eq!(m1.attachments.len(), 2);
    assert_eq!(m1.attachments[0].file_name, "guidance.pdf");
    let later = Timestamp::from_unix(1_796_083_260);
    let m2 = store
        .add_thread_message(&message(nz, "R-NZ-1", "Received, thank you"), &later)
        .await
        .unwrap();
    let m3 = store
        .add_thread_message(&message(coord, "R-NZ-1", "Good"), &later)
        .await
        .unwrap();
    store
        .add_thread_message(&message(coord, "R-AU-1", "G'day"), &now)
        .await
        .unwrap();

    let thread = store.thread_messages("R-NZ-1").await.unwrap();
    let ids: Vec<i64> = thread.iter().map(|m| m.id).collect();
    assert_eq!(ids, [m1.id, m2.id, m3.id]);
    assert_eq!(thread[0], m1);
    assert_eq!(thread[1].author.role, Role::Liaison);
    assert_eq!(thread[1].author.country, "NZ");
    // One attachment by its thread only.
    let a = &m1.attachments[1];
    assert_eq!(store.thread_attachment("R-NZ-1", a.id).await.unwrap().as_ref(), Some(a));
    assert_eq!(store.thread_attachment("R-AU-1", a.id).await.unwrap(), None);

    // Unread: the NZ officer has two of the coordinator's messages on NZ's
    // thread; the coordinator has one on NZ's (the officer's).
    let unread = store.thread_unread(nz.id, Some("NZ")).await.unwrap();
    assert_eq!(
        unread.iter().map(|u| (u.referral_id.as_str(), u.unread)).collect::<Vec<_>>(),
        [("R-NZ-1", 2)]
    );
    let unread = store.thread_unread(coord.id, None).await.unwrap();
    assert_eq!(
        unread.iter().map(|u| (u.referral_id.as_str(), u.unread)).collect::<Vec<_>>(),
        [("R-NZ-1", 1)]
    );
    // Read up to the first message, then all: own messages never count.
    assert_eq!(store.mark_thread_read("R-NZ-1", nz.id, Some(m1.id), &later).await.unwrap(), 1);
    assert_eq!(store.mark_thread_read("R-NZ-1", nz.id, None, &later).await.unwrap(), 1);
    assert_eq!(store.mark_thread_read("R-NZ-1", nz.id, None, &later).await.unwrap(), 0);
    assert!(store.thread_unread(nz.id, Some("NZ")).await.unwrap().is_empty());
    let thread = store.thread_messages("R-NZ-1").await.unwrap();
    let readers: Vec<Vec<&str>> = thread
        .iter()
        .map(|m| m.read_by.iter().map(|r| r.name.as_str()).collect())
        .collect();
    assert_eq!(readers, [vec!["nz"], vec![], vec!["nz"]]);
    assert_eq!(thread[0].read_by[0].read_at, later.as_str());
    assert_eq!(thread[0].read_by[0].role, Role::Liaison);

    // Engaged: NZ wrote but has not acknowledged; then acknowledges.
    assert!(store.engaged_countries().await.unwrap().is_empty());
    store
        .add_referral_events(
            &[event("R-NZ-1", "acknowledged", Some(ReferralState::Acknowledged))],
            &now,
        )
        .await
        .unwrap();
    assert_eq!(store.engaged_countries().await.unwrap(), ["NZ"]);
    // AU: acknowledged, but only the coordinator wrote, and the AU officer
    // wrote on nobody's thread; a note outcome makes it engaged.
    store
        .add_referral_events(
            &[event("R-AU-1", "acknowledged", Some(ReferralState::Acknowledged))],
            &now,
        )
        .await
        .unwrap();
    assert_eq!(store.engaged_countries().await.unwrap(), ["NZ"]);
    store
        .add_referral_events(&[event("R-AU-1", "note", None)], &now)
        .await
        .unwrap();
    assert_eq!(store.engaged_countries().await.unwrap(), ["AU", "NZ"]);
    // FR: an outcome but never acknowledged (still sent) does not count.
    store
        .add_referral_events(&[event("R-FR-1", "sent", Some(ReferralState::Sent))], &now)
        .await
        .unwrap();
    assert_eq!(store.engaged_countries().await.unwrap(), ["AU", "NZ"]);
    let _ = au;
}

#[tokio::test]
async fn threads_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), None).await.unwrap();
    check(&store).await;
}

#[tokio::test]
async fn threads_on_postgres() {
    let Some(pg) = tiaki_testkit::fresh_postgres("store_threads") else {
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

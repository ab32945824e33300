//! The audit log's tables on both backends: appends from concurrent tasks
//! on two independent stores (two pools: what two processes are) keep one
//! chain without gaps or forks; filters and paging; checkpoints; and the
//! tables refuse UPDATE and DELETE.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use tiaki_store::audit::{AuditCheckpoint, AuditEntry, AuditFilter, GENESIS_HASH};
use tiaki_store::{AuditStore, Store};

const TASKS: usize = 4;
const EACH: usize = 15;

fn event(actor: &str, action: &str, target: &str, at: &str) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at: at.into(),
        actor: actor.into(),
        actor_role: "analyst".into(),
        country: (actor == "b").then(|| "NZ".to_string()),
        action: action.into(),
        target: target.into(),
        detail: r#"{"note":"a \"quoted\" é"}"#.into(),
        remote_addr: None,
        prev_hash: "ignored".into(),
        hash: "ignored".into(),
    }
}

/// A stand-in for the real hash (`tiaki_core::audit::row_hash`): unique per
/// row (targets are), and naming the previous row's target, so a fork would
/// show.
fn seal(e: &AuditEntry) -> String {
    let prev = e.prev_hash.split('<').next().unwrap_or_default();
    format!("{}<{prev}", e.target)
}

async fn check(a: &Store, b: &Store) {
    // Appends from several tasks on two stores at once.
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = if t % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let actor = if t == 0 { "a" } else { "b" };
                let at = format!("2026-01-0{}T00:00:{:02}Z", 1 + t, i);
                let action = if i.is_multiple_of(3) {
                    "media.viewed"
                } else {
                    "login.succeeded"
                };
                let row = store
                    .append_audit(&event(actor, action, &format!("t{t}-{i}"), &at), &seal)
                    .await
                    .unwrap();
                assert_eq!(row.hash, seal(&row));
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = (TASKS * EACH) as i64;

    // One chain: seqs 1..=n, each row chained to the one before.
    let mut chain = Vec::new();
    let mut after = 0;
    loop {
        let page = a.audit_chain_page(after, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        chain.extend(page);
    }
    assert_eq!(chain.len() as i64, n);
    let mut prev = GENESIS_HASH.to_string();
    let mut targets = BTreeSet::new();
    for (i, row) in chain.iter().enumerate() {
        assert_eq!(row.seq, i as i64 + 1);
        assert_eq!(row.prev_hash, prev, "row {}", row.seq);
        assert_eq!(row.hash, seal(row));
        assert!(targets.insert(row.target.clone()));
        prev.clone_from(&row.hash);
    }
    assert_eq!(chain[0].detail, r#"{"note":"a \"quoted\" é"}"#);
    let head = b.audit_head().await.unwrap().unwrap();
    assert_eq!((head.seq, &head.hash), (n, &prev));
    assert_eq!(b.audit_seq_of_hash(&chain[4].hash).await.unwrap(), Some(5));
    assert_eq!(b.audit_seq_of_hash("nope").await.unwrap(), None);

    // Filters and paging.
    let all = AuditFilter {
        limit: 1000,
        ..AuditFilter::default()
    };
    assert_eq!(a.audit_entries(&all).await.unwrap(), chain);
    let by_a = a
        .audit_entries(&AuditFilter {
            actor: Some("a".into()),
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(by_a.len(), EACH);
    assert!(by_a.iter().all(|r| r.actor == "a" && r.country.is_none()));
    let viewed_since = a
        .audit_entries(&AuditFilter {
            since: Some("2026-01-03T00:00:00Z".into()),
            action: Some("media.viewed".into()),
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(viewed_since.len(), 2 * EACH.div_ceil(3));
    assert!(
        viewed_since
            .iter()
            .all(|r| r.action == "media.viewed" && r.at.as_str() >= "2026-01-03")
    );
    let page = a
        .audit_entries(&AuditFilter {
            after: 10,
            limit: 5,
            ..all.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [11, 12, 13, 14, 15]
    );

    // Checkpoints, in the order written.
    assert!(a.audit_checkpoints().await.unwrap().is_empty());
    let cps: Vec<AuditCheckpoint> = [(n - 1, "x"), (n, "y")]
        .iter()
        .map(|(seq, sig)| AuditCheckpoint {
            seq: *seq,
            head_hash: chain[*seq as usize - 1].hash.clone(),
            at: "2026-02-01T00:00:00Z".into(),
            signature: (*sig).into(),
        })
        .collect();
    for cp in &cps {
        b.add_audit_checkpoint(cp).await.unwrap();
    }
    assert_eq!(a.audit_checkpoints().await.unwrap(), cps);
}

/// The tables refuse changes (the triggers of 0011_audit.sql).
async fn append_only(pool_sql: impl AsyncFn(&str) -> Result<(), String>) {
    for sql in [
        "UPDATE audit_log SET actor = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "UPDATE audit_checkpoints SET seq = 1",
        "DELETE FROM audit_checkpoints",
    ] {
        let e = pool_sql(sql).await.expect_err(sql);
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
}

#[tokio::test]
async fn audit_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path(), None).await.unwrap();
    let b = Store::open(dir.path(), None).await.unwrap();
    check(&a, &b).await;
    let pool = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("tiaki.db").display()
    ))
    .await
    .unwrap();
    append_only(async |sql: &str| {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await;
}

#[tokio::test]
async fn audit_on_postgres() {
    let Some(pg) = tiaki_testkit::fresh_postgres("store_audit") else {
        return;
    };
    let url = pg.url().to_owned();
    {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path(), Some(&url)).await.unwrap();
        let b = Store::open(dir.path(), Some(&url)).await.unwrap();
        check(&a, &b).await;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        append_only(async |sql: &str| {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .await;
        let e = sqlx::query("TRUNCATE audit_log")
            .execute(&pool)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("append-only"), "{e}");
        pool.close().await;
    }
    drop(pg);
}

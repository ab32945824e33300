//! `tiaki audit verify|ls|checkpoint` on both backends, run as the real
//! binary. Events are recorded through the library (the command line
//! records none; the service will), then the tables are tampered with
//! directly in SQL, one way at a time, and `verify` must name the first bad
//! row and exit 3 (`audit_tampered`); after each case the log is put back
//! and `verify` exits 0 again.

use std::process::Output;

use tiaki_core::audit::{self, AuditAction, AuditEvent};
use tiaki_core::store::Store;
use tiaki_core::types::time::Timestamp;

use crate::common::{TestStore, Tiaki, ndjson, stores};

const PASSPHRASE: &str = "audit test passphrase";

/// Raw SQL on the test store's database (the triggers dropped first).
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn open(s: &TestStore) -> Db {
        match s.database() {
            None => Db::Sqlite(
                sqlx::SqlitePool::connect(&format!(
                    "sqlite://{}",
                    s.data().join("tiaki.db").display()
                ))
                .await
                .unwrap(),
            ),
            Some(url) => Db::Postgres(sqlx::PgPool::connect(url).await.unwrap()),
        }
    }

    async fn exec(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Lets Tiaki's append-only triggers stand aside, as someone with
    /// write access to the database can.
    async fn drop_triggers(&self) {
        match self {
            Db::Sqlite(_) => {
                self.exec(
                    "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
                     DROP TRIGGER audit_checkpoints_no_update; DROP TRIGGER audit_checkpoints_no_delete;",
                )
                .await;
            }
            Db::Postgres(_) => {
                self.exec(
                    "ALTER TABLE audit_log DISABLE TRIGGER USER; \
                     ALTER TABLE audit_checkpoints DISABLE TRIGGER USER;",
                )
                .await;
            }
        }
    }
}

fn event(i: usize) -> AuditEvent {
    let (actor, role, country) = match i % 3 {
        0 => ("ana", "coordinator", None),
        1 => ("liaison-nz", "liaison", Some("NZ".to_string())),
        _ => ("ben", "analyst", None),
    };
    AuditEvent {
        actor: actor.into(),
        actor_role: role.into(),
        country,
        action: if i.is_multiple_of(2) {
            AuditAction::MediaViewed
        } else {
            AuditAction::ReferralDownloaded
        },
        target: format!("media/{i}"),
        detail: serde_json::json!({"i": i, "note": "benign test event"}),
        remote_addr: (!i.is_multiple_of(2)).then(|| format!("192.0.2.{i}")),
    }
}

async fn record(store: &Store, from: usize, to: usize) {
    for i in from..to {
        let at = Timestamp::from_unix(1_780_000_000 + i as i64 * 60);
        audit::record(store, &event(i), &at).await.unwrap();
    }
}

fn verify(s: &TestStore) -> Output {
    s.cmd()
        .args(["audit", "verify"])
        .output()
        .expect("run tiaki")
}

fn assert_intact(s: &TestStore, when: &str) {
    let o = verify(s);
    assert!(
        o.status.success(),
        "[{}] {when}: verify failed\nstdout: {}\nstderr: {}",
        s.name(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `verify` exits 3 and its first problem starts with `first`.
fn assert_detected(s: &TestStore, case: &str, first: &str) {
    let o = verify(s);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(3),
        "[{}] {case}: not detected\nstdout: {}\nstderr: {stderr}",
        s.name(),
        String::from_utf8_lossy(&o.stdout)
    );
    let line = format!("tiaki: the audit log is not intact: {first}");
    assert!(
        stderr.starts_with(&line),
        "[{}] {case}: expected {line:?}, got {stderr}",
        s.name()
    );
}

/// Saves both tables and the checkpoint file, to put them back after each
/// tampering.
const SAVE: &str = "CREATE TABLE saved_log AS SELECT * FROM audit_log; \
                    CREATE TABLE saved_cps AS SELECT * FROM audit_checkpoints;";
const RESTORE: &str = "DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM saved_log; \
                       DELETE FROM audit_checkpoints; \
                       INSERT INTO audit_checkpoints SELECT * FROM saved_cps;";

#[test]
fn verify_detects_each_kind_of_tampering() {
    for s in stores("audit_verify") {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = rt.block_on(Store::open(s.data(), s.database())).unwrap();
        // An empty log is intact, with or without a key.
        assert_intact(&s, "empty");

        // Rows 1..=8, a checkpoint of row 8, then rows 9 and 10.
        rt.block_on(record(&store, 1, 9));
        let cp = s
            .cmd()
            .args(["audit", "checkpoint", "--json"])
            .env("TIAKI_ISSUER_PASSPHRASE", PASSPHRASE)
            .output()
            .unwrap();
        assert!(
            cp.status.success(),
            "{}",
            String::from_utf8_lossy(&cp.stderr)
        );
        let cp: serde_json::Value = serde_json::from_slice(&cp.stdout).unwrap();
        assert_eq!(cp["seq"], 8);
        rt.block_on(record(&store, 9, 11));
        assert_intact(&s, "after recording");
        let out = s.ok(&["audit", "verify"]);
        assert!(out.contains("10 rows, head seq 10"), "{out}");
        assert!(out.contains("rows after seq 8"), "{out}");

        // ls and its filters.
        let all = ndjson(s.ok(&["audit", "ls", "--json"]).as_bytes());
        assert_eq!(all.len(), 10);
        assert_eq!(all[0]["seq"], 1);
        assert_eq!(all[0]["detail"]["note"], "benign test event");
        let nz = ndjson(
            s.ok(&["audit", "ls", "--user", "liaison-nz", "--json"])
                .as_bytes(),
        );
        assert_eq!(
            nz.iter()
                .map(|r| r["seq"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [1, 4, 7, 10]
        );
        assert!(nz.iter().all(|r| r["country"] == "NZ"));
        let since = Timestamp::from_unix(1_780_000_000 + 6 * 60);
        let viewed = ndjson(
            s.ok(&[
                "audit",
                "ls",
                "--since",
                since.as_str(),
                "--action",
                "media.viewed",
                "--json",
            ])
            .as_bytes(),
        );
        assert_eq!(
            viewed
                .iter()
                .map(|r| r["seq"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [6, 8, 10]
        );
        let text = s.ok(&["audit", "ls", "--after", "8", "--limit", "1"]);
        assert!(text.starts_with("9\t"), "{text}");
        assert_eq!(text.lines().count(), 1);
        let bad = s.run(&["audit", "ls", "--action", "media.eaten"]);
        assert_eq!(bad.status.code(), Some(2));

        let db = rt.block_on(Db::open(&s));
        rt.block_on(db.drop_triggers());
        rt.block_on(db.exec(SAVE));
        let file = s.data().join(audit::CHECKPOINT_FILE);
        let file_saved = std::fs::read(&file).unwrap();
        let restore = || {
            rt.block_on(db.exec(RESTORE));
            std::fs::write(&file, &file_saved).unwrap();
            assert_intact(&s, "restored");
        };

        // Editing any field of a middle row.
        for (column, value) in [
            ("at", "'2026-01-01T00:00:00Z'"),
            ("actor", "'eve'"),
            ("actor_role", "'admin'"),
            ("country", "'AU'"),
            ("action", "'logout'"),
            ("target", "'media/999'"),
            ("detail", "'{\"i\":4}'"),
            ("remote_addr", "'198.51.100.1'"),
            ("prev_hash", "'ab'"),
            ("hash", "'cd'"),
        ] {
            rt.block_on(db.exec(&format!(
                "UPDATE audit_log SET {column} = {value} WHERE seq = 4"
            )));
            assert_detected(&s, &format!("edit {column}"), "row 4: edited");
            restore();
        }

        // Deleting a middle row.
        rt.block_on(db.exec("DELETE FROM audit_log WHERE seq = 5"));
        assert_detected(&s, "delete", "row 5: missing (deleted)");
        restore();

        // Deleting a middle row and renumbering the rows after it.
        rt.block_on(db.exec(
            "DELETE FROM audit_log WHERE seq = 5; \
             UPDATE audit_log SET seq = -seq WHERE seq > 5; \
             UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0;",
        ));
        assert_detected(&s, "delete and renumber", "row 5: chain broken");
        restore();

        // Reordering two rows (swapping their seqs).
        rt.block_on(db.exec(
            "UPDATE audit_log SET seq = -1 WHERE seq = 3; \
             UPDATE audit_log SET seq = 3 WHERE seq = 6; \
             UPDATE audit_log SET seq = 6 WHERE seq = -1;",
        ));
        assert_detected(&s, "swap", "row 3: reordered");
        restore();

        // Deleting the newest rows, the checkpointed one among them: the
        // store's checkpoint names row 8 ...
        rt.block_on(db.exec("DELETE FROM audit_log WHERE seq >= 7"));
        assert_detected(&s, "truncate", "row 7: missing: the signed checkpoint of");
        restore();
        // ... and so does the file's, when the store's checkpoints go too.
        rt.block_on(
            db.exec("DELETE FROM audit_log WHERE seq >= 7; DELETE FROM audit_checkpoints;"),
        );
        assert_detected(
            &s,
            "truncate with checkpoints",
            "row 7: missing: the signed checkpoint of",
        );
        let o = verify(&s);
        assert!(
            String::from_utf8_lossy(&o.stdout)
                .contains("in the checkpoint file but was deleted from the store"),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
        restore();

        // Rewriting rows with their hashes recomputed (the chain alone
        // cannot tell): the signed checkpoint can.
        let mut rows = rt.block_on(async {
            use tiaki_core::store::AuditStore;
            store.audit_chain_page(0, 100).await.unwrap()
        });
        rows[3].actor = "eve".into();
        for i in 3..rows.len() {
            rows[i].prev_hash = rows[i - 1].hash.clone();
            rows[i].hash = audit::row_hash(&rows[i]);
        }
        let mut sql = String::from("UPDATE audit_log SET seq = -seq WHERE seq >= 4;");
        for r in &rows[3..] {
            sql.push_str(&format!(
                "UPDATE audit_log SET seq = {}, actor = '{}', prev_hash = '{}', hash = '{}' WHERE seq = -{};",
                r.seq, r.actor, r.prev_hash, r.hash, r.seq
            ));
        }
        rt.block_on(db.exec(&sql));
        assert_detected(&s, "rewrite", "row 8: differs from the signed checkpoint");
        restore();

        // A forged checkpoint: a real signature moved to another head.
        rt.block_on(db.exec(
            "INSERT INTO audit_checkpoints (seq, head_hash, at, signature) \
             SELECT 10, (SELECT hash FROM audit_log WHERE seq = 10), at, signature FROM saved_cps;",
        ));
        assert_detected(&s, "forged checkpoint", "row 10: the checkpoint of");
        restore();
        // A checkpoint line in the file signed by another key.
        let other = tiaki_core::referral::IssuerKeys::generate("other").unwrap();
        let other =
            tiaki_core::referral::IssuerKeys::load_secret(&other.secret_key, "other").unwrap();
        let head = rows_hash(&rt, &store, 10);
        let at = "2026-12-01T00:00:00Z";
        let message = audit::checkpoint_message(10, &head, at);
        let forged = tiaki_core::audit::AuditCheckpoint {
            seq: 10,
            head_hash: head,
            at: at.into(),
            signature: other
                .sign_message(message.as_bytes(), "x", &message)
                .unwrap(),
        };
        let mut text = file_saved.clone();
        text.extend_from_slice(serde_json::to_string(&forged).unwrap().as_bytes());
        text.push(b'\n');
        std::fs::write(&file, text).unwrap();
        assert_detected(&s, "checkpoint by another key", "row 10: the checkpoint of");
        restore();

        rt.block_on(async {
            match db {
                Db::Sqlite(p) => p.close().await,
                Db::Postgres(p) => p.close().await,
            }
        });
    }
}

fn rows_hash(rt: &tokio::runtime::Runtime, store: &Store, seq: i64) -> String {
    use tiaki_core::store::AuditStore;
    rt.block_on(store.audit_chain_page(seq - 1, 1)).unwrap()[0]
        .hash
        .clone()
}

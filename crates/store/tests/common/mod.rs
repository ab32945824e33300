//! What the store's test files share: a fresh PostgreSQL database per test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tiaki_store::intake::NewIntake;

/// A database made for one test on the server `TIAKI_TEST_POSTGRES` names
/// (an admin URL); `drop` removes it.
pub struct TestPg {
    admin: sqlx::PgPool,
    name: String,
    pub url: String,
}

/// `None` (and a note) when `TIAKI_TEST_POSTGRES` is not set.
pub async fn test_pg(prefix: &str) -> Option<TestPg> {
    let Ok(admin_url) = std::env::var("TIAKI_TEST_POSTGRES") else {
        eprintln!("SKIPPED: PostgreSQL half (set TIAKI_TEST_POSTGRES)");
        return None;
    };
    // The store tests' one read of the wall clock (clippy.toml bans it): its
    // nanoseconds only make the database name unique, they are not a time.
    #[allow(clippy::disallowed_methods)]
    let name = format!(
        "tiaki_{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    Some(TestPg { admin, name, url })
}

impl TestPg {
    pub async fn drop(self) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await
        .unwrap();
    }
}

/// A provider-report intake with this report id.
pub fn intake(report: &str) -> NewIntake {
    NewIntake {
        source_kind: "provider-report".into(),
        provider: "p".into(),
        report_id: report.into(),
        path: "/x".into(),
        hash_only: true,
        header: serde_json::json!({}),
    }
}

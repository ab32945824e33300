//! What the store's test modules share. The PostgreSQL database of a test
//! comes from `tiaki_testkit::fresh_postgres` (required, never a quiet skip).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tiaki_store::intake::NewIntake;

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

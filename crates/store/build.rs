//! `sqlx::migrate!` embeds `migrations/` at compile time; a migration added
//! without any other change must still rebuild the crate (sqlx's advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

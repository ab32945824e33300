//! Integration tests of tiaki-intake, in one binary (one link, not five).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod archives;
mod bundle;
mod common;
mod cybertip;
mod generated;
mod hostile;

//! (being filled in: issue 16)

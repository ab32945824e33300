//! `tiaki hash` end to end.

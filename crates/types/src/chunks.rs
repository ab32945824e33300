//! Reading a stream to its end in fixed-size chunks: the one loop that
//! digests a file (a bundle's NDJSON, a media file, a list file).

use std::io::{self, Read};
use std::ops::ControlFlow;

/// Reads `r` to its end in chunks of at most `size` bytes, handing each to
/// `f`, which may stop the reading early with `Break`; an interrupted read
/// is retried, any other error returned.
pub fn for_each_chunk<R: Read + ?Sized>(
    r: &mut R,
    size: usize,
    mut f: impl FnMut(&[u8]) -> ControlFlow<()>,
) -> io::Result<()> {
    let mut buf = vec![0u8; size.max(1)];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if f(buf.get(..n).unwrap_or_default()).is_break() {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_stream_in_order() {
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut got = Vec::new();
        let mut sizes = Vec::new();
        for_each_chunk(&mut data.as_slice(), 4096, |c| {
            sizes.push(c.len());
            got.extend_from_slice(c);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(got, data);
        assert!(sizes.iter().all(|&n| n <= 4096));
    }
}

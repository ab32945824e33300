//! Arrays that are either owned or views into a loaded index file.
//!
//! A saved index is opened by mapping its file ([`Bytes::Mapped`]) or by
//! reading it into one aligned buffer ([`Bytes::Heap`]); the large arrays of
//! its sealed segments (hash planes, ids, MIH tables) are then [`Buf::Shared`]
//! views into those bytes, so opening costs the checksum and the validation,
//! not a copy. Arrays that change (the delta, new segments, merges) are
//! [`Buf::Owned`]; [`Buf::to_mut`] copies a view before the first change.

use bytemuck::Pod;
use std::ops::Deref;
use std::sync::Arc;

/// The bytes of a loaded index file.
pub(crate) enum Bytes {
    /// The file, mapped read-only (see `persist::map_file`).
    Mapped(memmap2::Mmap),
    /// The file read into memory: 64-byte aligned words and the byte length.
    Heap(Vec<crate::planes::Line>, usize),
}

impl Bytes {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Heap(v, len) => {
                let all: &[u8] = bytemuck::cast_slice(v);
                all.get(..*len).unwrap_or(all)
            }
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Bytes::Mapped(_) => "mapped",
            Bytes::Heap(..) => "heap",
        };
        write!(f, "Bytes({kind}, {} B)", self.as_slice().len())
    }
}

/// A `[T]` owned as a `Vec` or shared with a loaded file.
#[derive(Clone)]
pub(crate) struct Buf<T> {
    /// The elements when owned (empty while `view` is set).
    owned: Vec<T>,
    /// `(bytes, start, len)`: `len` elements at byte `start` of a loaded
    /// file. Set only by [`Buf::shared`], which checks bounds and alignment.
    view: Option<(Arc<Bytes>, usize, usize)>,
}

impl<T> Default for Buf<T> {
    fn default() -> Self {
        Buf {
            owned: Vec::new(),
            view: None,
        }
    }
}

impl<T> From<Vec<T>> for Buf<T> {
    fn from(owned: Vec<T>) -> Self {
        Buf { owned, view: None }
    }
}

impl<T: Pod> Buf<T> {
    /// A view of `len` elements at byte `start` of `bytes`, or `None` if
    /// they are out of bounds or misaligned for `T`.
    pub(crate) fn shared(bytes: &Arc<Bytes>, start: usize, len: usize) -> Option<Self> {
        let end = len.checked_mul(size_of::<T>())?.checked_add(start)?;
        let raw = bytes.as_slice().get(start..end)?;
        bytemuck::try_cast_slice::<u8, T>(raw).ok()?;
        Some(Buf {
            owned: Vec::new(),
            view: Some((Arc::clone(bytes), start, len)),
        })
    }

    /// The owned `Vec`, copying a shared view first.
    pub(crate) fn to_mut(&mut self) -> &mut Vec<T> {
        if self.view.is_some() {
            self.owned = self.to_vec();
            self.view = None;
        }
        &mut self.owned
    }

    pub(crate) fn into_vec(mut self) -> Vec<T> {
        std::mem::take(self.to_mut())
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.owned.shrink_to_fit();
    }

    /// Bytes held: an owned array's capacity, a view's length.
    pub(crate) fn bytes(&self) -> usize {
        match &self.view {
            Some((_, _, len)) => len * size_of::<T>(),
            None => self.owned.capacity() * size_of::<T>(),
        }
    }

    /// Whether this is a view into a loaded file.
    pub(crate) fn is_shared(&self) -> bool {
        self.view.is_some()
    }
}

impl<T: Pod> Deref for Buf<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.view {
            None => &self.owned,
            Some((bytes, start, len)) => bytes
                .as_slice()
                .get(*start..start + len * size_of::<T>())
                .and_then(|b| bytemuck::try_cast_slice(b).ok())
                // Checked in `shared`; the bytes never change.
                .unwrap_or(&[]),
        }
    }
}

impl<T: Pod + PartialEq> PartialEq for Buf<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Pod + Eq> Eq for Buf<T> {}

impl<T: Pod + std::fmt::Debug> std::fmt::Debug for Buf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_shared() { "shared" } else { "owned" };
        write!(f, "Buf({kind}, {} elements)", self.len())
    }
}

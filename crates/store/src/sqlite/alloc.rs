//! SQLite's own allocations through Rust's global allocator.
//!
//! sqlx copies every value of every row it returns (`sqlite3_value_dup`),
//! and SQLite allocates for each statement step: millions of small
//! allocations in a bulk read or write. Through glibc's malloc they were a
//! quarter of `tiaki triage`'s CPU (`malloc_consolidate`, `unlink_chunk`);
//! the binary's global allocator (mimalloc in `tiaki`) does them for a
//! fraction. SQLite's `xFree` gets only the pointer, so each block carries
//! its size in an 8-byte header (which keeps the 8-byte alignment SQLite
//! asks for).

use std::alloc::{Layout, alloc, dealloc, realloc};
use std::ffi::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::Once;

use libsqlite3_sys::{SQLITE_CONFIG_MALLOC, SQLITE_OK, sqlite3_config, sqlite3_mem_methods};

const HEADER: usize = 8;
const ALIGN: usize = 8;

fn layout(n: usize) -> Option<Layout> {
    Layout::from_size_align(n.checked_add(HEADER)?, ALIGN).ok()
}

/// The block's base and its size (as SQLite asked for it).
///
/// # Safety
/// `p` was returned by `x_malloc` or `x_realloc` and not freed.
unsafe fn block(p: *mut c_void) -> (*mut u8, usize) {
    // SAFETY: by the contract, `p` is HEADER bytes past the base of a live
    // allocation of ours, whose first 8 bytes (8-aligned) hold its size.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        (base, base.cast::<usize>().read())
    }
}

/// SQLite's `xMalloc`: a block of `n` bytes, 8-aligned, or NULL. Safe: any
/// `n` is answered (a negative or oversized one with NULL).
extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    let Some(l) = usize::try_from(n).ok().and_then(layout) else {
        return null_mut();
    };
    // SAFETY: `l` has a non-zero size (the header), as `alloc` requires; a
    // non-null `base` is 8-aligned with at least HEADER bytes, so the size
    // write and the offset stay inside the allocation.
    unsafe {
        let base = alloc(l);
        if base.is_null() {
            return null_mut();
        }
        base.cast::<usize>().write(l.size() - HEADER);
        base.add(HEADER).cast()
    }
}

/// SQLite's `xFree`.
///
/// # Safety
/// `p` is NULL or a block from `x_malloc`/`x_realloc` not yet freed.
unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: by the contract (SQLite frees only what it allocated through
    // these methods) `p` is a live block of ours, allocated with `layout(n)`.
    unsafe {
        let (base, n) = block(p);
        if let Some(l) = layout(n) {
            dealloc(base, l);
        }
    }
}

/// SQLite's `xRealloc`: the block resized to `n` bytes, or NULL (the old
/// block then unchanged).
///
/// # Safety
/// `p` is NULL or a block from `x_malloc`/`x_realloc` not yet freed; after a
/// non-NULL return it is no longer valid.
unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        return x_malloc(n);
    }
    let Some(new) = usize::try_from(n).ok().and_then(layout) else {
        return null_mut();
    };
    // SAFETY: by the contract `p` is a live block of ours; `realloc` gets
    // the layout it was allocated with (rebuilt from its header) and a
    // non-zero new size that `layout` checked; a non-null result is 8-aligned
    // with at least HEADER bytes for the size write.
    unsafe {
        let (base, old) = block(p);
        let Some(l) = layout(old) else {
            return null_mut();
        };
        let moved = realloc(base, l, new.size());
        if moved.is_null() {
            return null_mut();
        }
        moved.cast::<usize>().write(new.size() - HEADER);
        moved.add(HEADER).cast()
    }
}

/// SQLite's `xSize`: the size a block was asked for.
///
/// # Safety
/// `p` is NULL or a block from `x_malloc`/`x_realloc` not yet freed.
unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: by the contract `p` is a live block of ours.
    let n = unsafe { block(p).1 };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// SQLite's `xRoundup`: `n` rounded up to the 8 bytes blocks come in.
extern "C" fn x_roundup(n: c_int) -> c_int {
    n.checked_add(7).map_or(n, |m| m & !7)
}

extern "C" fn x_init(_: *mut c_void) -> c_int {
    SQLITE_OK
}

extern "C" fn x_shutdown(_: *mut c_void) {}

/// Installs the allocator before SQLite's first use in this process. Later
/// calls do nothing; if SQLite was already initialised (another user of
/// the library in the same process), it keeps its own allocator
/// (`sqlite3_config` then refuses, harmlessly).
pub(super) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let methods = sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to a methods struct,
        // which SQLite copies before returning (so a local is enough); the
        // functions above keep SQLite's contract (8-byte aligned blocks,
        // sizes from xSize, NULL on failure). Called once (`ONCE`); if
        // SQLite is already initialised it refuses without harm.
        unsafe {
            sqlite3_config(SQLITE_CONFIG_MALLOC, &raw const methods);
        }
    });
}

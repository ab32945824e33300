//! The bulk insert of media rows on SQLite's own handle.
//!
//! An operation's intake stores millions of media rows. Through sqlx each
//! value is boxed into an argument list, copied again into SQLite
//! (`SQLITE_TRANSIENT`), and each 400-row statement is a VDBE program of
//! 7,200 parameters; the writer thread spent more time on that than on the
//! B-tree. Here one prepared single-row INSERT runs once per row inside the
//! caller's transaction, binding the row's own memory (`SQLITE_STATIC`:
//! valid until the row's step is done). sqlx hands the handle over through
//! `lock_handle`, which keeps its worker away meanwhile.

use std::ffi::{CStr, c_int};
use std::ptr::null_mut;

use libsqlite3_sys as ffi;

use crate::StoreError;
use crate::intake::{MediaRow, Triage};

const INSERT_MEDIA: &CStr = c"INSERT INTO media (intake_id, provider_id, line, account, file, \
     original_name, uploaded_at, upload_ip, viewed_by_provider, md5, sha1, sha256, pdq, \
     pdq_quality, vpdq, hash_state, triage, data) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
     ON CONFLICT (intake_id, provider_id) DO NOTHING";

/// A prepared statement, finalized on drop.
struct Statement {
    db: *mut ffi::sqlite3,
    raw: *mut ffi::sqlite3_stmt,
}

fn error(db: *mut ffi::sqlite3, what: &str) -> StoreError {
    // SAFETY: `db` is the open handle; errmsg returns a NUL-terminated
    // string SQLite owns, copied here before any other call.
    let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) };
    StoreError::Sqlite(format!("{what}: {}", msg.to_string_lossy()))
}

impl Statement {
    /// # Safety
    /// `db` is an open connection nobody else uses while the statement lives.
    unsafe fn prepare(db: *mut ffi::sqlite3, sql: &CStr) -> Result<Statement, StoreError> {
        let mut raw = null_mut();
        // SAFETY: `db` is open and ours (this function's contract); `sql` is
        // NUL-terminated (-1: read to the NUL); `raw` receives the statement.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr(),
                -1,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut raw,
                null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK || raw.is_null() {
            return Err(error(db, "preparing the media insert"));
        }
        Ok(Statement { db, raw })
    }

    fn check(&self, rc: c_int) -> Result<(), StoreError> {
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(error(self.db, "binding a media row"))
        }
    }

    /// # Safety
    /// `v` stays valid and unchanged until [`Statement::run`] returns.
    unsafe fn text(&mut self, i: c_int, v: Option<&str>) -> Result<(), StoreError> {
        // SAFETY: `bytes` asks what this function's caller promises (`v`
        // valid through `run`); `sqlite3_bind_text` has `bytes`' signature.
        unsafe { self.bytes(i, v.map(str::as_bytes), ffi::sqlite3_bind_text) }
    }

    /// # Safety
    /// As [`Statement::text`].
    unsafe fn blob(&mut self, i: c_int, v: Option<&[u8]>) -> Result<(), StoreError> {
        // SAFETY: as in `text`: the caller keeps `v` valid through `run`.
        unsafe { self.bytes(i, v, ffi::sqlite3_bind_blob) }
    }

    /// Binds `v` through `bind` (`sqlite3_bind_text` or `_blob`, which take
    /// the same arguments), or NULL.
    ///
    /// # Safety
    /// As [`Statement::text`].
    unsafe fn bytes<T>(
        &mut self,
        i: c_int,
        v: Option<&[u8]>,
        bind: unsafe extern "C" fn(
            *mut ffi::sqlite3_stmt,
            c_int,
            *const T,
            c_int,
            ffi::sqlite3_destructor_type,
        ) -> c_int,
    ) -> Result<(), StoreError> {
        let rc = match v {
            // SAFETY: the caller keeps `b` alive through the step
            // (SQLITE_STATIC); its length is given, no NUL needed.
            Some(b) => unsafe {
                bind(
                    self.raw,
                    i,
                    b.as_ptr().cast(),
                    c_int::try_from(b.len()).map_err(|_| too_big(i))?,
                    ffi::SQLITE_STATIC(),
                )
            },
            // SAFETY: a statement of ours, parameter in range.
            None => unsafe { ffi::sqlite3_bind_null(self.raw, i) },
        };
        self.check(rc)
    }

    fn int(&mut self, i: c_int, v: Option<i64>) -> Result<(), StoreError> {
        // SAFETY: a statement of ours, parameter in range; integers are copied.
        let rc = unsafe {
            match v {
                Some(n) => ffi::sqlite3_bind_int64(self.raw, i, n),
                None => ffi::sqlite3_bind_null(self.raw, i),
            }
        };
        self.check(rc)
    }

    /// Runs the bound row; whether it was inserted (not a conflict).
    fn run(&mut self) -> Result<bool, StoreError> {
        // SAFETY: a statement of ours with every parameter bound.
        let rc = unsafe { ffi::sqlite3_step(self.raw) };
        // SAFETY: as above; reset also drops the bindings' use of row memory.
        let reset = unsafe { ffi::sqlite3_reset(self.raw) };
        if rc != ffi::SQLITE_DONE || reset != ffi::SQLITE_OK {
            return Err(error(self.db, "inserting a media row"));
        }
        // SAFETY: the open handle.
        Ok(unsafe { ffi::sqlite3_changes(self.db) } == 1)
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: prepared by us, finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.raw);
        }
    }
}

fn too_big(i: c_int) -> StoreError {
    StoreError::Sqlite(format!("media column {i}: value over 2 GiB"))
}

/// Inserts `rows` (skipping those already stored: same intake and provider
/// id) and returns, for each inserted row that carries matches, its index
/// in `rows` and its new id.
///
/// # Safety
/// `db` is an open connection inside a transaction, used by nobody else
/// until this returns.
pub(super) unsafe fn insert_media(
    db: *mut ffi::sqlite3,
    intake_id: i64,
    rows: &[MediaRow],
) -> Result<Vec<(usize, i64)>, StoreError> {
    // SAFETY: `prepare` asks what this function's caller promises: `db` is
    // open and used by nobody else meanwhile.
    let mut st = unsafe { Statement::prepare(db, INSERT_MEDIA)? };
    let mut inserted = Vec::new();
    for (i, m) in rows.iter().enumerate() {
        let h = &m.hashes;
        // Owned values bound below live to the end of this iteration, past
        // `run`.
        let pdq = h.pdq.map(|p| p.to_bytes());
        let vpdq = super::vpdq_json(&h.vpdq);
        // SAFETY: every borrowed value (the row's fields, `pdq`, `vpdq`)
        // outlives `st.run()` at the end of this iteration.
        unsafe {
            st.text(2, Some(m.provider_id.as_str()))?;
            st.text(4, Some(m.account.as_str()))?;
            st.text(5, m.file.as_deref())?;
            st.text(6, m.original_name.as_deref())?;
            st.text(7, m.uploaded_at.as_deref())?;
            st.text(8, m.upload_ip.as_deref())?;
            st.blob(10, h.md5.as_ref().map(|d| d.as_slice()))?;
            st.blob(11, h.sha1.as_ref().map(|d| d.as_slice()))?;
            st.blob(12, h.sha256.as_ref().map(|d| d.as_slice()))?;
            st.blob(13, pdq.as_ref().map(|d| d.as_slice()))?;
            st.text(15, vpdq.as_deref())?;
            st.text(16, Some(m.hash_state.name()))?;
            st.text(17, m.triage.map(Triage::name))?;
            st.text(18, Some(m.data.as_str()))?;
        }
        st.int(1, Some(intake_id))?;
        st.int(3, Some(i64::try_from(m.line).unwrap_or(i64::MAX)))?;
        st.int(9, m.viewed_by_provider.map(i64::from))?;
        st.int(14, h.pdq_quality.map(i64::from))?;
        if st.run()? && !m.matches.is_empty() {
            // SAFETY: the open handle; the row just inserted.
            inserted.push((i, unsafe { ffi::sqlite3_last_insert_rowid(db) }));
        }
    }
    Ok(inserted)
}

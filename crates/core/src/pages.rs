//! Reading the store a page at a time, one page ahead.
//!
//! Triage, retroactive matching and attribution read every media item or
//! account in id order, a page at a time, and spend CPU on each page. Read
//! in turn, the store (PostgreSQL's server building a page, or SQLite's
//! thread) and the caller would take turns on the cores; here a task fetches
//! page N + 1 while the caller works on page N.

use std::future::Future;

use tiaki_store::StoreError;
use tiaki_store::intake::{IntakeStore, MediaHashRow};
use tokio::sync::mpsc;

/// Pages read ahead by a task (see the module).
pub(crate) struct Pages<T> {
    rx: mpsc::Receiver<Result<T, StoreError>>,
    next: fn(&T) -> Option<i64>,
}

impl<T> Pages<T> {
    /// The next page; `None` once the store has no more.
    pub(crate) async fn next(&mut self) -> Result<Option<T>, StoreError> {
        match self.rx.recv().await {
            Some(Ok(page)) if (self.next)(&page).is_some() => Ok(Some(page)),
            Some(Err(e)) => Err(e),
            _ => Ok(None),
        }
    }
}

/// Pages from `fetch(after)`, starting at `after = 0`; `next` gives the
/// `after` of the following page (`None`: the store has no more, and the
/// page is empty). At most two pages wait beside the one the caller holds.
/// Dropping the `Pages` stops the reading after the page in flight.
pub(crate) fn read_ahead<T, F, Fut>(mut fetch: F, next: fn(&T) -> Option<i64>) -> Pages<T>
where
    T: Send + 'static,
    F: FnMut(i64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, StoreError>> + Send,
{
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut after = 0;
        loop {
            let page = fetch(after).await;
            let following = page.as_ref().ok().and_then(next);
            if tx.send(page).await.is_err() {
                return;
            }
            match following {
                Some(a) => after = a,
                None => return,
            }
        }
    });
    Pages { rx, next }
}

/// Every media item (of one intake, or all) in id order, `limit` a page.
pub(crate) fn media_pages<S: IntakeStore + Clone + 'static>(
    store: &S,
    intake: Option<i64>,
    limit: u32,
) -> Pages<Vec<MediaHashRow>> {
    let store = store.clone();
    read_ahead(
        move |after| {
            let store = store.clone();
            async move { store.media_hashes_page(intake, after, limit).await }
        },
        |page: &Vec<MediaHashRow>| page.last().map(|m| m.id),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_page_in_order_then_the_end() {
        // Pages of 3 over 0..10, keyed by their last item.
        let fetch = |after: i64| async move {
            Ok::<Vec<i64>, StoreError>(((after + 1)..=(after + 3).min(10)).collect())
        };
        let mut pages = read_ahead(fetch, |p: &Vec<i64>| p.last().copied());
        let mut seen = Vec::new();
        while let Some(page) = pages.next().await.unwrap() {
            seen.extend(page);
        }
        assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn an_error_ends_the_pages() {
        let fetch = |after: i64| async move {
            if after == 0 {
                Ok(vec![1_i64])
            } else {
                Err(StoreError::Corrupt("page two".into()))
            }
        };
        let mut pages = read_ahead(fetch, |p: &Vec<i64>| p.last().copied());
        assert!(matches!(pages.next().await, Ok(Some(_))));
        assert!(pages.next().await.is_err());
        assert!(matches!(pages.next().await, Ok(None)));
    }
}

//! The store's surface, declared once.
//!
//! Each storage trait ([`ListStore`](crate::ListStore),
//! [`IntakeStore`](crate::IntakeStore), [`LinkStore`](crate::LinkStore),
//! [`ReferralStore`](crate::ReferralStore)) used to be written three times:
//! the trait, its SQL (`sql/*.rs`, `include!`d into both backends), and a
//! hand-written `impl Trait for Store` forwarding every method to whichever
//! backend the command line chose. The third copy carried no knowledge of
//! its own and drifted only by mistake. [`store_trait!`] takes the trait's
//! method signatures once and yields both the trait declaration and the
//! forwarding `impl` for [`Store`](crate::Store), so a new method is its
//! signature in the declaration plus its SQL in `sql/*.rs` (the compiler
//! then asks for it in both backends).
//!
//! A declarative macro rather than a proc-macro crate: the signatures are
//! regular (`&self`, named arguments, one return type), so `macro_rules!`
//! covers them without another crate to build.

/// Declares a storage trait and implements it for [`Store`](crate::Store)
/// by dispatching to the backend.
///
/// Methods are written as `async fn name(&self, arg: Type, …) -> Output;`
/// with their doc comments. The trait gets them as
/// `fn name(…) -> impl Future<Output = Output> + Send`: callers in
/// `tiaki-core` spawn tasks holding these futures, so every one must be
/// `Send` whatever the backend (an `async fn` in a trait would not say so).
/// The trait itself is `Send + Sync` for the same reason.
macro_rules! store_trait {
    (
        $(#[$trait_attr:meta])*
        pub trait $Trait:ident {
            $(
                $(#[$attr:meta])*
                async fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $out:ty;
            )*
        }
    ) => {
        $(#[$trait_attr])*
        pub trait $Trait: Send + Sync {
            $(
                $(#[$attr])*
                fn $name(&self $(, $arg: $ty)*)
                    -> impl ::std::future::Future<Output = $out> + Send;
            )*
        }

        impl $Trait for $crate::Store {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $out {
                    let out = match self {
                        $crate::Store::Sqlite(s) => $Trait::$name(s $(, $arg)*).await,
                        $crate::Store::Postgres(s) => $Trait::$name(s $(, $arg)*).await,
                    };
                    // A full disk is named with the store it filled.
                    out.map_err(|e| e.in_store(self))
                }
            )*
        }
    };
}

pub(crate) use store_trait;

//! Users, passwords and API tokens (issue 19): what `tiaki users` and the
//! service's authentication share.
//!
//! Passwords are Argon2id (RustCrypto `argon2`, its default parameters,
//! PHC strings). API tokens are 256 random bits from the operating system,
//! shown once as `tiaki_` + 64 hex digits; only their SHA-256 is stored, so a
//! copy of the database does not hold usable tokens. A token answers only
//! while its user is enabled, it is not revoked and not expired.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest as _, Sha256};
use tiaki_store::users::{NewUser, TokenRow, UserChange, UserRow};
use tiaki_store::{StoreError, Timestamp, UserStore};
use tiaki_types::access::Role;
use tiaki_types::codes::{Code, ErrorCode};
use tiaki_types::country::Country;

use crate::access::Principal;

/// The prefix of every API token (so that a leaked token is recognisable
/// by secret scanners).
pub const TOKEN_PREFIX: &str = "tiaki_";

/// The shortest password accepted (OWASP ASVS 4.0 2.1.1: at least 12).
pub const MIN_PASSWORD: usize = 12;
/// The longest (ASVS 2.1.2 allows at least 64; longer only costs hashing).
pub const MAX_PASSWORD: usize = 128;

/// Why a user operation failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0:?} is not a user name: 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadName(String),
    #[error("{0:?} is not an ISO 3166-1 alpha-2 country code")]
    BadCountry(String),
    #[error("the password is too short: at least {MIN_PASSWORD} characters")]
    ShortPassword,
    #[error("the password is too long: at most {MAX_PASSWORD} characters")]
    LongPassword,
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("cannot make random bytes: {0}")]
    Random(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("wrong name or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {retry_after} seconds")]
    RateLimited { retry_after: i64 },
}

impl ErrorCode for UserError {
    fn error_code(&self) -> Code {
        match self {
            UserError::Store(e) => e.error_code(),
            UserError::BadName(_)
            | UserError::BadCountry(_)
            | UserError::ShortPassword
            | UserError::LongPassword => Code::InvalidArgument,
            UserError::NoSuchUser(_) => Code::NotFound,
            UserError::Random(_) | UserError::Hash(_) => Code::Internal,
            UserError::BadCredentials => Code::Unauthenticated,
            UserError::RateLimited { .. } => Code::RateLimited,
        }
    }
}

fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(UserError::BadName(name.to_owned()))
    }
}

fn check_country(country: &str) -> Result<String, UserError> {
    Country::parse(country)
        .filter(|c| c.alpha2().eq_ignore_ascii_case(country.trim()))
        .map(|c| c.alpha2().to_owned())
        .ok_or_else(|| UserError::BadCountry(country.to_owned()))
}

/// The Argon2id PHC string of a password (length checked).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(UserError::ShortPassword);
    }
    if n > MAX_PASSWORD {
        return Err(UserError::LongPassword);
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// The PHC string of a password nobody has, checked when a login names an
/// unknown user or a token-only account, so that such a login costs the same
/// Argon2 time as a wrong password (no user enumeration by timing).
static DECOY_PHC: std::sync::LazyLock<Option<String>> = std::sync::LazyLock::new(|| {
    let secret = random_bytes::<32>().ok()?;
    Argon2::default()
        .hash_password(&secret)
        .ok()
        .map(|h| h.to_string())
});

fn password_matches(phc: Option<&str>, password: &str) -> bool {
    match phc {
        Some(phc) => Argon2::default()
            .verify_password(password.as_bytes(), phc)
            .is_ok(),
        None => {
            if let Some(decoy) = DECOY_PHC.as_deref() {
                let _ = Argon2::default().verify_password(password.as_bytes(), decoy);
            }
            false
        }
    }
}

/// Creates a user (`password`: `None` for a token-only account).
pub async fn add_user<S: UserStore>(
    store: &S,
    name: &str,
    country: &str,
    role: Role,
    password: Option<&str>,
    now: &Timestamp,
) -> Result<UserRow, UserError> {
    check_name(name)?;
    let country = check_country(country)?;
    let password = password.map(hash_password).transpose()?;
    Ok(store
        .add_user(
            &NewUser {
                name: name.to_owned(),
                country,
                role,
                password,
            },
            now,
        )
        .await?)
}

/// Changes a user's role, country, password or enabled state.
pub async fn change_user<S: UserStore>(
    store: &S,
    name: &str,
    role: Option<Role>,
    country: Option<&str>,
    disabled: Option<bool>,
    password: Option<&str>,
    now: &Timestamp,
) -> Result<UserRow, UserError> {
    let change = UserChange {
        role,
        country: country.map(check_country).transpose()?,
        disabled,
        password: password.map(hash_password).transpose()?,
    };
    Ok(store.update_user(name, &change, now).await?)
}

fn random_bytes<const N: usize>() -> Result<[u8; N], UserError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| UserError::Random(e.to_string()))?;
    Ok(b)
}

/// The SHA-256 of a token or session: how the store knows it (the token
/// itself is never stored), and how a cache may key it.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A new API token for a user, valid for `expires_days` days (forever when
/// `None`). The token itself is returned once and never stored.
pub async fn new_token<S: UserStore>(
    store: &S,
    name: &str,
    expires_days: Option<u32>,
    now: &Timestamp,
) -> Result<(String, TokenRow), UserError> {
    let user = store
        .user(name)
        .await?
        .ok_or_else(|| UserError::NoSuchUser(name.to_owned()))?;
    let token = format!(
        "{TOKEN_PREFIX}{}",
        tiaki_types::hex::encode(&random_bytes::<32>()?)
    );
    let expires = expires_days.map(|d| Timestamp::from_unix(now.unix() + i64::from(d) * 86_400));
    let row = store
        .add_token(user.id, &token_digest(&token), expires.as_ref(), now)
        .await?;
    Ok((token, row))
}

/// Revokes one token (by id) or every token of a user; how many.
pub async fn revoke<S: UserStore>(
    store: &S,
    name: &str,
    token_id: Option<i64>,
    now: &Timestamp,
) -> Result<u64, UserError> {
    let user = store
        .user(name)
        .await?
        .ok_or_else(|| UserError::NoSuchUser(name.to_owned()))?;
    Ok(store.revoke_tokens(user.id, token_id, now).await?)
}

fn principal(u: &UserRow) -> Principal {
    Principal {
        user_id: u.id,
        name: u.name.clone(),
        role: u.role,
        country: u.country.clone(),
    }
}

/// What a bearer token grants: its caller, until when. Found by
/// [`token_grant`] for a token whose user is enabled and which is not
/// revoked; its expiry is checked at each use ([`TokenGrant::live_at`]), so
/// that a grant kept in a cache still expires on time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub principal: Principal,
    pub expires_at: Option<String>,
}

impl TokenGrant {
    /// Whether the token still answers at `now`.
    pub fn live_at(&self, now: &Timestamp) -> bool {
        self.expires_at.as_deref().is_none_or(|e| e > now.as_str())
    }
}

/// The grant of a well-formed token whose user is enabled and which is not
/// revoked (expired or not: see [`TokenGrant::live_at`]).
pub async fn token_grant<S: UserStore>(
    store: &S,
    token: &str,
) -> Result<Option<TokenGrant>, UserError> {
    if !token.starts_with(TOKEN_PREFIX) || token.len() != TOKEN_PREFIX.len() + 64 {
        return Ok(None);
    }
    let Some((user, row)) = store.token_user(&token_digest(token)).await? else {
        return Ok(None);
    };
    let live = !user.disabled && row.revoked_at.is_none();
    Ok(live.then(|| TokenGrant {
        principal: principal(&user),
        expires_at: row.expires_at,
    }))
}

/// The caller a bearer token stands for, if it still answers.
pub async fn authenticate_token<S: UserStore>(
    store: &S,
    token: &str,
    now: &Timestamp,
) -> Result<Option<Principal>, UserError> {
    Ok(token_grant(store, token)
        .await?
        .filter(|g| g.live_at(now))
        .map(|g| g.principal))
}

/// How long sessions live and how many failed logins are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends (OWASP ASVS 3.3.2: 30 minutes at L2).
    pub idle_seconds: i64,
    /// A session ends this long after login whatever its use (ASVS 3.3.2: 12 hours).
    pub absolute_seconds: i64,
    /// The window failed logins are counted in.
    pub failure_window_seconds: i64,
    /// Failed logins allowed per account name in the window.
    pub max_failures_per_name: u64,
    /// Failed logins allowed from one client address in the window.
    pub max_failures_per_addr: u64,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            idle_seconds: 30 * 60,
            absolute_seconds: 12 * 3600,
            failure_window_seconds: 15 * 60,
            max_failures_per_name: 5,
            max_failures_per_addr: 50,
        }
    }
}

/// A session made by a login: the cookie's value and the CSRF token, each
/// given to the browser once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub principal: Principal,
    pub expires_at: Timestamp,
}

/// Logs a user in with a password from a client address: a session, or
/// [`UserError::BadCredentials`] (unknown name, wrong password, disabled:
/// the caller cannot tell which), or [`UserError::RateLimited`] when the
/// account or the address failed too often in the window (checked before
/// the password, so guessing costs no Argon2 time on our side either).
pub async fn login<S: UserStore>(
    store: &S,
    name: &str,
    password: &str,
    addr: &str,
    now: &Timestamp,
    policy: &SessionPolicy,
) -> Result<NewSession, UserError> {
    let since = Timestamp::from_unix(now.unix() - policy.failure_window_seconds);
    let (by_name, by_addr) = store.login_failures(name, addr, &since).await?;
    if by_name >= policy.max_failures_per_name || by_addr >= policy.max_failures_per_addr {
        return Err(UserError::RateLimited {
            retry_after: policy.failure_window_seconds,
        });
    }
    let Some(principal) = authenticate_password(store, name, password).await? else {
        store.add_login_failure(name, addr, now, &since).await?;
        return Err(UserError::BadCredentials);
    };
    store.clear_login_failures(name).await?;
    let token = format!("{TOKEN_PREFIX}s{}", tiaki_types::hex::encode(&random_bytes::<32>()?));
    let csrf = tiaki_types::hex::encode(&random_bytes::<32>()?);
    let expires_at = Timestamp::from_unix(now.unix() + policy.absolute_seconds);
    store
        .add_session(principal.user_id, &token_digest(&token), &csrf, now, &expires_at)
        .await?;
    Ok(NewSession {
        token,
        csrf,
        principal,
        expires_at,
    })
}

/// The caller and CSRF token of a session cookie, if the session is live
/// (not past its absolute end, not idle too long, its user enabled); a live
/// session's idle timer starts again.
pub async fn authenticate_session<S: UserStore>(
    store: &S,
    token: &str,
    now: &Timestamp,
    policy: &SessionPolicy,
) -> Result<Option<(Principal, String)>, UserError> {
    if token.len() > 200 {
        return Ok(None);
    }
    let Some((user, session)) = store.session_user(&token_digest(token)).await? else {
        return Ok(None);
    };
    let idle_end = Timestamp::from_unix(
        Timestamp::parse(&session.last_seen_at)
            .map(|t| t.unix())
            .unwrap_or(0)
            + policy.idle_seconds,
    );
    let live = !user.disabled
        && now.as_str() < session.expires_at.as_str()
        && now.as_str() < idle_end.as_str();
    if !live {
        return Ok(None);
    }
    store.touch_session(session.id, now).await?;
    Ok(Some((principal(&user), session.csrf)))
}

/// Ends a session (logout); whether it existed.
pub async fn logout<S: UserStore>(store: &S, token: &str) -> Result<bool, UserError> {
    Ok(store.delete_session(&token_digest(token)).await?)
}

/// The caller a name and password stand for (`None` for an unknown user, a
/// wrong password or a disabled account: the caller cannot tell which).
pub async fn authenticate_password<S: UserStore>(
    store: &S,
    name: &str,
    password: &str,
) -> Result<Option<Principal>, UserError> {
    let user = store.user(name).await?;
    let phc = user.as_ref().and_then(|u| u.password.clone());
    let password = password.to_owned();
    // Argon2 takes tens of milliseconds of CPU: off the async workers.
    let ok = tokio::task::spawn_blocking(move || password_matches(phc.as_deref(), &password))
        .await
        .unwrap_or(false);
    Ok(user.filter(|u| ok && !u.disabled).map(|u| principal(&u)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify_and_decoy_never_matches() {
        let phc = hash_password("correct horse battery").unwrap_or_default();
        assert!(phc.starts_with("$argon2id$"));
        assert!(password_matches(Some(&phc), "correct horse battery"));
        assert!(!password_matches(Some(&phc), "wrong horse battery"));
        assert!(!password_matches(None, "correct horse battery"));
        assert!(matches!(hash_password("short"), Err(UserError::ShortPassword)));
    }

    #[test]
    fn names_and_countries_are_checked() {
        assert!(check_name("ana.liaison@nz").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert_eq!(check_country("nz").ok().as_deref(), Some("NZ"));
        assert!(check_country("UK").is_err());
        assert!(check_country("ZZ").is_err());
    }
}

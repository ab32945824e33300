//! Accounts with their person, links and attribution evidence (the
//! account's side of `tiaki persons`).

use axum::extract::State;
use tiaki_core::store::LinkStore;
use tiaki_core::store::persons::{AccountDetail, AccountFilter, AccountPage};
use tiaki_core::types::codes::ErrorAnswer;
use tiaki_core::types::country::Country;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

/// Filters and page of the account list.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Only the accounts of this intake.
    pub intake: Option<i64>,
    /// Only the members of this person (id `17` or label `P-17`).
    pub person: Option<String>,
    /// Only the accounts attributed to this country (ISO alpha-2).
    #[param(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    /// Accounts to skip (paging).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Accounts to answer, at most 1,000 (default 100).
    #[param(maximum = 1000)]
    pub limit: Option<u32>,
}

/// Accounts in id order, each with its person and attribution, with the
/// count of all the filter selects.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "persons", security(("bearer" = [])),
    params(AccountQuery),
    responses(
        (status = 200, body = AccountPage),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<AccountQuery>,
) -> ApiResult<Json<AccountPage>> {
    let limit = q.limit.unwrap_or(100);
    if limit > 1000 {
        return Err(ApiError::bad_request("limit is at most 1000"));
    }
    let offset = u64::try_from(q.offset.unwrap_or(0))
        .map_err(|_| ApiError::bad_request("offset is at least 0"))?;
    let country = q
        .country
        .map(|c| {
            Country::from_alpha2(&c.to_ascii_uppercase())
                .map(|c| c.alpha2().to_owned())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("country {c:?} is not an ISO 3166-1 alpha-2 code"))
                })
        })
        .transpose()?;
    let filter = AccountFilter {
        intake: q.intake,
        person: q.person,
        country,
    };
    let page = state
        .store
        .accounts(&filter, offset, limit)
        .await?;
    Ok(Json(page))
}

/// One account: its fields as the provider gave them, the person it is
/// linked into, its attribution with every piece of evidence and its
/// weight, and every link with its evidence and weight.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "persons", security(("bearer" = [])),
    params(("id" = i64, Path, description = "account id (`accounts.id`, as persons list their members)")),
    responses(
        (status = 200, body = AccountDetail),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AccountDetail>> {
    state
        .store
        .account(id)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

//! Intakes: the reports taken in, their counts and findings.

use axum::extract::State;
use tiaki_core::store::IntakeStore;
use tiaki_core::store::intake::{FindingRow, IntakeCounts, IntakeInfo};
use tiaki_core::types::codes::ErrorAnswer;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Every intake.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct IntakeList {
    pub intakes: Vec<IntakeInfo>,
}

/// One intake with its counts.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct IntakeDetail {
    #[serde(flatten)]
    pub intake: IntakeInfo,
    pub counts: IntakeCounts,
}

/// An intake's findings (problems found in its files and lines).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FindingList {
    pub findings: Vec<FindingRow>,
}

/// Every intake, oldest first.
#[utoipa::path(get, path = "/api/v1/intakes", tag = "intakes", security(("bearer" = [])),
    responses(
        (status = 200, body = IntakeList),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<IntakeList>> {
    Ok(Json(IntakeList {
        intakes: state.store.intakes().await?,
    }))
}

async fn intake(state: &AppState, id: i64) -> ApiResult<IntakeInfo> {
    state
        .store
        .intakes()
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(ApiError::not_found)
}

/// One intake and its counts.
#[utoipa::path(get, path = "/api/v1/intakes/{id}", tag = "intakes", security(("bearer" = [])),
    params(("id" = i64, Path, description = "intake id")),
    responses(
        (status = 200, body = IntakeDetail),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<IntakeDetail>> {
    let intake = intake(&state, id).await?;
    let counts = state.store.intake_counts(Some(id)).await?;
    Ok(Json(IntakeDetail { intake, counts }))
}

/// An intake's findings.
#[utoipa::path(get, path = "/api/v1/intakes/{id}/findings", tag = "intakes", security(("bearer" = [])),
    params(("id" = i64, Path, description = "intake id")),
    responses(
        (status = 200, body = FindingList),
        (status = 400, body = ErrorAnswer),
        (status = 401, body = ErrorAnswer),
        (status = 404, body = ErrorAnswer)))]
pub async fn findings(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<FindingList>> {
    intake(&state, id).await?;
    Ok(Json(FindingList {
        findings: state.store.findings(id).await?,
    }))
}

//! The routes of `/api/v1` and the service's own probes, one module per
//! area; [`api`] puts them together with their access rules.

use tiaki_core::access::Action;
use tiaki_core::types::access::Role;
use tiaki_core::types::codes::ErrorAnswer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::routes;

use crate::api::Api;
use crate::auth::Access;
use crate::state::AppState;

pub mod health;
pub mod intakes;
pub mod lists;
pub mod me;
pub mod persons;
pub mod referrals;
pub mod stats;
pub mod threads;
pub mod users;

/// An action's name in the document's `x-tiaki-access`.
pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::ReadIntakes => "read_intakes",
        Action::ReadPersons => "read_persons",
        Action::ReadReferrals => "read_referrals",
        Action::ChangeReferrals => "change_referrals",
        Action::ReportOutcomes => "report_outcomes",
        Action::PostThreads => "post_threads",
        Action::ReadStats => "read_stats",
        Action::ReadLists => "read_lists",
        Action::ChangeLists => "change_lists",
        Action::Match => "match",
        Action::ManageUsers => "manage_users",
        Action::ReadAudit => "read_audit",
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tiaki",
        description = "The multi-agency API of Tiaki. Every route needs `Authorization: Bearer <token>` \
            except those marked `x-tiaki-access: public`. A route or object outside the caller's \
            role or country answers 404, the same as one that does not exist. Every error is \
            `{\"message\", \"code\", \"type\"}` with the status of its code.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorAnswer, Role))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The service's routes on `state`, with their access rules.
pub fn api(state: AppState) -> Api {
    use Action as A;
    Api::new(state, ApiDoc::openapi())
        .add(Access::Public, routes!(health::healthz))
        .add(Access::Public, routes!(health::readyz))
        .add(Access::Authenticated, routes!(me::me))
        .add(Access::Action(A::ReadReferrals), routes!(referrals::list))
        .add(Access::Action(A::ReadReferrals), routes!(referrals::show))
        .add(Access::Action(A::ReadReferrals), routes!(referrals::package))
        .add(Access::Action(A::ChangeReferrals), routes!(referrals::set_state))
        .add(Access::Action(A::ReportOutcomes), routes!(referrals::report_outcome))
        .add(Access::Action(A::ReadReferrals), routes!(threads::show))
        .add(Access::Action(A::PostThreads), routes!(threads::post))
        .add(Access::Action(A::ReadReferrals), routes!(threads::mark_read))
        .add(Access::Action(A::ReadReferrals), routes!(threads::download))
        .add(Access::Action(A::ReadStats), routes!(stats::stats))
        .add(Access::Action(A::ReadIntakes), routes!(intakes::list))
        .add(Access::Action(A::ReadIntakes), routes!(intakes::show))
        .add(Access::Action(A::ReadIntakes), routes!(intakes::findings))
        .add(Access::Action(A::ReadPersons), routes!(persons::list))
        .add(Access::Action(A::ReadPersons), routes!(persons::show))
        .add(Access::Action(A::ReadLists), routes!(lists::list))
        .add(Access::Action(A::ChangeLists), routes!(lists::set_enabled))
        .add(Access::Action(A::ManageUsers), routes!(users::list))
        .add(Access::Action(A::ManageUsers), routes!(users::create))
        .add(Access::Action(A::ManageUsers), routes!(users::change))
}

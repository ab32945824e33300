//! The routes of `/api/v1` and the service's own probes, one module per
//! area; [`api`] puts them together with their access rules.

use tiaki_core::access::Action;
use tiaki_core::types::access::Role;
use tiaki_core::types::codes::ErrorAnswer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::routes;

use crate::api::Api;
use crate::hma;
use crate::auth::Access;
use crate::state::AppState;

pub mod accounts;
pub mod audit;
pub mod health;
pub mod intakes;
pub mod lists;
pub mod me;
pub mod media;
pub mod metrics;
pub mod persons;
pub mod referrals;
pub mod session;
pub mod stats;
pub mod threads;
pub mod triage;
pub mod users;
pub mod vid;

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
        Action::ReadMetrics => "read_metrics",
        Action::ReadVid => "read_vid",
        Action::ChangeVid => "change_vid",
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
    use tiaki_core::types::audit::AuditAction as Audit;
    Api::new(state, ApiDoc::openapi())
        .add(Access::Public, routes!(health::healthz))
        .add(Access::Public, routes!(health::readyz))
        .add(Access::Action(A::ReadMetrics), routes!(metrics::metrics))
        .audited(Access::Action(A::ReadAudit), Audit::AuditViewed, routes!(audit::list))
        .add(Access::Authenticated, routes!(me::me))
        .add(Access::Public, routes!(session::login))
        .audited(Access::Authenticated, Audit::Logout, routes!(session::logout))
        .add(Access::Action(A::ReadReferrals), routes!(referrals::list))
        .add(Access::Action(A::ReadReferrals), routes!(referrals::show))
        .audited(Access::Action(A::ReadReferrals), Audit::ReferralDownloaded, routes!(referrals::package))
        .audited(Access::Action(A::ChangeReferrals), Audit::ReferralStateChanged, routes!(referrals::set_state))
        .audited(Access::Action(A::ReportOutcomes), Audit::OutcomeReported, routes!(referrals::report_outcome))
        .add(Access::Action(A::ReadReferrals), routes!(threads::show))
        .audited(Access::Action(A::PostThreads), Audit::ThreadMessagePosted, routes!(threads::post))
        .add(Access::Action(A::ReadReferrals), routes!(threads::mark_read))
        .audited(Access::Action(A::ReadReferrals), Audit::ThreadAttachmentDownloaded, routes!(threads::download))
        .add(Access::Action(A::ReadStats), routes!(stats::stats))
        .add(Access::Action(A::ReadIntakes), routes!(intakes::list))
        .add(Access::Action(A::ReadIntakes), routes!(intakes::show))
        .add(Access::Action(A::ReadIntakes), routes!(intakes::findings))
        .add(Access::Action(A::ReadIntakes), routes!(triage::queue))
        .audited(Access::Action(A::ReadIntakes), Audit::MediaViewed, routes!(media::show))
        .add(Access::Action(A::ReadPersons), routes!(persons::list))
        .add(Access::Action(A::ReadPersons), routes!(persons::show))
        .add(Access::Action(A::ReadPersons), routes!(accounts::list))
        .add(Access::Action(A::ReadPersons), routes!(accounts::show))
        .add(Access::Action(A::ReadLists), routes!(lists::list))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(lists::set_enabled))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(lists::import))
        .add(Access::Action(A::ManageUsers), routes!(users::list))
        .audited(Access::Action(A::ManageUsers), Audit::UserAdded, routes!(users::create))
        .audited(Access::Action(A::ManageUsers), Audit::UserChanged, routes!(users::change))
        .add(Access::Action(A::ReadVid), routes!(vid::series_list))
        .add(Access::Action(A::ReadVid), routes!(vid::series_show))
        .audited(Access::Action(A::ChangeVid), Audit::VidSeriesAdded, routes!(vid::series_add))
        .add(Access::Action(A::ReadVid), routes!(vid::victims))
        .audited(Access::Action(A::ChangeVid), Audit::VidVictimAdded, routes!(vid::victim_add))
        .audited(Access::Action(A::ChangeVid), Audit::VidVictimChanged, routes!(vid::victim_set))
        .add(Access::Action(A::ReadVid), routes!(vid::offenders))
        .audited(Access::Action(A::ChangeVid), Audit::VidOffenderAdded, routes!(vid::offender_add))
        .audited(Access::Action(A::ChangeVid), Audit::VidOffenderChanged, routes!(vid::offender_set))
        .audited(Access::Action(A::ChangeVid), Audit::VidMediaAdded, routes!(vid::media_add))
        .add(Access::Action(A::ReadVid), routes!(vid::search_hash))
        .add(Access::Action(A::ReadVid), routes!(vid::search_upload))
        .add(Access::Action(A::Match), routes!(hma::lookup_get))
        .add(Access::Action(A::Match), routes!(hma::lookup_post))
        .add(Access::Action(A::Match), routes!(hma::raw_lookup))
        .add(Access::Action(A::Match), routes!(hma::compare))
        .add(Access::Action(A::Match), routes!(hma::index_status))
        .add(Access::Action(A::Match), routes!(hma::hash_file))
        .add(Access::Action(A::Match), routes!(hma::status))
        .add(Access::Action(A::ChangeLists), routes!(hma::banks_list))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::bank_create))
        .add(Access::Action(A::ChangeLists), routes!(hma::bank_get))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::bank_update))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::bank_delete))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::bank_add_signal))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::bank_add_content))
        .add(Access::Action(A::ChangeLists), routes!(hma::content_get))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::content_update))
        .audited(Access::Action(A::ChangeLists), Audit::ListChanged, routes!(hma::content_delete))
}

//! The router: every route with its access rule and its OpenAPI operation.
//!
//! Routes are added only through [`Api::add`], which wraps the handler in
//! [`authorize`] with the route's [`Access`] and writes the rule into the
//! operation as `x-tiaki-access`, so the served document says who may call
//! each route and the access-control test (tests/server/access.rs) can
//! enumerate them all: an operation without the extension fails it.

use axum::Router;
use axum::middleware::from_fn_with_state;
use utoipa::openapi::OpenApi;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::auth::{Access, authorize};
use crate::state::AppState;

/// The name of the OpenAPI operation extension holding a route's rule.
pub const ACCESS_EXTENSION: &str = "x-tiaki-access";

/// How a rule is written in the document: `public`, `authenticated`, or
/// the action's name (`read_referrals`).
pub fn access_name(a: Access) -> String {
    match a {
        Access::Public => "public".into(),
        Access::Authenticated => "authenticated".into(),
        Access::Action(a) => crate::routes::action_name(a).into(),
    }
}

/// The router being built.
pub struct Api {
    state: AppState,
    router: OpenApiRouter<AppState>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The error answers any operation can give, added to each where its own
/// annotation does not describe them: every route's document lists every
/// status it can answer, each with the error body.
fn document_errors(op: &mut Operation, access: Access) {
    let mut statuses: Vec<(&str, &str)> = vec![
        ("400", "a parameter or the body is malformed"),
        ("404", "not found, or outside the caller's role or country"),
        ("413", "the request body is larger than the limit"),
        ("500", "the server failed; the detail is in its log"),
        ("503", "the store is unavailable, or the request took too long"),
    ];
    if access != Access::Public {
        statuses.push(("401", "no valid token or session"));
        statuses.push(("403", "a browser session's state change without its CSRF token"));
    }
    if op.request_body.is_some() {
        statuses.push(("415", "the body is not of the documented content type"));
        statuses.push(("422", "the body has a wrong type, a missing or an unknown field"));
    }
    for (status, why) in statuses {
        op.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            ResponseBuilder::new()
                .description(why)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorAnswer")))
                        .build(),
                )
                .build()
                .into()
        });
    }
}

impl Api {
    pub fn new(state: AppState, doc: OpenApi) -> Api {
        Api {
            state,
            router: OpenApiRouter::with_openapi(doc),
        }
    }

    /// Adds the handlers of `routes` (one `utoipa_axum::routes!`) under
    /// `access`.
    pub fn add(mut self, access: Access, routes: UtoipaMethodRouter<AppState>) -> Api {
        let (schemas, mut paths, method_router) = routes;
        for item in paths.paths.values_mut() {
            for op in operations(item) {
                let ext = ExtensionsBuilder::new()
                    .add(ACCESS_EXTENSION, access_name(access))
                    .build();
                match &mut op.extensions {
                    Some(e) => e.merge(ext),
                    None => op.extensions = Some(ext),
                }
                document_errors(op, access);
            }
        }
        let method_router = match access {
            Access::Public => method_router,
            _ => method_router.route_layer(from_fn_with_state(
                (self.state.clone(), access),
                authorize,
            )),
        };
        self.router = self.router.routes((schemas, paths, method_router));
        self
    }

    /// Adds routes whose every call is recorded in the audit log as
    /// `action` (after the handler, with the status), under `access`.
    pub fn audited(
        self,
        access: Access,
        action: tiaki_core::types::audit::AuditAction,
        routes: UtoipaMethodRouter<AppState>,
    ) -> Api {
        let (schemas, paths, method_router) = routes;
        let method_router = method_router.route_layer(from_fn_with_state(
            (self.state.clone(), action),
            crate::audit::audited,
        ));
        self.add(access, (schemas, paths, method_router))
    }

    /// The router (its state applied) and the OpenAPI document.
    pub fn finish(self) -> (Router, OpenApi) {
        let (router, doc) = self.router.split_for_parts();
        (router.with_state(self.state), doc)
    }
}

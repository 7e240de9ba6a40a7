//! The HTTP front: the accept loop, and around every request the fault rules, the log, the
//! admin surface (`/_fake/...`) and GitHub's common response headers.
//!
//! hyper is driven directly (not `axum::serve`) because `DropAfterEffect` must close a
//! connection without any response, which hyper does when the service returns an error.
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower::ServiceExt;

use crate::app::{App, LoggedRequest};
use crate::error::ApiError;
use crate::faults::{Fault, FaultKind, FaultSpec};
use crate::routes;

/// The error that makes hyper drop a connection without answering.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: connection dropped after the effect")
    }
}

impl std::error::Error for DropConnection {}

/// Serves until `shutdown` fires (or its sender is dropped).
pub(crate) async fn serve(listener: TcpListener, app: App, mut shutdown: oneshot::Receiver<()>) {
    let router = routes::router(app.clone());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = &mut shutdown => return,
        };
        let app = app.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                handle(app.clone(), router.clone(), request)
            });
            // A connection error (including our own DropConnection) just ends the connection.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    app: App,
    router: Router,
    request: Request<Incoming>,
) -> Result<Response, DropConnection> {
    let (parts, body) = request.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    let path = parts.uri.path().to_owned();
    if path.starts_with("/_fake/") {
        return Ok(admin(&app, &parts.method, &path, &bytes));
    }
    let logged_path = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.clone(),
    };
    let mut entry = LoggedRequest {
        method: parts.method.to_string(),
        path: logged_path,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        status: 0,
    };
    let fault = app.faults().take(parts.method.as_str(), &path);
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = match fault {
        None => route(&router, request).await,
        Some(FaultKind::Latency(delay)) => {
            tokio::time::sleep(delay).await;
            route(&router, request).await
        }
        Some(FaultKind::Status(status)) => error_status(status).into_response(),
        Some(FaultKind::RateLimited {
            status,
            retry_after_secs,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
            ApiError::rate_limited(status, retry_after_secs).into_response()
        }
        Some(FaultKind::DropAfterEffect) => {
            route(&router, request).await;
            app.log().push(entry);
            return Err(DropConnection);
        }
        Some(FaultKind::StatusAfterEffect(status)) => {
            route(&router, request).await;
            error_status(status).into_response()
        }
    };
    entry.status = response.status().as_u16();
    app.log().push(entry);
    Ok(with_github_headers(&app, response))
}

async fn route(router: &Router, request: Request<Body>) -> Response {
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn error_status(status: u16) -> ApiError {
    ApiError::server(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Adds what every api.github.com response carries.
fn with_github_headers(app: &App, mut response: Response) -> Response {
    let sequence = app.next_request();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let headers: &mut HeaderMap = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(
        header::CONTENT_TYPE.as_str(),
        "application/json; charset=utf-8".into(),
    );
    set(
        "x-github-request-id",
        format!("FAKE:{sequence:05X}:{sequence:07X}:{sequence:07X}:{now:08X}"),
    );
    set("x-github-media-type", "github.v3; format=json".into());
    set("x-github-api-version-selected", "2022-11-28".into());
    set("x-ratelimit-limit", "5000".into());
    set(
        "x-ratelimit-remaining",
        5000u64.saturating_sub(sequence).to_string(),
    );
    set("x-ratelimit-reset", (now - now % 3600 + 3600).to_string());
    set("x-ratelimit-used", sequence.min(5000).to_string());
    set("x-ratelimit-resource", "core".into());
    response
}

/// `POST /_fake/faults` (a fault as JSON), `DELETE /_fake/faults`, `GET /_fake/requests`,
/// `GET /_fake/problems` (strict mode's problems, kept).
/// No token needed, nothing logged.
fn admin(app: &App, method: &Method, path: &str, body: &Bytes) -> Response {
    let reply = |status: StatusCode, body: String| {
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    };
    match (method.as_str(), path) {
        ("POST", "/_fake/faults") => match serde_json::from_slice::<FaultSpec>(body) {
            Ok(spec) => {
                let optional = spec.optional;
                app.faults().push(Fault::from(spec), optional);
                reply(StatusCode::CREATED, "{}".into())
            }
            Err(e) => reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({ "message": e.to_string() }).to_string(),
            ),
        },
        ("DELETE", "/_fake/faults") => {
            app.faults().clear();
            reply(StatusCode::OK, "{}".into())
        }
        ("GET", "/_fake/requests") => {
            let log = serde_json::to_string(&*app.log()).unwrap_or_default();
            reply(StatusCode::OK, log)
        }
        ("GET", "/_fake/problems") => {
            let problems = serde_json::to_string(&app.problems(false)).unwrap_or_default();
            reply(StatusCode::OK, problems)
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#.into()),
    }
}

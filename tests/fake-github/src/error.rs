//! GitHub's error responses: `{"message", "errors"?, "documentation_url", "status"}`.
//!
//! Every failure a route or a fault produces goes through `ApiError`, so all error bodies
//! have GitHub's shape (basic-error / validation-error in the OpenAPI description).
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// GitHub's catch-all documentation link.
pub(crate) const REST_DOCS: &str = "https://docs.github.com/rest";

/// One entry of a 422's `errors` array.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FieldError {
    resource: &'static str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl FieldError {
    /// `{"resource", "code", "field"}`, e.g. `Release` / `already_exists` / `tag_name`.
    pub(crate) fn field(resource: &'static str, code: &'static str, field: &'static str) -> Self {
        FieldError {
            resource,
            code,
            field: Some(field),
            message: None,
        }
    }

    /// `{"resource", "code": "custom", "message"}`, e.g. a duplicate pull request.
    pub(crate) fn custom(resource: &'static str, message: String) -> Self {
        FieldError {
            resource,
            code: "custom",
            field: None,
            message: Some(message),
        }
    }

    /// `{"resource", "code": "invalid", "message"}` for a body field of the wrong type.
    pub(crate) fn invalid(resource: &'static str, message: String) -> Self {
        FieldError {
            resource,
            code: "invalid",
            field: None,
            message: Some(message),
        }
    }
}

/// An error response.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    errors: Vec<FieldError>,
    documentation_url: &'static str,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [FieldError],
    documentation_url: &'a str,
    status: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>, doc: &'static str) -> Self {
        ApiError {
            status,
            message: message.into(),
            errors: Vec::new(),
            documentation_url: doc,
            retry_after: None,
        }
    }

    /// 404 `Not Found`.
    pub(crate) fn not_found(doc: &'static str) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found", doc)
    }

    /// 501 for a route the fake does not implement, naming it (`GET /repos/o/r/x`).
    pub(crate) fn not_implemented(route: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "fake-github does not implement {route}: add the route to the fake, or fix the \
                 path the client sent"
            ),
            REST_DOCS,
        )
    }

    /// 401 `Bad credentials`.
    pub(crate) fn bad_credentials() -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials", REST_DOCS)
    }

    /// 403 for a write with a read-only token (a fork's `GITHUB_TOKEN`).
    pub(crate) fn not_accessible(doc: &'static str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
            doc,
        )
    }

    /// 400 for a body that is not JSON.
    pub(crate) fn bad_json(doc: &'static str) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "Problems parsing JSON", doc)
    }

    /// 422 `Validation Failed` with an `errors` array.
    pub(crate) fn validation(doc: &'static str, errors: Vec<FieldError>) -> Self {
        ApiError {
            errors,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed", doc)
        }
    }

    /// 422 with a bare message, e.g. `Reference already exists`.
    pub(crate) fn unprocessable(doc: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message, doc)
    }

    /// A 5xx as GitHub's front end answers it.
    pub(crate) fn server(status: StatusCode) -> Self {
        let message = match status.as_u16() {
            503 => "Service Unavailable",
            504 => "We couldn't respond to your request in time. Sorry about that.",
            _ => "Server Error",
        };
        ApiError::new(status, message, REST_DOCS)
    }

    /// A failure inside the fake (a git error): 500, with the cause in the message.
    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Server Error: {cause}"),
            REST_DOCS,
        )
    }

    /// GitHub's secondary rate limit (403 or 429) with `Retry-After`.
    pub(crate) fn rate_limited(status: StatusCode, retry_after_secs: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after_secs),
            ..ApiError::new(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you \
                 try again. If you reach out to GitHub Support for help, please include the \
                 request ID.",
                "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            message: &self.message,
            errors: &self.errors,
            documentation_url: self.documentation_url,
            status: self.status.as_u16().to_string(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, Body::from(bytes)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(error: ApiError) -> serde_json::Value {
        let bytes = error.into_response().into_body().collect().await.unwrap();
        serde_json::from_slice(&bytes.to_bytes()).unwrap()
    }

    #[tokio::test]
    async fn a_validation_error_has_githubs_shape() {
        let errors = vec![FieldError::field("Release", "already_exists", "tag_name")];
        let body = body_of(ApiError::validation(REST_DOCS, errors)).await;
        assert_eq!(
            body,
            serde_json::json!({
                "message": "Validation Failed",
                "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}],
                "documentation_url": REST_DOCS,
                "status": "422",
            })
        );
    }

    #[tokio::test]
    async fn a_plain_error_has_no_errors_array() {
        let body = body_of(ApiError::bad_credentials()).await;
        assert_eq!(body["message"], "Bad credentials");
        assert!(body.get("errors").is_none());
    }
}

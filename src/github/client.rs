//! The octocrab implementation of the GitHub port.
//!
//! One [`GitHubClient`] wraps an `Octocrab` built for one base URL and token (never the global
//! instance), with octocrab's own retry compiled out: every request goes through
//! [`GitHubClient::request`], which owns retries (see [`super::retry`]). Responses are read raw
//! (status, headers, body) so that `Retry-After` and the rate-limit headers are seen, then
//! decoded into shipgate's types. Writes that fail ambiguously are settled by reading back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, Uri};
use octocrab::Octocrab;
use octocrab::secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;
use ssh_key::rand_core::{OsRng, RngCore};

use super::error::GitHubError;
use super::retry::{Disposition, RetryPolicy, RetryReport, classify};
use super::types::{WireErrorBody, Written};
use crate::model::RepoSlug;

/// The public GitHub API.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// Tries of one write, each only after reading back showed the previous one did not act.
const WRITE_ATTEMPTS: u32 = 3;

/// Comments of a pull request read at most (30 pages of 100), far more than a real pull
/// request holds: beyond that it is refused (`TOO_MANY_COMMENTS`), never judged half-read.
pub const MAX_COMMENTS: usize = 3_000;

/// Commits of a pull request GitHub lists at most (`GET .../pulls/{n}/commits`).
pub const MAX_PULL_COMMITS: usize = 250;

/// Where and as whom to reach GitHub.
pub struct GitHubConfig {
    /// The API base URL (`GITHUB_API_URL`).
    pub api_url: String,
    /// The token (`GITHUB_TOKEN`).
    pub token: SecretString,
    /// The repository.
    pub repo: RepoSlug,
    /// Retry behaviour.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api_url", &self.api_url)
            .field("token", &"<redacted>")
            .field("repo", &self.repo)
            .finish()
    }
}

/// A response as it came off the wire.
struct Raw {
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// Why a request failed: definitely, or in a way that leaves a write's effect unknown.
pub(super) enum Failure {
    Definite(GitHubError),
    Ambiguous(String),
}

/// The GitHub port over octocrab.
pub struct GitHubClient {
    octocrab: Octocrab,
    base: Uri,
    repo: RepoSlug,
    policy: RetryPolicy,
    report: Mutex<RetryReport>,
    sent: AtomicUsize,
}

impl std::fmt::Debug for GitHubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubClient")
            .field("base", &self.base)
            .field("repo", &self.repo)
            .finish()
    }
}

impl GitHubClient {
    /// Builds the client. Call it inside the tokio runtime (IO and time enabled) that will drive
    /// its requests: octocrab spawns its connection worker there.
    pub fn new(config: GitHubConfig) -> Result<Self, GitHubError> {
        let base: Uri = config
            .api_url
            .trim_end_matches('/')
            .parse()
            .ok()
            .filter(|u: &Uri| u.scheme().is_some() && u.authority().is_some())
            .ok_or_else(|| {
                GitHubError::Config(format!(
                    "GITHUB_API_URL `{}` is not an absolute http(s) URL",
                    config.api_url
                ))
            })?;
        let octocrab = Octocrab::builder()
            .base_uri(base.clone())
            .map_err(|e| GitHubError::Config(format!("GITHUB_API_URL: {e}")))?
            .personal_token(config.token)
            .set_connect_timeout(Some(config.retry.request_timeout))
            .set_read_timeout(Some(config.retry.request_timeout))
            .build()
            .map_err(|e| GitHubError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            octocrab,
            base,
            repo: config.repo,
            policy: config.retry,
            report: Mutex::new(RetryReport::default()),
            sent: AtomicUsize::new(0),
        })
    }

    /// The repository this client speaks for.
    pub fn repo(&self) -> &RepoSlug {
        &self.repo
    }

    /// Requests sent so far, retries included.
    pub fn requests_sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// What the client has waited for so far.
    pub fn retry_report(&self) -> RetryReport {
        *self.report.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}{rest}", self.repo)
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Raw, String> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let exchange = async {
            let response = match *method {
                Method::POST => self.octocrab._post(path, body).await,
                Method::PATCH => self.octocrab._patch(path, body).await,
                _ => self.octocrab._get(path).await,
            }
            .map_err(|e| format!("request failed: {e}"))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(|e| format!("reading the response failed: {e}"))?;
            Ok(Raw {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(self.policy.request_timeout, exchange)
            .await
            .map_err(|_| {
                format!(
                    "no response within {} s",
                    self.policy.request_timeout.as_secs()
                )
            })?
    }

    /// Takes `wait` out of the budget; false when the budget cannot afford it.
    fn spend(&self, wait: Duration, rate_limited: bool) -> bool {
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        if report.waited + wait > self.policy.max_total_wait {
            return false;
        }
        report.waited += wait;
        if rate_limited {
            report.rate_limited += 1;
        } else {
            report.retries += 1;
        }
        true
    }

    /// Sends one request, retrying what is safe: rate limits always (GitHub did not act), and
    /// 5xx or transport failures of reads. A write's 5xx or transport failure comes back as
    /// [`Failure::Ambiguous`] for the caller to settle by reading back.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Raw, Failure> {
        let is_write = method != Method::GET;
        let mut failures = 0u32;
        loop {
            let detail = match self.send_once(&method, path, body).await {
                Ok(raw) => match classify(raw.status, &raw.headers, unix_now()) {
                    Disposition::Success => return Ok(raw),
                    Disposition::ClientError => {
                        return Err(Failure::Definite(status_error(&raw, what)));
                    }
                    Disposition::RateLimited(wait) => {
                        if !self.spend(wait, true) {
                            return Err(Failure::Definite(GitHubError::RateLimited {
                                what: what.to_owned(),
                                retry_after: Some(wait),
                            }));
                        }
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Disposition::ServerError => format!("HTTP {}", raw.status),
                },
                Err(transport) => transport,
            };
            if is_write {
                return Err(Failure::Ambiguous(detail));
            }
            failures += 1;
            let unavailable = || {
                Failure::Definite(GitHubError::Unavailable {
                    what: what.to_owned(),
                    detail: format!("{detail} (after {failures} tries)"),
                })
            };
            if failures >= self.policy.read_attempts {
                return Err(unavailable());
            }
            let wait = self.policy.backoff(failures - 1, OsRng.next_u64());
            if !self.spend(wait, false) {
                return Err(unavailable());
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// A GET decoded as `T`; `None` on 404.
    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &str,
    ) -> Result<Option<T>, GitHubError> {
        match self.request(Method::GET, path, None, what).await {
            Ok(raw) => decode(&raw.body, what).map(Some),
            Err(Failure::Definite(GitHubError::NotFound { .. })) => Ok(None),
            Err(Failure::Definite(e)) => Err(e),
            Err(Failure::Ambiguous(detail)) => Err(GitHubError::Unavailable {
                what: what.to_owned(),
                detail,
            }),
        }
    }

    /// A write decoded as `T`.
    pub(super) async fn write_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        what: &str,
    ) -> Result<T, Failure> {
        let raw = self.request(method, path, Some(body), what).await?;
        decode(&raw.body, what).map_err(Failure::Definite)
    }

    /// A write whose repetition cannot duplicate anything (setting a body, a reaction GitHub
    /// keeps once per person): repeated once after an ambiguous failure.
    pub(super) async fn write_idempotent(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        what: &str,
    ) -> Result<(), GitHubError> {
        for _attempt in 0..2 {
            match self
                .write_json::<Value>(method.clone(), path, body, what)
                .await
            {
                Ok(_) => return Ok(()),
                Err(Failure::Definite(e)) => return Err(e),
                Err(Failure::Ambiguous(_)) => continue,
            }
        }
        Err(GitHubError::Ambiguous {
            what: what.to_owned(),
            detail: "two attempts failed without an answer".to_owned(),
        })
    }

    /// A POST that GitHub answers with no body (`204 No Content`), sent at most `attempts`
    /// times: only for writes whose repetition is harmless to the caller.
    pub(super) async fn post_no_content(
        &self,
        path: &str,
        body: &Value,
        what: &str,
        attempts: u32,
    ) -> Result<(), GitHubError> {
        let mut last = String::new();
        for _attempt in 0..attempts {
            match self.request(Method::POST, path, Some(body), what).await {
                Ok(_) => return Ok(()),
                Err(Failure::Definite(e)) => return Err(e),
                Err(Failure::Ambiguous(detail)) => last = detail,
            }
        }
        Err(GitHubError::Ambiguous {
            what: what.to_owned(),
            detail: last,
        })
    }

    /// Performs a write at most once per attempt and never blindly: after an ambiguous failure
    /// (or an "already exists" that follows one) it reads the world back. An effect found as
    /// requested is success (`recovered`); one found different is a conflict; one not found is
    /// attempted again (up to [`WRITE_ATTEMPTS`] in all), since reading back showed the
    /// attempt before did not act.
    pub(super) async fn write_settled<T>(
        &self,
        what: &str,
        send: impl AsyncFn() -> Result<T, Failure>,
        read_back: impl AsyncFn() -> Result<Option<T>, GitHubError>,
        as_requested: impl Fn(&T) -> bool,
    ) -> Result<Written<T>, GitHubError> {
        let mut ambiguity: Option<String> = None;
        for _attempt in 0..WRITE_ATTEMPTS {
            let detail = match send().await {
                Ok(value) => {
                    return Ok(Written {
                        value,
                        recovered: false,
                    });
                }
                Err(Failure::Ambiguous(detail)) => detail,
                Err(Failure::Definite(e @ GitHubError::AlreadyExists { .. }))
                    if ambiguity.is_some() =>
                {
                    e.to_string()
                }
                Err(Failure::Definite(e)) => return Err(e),
            };
            match read_back().await {
                Ok(Some(value)) if as_requested(&value) => {
                    return Ok(Written {
                        value,
                        recovered: true,
                    });
                }
                Ok(Some(_)) => {
                    return Err(GitHubError::AlreadyExists {
                        what: what.to_owned(),
                        message: format!(
                            "after `{detail}`, the read-back found it existing differently from the request"
                        ),
                    });
                }
                Ok(None) => ambiguity = Some(detail),
                Err(e) => {
                    return Err(GitHubError::Ambiguous {
                        what: what.to_owned(),
                        detail: format!("{detail}; the read-back failed too: {e}"),
                    });
                }
            }
        }
        Err(GitHubError::Ambiguous {
            what: what.to_owned(),
            detail: ambiguity.unwrap_or_default(),
        })
    }
}

impl GitHubClient {
    /// Every page of a list from `first` on, following `Link: rel="next"` on the API host.
    /// More than `limit` items come back as `Err(items read)`: the caller refuses, never judges
    /// on part of a list.
    pub(super) async fn read_pages<T: DeserializeOwned>(
        &self,
        first: String,
        what: &str,
        limit: usize,
    ) -> Result<Result<Vec<T>, usize>, GitHubError> {
        let mut path = Some(first);
        let mut items: Vec<T> = Vec::new();
        while let Some(current) = path.take() {
            let raw = match self.request(Method::GET, &current, None, what).await {
                Ok(raw) => raw,
                Err(Failure::Definite(e)) => return Err(e),
                Err(Failure::Ambiguous(detail)) => {
                    return Err(GitHubError::Unavailable {
                        what: what.to_owned(),
                        detail,
                    });
                }
            };
            let page: Vec<T> = decode(&raw.body, what)?;
            items.extend(page);
            if items.len() > limit {
                return Ok(Err(items.len()));
            }
            path =
                next_page(&raw.headers, &self.base).map_err(|detail| GitHubError::BadResponse {
                    what: what.to_owned(),
                    detail,
                })?;
        }
        Ok(Ok(items))
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn decode<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, GitHubError> {
    serde_json::from_str(body).map_err(|e| GitHubError::BadResponse {
        what: what.to_owned(),
        detail: format!("unexpected JSON: {e}"),
    })
}

/// Maps a final 4xx to its typed error.
fn status_error(raw: &Raw, what: &str) -> GitHubError {
    let parsed: Option<WireErrorBody> = serde_json::from_str(&raw.body).ok();
    let (message, errors) = parsed
        .map(|b| (b.message, b.errors))
        .unwrap_or_else(|| (format!("HTTP {}", raw.status), Vec::new()));
    let what = what.to_owned();
    let already_exists = errors
        .iter()
        .any(|e| e.get("code").and_then(Value::as_str) == Some("already_exists"))
        // Creating a ref that exists answers with this message and no `errors` array.
        || message == "Reference already exists";
    match raw.status {
        401 => GitHubError::Unauthorized { what, message },
        403 => GitHubError::Forbidden { what, message },
        404 => GitHubError::NotFound { what },
        422 if already_exists => GitHubError::AlreadyExists { what, message },
        status => {
            let details: Vec<String> = errors
                .iter()
                .map(|e| {
                    e.get("message")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| e.to_string())
                })
                .collect();
            let message = if details.is_empty() {
                message
            } else {
                format!("{message} ({})", details.join("; "))
            };
            GitHubError::Rejected {
                what,
                status,
                message,
            }
        }
    }
}

/// Percent-encodes a path segment that may contain `/` (a ref name), keeping the slashes.
pub(super) fn encode_path(text: &str) -> String {
    text.split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(super) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `rel="next"` target of a `Link` header, as a path and query on the same host.
fn next_page(headers: &HeaderMap, base: &Uri) -> Result<Option<String>, String> {
    let Some(link) = headers.get("link").and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    for part in link.split(',') {
        let mut pieces = part.split(';');
        let target = pieces.next().unwrap_or_default().trim();
        if !pieces.any(|p| p.trim() == "rel=\"next\"") {
            continue;
        }
        let url = target
            .strip_prefix('<')
            .and_then(|t| t.strip_suffix('>'))
            .ok_or_else(|| format!("malformed Link header `{link}`"))?;
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("malformed next-page URL `{url}`"))?;
        if uri.authority().is_some() && uri.authority() != base.authority() {
            return Err(format!("next-page URL `{url}` leaves {base}"));
        }
        return Ok(uri.path_and_query().map(|pq| pq.as_str().to_owned()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_are_encoded_but_keep_their_slashes() {
        assert_eq!(encode_path("tags/v1.0"), "tags/v1.0");
        assert_eq!(
            encode_path("heads/feat#1/a b&c"),
            "heads/feat%231/a%20b%26c"
        );
        assert_eq!(encode_component("acme:rel/1"), "acme%3Arel%2F1");
    }

    #[test]
    fn the_next_page_stays_on_the_api_host() {
        let base: Uri = "http://127.0.0.1:4000".parse().expect("uri");
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            "<http://127.0.0.1:4000/repos/a/b/issues/1/comments?page=2>; rel=\"next\", <http://127.0.0.1:4000/repos/a/b/issues/1/comments?page=3>; rel=\"last\""
                .parse()
                .expect("header"),
        );
        assert_eq!(
            next_page(&headers, &base),
            Ok(Some("/repos/a/b/issues/1/comments?page=2".to_owned()))
        );
        headers.insert(
            "link",
            "<https://evil.example/steal?page=2>; rel=\"next\""
                .parse()
                .expect("header"),
        );
        assert!(next_page(&headers, &base).is_err());
        assert_eq!(next_page(&HeaderMap::new(), &base), Ok(None));
    }
}

//! Test support: a bare repository with known commits, the standard seed, and a tiny
//! blocking HTTP/1.1 client that shows exactly what came over the wire (including a
//! connection closed without a response).
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use fake_github::{FakeGitHub, Seed};
use git2::{Oid, Repository, Signature};
use serde_json::Value;

/// The commits of the fixture repository, all committed by Tess Ter <tess@example.com>
/// (an email of no account) and authored by her, except c3, authored by
/// `Alice@Example.com` (alice's seeded email, in another case).
///
/// ```text
/// c1 ── c2            main (default branch)
///  │     ├── c3       release/1.0 (open pull request #7 into main)
///  │     └── c4       feature
///  └ stale (= c1, behind main)
/// ```
pub struct Shas {
    pub c1: String,
    pub c2: String,
    pub c3: String,
    pub c4: String,
}

/// A running fake over the fixture repository.
pub struct Fixture {
    pub fake: FakeGitHub,
    pub shas: Shas,
    _repo: tempfile::TempDir,
}

/// A signature at the fixture's one point in time.
pub fn signature(name: &str, email: &str) -> Signature<'static> {
    Signature::new(name, email, &git2::Time::new(1_790_000_000, 0)).unwrap()
}

/// Tess Ter, who made the fixture.
pub fn tess() -> Signature<'static> {
    signature("Tess Ter", "tess@example.com")
}

/// Writes a commit that sets `file` to `message` on top of its first parent; no ref moves.
pub fn commit(
    repo: &Repository,
    (author, committer): (&Signature, &Signature),
    file: &str,
    message: &str,
    parents: &[Oid],
) -> Oid {
    let mut tree = match parents.first() {
        Some(p) => repo.treebuilder(Some(&repo.find_commit(*p).unwrap().tree().unwrap())),
        None => repo.treebuilder(None),
    }
    .unwrap();
    let blob = repo.blob(format!("{message}\n").as_bytes()).unwrap();
    tree.insert(file, blob, 0o100644).unwrap();
    let tree = repo.find_tree(tree.write().unwrap()).unwrap();
    let parents: Vec<_> = parents
        .iter()
        .map(|p| repo.find_commit(*p).unwrap())
        .collect();
    let parents: Vec<_> = parents.iter().collect();
    repo.commit(None, author, committer, message, &tree, &parents)
        .unwrap()
}

/// Builds the fixture repository in `dir`.
pub fn fixture_repo(dir: &Path) -> Shas {
    let repo = Repository::init_bare(dir).unwrap();
    let tess = tess();
    let alice = signature("Alice", "Alice@Example.com");
    let c1 = commit(&repo, (&tess, &tess), "README.md", "first", &[]);
    let c2 = commit(&repo, (&tess, &tess), "README.md", "second", &[c1]);
    let c3 = commit(
        &repo,
        (&alice, &tess),
        "CHANGELOG.md",
        "release notes",
        &[c2],
    );
    let c4 = commit(&repo, (&tess, &tess), "src.txt", "feature work", &[c2]);
    for (name, oid) in [
        ("refs/heads/main", c2),
        ("refs/heads/release/1.0", c3),
        ("refs/heads/feature", c4),
        ("refs/heads/stale", c1),
    ] {
        repo.reference(name, oid, true, "fixture").unwrap();
    }
    repo.set_head("refs/heads/main").unwrap();
    Shas {
        c1: c1.to_string(),
        c2: c2.to_string(),
        c3: c3.to_string(),
        c4: c4.to_string(),
    }
}

/// The seed of the brief, over the bare repository at `git_dir`.
pub fn seed_yaml(git_dir: &Path) -> String {
    format!(
        r#"
users:
  - {{ login: alice, email: alice@example.com }}
  - {{ login: bob }}
  - {{ login: carol }}
  - {{ login: "github-actions[bot]", type: Bot }}
  - {{ login: "release-app[bot]", type: Bot }}
tokens:
  - {{ token: t-alice, login: alice }}
  - {{ token: t-bob, login: bob }}
  - {{ token: t-carol, login: carol }}
  - {{ token: t-fork, login: "github-actions[bot]", read_only: true }}
  - {{ token: t-bot, login: "github-actions[bot]" }}
  - {{ token: t-app, login: "release-app[bot]", permissions: {{ contents: read, members: read }} }}
teams:
  - {{ org: acme, slug: release, members: [bob, carol], pending: [dave] }}
repos:
  - full_name: acme/widget
    git_dir: {}
    default_branch: main
    collaborators: {{ alice: admin, bob: write, carol: read }}
    pulls: [ {{ number: 7, user: alice, head: release/1.0, base: main, title: Release, body: "" }} ]
    comments: [ {{ issue: 7, user: bob, body: "/shipgate approve abc", created_at: "2026-11-20T10:00:00Z", updated_at: "2026-11-20T10:00:00Z" }} ]
    protected_branches: {{ main: {{ allow_force_pushes: false, allow_deletions: false }} }}
"#,
        serde_json::to_string(&git_dir.display().to_string()).unwrap()
    )
}

/// The standard fixture: the seed above, served.
pub fn fixture() -> Fixture {
    let repo = tempfile::tempdir().unwrap();
    let shas = fixture_repo(repo.path());
    let seed = Seed::from_yaml_str(&seed_yaml(repo.path())).unwrap();
    let fake = FakeGitHub::start(seed).unwrap();
    Fixture {
        fake,
        shas,
        _repo: repo,
    }
}

/// A response as received.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = std::str::from_utf8(&raw[..end]).unwrap().trim();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 4 + size..];
    }
}

/// Sends one request on a new connection; `Err` when the connection ends without a
/// response. `url` is a path on `base` or an absolute `http://` URL.
pub fn send(
    base: &str,
    method: &str,
    url: &str,
    authorization: Option<&str>,
    body: Option<&str>,
) -> io::Result<Resp> {
    let url = url.strip_prefix(base).unwrap_or(url);
    let host = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let body = body.unwrap_or("");
    let mut head = format!(
        "{method} {url} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Accept: application/vnd.github+json\r\nUser-Agent: fake-github-tests\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    if let Some(authorization) = authorization {
        head.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// Requests as a given token's owner (`Bearer`).
pub struct As<'a> {
    pub base: String,
    pub token: &'a str,
}

impl As<'_> {
    pub fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, Some(&body.to_string()))
    }

    pub fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send("PATCH", path, Some(&body.to_string()))
    }

    pub fn send(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        let auth = format!("Bearer {}", self.token);
        send(&self.base, method, path, Some(&auth), body).unwrap()
    }
}

impl Fixture {
    pub fn as_user<'a>(&self, token: &'a str) -> As<'a> {
        As {
            base: self.fake.base_url(),
            token,
        }
    }

    /// The fixture's bare repository, opened now.
    pub fn git(&self) -> Repository {
        Repository::open_bare(self.fake.git_dir("acme/widget")).unwrap()
    }

    /// Where a ref of the bare repository points, if it exists.
    pub fn ref_target(&self, name: &str) -> Option<String> {
        self.git()
            .find_reference(name)
            .ok()
            .and_then(|r| r.target())
            .map(|o| o.to_string())
    }
}

pub const REPO: &str = "/repos/acme/widget";

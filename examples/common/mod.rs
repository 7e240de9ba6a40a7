//! What both benchmarks share (`audit-bench` and `execute-bench` include this file): the
//! realistic mix's shipments, the git environment, the release binary and the load average.
//! Each example compiles its own copy and uses only part of it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use shipgate::audit::entry::{Actor, Event};
use shipgate::keys::SigningKey;
use shipgate::receipt::ReceiptClaims;
use time::OffsetDateTime;

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Seconds between two entries of a built chain.
pub const STEP: i64 = 30;

/// Shipment `n` of the realistic mix, its first entry dated `at` (one entry every [`STEP`]):
/// two approvals, the run opened, a receipt minted (a real one, signed with `mint_key`, carried
/// as `shipgate mint` writes it), lock, consumed, succeeded, unlock, a denial and a note; and a
/// halt and resume every 100 shipments. Its tag is `tag:<tag_prefix><version>`.
pub fn shipment(
    n: u64,
    at: i64,
    mint_key: &SigningKey,
    repo: &str,
    tag_prefix: &str,
) -> Res<Vec<(Actor, Event)>> {
    let run_id = format!("run_{n:06}");
    let receipt_id = format!("rcp_{n:06}_0");
    let op_key = format!(
        "tag:{tag_prefix}{}.{}.{}",
        n / 10_000,
        (n / 100) % 100,
        n % 100
    );
    let plan_id = format!("sha256:{:064x}", u128::from(n) * 0x9e37_79b9_7f4a_7c15);
    let policy_hash = format!("sha256:{:064x}", 0xc0ffee_u64);
    let minted_at = at + 3 * STEP;
    let expires = rfc3339(minted_at + 3_600);
    let claims: ReceiptClaims = serde_json::from_value(json!({
        "version": 1, "receipt_id": receipt_id, "repo": repo, "plan_id": plan_id,
        "run_id": run_id, "op_index": 0, "op_kind": "tag", "op_key": op_key,
        "policy_hash": policy_hash,
        "approvals": [
            {"login": "alice", "comment_id": 1_000_000 + 2 * n, "at": rfc3339(at)},
            {"login": "bob", "comment_id": 1_000_001 + 2 * n, "at": rfc3339(at + STEP)},
        ],
        "enforceable": true, "findings": [], "issued_at": rfc3339(minted_at),
        "expires_at": expires, "nonce": format!("{:032x}", u128::from(n)),
    }))?;
    let document = claims
        .sign_sshsig(&mint_key.kid, &mint_key.key)?
        .to_canonical_json()?;
    let bot = Actor {
        login: "github-actions[bot]".into(),
        workflow_run: Some(format!("{}", 9_000_000_000 + n)),
        sha: Some(format!("{:040x}", u128::from(n) * 0x517c_c1b7_2722_0a95)),
    };
    let mut events = vec![
        (
            human("alice"),
            json!({"type": "approval_recorded", "plan_id": plan_id,
            "login": "alice", "comment_id": 1_000_000 + 2 * n}),
        ),
        (
            human("bob"),
            json!({"type": "approval_recorded", "plan_id": plan_id,
            "login": "bob", "comment_id": 1_000_001 + 2 * n}),
        ),
        (
            bot.clone(),
            json!({"type": "run_opened", "run_id": run_id, "plan_id": plan_id,
            "policy_hash": policy_hash, "operations": [{"op_index": 0, "op_key": op_key}]}),
        ),
        (
            bot.clone(),
            json!({"type": "receipt_minted", "receipt_id": receipt_id,
            "run_id": run_id, "op_key": op_key, "enforceable": true, "expires_at": expires,
            "receipt": document}),
        ),
        (
            bot.clone(),
            json!({"type": "lock_acquired", "run_id": run_id, "expires_at": expires}),
        ),
        (
            bot.clone(),
            json!({"type": "receipt_consumed", "receipt_id": receipt_id,
            "run_id": run_id, "op_key": op_key}),
        ),
        (
            bot.clone(),
            json!({"type": "operation_succeeded", "run_id": run_id,
            "op_key": op_key, "receipt_id": receipt_id}),
        ),
        (
            bot.clone(),
            json!({"type": "lock_released", "run_id": run_id}),
        ),
        (
            bot,
            json!({"type": "operation_denied", "op_key": format!("release:{tag_prefix}{n}-rc"),
            "reason": "POLICY_NO_RULE"}),
        ),
        (
            human("carol"),
            json!({"type": "note", "message": format!("shipment {n} done")}),
        ),
    ];
    if n % 100 == 0 {
        events.push((
            human("carol"),
            json!({"type": "halted", "by": "carol", "reason": format!("drill {n}")}),
        ));
        events.push((human("carol"), json!({"type": "resumed", "by": "carol"})));
    }
    Ok(events
        .into_iter()
        .map(|(actor, value)| (actor, event(value)))
        .collect())
}

/// An event from its JSON (so optional fields added to events need no change here).
pub fn event(value: serde_json::Value) -> Event {
    serde_json::from_value(value).expect("the benchmark's events are valid")
}

pub fn human(login: &str) -> Actor {
    Actor {
        login: login.into(),
        workflow_run: None,
        sha: None,
    }
}

pub fn time_at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).expect("a time in range")
}

pub fn rfc3339(seconds: i64) -> String {
    shipgate::audit::entry::format_entry_time(time_at(seconds))
}

/// The 1-minute load average (0 where /proc/loadavg is missing).
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// The environment of every git and shipgate process: no host or user configuration.
pub fn git_env() -> Vec<(OsString, OsString)> {
    vec![
        ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
        ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
    ]
}

/// `git ARGS` in `dir`, which must succeed.
pub fn git_ok(dir: &Path, args: &[&str]) -> Res<Output> {
    let output = Command::new("git")
        .current_dir(dir)
        .envs(git_env())
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(output)
}

/// The shipgate binary the benchmark runs: `given` (made absolute, since the processes run
/// in other directories), or the release binary brought up to date with the source (a stale
/// one would measure old code).
pub fn shipgate_binary(given: Option<&Path>) -> Res<PathBuf> {
    if let Some(path) = given {
        return Ok(path.canonicalize()?);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let path = target.join("release").join("shipgate");
    println!("  building {} (if out of date) ...", path.display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "--release", "--bin", "shipgate"])
        .status()?;
    if !status.success() || !path.exists() {
        return Err("cannot build the release binary".into());
    }
    Ok(path)
}

/// Where a benchmark works: `given` (created, and required to be empty), or a temporary
/// directory named after `prefix`, removed when the returned guard drops.
pub fn work_dir(given: Option<&Path>, prefix: &str) -> Res<(PathBuf, Option<tempfile::TempDir>)> {
    match given {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            if std::fs::read_dir(dir)?.next().is_some() {
                return Err(format!("--out {} must be empty", dir.display()).into());
            }
            Ok((dir.canonicalize()?, None))
        }
        None => {
            let dir = tempfile::Builder::new().prefix(prefix).tempdir()?;
            Ok((dir.path().to_owned(), Some(dir)))
        }
    }
}

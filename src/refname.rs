//! Git's rules for ref names (`git check-ref-format`), applied to tag and branch names in
//! plans before they reach git or GitHub, plus two of shipgate's own (issue 13, class 13): a
//! short name may not start with `refs/` (a tag named `refs/heads/main` would pose as the
//! branch), and may not hold invisible or reordering characters ([`crate::invisible`]).

/// Longest accepted name, in bytes. Git has no fixed limit, but file systems and GitHub do.
pub const MAX_REF_NAME_BYTES: usize = 255;

/// Checks a short branch or tag name (`v1.4.0`, `release/1.4`), returning the broken rule.
///
/// These are git's rules for `refs/tags/<name>`, plus two of `--branch`: no leading `-`
/// (it would read as an option) and not `HEAD`, plus shipgate's: not `refs/...`, and no
/// bidirectional controls or zero-width characters.
pub fn check_ref_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > MAX_REF_NAME_BYTES {
        return Err("it is longer than 255 bytes");
    }
    if name == "@" {
        return Err("it cannot be the single character '@'");
    }
    if name == "HEAD" {
        return Err("HEAD is reserved");
    }
    if name.starts_with('-') {
        return Err("it cannot start with '-'");
    }
    if name.starts_with("refs/") {
        return Err(
            "it cannot start with 'refs/': write the short name (v1.4.0, not refs/tags/v1.4.0), so that it cannot pose as another ref",
        );
    }
    if name.chars().any(crate::invisible::is_invisible) {
        return Err(
            "it cannot contain invisible or direction-changing characters (zero-width, bidi controls)",
        );
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err("it cannot start or end with '/' or contain '//'");
    }
    if name.ends_with('.') {
        return Err("it cannot end with '.'");
    }
    if name.contains("..") {
        return Err("it cannot contain '..'");
    }
    if name.contains("@{") {
        return Err("it cannot contain '@{'");
    }
    if let Some(c) = name.chars().find(|c| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    }) {
        return Err(match c {
            ' ' => "it cannot contain spaces",
            c if c.is_ascii_control() => "it cannot contain control characters",
            _ => "it cannot contain any of ~ ^ : ? * [ \\",
        });
    }
    for component in name.split('/') {
        if component.starts_with('.') {
            return Err("no '/'-separated part can start with '.'");
        }
        if component.ends_with(".lock") {
            return Err("no '/'-separated part can end with '.lock'");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in [
            "v1.4.0",
            "release/1.4.0",
            "main",
            "feature/x-y_z",
            "v1@2",
            "ünïcode",
        ] {
            assert_eq!(check_ref_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_what_git_rejects() {
        let long = "a".repeat(256);
        for bad in [
            "",
            "@",
            "HEAD",
            "-v1",
            "/v1",
            "v1/",
            "a//b",
            "v1.",
            "a..b",
            "a@{1}",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a\u{7f}",
            "a\tb",
            ".hidden",
            "x/.y",
            "v1.lock",
            "x.lock/y",
            &long,
            "refs/heads/main",
            "refs/tags/v1",
            "v1.0\u{202E}",
            "\u{200B}main",
            "rel\u{2066}ease",
        ] {
            assert!(check_ref_name(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn agrees_with_stock_git_check_ref_format() {
        let Ok(probe) = std::process::Command::new("git").arg("--version").output() else {
            return;
        };
        assert!(probe.status.success());
        for name in [
            "v1.4.0",
            "release/1.4.0",
            "a..b",
            "a b",
            ".x",
            "x.lock",
            "a@{1}",
            "v1.",
            "a//b",
            "a~1",
            "x/.y",
        ] {
            let git_ok = std::process::Command::new("git")
                .args(["check-ref-format", &format!("refs/tags/{name}")])
                .status()
                .unwrap()
                .success();
            assert_eq!(check_ref_name(name).is_ok(), git_ok, "{name}");
        }
    }
}

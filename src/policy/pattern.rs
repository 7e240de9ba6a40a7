//! Ref patterns in policy `match.refs`: `*` matches any run of characters (slashes included,
//! so `release/*` matches `release/1.4/rc1`), `?` matches one character, all else is literal.

/// A checked ref pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefPattern(String);

impl RefPattern {
    /// Accepts any non-empty pattern of printable characters up to 255 bytes.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.is_empty() {
            return Err("a pattern cannot be empty");
        }
        if text.len() > 255 {
            return Err("a pattern is at most 255 bytes");
        }
        if text.chars().any(|c| c.is_control() || c == ' ') {
            return Err("a pattern cannot contain spaces or control characters");
        }
        Ok(Self(text.to_owned()))
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` matches. Linear-time wildcard matching (no backtracking blow-up).
    pub fn matches(&self, name: &str) -> bool {
        let pattern: Vec<char> = self.0.chars().collect();
        let text: Vec<char> = name.chars().collect();
        let (mut p, mut t) = (0, 0);
        let mut last_star: Option<(usize, usize)> = None;
        while t < text.len() {
            if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
                p += 1;
                t += 1;
            } else if p < pattern.len() && pattern[p] == '*' {
                last_star = Some((p, t));
                p += 1;
            } else if let Some((star_p, star_t)) = last_star {
                p = star_p + 1;
                t = star_t + 1;
                last_star = Some((star_p, star_t + 1));
            } else {
                return false;
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        RefPattern::parse(p).unwrap().matches(t)
    }

    #[test]
    fn wildcards_match_as_documented() {
        assert!(m("v*", "v1.4.0"));
        assert!(m("v*", "v"));
        assert!(!m("v*", "1.4.0"));
        assert!(m("release/*", "release/1.4/rc1"));
        assert!(m("v?.*", "v1.2"));
        assert!(!m("v?.*", "v10.2"));
        assert!(m("latest", "latest"));
        assert!(!m("latest", "latest2"));
        assert!(m("*-rc*", "v1-rc2"));
        assert!(m("*", ""));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let p = RefPattern::parse(&"*a".repeat(100)).unwrap();
        assert!(!p.matches(&"a".repeat(99)));
    }
}

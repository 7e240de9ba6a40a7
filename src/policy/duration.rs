//! Durations written in policies (`receipt_ttl: 24h`): digits and a unit, optionally
//! repeated (`1h30m`). Units: `s`, `m`, `h`, `d`.

/// Parses a duration into seconds.
pub fn parse_duration(text: &str) -> Result<u64, &'static str> {
    if text.is_empty() {
        return Err("it is empty");
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            if digits.len() >= 9 {
                return Err("the number is too large");
            }
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err("expected digits followed by s, m, h or d (e.g. 24h, 1h30m)"),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| "expected digits before each unit (e.g. 24h)")?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
    }
    if !digits.is_empty() {
        return Err("a number needs a unit: s, m, h or d");
    }
    Ok(total)
}

/// Formats seconds the way [`parse_duration`] reads them, largest units first (`1h30m`,
/// `30d`, `0s`).
pub fn format_duration(secs: u64) -> String {
    let mut out = String::new();
    let mut rest = secs;
    for (unit, size) in [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("1h30m"), Ok(5_400));
    }

    #[test]
    fn formats_what_it_parses() {
        for (secs, text) in [
            (0, "0s"),
            (90, "1m30s"),
            (5_400, "1h30m"),
            (2_592_000, "30d"),
        ] {
            assert_eq!(format_duration(secs), text);
            assert_eq!(parse_duration(text), Ok(secs));
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "24", "h", "1.5h", "24 h", "-1h", "1w", "9999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}

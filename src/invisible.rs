//! Characters that change how text is shown without being seen: bidirectional embeddings,
//! overrides, isolates and marks, zero-width characters and the other format controls
//! (issue 13, class 13; "Trojan Source", CVE-2021-42574). A right-to-left override makes
//! `v1.0.0\u{202E}` look like another name, and a zero-width space makes two names that look
//! the same differ. Names refuse them; text rendered for people shows them escaped, as
//! `\u{202E}`, so what an approver reads is what ships. Pure; no I/O.

/// Whether `c` is invisible or reorders the text around it: Unicode's format controls (the
/// general category Cf in use: bidi controls, zero-width characters, invisible operators,
/// tags, interlinear annotations), the line and paragraph separators, and the fillers that
/// render as nothing. Variation selectors are left alone: they pick a glyph (emoji), they
/// neither hide nor reorder text.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                      // soft hyphen
            | '\u{034F}'                // combining grapheme joiner
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}'   // Hangul fillers
            | '\u{17B4}' | '\u{17B5}'   // Khmer inherent vowels
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, joiners, LRM, RLM
            | '\u{2028}'..='\u{202E}'   // line/paragraph separators, embeddings, overrides
            | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, isolates
            | '\u{3164}'                // Hangul filler
            | '\u{FEFF}'                // zero-width no-break space (BOM)
            | '\u{FFA0}'                // halfwidth Hangul filler
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
            | '\u{1D173}'..='\u{1D17A}' // musical format controls
            | '\u{E0000}'..='\u{E007F}' // tags
    )
}

/// `c` as a visible escape, `\u{202E}`.
pub fn escaped(c: char) -> String {
    format!("\\u{{{:04X}}}", u32::from(c))
}

/// `text` with every invisible character shown as `\u{202E}`, and every control character
/// as Rust's `escape_default` shows it (`\t`, `\u{1b}`).
pub fn show(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            out.push_str(&escaped(c));
        } else if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_and_zero_width_characters_are_invisible() {
        for c in [
            '\u{200B}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{2060}',
            '\u{E0041}',
        ] {
            assert!(is_invisible(c), "{:04X}", u32::from(c));
        }
        for c in ['a', 'é', 'ש', 'ع', '中', ' ', '-', '\u{2030}'] {
            assert!(!is_invisible(c), "{c}");
        }
    }

    #[test]
    fn shown_text_escapes_them_visibly() {
        assert_eq!(show("v1\u{202E}0\u{200B}\t"), "v1\\u{202E}0\\u{200B}\\t");
    }
}

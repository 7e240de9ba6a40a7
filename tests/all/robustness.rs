//! Plans and policies arrive in pull requests: whatever the bytes, the parsers answer with a
//! value or a diagnostic, never a panic.

use proptest::prelude::*;
use shipgate::plan::check_plan;
use shipgate::policy::{PolicyFile, load_policy};

/// Fragments that steer random text toward the interesting corners of YAML and of our formats.
const PIECES: &[&str] = &[
    "version: 1\n",
    "operations:\n",
    "  - kind: tag\n",
    "  - kind: release\n",
    "  - kind: pull_request\n",
    "    name: v1\n",
    "    target: main\n",
    "    tag: v1\n",
    "    notes: |\n      x\n",
    "    notes_file: ../x\n",
    "    head: a\n",
    "    base: b\n",
    "    title: \"t\"\n",
    "rules:\n",
    "  - name: r\n",
    "    approvals: { required: 1, from: [g] }\n",
    "groups:\n",
    "  g: { users: [a] }\n",
    "freeze:\n",
    "    from: 2026-01-01T00:00:00Z\n",
    "    until: 2025-01-01T00:00:00Z\n",
    "&a [1, 2]\n",
    "*a\n",
    "? [x]\n",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "\t",
    "'",
    "\"",
    "\\u0000",
    "#",
    "---\n",
    "...\n",
    "!!binary aGk=\n",
    "<<: *a\n",
    "\u{feff}",
    "é",
    "\r\n",
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_plan_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = check_plan("fuzz.yaml", &bytes);
    }

    #[test]
    fn yaml_shaped_text_never_panics_the_plan_parser(text in yamlish()) {
        if let Err(problems) = check_plan("fuzz.yaml", text.as_bytes()) {
            prop_assert!(!problems.0.is_empty());
            // Every diagnostic renders, with a position inside the file or none at all.
            for d in &problems.0 {
                prop_assert!(d.line <= text.lines().count() + 1);
                let _ = d.to_string();
            }
        }
    }

    #[test]
    fn yaml_shaped_text_never_panics_the_policy_loader(text in yamlish()) {
        let _ = load_policy(&[PolicyFile { name: "fuzz.yaml".into(), bytes: text.into_bytes() }]);
    }
}

//! Properties that must hold for any input, not just the recorded vectors.

use imagebump_policy::{Constraint, Policy, Version};
use proptest::prelude::*;

/// Versions in the lenient grammar: optional `v`, one to three numbers (leading zeros
/// allowed), optional prerelease and metadata.
fn version_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![0u64..5, 0u64..1000, Just(u64::MAX)];
    let ident = prop_oneof!["[0-9]{1,3}", "[a-zA-Z-][0-9A-Za-z-]{0,5}", Just("0".to_string())];
    let pre = prop::collection::vec(ident.clone(), 1..4).prop_map(|ids| ids.join("."));
    (
        any::<bool>(),
        prop::collection::vec(number, 1..=3),
        prop::option::of(pre),
        prop::option::of(prop::collection::vec("[0-9A-Za-z-]{1,4}", 1..3).prop_map(|m| m.join("."))),
        any::<bool>(),
    )
        .prop_map(|(v, nums, pre, meta, zero_pad)| {
            let mut s = String::new();
            if v {
                s.push('v');
            }
            let parts: Vec<String> = nums
                .iter()
                .map(|n| if zero_pad { format!("0{n}") } else { n.to_string() })
                .collect();
            s.push_str(&parts.join("."));
            if let Some(pre) = pre {
                // Numeric identifiers with a leading zero are invalid; strip such zeros.
                let fixed: Vec<String> = pre
                    .split('.')
                    .map(|id| {
                        if id.len() > 1 && id.bytes().all(|b| b.is_ascii_digit()) {
                            id.trim_start_matches('0').to_string()
                        } else {
                            id.to_string()
                        }
                    })
                    .map(|id| if id.is_empty() { "0".into() } else { id })
                    .collect();
                s.push('-');
                s.push_str(&fixed.join("."));
            }
            if let Some(meta) = meta {
                s.push('+');
                s.push_str(&meta);
            }
            s
        })
}

fn parse(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|e| panic!("generated {s:?} must parse: {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn display_round_trips(s in version_text()) {
        let v = parse(&s);
        let again = parse(&v.to_string());
        prop_assert_eq!(v.to_string(), again.to_string());
        prop_assert_eq!(v.prerelease(), again.prerelease());
        prop_assert_eq!(v.metadata(), again.metadata());
    }

    #[test]
    fn order_is_total_and_consistent(a in version_text(), b in version_text(), c in version_text()) {
        let (a, b, c) = (parse(&a), parse(&b), parse(&c));
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a == b, a.cmp(&b).is_eq());
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    /// Semver selection picks a maximal version; a shuffled input only changes which of
    /// several equal versions is reported (the first seen wins).
    #[test]
    fn semver_selection_ignores_input_order(
        tags in prop::collection::vec(version_text(), 0..40),
        seed in any::<u64>(),
        range in prop_oneof![Just("*"), Just(">=1.0.0-0"), Just("<5"), Just("^0.x || >=900")],
    ) {
        let policy = Policy::semver(range).expect("fixed ranges compile");
        let shuffled = shuffle(&tags, seed);
        let a = policy.select(&tags).expect("semver never fails").tag().map(parse);
        let b = policy.select(&shuffled).expect("semver never fails").tag().map(parse);
        prop_assert_eq!(&a, &b);
        if let Some(best) = a {
            let range = Constraint::parse(range).expect("fixed ranges compile");
            for t in &tags {
                if let Ok(v) = Version::parse_tag(t) {
                    prop_assert!(!range.matches(&v) || v <= best);
                }
            }
        }
    }

    #[test]
    fn alphabetical_and_numerical_ignore_input_order(
        tags in prop::collection::vec("[0-9]{1,6}", 1..40),
        seed in any::<u64>(),
    ) {
        let shuffled = shuffle(&tags, seed);
        for order in ["asc", "desc"] {
            let alpha = Policy::alphabetical(order).expect("valid order");
            prop_assert_eq!(
                alpha.select(&tags).expect("alphabetical never fails").tag(),
                alpha.select(&shuffled).expect("alphabetical never fails").tag()
            );
            // Equal numbers with different spellings (`7`, `007`) are the documented tie:
            // the later one wins, so compare values, not tags.
            let num = Policy::numerical(order).expect("valid order");
            let value = |t: Option<&str>| t.map(|t| t.parse::<u64>().expect("digits"));
            prop_assert_eq!(
                value(num.select(&tags).expect("all numbers").tag()),
                value(num.select(&shuffled).expect("all numbers").tag())
            );
        }
    }

    /// No input makes the parsers panic.
    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = Constraint::parse(&s);
        let _ = Version::parse(&s);
        let _ = imagebump_policy::parse_go_float(&s);
    }
}

/// A deterministic Fisher-Yates shuffle, so failures reproduce from the seed alone.
fn shuffle(tags: &[String], mut seed: u64) -> Vec<String> {
    let mut out = tags.to_vec();
    for i in (1..out.len()).rev() {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        #[allow(clippy::cast_possible_truncation)] // modulo a usize length
        let j = (seed >> 33) as usize % (i + 1);
        out.swap(i, j);
    }
    out
}

//! Resolving a field reference (`$.selector`, `$name`, `$N`) against the pattern of a filter.

use crate::pattern::ast::Step;
use crate::pattern::compile::Matcher;
use crate::pattern::error::{PatternError, PatternErrorKind};
use crate::pattern::{FieldRef, Pattern, PatternKind};

/// What a [`FieldRef`] points at.
#[derive(Clone, Debug)]
pub(crate) enum RefTarget {
    Json(Vec<Step>),
    SpaceSpec(usize),
    /// 0-based field position.
    SpacePos(usize),
}

pub(crate) fn field_ref(p: &Pattern, reference: &str) -> Result<FieldRef, PatternError> {
    let err = |msg: String| {
        Err(PatternError::new(
            PatternErrorKind::FieldRef(msg),
            0..reference.len(),
            reference,
        ))
    };
    let absent = |msg: String| {
        Err(PatternError::new(
            PatternErrorKind::AbsentField(msg),
            0..reference.len(),
            reference,
        ))
    };
    let target = match p.matcher() {
        Matcher::Json(_) => {
            if !reference.starts_with("$.") {
                return err(format!(
                    "a JSON pattern's values are referenced by a selector like $.field, not {reference:?}"
                ));
            }
            let steps = crate::pattern::parser::parse_selector(reference)?;
            if steps.iter().any(Step::is_wildcard) {
                return err(format!(
                    "{reference} holds a wildcard and so may select many values; a metric value or dimension must select one"
                ));
            }
            RefTarget::Json(steps)
        }
        Matcher::Space(m) => {
            let Some(rest) = reference.strip_prefix('$') else {
                return err(format!(
                    "a space-delimited pattern's fields are referenced as $name or $N, not {reference:?}"
                ));
            };
            if rest.is_empty()
                || rest == "0"
                || !rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return err(format!(
                    "a space-delimited pattern's fields are referenced as $name or $N (N from 1), not {reference:?}"
                ));
            }
            if rest.bytes().all(|b| b.is_ascii_digit()) {
                match rest.parse::<usize>() {
                    Ok(n) if n >= 1 && (m.ellipsis.is_some() || n <= m.specs.len()) => {
                        RefTarget::SpacePos(n - 1)
                    }
                    _ => {
                        return absent(format!(
                        "{reference} is not a field position of this pattern (it has {} fields)",
                        m.specs.len()
                    ))
                    }
                }
            } else {
                match m.specs.iter().position(|s| s.name.as_deref() == Some(rest)) {
                    Some(i) => RefTarget::SpaceSpec(i),
                    None => {
                        return absent(format!(
                            "the pattern has no field named {rest:?} (fields covered by '...' are referenced by position, $N)"
                        ))
                    }
                }
            }
        }
        _ => {
            let kind = match p.kind() {
                PatternKind::MatchAll => "match-all",
                PatternKind::Regex => "regex",
                _ => "term",
            };
            return err(format!(
                "{reference:?} refers to a field, but this is a {kind} pattern: only JSON and space-delimited patterns have fields"
            ));
        }
    };
    Ok(FieldRef {
        text: reference.to_owned(),
        target,
    })
}

#[cfg(test)]
mod tests {
    use crate::pattern::Pattern;

    fn error(pattern: &str, reference: &str) -> String {
        Pattern::parse(pattern)
            .unwrap()
            .field_ref(reference)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn references_are_checked_against_the_pattern_s_kind_and_fields() {
        let space = "[status_code, a-b, ...]";
        let p = Pattern::parse(space).unwrap();
        for ok in ["$status_code", "$a-b", "$1", "$7"] {
            assert!(p.field_ref(ok).is_ok(), "{ok}");
        }
        for bad in ["$", "$0", "$a.b", "$a b"] {
            assert!(
                error(space, bad).contains("(N from 1)"),
                "{bad}: {}",
                error(space, bad)
            );
        }
        assert!(error(space, "$c").contains("no field named \"c\""));
        assert!(error("[a, b]", "$3").contains("it has 2 fields"));
        for (pattern, kind) in [("", "match-all"), ("%a+%", "regex"), ("ERROR", "term")] {
            assert!(
                error(pattern, "$1").contains(&format!("this is a {kind} pattern")),
                "{pattern}: {}",
                error(pattern, "$1")
            );
        }
    }
}

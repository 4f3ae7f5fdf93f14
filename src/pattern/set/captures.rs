//! What a matching filter saw in an event, and the values its field references point at.

use super::field_ref::RefTarget;
use crate::json::EscapedStr;
use crate::pattern::compile::{resolve, Layout, SpaceMatcher};
use crate::pattern::fields::covered_text;
use crate::pattern::{semantics, FieldRef, Pattern};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::cell::OnceCell;

/// What a matching filter saw in the event.
#[derive(Debug)]
pub struct Captures<'a> {
    pub(super) message: CapMessage<'a>,
    pub(super) pattern: &'a Pattern,
    pub(super) inner: CapInner<'a>,
}

/// The message of a match: text, or escaped text unescaped on first use.
#[derive(Debug)]
pub(super) enum CapMessage<'a> {
    Text(&'a str),
    Escaped(EscapedStr<'a>, &'a OnceCell<String>),
}

#[derive(Debug)]
pub(super) enum CapInner<'a> {
    Empty,
    Json {
        root: &'a Json,
    },
    Space {
        fields: &'a [(usize, usize)],
        m: &'a SpaceMatcher,
        layout: Layout,
    },
}

/// A value taken from an event.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// Text (a space-delimited field, a JSON string).
    Str(Cow<'a, str>),
    /// A JSON number.
    Number(f64),
    /// A JSON boolean.
    Bool(bool),
    /// JSON `null`.
    Null,
    /// A JSON object or array.
    Composite,
}

impl FieldValue<'_> {
    /// The value as a number: numbers, and strings that parse as a finite number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number(n) => Some(*n),
            FieldValue::Str(s) => semantics::parse_number(s.trim()),
            _ => None,
        }
    }

    /// The value as a dimension value; None for objects and arrays.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            FieldValue::Str(s) => Cow::Borrowed(s.as_ref()),
            FieldValue::Number(n) => Cow::Owned(n.to_string()),
            FieldValue::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            FieldValue::Null => Cow::Borrowed("null"),
            FieldValue::Composite => return None,
        })
    }
}

fn json_value(node: &Json) -> FieldValue<'_> {
    match node {
        Json::String(s) => FieldValue::Str(Cow::Borrowed(s)),
        Json::Number(n) => n.as_f64().map_or(FieldValue::Composite, FieldValue::Number),
        Json::Bool(b) => FieldValue::Bool(*b),
        Json::Null => FieldValue::Null,
        Json::Array(_) | Json::Object(_) => FieldValue::Composite,
    }
}

impl Captures<'_> {
    /// The message this match is about.
    pub fn message(&self) -> &str {
        match &self.message {
            CapMessage::Text(t) => t,
            CapMessage::Escaped(e, cell) => cell.get_or_init(|| e.unescape()),
        }
    }

    /// The pattern that matched.
    pub fn pattern(&self) -> &Pattern {
        self.pattern
    }

    /// The value a FieldRef (made by the pattern of the filter being reported) points at in this
    /// event.
    pub fn get(&self, r: &FieldRef) -> Option<FieldValue<'_>> {
        match (&self.inner, &r.target) {
            (CapInner::Json { root, .. }, RefTarget::Json(steps)) => {
                resolve(root, steps).map(json_value)
            }
            (CapInner::Space { fields, layout, .. }, RefTarget::SpaceSpec(spec)) => {
                self.covered(fields, layout.fields_of(*spec))
            }
            // Without `...` positions are specs (the last one may take several fields).
            (CapInner::Space { fields, m, layout }, RefTarget::SpacePos(i)) => {
                if m.ellipsis.is_none() {
                    self.covered(fields, layout.fields_of(*i))
                } else {
                    self.covered(fields, *i..*i + 1)
                }
            }
            _ => None,
        }
    }

    fn covered(
        &self,
        fields: &[(usize, usize)],
        range: std::ops::Range<usize>,
    ) -> Option<FieldValue<'_>> {
        if range.is_empty() || range.end > fields.len() {
            return None;
        }
        Some(FieldValue::Str(Cow::Borrowed(covered_text(
            self.message(),
            fields,
            range,
        ))))
    }

    /// The extractedValues as TestMetricFilter would report them (allocates; for CLI/tests): the
    /// fields of a space-delimited pattern, nothing for other kinds.
    pub fn extracted(&self) -> Vec<(String, String)> {
        match &self.inner {
            CapInner::Empty => Vec::new(),
            // Only space-delimited patterns extract values (see
            // semantics::EXTRACTED_VALUES_ONLY_FOR_SPACE_DELIMITED).
            CapInner::Json { .. } => Vec::new(),
            CapInner::Space { fields, m, layout } if m.ellipsis.is_none() => (0..m.specs.len())
                .map(|j| {
                    let key = match m.specs.get(j).and_then(|s| s.name.as_deref()) {
                        Some(n) => format!("${n}"),
                        None => format!("${}", j + 1),
                    };
                    let text = covered_text(self.message(), fields, layout.fields_of(j));
                    (key, text.to_owned())
                })
                .collect(),
            CapInner::Space { fields, m, layout } => fields
                .iter()
                .enumerate()
                .map(|(i, &(a, b))| {
                    let key = match layout
                        .spec_of(i)
                        .and_then(|s| m.specs.get(s))
                        .and_then(|s| s.name.as_deref())
                    {
                        Some(n) => format!("${n}"),
                        None => format!("${}", i + 1),
                    };
                    (key, self.message().get(a..b).unwrap_or("").to_owned())
                })
                .collect(),
        }
    }
}

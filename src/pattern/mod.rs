//! The CloudWatch Logs filter-pattern language: parse once, compile, evaluate many filters per
//! event with shared work.
//!
//! ```
//! use logrelay::pattern::{FilterSet, Pattern};
//! let p = Pattern::parse(r#"[ip, user, ..., status_code = 4*, bytes]"#).unwrap();
//! let set = FilterSet::new([p]);
//! let mut scratch = set.scratch();
//! let mut hits = Vec::new();
//! set.eval("1.2.3.4 frank GET 404 1534", &mut scratch, |i, caps| hits.push((i, caps.extracted())));
//! assert_eq!(hits[0].1[0], ("$ip".to_string(), "1.2.3.4".to_string()));
//! ```
//!
//! The grammar and every reading chosen where AWS's documentation is silent are listed in
//! [`semantics`] (and in `SEMANTICS.md`). Limits are in [`limits`].

mod ast;
mod compile;
mod error;
mod fields;
pub mod limits;
mod parser;
mod regex;
pub mod selection;
pub mod semantics;
mod set;

pub use crate::json::EscapedStr;
pub use error::{PatternError, PatternErrorKind};
pub use set::{Captures, FieldValue, FilterSet, Scratch};

use ast::Ast;
use compile::Matcher;
use std::fmt;
use std::sync::Arc;

/// The kind of a filter pattern, decided by its first character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatternKind {
    /// Empty or whitespace-only: matches every event.
    MatchAll,
    /// Unstructured terms (`ERROR`, `?ERROR ?WARN`, `"a b" -c`).
    Terms,
    /// `{ $.field = value … }`.
    Json,
    /// `[field, …, field = value]`.
    SpaceDelimited,
    /// `%regex%`.
    Regex,
}

/// A parsed and compiled filter pattern. Cloning is cheap (shared).
#[derive(Clone, Debug)]
pub struct Pattern {
    inner: Arc<PatternInner>,
}

#[derive(Debug)]
struct PatternInner {
    source: String,
    ast: Ast,
    matcher: Matcher,
}

impl Pattern {
    /// Parses and compiles `source`. Errors name the problem and its position.
    pub fn parse(source: &str) -> Result<Pattern, PatternError> {
        let ast = parser::parse(source)?;
        let matcher = compile::compile(&ast)?;
        Ok(Pattern {
            inner: Arc::new(PatternInner {
                source: source.to_owned(),
                ast,
                matcher,
            }),
        })
    }

    /// The text this pattern was parsed from.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The kind of pattern.
    pub fn kind(&self) -> PatternKind {
        match &self.inner.ast {
            Ast::MatchAll => PatternKind::MatchAll,
            Ast::Terms(_) => PatternKind::Terms,
            Ast::Json(_) => PatternKind::Json,
            Ast::Space(_) => PatternKind::SpaceDelimited,
            Ast::Regex(_) => PatternKind::Regex,
        }
    }

    /// Whether two patterns have the same syntax tree (ignoring positions and spelling such as
    /// quoting, spacing and number notation that does not change the value).
    pub fn same_ast(&self, other: &Pattern) -> bool {
        self.inner.ast == other.inner.ast
    }

    pub(crate) fn matcher(&self) -> &Matcher {
        &self.inner.matcher
    }

    /// A metric value / dimension reference for this pattern: `$.a.b[0]` (JSON patterns), `$name`
    /// or `$3` (space-delimited). Errors (with a message saying why) when the form does not fit the
    /// pattern kind, e.g. `$.x` on a term pattern or `$nosuch` naming no field of a space-delimited
    /// pattern.
    pub fn field_ref(&self, reference: &str) -> Result<FieldRef, PatternError> {
        set::field_ref(self, reference)
    }

    /// Convenience for one message (may allocate): None if no match, else the extractedValues in
    /// order.
    pub fn test(&self, message: &str) -> Option<Vec<(String, String)>> {
        let set = FilterSet::build([self.clone()], false);
        let mut scratch = set.scratch();
        let mut out = None;
        set.eval(message, &mut scratch, |_, caps| {
            out = Some(caps.extracted())
        });
        out
    }
}

impl fmt::Display for Pattern {
    /// Canonical printing: parsing the output gives the same syntax tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.ast.fmt(f)
    }
}

/// A reference to a value of a matching event (metric value or dimension), made by
/// [`Pattern::field_ref`].
#[derive(Clone, Debug)]
pub struct FieldRef {
    text: String,
    target: set::RefTarget,
}

impl FieldRef {
    /// The reference as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

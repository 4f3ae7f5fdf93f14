//! Error messages: exact kinds, spans and columns for a representative set of invalid patterns.

use logrelay::pattern::limits::{MAX_NESTING_DEPTH, MAX_PATTERN_CHARS, MAX_REGEX_PER_PATTERN};
use logrelay::pattern::{Pattern, PatternErrorKind as K};

/// (pattern, check on the kind, byte span, 1-based column)
type Case = (&'static str, fn(&K) -> bool, std::ops::Range<usize>, usize);

const CASES: &[Case] = &[
    // terms
    ("\"ERROR", |k| *k == K::UnterminatedQuote, 0..1, 1),
    (
        "ERROR \"unterminated",
        |k| *k == K::UnterminatedQuote,
        6..7,
        7,
    ),
    ("ERROR -", |k| matches!(k, K::Expected { .. }), 7..7, 8),
    ("ERROR ?", |k| matches!(k, K::Expected { .. }), 7..7, 8),
    (
        "foo\"bar\"",
        |k| matches!(k, K::Expected { found, .. } if found == "'\"'"),
        3..4,
        4,
    ),
    (
        "\"a\"b",
        |k| matches!(k, K::Expected { found, .. } if found == "'b'"),
        3..4,
        4,
    ),
    ("ERROR %foo%", |k| *k == K::RegexWithTerms, 6..11, 7),
    ("\"ümlaut\" \"x", |k| *k == K::UnterminatedQuote, 10..11, 10),
    (
        "ERR*",
        |k| *k == K::InvalidTermCharacters("*".to_owned()),
        3..4,
        4,
    ),
    (
        "ERROR user@host:22",
        |k| *k == K::InvalidTermCharacters("@:".to_owned()),
        10..16,
        11,
    ),
    (
        "ümlaut",
        |k| *k == K::InvalidTermCharacters("ü".to_owned()),
        0..2,
        1,
    ),
    (
        "{ $.email = John@example.com }",
        |k| *k == K::InvalidValueCharacters("@".to_owned()),
        16..17,
        17,
    ),
    (
        "{ $.v != null }",
        |k| *k == K::NullComparison("!="),
        9..13,
        10,
    ),
    (
        "{ $.a[*].b.* = 1 }",
        |k| matches!(k, K::TooManyWildcards(_)),
        10..12,
        11,
    ),
    (
        "{ $.['a.b = 1 }",
        |k| matches!(k, K::InvalidSelector(_)),
        5..6,
        6,
    ),
    (
        "{ $.a[*x] = 1 }",
        |k| matches!(k, K::Expected { found, .. } if found == "'x'"),
        7..8,
        8,
    ),
    (r"%\xG1%", |k| matches!(k, K::RegexInvalid(_)), 1..5, 2),
    // JSON
    ("{ $.a = 1", |k| *k == K::UnclosedBrace, 0..1, 1),
    (
        "{ $.a = }",
        |k| matches!(k, K::Expected { found, .. } if found == "'}'"),
        8..9,
        9,
    ),
    (
        "{ a = 1 }",
        |k| matches!(k, K::Expected { found, .. } if found == "'a'"),
        2..3,
        3,
    ),
    ("{ $ = 1 }", |k| matches!(k, K::InvalidSelector(_)), 2..3, 3),
    (
        "{ $[0] = 1 }",
        |k| matches!(k, K::InvalidSelector(_)),
        3..4,
        4,
    ),
    (
        "{ $.a[-1] = 1 }",
        |k| matches!(k, K::InvalidSelector(_)),
        5..7,
        6,
    ),
    (
        "{ $.a. = 1 }",
        |k| matches!(k, K::InvalidSelector(_)),
        5..7,
        6,
    ),
    (
        "{ $.a[99999999999999999999999] = 1 }",
        |k| *k == K::IndexTooLarge,
        6..29,
        7,
    ),
    (
        "{ $.a > abc }",
        |k| matches!(k, K::NumberExpected { op: ">", .. }),
        8..11,
        9,
    ),
    (
        "{ $.a < \"5\" }",
        |k| matches!(k, K::NumberExpected { op: "<", .. }),
        8..11,
        9,
    ),
    (
        "{ $.a IS NOT NULL }",
        |k| *k == K::IsNotUnsupported,
        6..12,
        7,
    ),
    ("{ $.a EXISTS }", |k| *k == K::ExistsUnsupported, 6..12, 7),
    (
        "{ $.a is null }",
        |k| matches!(k, K::Expected { found, .. } if found == "'i'"),
        6..7,
        7,
    ),
    (
        "{ $.a IS MAYBE }",
        |k| matches!(k, K::Expected { found, .. } if found == "'M'"),
        9..10,
        10,
    ),
    ("{ $.a = 1 } x", |k| *k == K::TrailingInput, 11..13, 12),
    ("{ ($.a = 1 }", |k| *k == K::UnclosedParen, 2..3, 3),
    (
        "{ $.a = 1) }",
        |k| matches!(k, K::Expected { .. }),
        9..10,
        10,
    ),
    (
        "{ $.a = 1 && }",
        |k| matches!(k, K::Expected { found, .. } if found == "'}'"),
        13..14,
        14,
    ),
    (
        "{ $.a = 1 & $.b = 2 }",
        |k| matches!(k, K::Expected { found, .. } if found == "'&'"),
        10..11,
        11,
    ),
    (
        "{ $.a == 1 }",
        |k| matches!(k, K::Expected { found, .. } if found == "'='"),
        7..8,
        8,
    ),
    (
        "{ $.a = %x% || $.b = %y% || $.c = %z% }",
        |k| {
            *k == K::TooManyRegexes {
                max: MAX_REGEX_PER_PATTERN,
            }
        },
        34..37,
        35,
    ),
    ("{ $.a = %% }", |k| *k == K::EmptyRegex, 8..10, 9),
    (
        "{ $.a = %abc }",
        |k| matches!(k, K::Expected { .. }),
        8..9,
        9,
    ),
    // regex
    ("%ab!c%", |k| *k == K::RegexCharNotAllowed('!'), 3..4, 4),
    ("%é%", |k| *k == K::RegexCharNotAllowed('é'), 1..3, 2),
    ("%a(b)%", |k| *k == K::RegexCharNotAllowed('('), 2..3, 3),
    (r"%\b%", |k| *k == K::RegexEscapeNotAllowed('b'), 1..3, 2),
    ("%a{2,1}%", |k| matches!(k, K::RegexInvalid(_)), 1..7, 2),
    (
        "%a{1000}{1000}{1000}%",
        |k| matches!(k, K::RegexInvalid(_)),
        1..20,
        2,
    ),
    // space-delimited
    ("[a, b", |k| *k == K::UnclosedBracket, 0..1, 1),
    ("[a, a]", |k| *k == K::DuplicateField("a".into()), 4..5, 5),
    ("[..., a, ...]", |k| *k == K::MultipleEllipses, 9..12, 10),
    (
        "[a = 1 && b, c]",
        |k| matches!(k, K::InvalidFieldSpec(_)),
        11..12,
        12,
    ),
    (
        "[a > x]",
        |k| matches!(k, K::NumberExpected { op: ">", .. }),
        5..6,
        6,
    ),
    ("[a] b", |k| *k == K::TrailingInput, 3..5, 4),
    (
        "[a = ]",
        |k| matches!(k, K::Expected { found, .. } if found == "']'"),
        5..6,
        6,
    ),
    (
        "[!a]",
        |k| matches!(k, K::Expected { found, .. } if found == "'!'"),
        1..2,
        2,
    ),
    (
        "[a = 1 & b = 2]",
        |k| matches!(k, K::Expected { found, .. } if found == "'&'"),
        7..8,
        8,
    ),
    ("  [a = (1]", |k| matches!(k, K::Expected { .. }), 7..8, 8),
];

#[test]
fn spans_and_columns() {
    for (pattern, kind, span, column) in CASES {
        let e = Pattern::parse(pattern).expect_err(pattern);
        assert!(
            kind(e.kind()),
            "{pattern:?}: unexpected kind {:?}",
            e.kind()
        );
        assert_eq!(e.span(), *span, "{pattern:?}: span\n{e}");
        assert_eq!(e.column(), *column, "{pattern:?}: column\n{e}");
        // The rendering always names the column and puts a caret under the span.
        let text = e.to_string();
        assert!(text.contains(&format!("at column {column}")), "{text}");
        assert!(
            text.lines().any(|l| l.trim_start().starts_with('^')),
            "{text}"
        );
    }
}

#[test]
fn rendering() {
    let e = Pattern::parse("{ $.latency > fast }").unwrap_err();
    assert_eq!(
        e.to_string(),
        "'>' compares numbers: expected a number, found \"fast\" at column 15\n    \
         { $.latency > fast }\n                  ^^^^"
    );
    // Columns count characters, not bytes; the caret lines up under multi-byte text.
    let e = Pattern::parse("{ $.ü = 1 }").unwrap_err();
    assert_eq!(e.column(), 4);
    assert_eq!(e.span(), 3..6);
    assert_eq!(e.to_string().lines().nth(2), Some("       ^^"));
}

#[test]
fn length_limit() {
    let ok = "a".repeat(MAX_PATTERN_CHARS);
    assert!(Pattern::parse(&ok).is_ok());
    // 1024 characters, most of 2 bytes each, is still within the limit (characters, not bytes).
    assert!(Pattern::parse(&format!("\"{}\"", "é".repeat(MAX_PATTERN_CHARS - 2))).is_ok());
    let long = "a".repeat(MAX_PATTERN_CHARS + 5);
    let e = Pattern::parse(&long).unwrap_err();
    assert_eq!(
        *e.kind(),
        K::TooLong {
            chars: MAX_PATTERN_CHARS + 5,
            max: MAX_PATTERN_CHARS
        }
    );
    assert_eq!(e.span(), MAX_PATTERN_CHARS..MAX_PATTERN_CHARS + 5);
    assert_eq!(e.column(), MAX_PATTERN_CHARS + 1);
}

#[test]
fn nesting_limit() {
    let ok = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(MAX_NESTING_DEPTH),
        ")".repeat(MAX_NESTING_DEPTH)
    );
    assert!(Pattern::parse(&ok).is_ok());
    let deep = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(MAX_NESTING_DEPTH + 1),
        ")".repeat(MAX_NESTING_DEPTH + 1)
    );
    let e = Pattern::parse(&deep).unwrap_err();
    assert_eq!(
        *e.kind(),
        K::NestingTooDeep {
            max: MAX_NESTING_DEPTH
        }
    );
    assert_eq!(e.column(), 3 + MAX_NESTING_DEPTH);
}

#[test]
fn field_ref_errors() {
    let terms = Pattern::parse("ERROR").unwrap();
    let e = terms.field_ref("$.x").unwrap_err();
    assert!(
        matches!(e.kind(), K::FieldRef(m) if m.contains("term pattern")),
        "{e}"
    );

    let space = Pattern::parse("[a, b]").unwrap();
    let e = space.field_ref("$nosuch").unwrap_err();
    assert!(
        matches!(e.kind(), K::AbsentField(m) if m.contains("no field named \"nosuch\"")),
        "{e}"
    );
    assert!(matches!(
        space.field_ref("$3").unwrap_err().kind(),
        K::AbsentField(m) if m.contains("not a field position")
    ));
    // Malformed references are not absent fields.
    assert!(matches!(
        space.field_ref("$.a").unwrap_err().kind(),
        K::FieldRef(_)
    ));
    assert!(space.field_ref("$0").is_err());
    assert!(space.field_ref("$.a").is_err());
    assert!(space.field_ref("$2").is_ok());
    assert!(Pattern::parse("[a, ...]").unwrap().field_ref("$9").is_ok());

    let json = Pattern::parse("{ $.a = 1 }").unwrap();
    assert!(json.field_ref("$a").is_err());
    let e = json.field_ref("$.a[x]").unwrap_err();
    assert!(matches!(e.kind(), K::InvalidSelector(_)), "{e}");
    assert_eq!(e.column(), 4);
    assert!(json.field_ref("$.b.c[2]").is_ok());
}

//! `logrelay test-metric-filter`: same interface and output as `aws logs test-metric-filter`.
//!
//! Prints one line `{"matches":[{"eventNumber":1,"eventMessage":"…","extractedValues":{…}}]}`
//! (1-based event numbers, only matching events) and exits 0, also when nothing matches. An invalid
//! pattern exits 2 with the error, the pattern and a caret line on stderr.

use crate::pattern::limits::MAX_TEST_MESSAGES;
use crate::pattern::Pattern;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `test-metric-filter`.
///
/// Messages may start with `-`. Because of that, `--log-event-messages` takes every following
/// argument as a message, except the exact option names `--filter-pattern` and
/// `--log-event-messages-file` (also in `--name=value` form), which keep their meaning wherever
/// they appear; a message that is exactly one of these names can be given in a file.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("messages")
        .required(true)
        .multiple(true)
        .args(["log_event_messages", "log_event_messages_file"])
))]
pub struct TestMetricFilterArgs {
    /// The filter pattern to test (may start with '-', e.g. `-DEBUG`).
    #[arg(long, allow_hyphen_values = true, value_name = "PATTERN")]
    pub filter_pattern: Option<String>,

    /// Log event messages to test, one per argument (1 to 50, like the API; may start with '-').
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "MSG")]
    pub log_event_messages: Vec<String>,

    /// A file of log event messages, one per line (no limit on the count). Read after the messages
    /// given with --log-event-messages.
    #[arg(long, value_name = "FILE")]
    pub log_event_messages_file: Option<PathBuf>,
}

/// The arguments after separating options that `--log-event-messages` swallowed.
struct Resolved {
    pattern: String,
    messages: Vec<String>,
    file: Option<PathBuf>,
}

fn resolve(args: &TestMetricFilterArgs) -> Result<Resolved, (u8, String)> {
    let mut pattern = args.filter_pattern.clone();
    let mut file = args.log_event_messages_file.clone();
    let mut messages = Vec::new();
    let mut it = args.log_event_messages.iter();
    let twice = |name: &str| (EXIT_INVALID, format!("error: {name} given more than once"));
    while let Some(m) = it.next() {
        let (name, inline) = match m.split_once('=') {
            Some((n, v)) if n == "--filter-pattern" || n == "--log-event-messages-file" => {
                (n, Some(v.to_owned()))
            }
            _ => (m.as_str(), None),
        };
        let is_option = name == "--filter-pattern" || name == "--log-event-messages-file";
        if !is_option {
            messages.push(m.clone());
            continue;
        }
        let Some(value) = inline.or_else(|| it.next().cloned()) else {
            return Err((EXIT_INVALID, format!("error: {name} needs a value")));
        };
        if name == "--filter-pattern" {
            if pattern.replace(value).is_some() {
                return Err(twice(name));
            }
        } else if file.replace(PathBuf::from(value)).is_some() {
            return Err(twice(name));
        }
    }
    let Some(pattern) = pattern else {
        return Err((
            EXIT_INVALID,
            "error: the following required argument was not provided: --filter-pattern <PATTERN>"
                .to_owned(),
        ));
    };
    Ok(Resolved {
        pattern,
        messages,
        file,
    })
}

/// Exit status for invalid input (pattern or messages).
const EXIT_INVALID: u8 = 2;

/// Runs the subcommand.
pub fn run(args: &TestMetricFilterArgs) -> ExitCode {
    match execute(args) {
        Ok(line) => {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err((code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}

/// Parses, evaluates and renders; errors carry the exit status and the message for stderr.
fn execute(args: &TestMetricFilterArgs) -> Result<String, (u8, String)> {
    let args = resolve(args)?;
    let pattern = Pattern::parse(&args.pattern)
        .map_err(|e| (EXIT_INVALID, format!("error: invalid filter pattern: {e}")))?;
    let messages = collect_messages(&args)?;
    Ok(render(&pattern, &messages))
}

fn collect_messages(args: &Resolved) -> Result<Vec<String>, (u8, String)> {
    if args.messages.len() > MAX_TEST_MESSAGES {
        return Err((
            EXIT_INVALID,
            format!(
                "error: --log-event-messages takes at most {MAX_TEST_MESSAGES} messages (got {}); use --log-event-messages-file for more",
                args.messages.len()
            ),
        ));
    }
    let mut messages = Vec::new();
    for (i, m) in args.messages.iter().enumerate() {
        if m.is_empty() {
            return Err((
                EXIT_INVALID,
                format!(
                    "error: log event message {} is empty; messages must have at least 1 character",
                    i + 1
                ),
            ));
        }
        messages.push(m.clone());
    }
    if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| (1, format!("error: cannot read {}: {e}", path.display())))?;
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() {
                return Err((
                    EXIT_INVALID,
                    format!(
                        "error: {}:{}: empty line; messages must have at least 1 character",
                        path.display(),
                        n + 1
                    ),
                ));
            }
            messages.push(line.to_owned());
        }
    }
    Ok(messages)
}

/// Renders the TestMetricFilter response, keeping the order of extracted values.
fn render(pattern: &Pattern, messages: &[String]) -> String {
    let mut out = String::from(r#"{"matches":["#);
    let mut first = true;
    for (i, m) in messages.iter().enumerate() {
        let Some(values) = pattern.test(m) else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            r#"{{"eventNumber":{},"eventMessage":{},"extractedValues":{{"#,
            i + 1,
            json_string(m)
        );
        for (k, (key, value)) in values.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}:{}", json_string(key), json_string(value));
        }
        out.push_str("}}");
    }
    out.push_str("]}");
    out
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_order() {
        let p = Pattern::parse("[b, a]").unwrap();
        let s = render(&p, &["x".into(), "1 2".into()]);
        assert_eq!(
            s,
            r#"{"matches":[{"eventNumber":2,"eventMessage":"1 2","extractedValues":{"$b":"1","$a":"2"}}]}"#
        );
    }
}

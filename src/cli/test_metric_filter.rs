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
    pub filter_pattern: String,

    /// Log event messages to test, one per argument (1 to 50, like the API; may start with '-').
    #[arg(long, num_args = 1.., allow_hyphen_values = true, value_name = "MSG")]
    pub log_event_messages: Vec<String>,

    /// A file of log event messages, one per line (no limit on the count). Read after the messages
    /// given with --log-event-messages.
    #[arg(long, value_name = "FILE")]
    pub log_event_messages_file: Option<PathBuf>,
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
    let pattern = Pattern::parse(&args.filter_pattern)
        .map_err(|e| (EXIT_INVALID, format!("error: invalid filter pattern: {e}")))?;
    let messages = collect_messages(args)?;
    Ok(render(&pattern, &messages))
}

fn collect_messages(args: &TestMetricFilterArgs) -> Result<Vec<String>, (u8, String)> {
    if args.log_event_messages.len() > MAX_TEST_MESSAGES {
        return Err((
            EXIT_INVALID,
            format!(
                "error: --log-event-messages takes at most {MAX_TEST_MESSAGES} messages (got {}); use --log-event-messages-file for more",
                args.log_event_messages.len()
            ),
        ));
    }
    let mut messages = Vec::new();
    for (i, m) in args.log_event_messages.iter().enumerate() {
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
    if let Some(path) = &args.log_event_messages_file {
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

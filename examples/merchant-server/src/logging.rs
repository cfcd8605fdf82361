//! Logs: `tracing-subscriber` with an env filter (`LOG`, default `info`), human lines or JSON
//! (`LOG_FORMAT=json`). The server logs one line per order transition, notification verdict
//! and refund outcome; never a key, a token or a whole body. Values that arrive unsigned
//! (an order number in a refused notification, an error text) are logged through
//! [`Escaped`], so that a newline or an escape sequence in them cannot forge a log line.

use std::fmt;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber (once; later calls are no-ops).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Human => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

pub use crate::chain::report;

/// Shows a string with control characters escaped (`\n`, `\u{1b}`, …), at most 200
/// characters of it.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i == 200 {
                return f.write_str("…");
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    #[test]
    fn control_characters_are_escaped() {
        let forged = "123\n2026-12-01T00:00:00Z INFO order paid\u{1b}[2J";
        let shown = Escaped(forged).to_string();
        assert!(
            !shown.contains('\n') && !shown.contains('\u{1b}'),
            "{shown}"
        );
        assert!(shown.starts_with("123\\n2026"), "{shown}");
        assert_eq!(Escaped("测试").to_string(), "测试");
        assert_eq!(Escaped(&"x".repeat(500)).to_string().chars().count(), 201);
    }
}

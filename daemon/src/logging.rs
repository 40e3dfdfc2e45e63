//! The daemon's log lines: one event per line, with the object's kind, namespace and name on
//! every line an actor writes.
//!
//! - `text`: tracing-subscriber's format; line breaks inside a message (a commit message, git's
//!   stderr) are written as `\n`, so one event is one line and a commit template cannot forge
//!   log lines.
//! - `json`: one flat object per line, `{"timestamp", "level", "target", <span fields>,
//!   "message", <event fields>}`, as log collectors expect (tracing-subscriber's own JSON nests
//!   span fields beside the span's name under the same `name` key, which parsers collapse).

use std::fmt;
use std::io::{self, Write};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people.
    Text,
    /// For log collectors.
    Json,
}

/// Installs the global subscriber writing to stderr.
pub fn init(format: LogFormat, filter: EnvFilter) {
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(false).with_writer(OneLine(io::stderr)).init(),
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(FlatJson)
            .with_writer(io::stderr)
            .init(),
    }
}

/// Writes each formatted event with its inner line breaks escaped.
struct OneLine<F>(F);

impl<'a, F, W> MakeWriter<'a> for OneLine<F>
where
    F: Fn() -> W + 'static,
    W: Write,
{
    type Writer = OneLineWriter<W>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter((self.0)())
    }
}

/// See [`OneLine`]. The formatter hands over a whole event in one `write`.
struct OneLineWriter<W>(W);

impl<W: Write> Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let body = buf.strip_suffix(b"\n").unwrap_or(buf);
        if !body.contains(&b'\n') && !body.contains(&b'\r') {
            return self.0.write_all(buf).map(|()| buf.len());
        }
        let mut escaped = Vec::with_capacity(buf.len() + 16);
        for &byte in body {
            match byte {
                b'\n' => escaped.extend_from_slice(b"\\n"),
                b'\r' => escaped.extend_from_slice(b"\\r"),
                other => escaped.push(other),
            }
        }
        if body.len() < buf.len() {
            escaped.push(b'\n');
        }
        self.0.write_all(&escaped).map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// See the module docs.
struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            crate::time::rfc3339_millis(crate::time::now_millis()).into(),
        );
        line.insert("level".into(), metadata.level().as_str().into());
        line.insert("target".into(), metadata.target().into());
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                // Span fields were recorded by `JsonFields`: a JSON object as text.
                if let Some(fields) = extensions.get::<FormattedFields<N>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields)
                {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_line_breaks_are_escaped_and_the_last_kept() {
        let mut out = Vec::new();
        OneLineWriter(&mut out)
            .write_all(b"INFO pushed\nUpdate podinfo\r\n\n")
            .unwrap();
        assert_eq!(out, b"INFO pushed\\nUpdate podinfo\\r\\n\n");
        let mut plain = Vec::new();
        OneLineWriter(&mut plain).write_all(b"INFO one line\n").unwrap();
        assert_eq!(plain, b"INFO one line\n");
    }
}

//! Diagnostics for files a user wrote: what is wrong, where (file, line, column) and a hint.
//!
//! A [`Diagnostic`] holds a byte span into the source text; [`Diagnostic::render`] turns it
//! into the familiar compiler layout. Rendering is pure: it returns a `String`.

use std::fmt::Write as _;
use std::ops::Range;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used (exit status 2).
    Error,
    /// The file can be used, but something is probably not what the author meant.
    Warning,
}

/// One finding about a file, with where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Byte range in the source text, when the problem has a place.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// 1-based line and column of the span's start (filled by [`Diagnostic::locate`]).
    pub line: Option<usize>,
    /// 1-based column, counted in characters.
    pub column: Option<usize>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            line: None,
            column: None,
            hint: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(message: impl Into<String>, span: Option<Range<usize>>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message, span)
        }
    }

    /// Adds a hint, builder style.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets `line` and `column` directly, for problems found before there is text to point
    /// into (encoding errors).
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Fills `line` and `column` from the span against `source`.
    pub fn locate(mut self, source: &str) -> Self {
        if let Some(span) = &self.span {
            let (line, column) = line_column(source, span.start);
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }

    /// Renders the diagnostic for a terminal, without colour:
    ///
    /// ```text
    /// error: unknown role "sesion-host"
    ///   --> contoso.toml:12:10
    ///    |
    /// 12 | roles = ["sesion-host"]
    ///    |          ^^^^^^^^^^^^^
    ///    = hint: did you mean "session-host"?
    /// ```
    pub fn render(&self, file: &str, source: &str) -> String {
        let mut out = String::new();
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{level}: {}", self.message);
        let mut gutter = 1;
        match &self.span {
            Some(span) if span.start <= source.len() => {
                let (line, column) = line_column(source, span.start);
                let text = source.lines().nth(line - 1).unwrap_or("");
                let number = line.to_string();
                gutter = number.len();
                let pad = " ".repeat(gutter);
                let _ = writeln!(out, "{pad}--> {file}:{line}:{column}");
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{number} | {}", text.trim_end());
                let line_start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = line_start + text.len();
                let end = span.end.clamp(span.start, line_end);
                let width = source
                    .get(span.start..end)
                    .map_or(1, |s| s.chars().count().max(1));
                let _ = writeln!(
                    out,
                    "{pad} | {}{}",
                    " ".repeat(column - 1),
                    "^".repeat(width)
                );
            }
            _ => match (self.line, self.column) {
                (Some(line), Some(column)) => {
                    let _ = writeln!(out, " --> {file}:{line}:{column}");
                }
                _ => {
                    let _ = writeln!(out, " --> {file}");
                }
            },
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "{} = hint: {hint}", " ".repeat(gutter));
        }
        out
    }
}

/// 1-based line and character column of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_hint() {
        let src = "name = \"x\"\n[[host]]\nroles = [\"sesion-host\"]\n";
        let start = src.find("\"sesion").unwrap();
        let d = Diagnostic::error("unknown role \"sesion-host\"", Some(start..start + 13))
            .with_hint("did you mean \"session-host\"?");
        let text = d.render("c.toml", src);
        assert_eq!(
            text,
            "error: unknown role \"sesion-host\"\n --> c.toml:3:10\n  |\n3 | roles = \
             [\"sesion-host\"]\n  |          ^^^^^^^^^^^^^\n  = hint: did you mean \
             \"session-host\"?\n"
        );
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 10), (1, 1));
    }
}

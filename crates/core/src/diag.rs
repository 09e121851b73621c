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
    /// For a summary of diagnostics left out: how many it stands for (0 for an ordinary
    /// diagnostic). See [`Capped`].
    #[serde(skip_serializing_if = "is_zero")]
    pub repeats: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
            repeats: 0,
        }
    }

    /// How many problems this diagnostic stands for: 1, or the count of a summary.
    pub fn count(&self) -> usize {
        self.repeats.max(1)
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
                let line_start = source[..span.start].rfind('\n').map_or(0, |i| i + 1);
                let line_end = line_start + text.len();
                let end = span.end.clamp(span.start, line_end);
                let width = source
                    .get(span.start..end)
                    .map_or(1, |s| s.chars().count().max(1));
                // A long line shows a window around the span, so that every diagnostic stays
                // a few lines long however long the line is.
                let text = text.trim_end();
                let (shown, caret, width) = window(text, column - 1, width);
                let _ = writeln!(out, "{number} | {shown}");
                let _ = writeln!(out, "{pad} | {}{}", " ".repeat(caret), "^".repeat(width));
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

/// The widest source line shown in full; longer ones show [`CONTEXT`] characters on either
/// side of the span.
const WIDEST_LINE: usize = 160;
/// Characters shown on either side of a span in a long line.
const CONTEXT: usize = 60;
/// The widest caret underline.
const WIDEST_CARET: usize = 80;

/// The part of `line` to show for a span at character `column` (0-based) of `width`
/// characters: the text, the caret's column in it and the caret's width.
fn window(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let chars = line.chars().count();
    let width = width.min(WIDEST_CARET);
    if chars <= WIDEST_LINE {
        return (line.to_owned(), column, width);
    }
    let from = column.saturating_sub(CONTEXT);
    let to = (column + width + CONTEXT).min(chars);
    let mut shown = String::new();
    if from > 0 {
        shown.push_str("...");
    }
    shown.extend(line.chars().skip(from).take(to - from));
    if to < chars {
        shown.push_str("...");
    }
    let caret = column - from + if from > 0 { 3 } else { 0 };
    (shown, caret, width)
}

/// How many diagnostics of one kind are kept in full; the rest become one summary.
pub const SHOWN_PER_KIND: usize = 10;

/// Diagnostics kept linear and bounded however bad the input: the first [`SHOWN_PER_KIND`]
/// of each kind in full, the rest counted and summed up in one diagnostic per kind ("and
/// 9,990 more like this"). A kind is the message with its quoted names and numbers blanked
/// out (`duplicate host "_"`).
#[derive(Debug, Default)]
pub struct Capped {
    kept: Vec<Diagnostic>,
    /// Per kind, in first-seen order: the kind, its severity, the first message, how many.
    kinds: Vec<(String, Severity, String, usize)>,
    index: std::collections::HashMap<String, usize>,
}

impl Capped {
    /// Whether a diagnostic with this message would be kept in full (so that an expensive
    /// hint is only computed when it will be shown).
    pub fn keeps(&self, message: &str) -> bool {
        self.index
            .get(&kind(message))
            .is_none_or(|&k| self.kinds[k].3 < SHOWN_PER_KIND)
    }

    /// Adds a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        let key = kind(&d.message);
        let k = match self.index.get(&key) {
            Some(&k) => k,
            None => {
                self.kinds
                    .push((key.clone(), d.severity, d.message.clone(), 0));
                self.index.insert(key, self.kinds.len() - 1);
                self.kinds.len() - 1
            }
        };
        self.kinds[k].3 += 1;
        if self.kinds[k].3 <= SHOWN_PER_KIND {
            self.kept.push(d);
        }
    }

    /// Whether some error was added.
    pub fn has_errors(&self) -> bool {
        self.kinds.iter().any(|k| k.1 == Severity::Error)
    }

    /// The kept diagnostics, then one summary per kind with more than were kept.
    pub fn finish(self) -> Vec<Diagnostic> {
        let mut out = self.kept;
        for (_, severity, first, n) in self.kinds {
            if n > SHOWN_PER_KIND {
                let more = n - SHOWN_PER_KIND;
                let mut d = Diagnostic::error(
                    format!(
                        "and {} more {} like this: {first}",
                        thousands(more),
                        match (severity, more) {
                            (Severity::Error, 1) => "error",
                            (Severity::Error, _) => "errors",
                            (Severity::Warning, 1) => "warning",
                            (Severity::Warning, _) => "warnings",
                        }
                    ),
                    None,
                );
                d.severity = severity;
                d.repeats = more;
                out.push(d);
            }
        }
        out
    }
}

/// The kind of a message: quoted text and numbers blanked out.
fn kind(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push('"');
                if quoted {
                    out.push('_');
                }
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('0') {
                    out.push('0');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value read from a file and the place it is written there, for the diagnostics and
/// findings that point at it later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Byte range of the value in the file's text.
    pub span: Range<usize>,
}

impl<T> Spanned<T> {
    /// The TOML reader's spanned value as ours (core's API does not expose `toml`'s types).
    pub(crate) fn from_toml(s: toml::Spanned<T>) -> Self {
        Spanned {
            span: s.span(),
            value: s.into_inner(),
        }
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
    fn long_lines_show_a_window_and_diagnostics_are_capped() {
        let src = format!("roles = [{}]\n", vec!["\"x\""; 10_000].join(", "));
        let at = src.len() / 2;
        let text = Diagnostic::error("bad", Some(at..at + 3)).render("f.toml", &src);
        assert!(text.len() < 400, "{text}");
        assert!(text.contains("--> f.toml:1:"), "{text}");
        let mut capped = Capped::default();
        for i in 0..10_000 {
            capped.push(Diagnostic::warning(
                format!("role \"r{i}\" is listed twice"),
                None,
            ));
        }
        capped.push(Diagnostic::error("port 70000 is out of range", None));
        assert!(capped.has_errors());
        assert!(!capped.keeps("role \"other\" is listed twice"));
        assert!(capped.keeps("port 1 is out of range"));
        let out = capped.finish();
        assert_eq!(out.len(), SHOWN_PER_KIND + 2);
        let last = out.last().unwrap();
        assert_eq!(last.repeats, 9_990);
        assert!(
            last.message
                .starts_with("and 9,990 more warnings like this: role \"r0\""),
            "{}",
            last.message
        );
        assert_eq!(out.iter().map(Diagnostic::count).sum::<usize>(), 10_001);
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 10), (1, 1));
    }
}

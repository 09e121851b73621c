//! Text from files and peers made safe for a terminal: control characters (ESC, BEL, CR,
//! NUL, the C1 controls such as CSI) would let a rule comment, a host name in a check result
//! or a file name clear the screen, set the window title or forge table lines. Every
//! renderer for people passes such text through [`one_line`] (table cells, headings) or
//! [`lines`] (multi-line messages); JSON escapes them already.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character written as an escape (`\x1b`, `\r`, `\n`, `\t`,
/// `\u{9b}` ...): one line, nothing a terminal acts on.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// As [`one_line`], but line breaks stay line breaks (a message of several lines).
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_borrowed() {
        assert!(matches!(one_line("gw01 tcp/443"), Cow::Borrowed(_)));
        assert_eq!(
            one_line("a\x1b[2J\x07b\rc\nd\te\0f\u{9b}g\u{7f}"),
            "a\\x1b[2J\\x07b\\rc\\nd\\te\\0f\\u{9b}g\\x7f"
        );
        assert_eq!(
            lines("one\ntwo\x1b]0;title\x07"),
            "one\ntwo\\x1b]0;title\\x07"
        );
        assert_eq!(one_line("Zürich ✓"), "Zürich ✓");
    }
}

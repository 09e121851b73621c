//! One TOML front door for every file rdsports reads (the embedded catalog and deployment
//! files), so both get the same checks and the same diagnostics.

use std::borrow::Cow;
use std::ops::Range;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::Diagnostic;
use crate::suggest;

/// Checks that `text` is a usable text file, then deserialises it.
///
/// TOML syntax errors, unknown keys and unknown enum values come back as one located
/// [`Diagnostic`] with a hint (the nearest known key or value when there is one).
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, Diagnostic> {
    deserialize(text, document(text)?)
}

/// Checks that `text` is a usable text file and parses it as a TOML document: the one parse
/// of the file. A caller can read parts of the document on their own ([`deserialize_value`])
/// besides [deserialising](deserialize) the whole.
pub(crate) fn document(text: &str) -> Result<Spanned<DeTable<'_>>, Diagnostic> {
    if text.contains('\0') {
        return Err(
            Diagnostic::error("the file is binary (it holds NUL bytes), not TOML", None)
                .with_hint("give a TOML text file; see `rdsports plan --help` for the format"),
        );
    }
    if text.trim().is_empty() {
        return Err(Diagnostic::error("the file is empty", None)
            .with_hint("a deployment needs at least `name = \"...\"` and one [[host]]"));
    }
    DeTable::parse(text).map_err(|e| diagnostic(text, &e))
}

/// Deserialises a document of `text` (from [`document`]), with the diagnostics of [`parse`].
pub(crate) fn deserialize<'t, T: Deserialize<'t>>(
    text: &str,
    document: Spanned<DeTable<'t>>,
) -> Result<T, Diagnostic> {
    T::deserialize(toml::de::Deserializer::from(document)).map_err(|e| diagnostic(text, &e))
}

/// Deserialises one value taken out of a document. The error is serde's, with the place
/// (the innermost value that has one), for the caller to word.
pub(crate) fn deserialize_value<'t, T: Deserialize<'t>>(
    value: Spanned<DeValue<'t>>,
) -> Result<T, toml::de::Error> {
    T::deserialize(toml::de::ValueDeserializer::from(value))
}

/// A TOML error as a diagnostic with a hint.
fn diagnostic(text: &str, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_owned();
    if e.span().is_none()
        && message.contains("recursion")
        && let Some((span, depth)) = deepest_key(text)
    {
        return Diagnostic::error(
            format!("this key is nested too deeply ({depth} dotted parts)"),
            Some(span),
        )
        .with_hint(
            "a deployment file nests at most three levels ([[host]], [options] and their \
             keys): write the key without dots",
        );
    }
    if message.contains("recurse") {
        return Diagnostic::error(message, e.span()).with_hint(
            "arrays and inline tables nest too deeply here; a deployment file needs at most \
             a list of strings (roles = [\"gateway\"])",
        );
    }
    let hint = hint_for(&message);
    Diagnostic::error(message, e.span()).with_hint(hint)
}

/// The key with the most dotted parts (outside quotes), as a byte span and its part count:
/// where a "recursion limit" error without a place comes from. Looks at table headers
/// (`[a.b.c]`) and at keys before `=`; the first of the deepest wins.
fn deepest_key(text: &str) -> Option<(Range<usize>, usize)> {
    let mut best: Option<(Range<usize>, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let key = if trimmed.starts_with('[') {
            trimmed.split(']').next().unwrap_or("")
        } else {
            trimmed.split('=').next().unwrap_or("")
        };
        let mut quote = None;
        let mut dots = 0;
        for c in key.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '.') => dots += 1,
                _ => {}
            }
        }
        let parts = dots + 1;
        if parts > 1 && best.as_ref().is_none_or(|(_, b)| parts > *b) {
            let start = offset + indent;
            best = Some((start..start + key.trim_end().len(), parts));
        }
        offset += line.len();
    }
    best
}

/// Decodes file bytes to text, the way the files Windows tools save arrive:
///
/// * UTF-8, with or without a byte order mark (Notepad's "UTF-8" and "UTF-8 with BOM");
/// * UTF-16 little or big endian with a byte order mark (Notepad's "Unicode", PowerShell 5's
///   `Out-File` and `>` redirection);
/// * CRLF or LF line ends (TOML reads both; diagnostics drop the CR).
///
/// UTF-16 without a byte order mark, NUL bytes and invalid UTF-8 are refused with the line
/// and column of the first bad byte (in [`Diagnostic::line`] and [`Diagnostic::column`]:
/// there is no text for a span to point into) and a hint.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, Diagnostic> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest).map(Cow::Borrowed);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes).map(Cow::Owned);
    }
    if looks_like_utf16(bytes) {
        return Err(Diagnostic::error(
            "the file looks like UTF-16 without a byte order mark, not UTF-8",
            None,
        )
        .at(1, 1)
        .with_hint(SAVE_AS_UTF8));
    }
    utf8(bytes).map(Cow::Borrowed)
}

/// How to fix an encoding error, in the words of the tools that cause them.
const SAVE_AS_UTF8: &str = "save the file as UTF-8 (Notepad: File > Save As, Encoding \
                            UTF-8; PowerShell: `Set-Content -Encoding utf8`)";

/// UTF-8 text without NUL bytes.
fn utf8(bytes: &[u8]) -> Result<&str, Diagnostic> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let (line, column) = byte_line_column(bytes, at);
            return Err(Diagnostic::error(
                format!(
                    "the file is not valid UTF-8: byte 0x{:02X} at offset {at} (line {line}, column {column})",
                    bytes[at]
                ),
                None,
            )
            .at(line, column)
            .with_hint(SAVE_AS_UTF8));
        }
    };
    if let Some(at) = text.find('\0') {
        return Err(binary(crate::diag::line_column(text, at)));
    }
    Ok(text)
}

/// The error for a NUL character at (line, column).
fn binary((line, column): (usize, usize)) -> Diagnostic {
    Diagnostic::error(
        format!(
            "the file holds a NUL byte at line {line}, column {column}: it is binary, not TOML"
        ),
        None,
    )
    .at(line, column)
    .with_hint("give a TOML text file; see `rdsports plan --help` for the format")
}

/// UTF-16 code units (after the byte order mark) to text.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, Diagnostic> {
    let mut text = String::with_capacity(bytes.len() / 2 * 3 / 2);
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    for c in char::decode_utf16(units) {
        match c {
            Ok('\0') => return Err(binary(crate::diag::line_column(&text, text.len()))),
            Ok(c) => text.push(c),
            Err(e) => {
                let (line, column) = crate::diag::line_column(&text, text.len());
                return Err(Diagnostic::error(
                    format!(
                        "the UTF-16 file holds an unpaired surrogate 0x{:04X} at line {line}, column {column}",
                        e.unpaired_surrogate()
                    ),
                    None,
                )
                .at(line, column)
                .with_hint(SAVE_AS_UTF8));
            }
        }
    }
    if bytes.len() % 2 == 1 {
        let (line, column) = crate::diag::line_column(&text, text.len());
        return Err(Diagnostic::error(
            format!("the UTF-16 file ends in half a character (line {line}, column {column})"),
            None,
        )
        .at(line, column)
        .with_hint(SAVE_AS_UTF8));
    }
    Ok(text)
}

/// UTF-16 text without a byte order mark: ASCII text then has a NUL in every other byte.
/// Looks at the first 64 bytes: most of the even (big endian) or odd (little endian) bytes
/// are NUL and none of the others.
fn looks_like_utf16(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64) & !1];
    if head.len() < 4 {
        return false;
    }
    let zeros = |offset: usize| {
        head.iter()
            .skip(offset)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    let half = head.len() / 2;
    (odd * 4 >= half * 3 && even == 0) || (even * 4 >= half * 3 && odd == 0)
}

/// 1-based line and character column of byte `at` in bytes whose prefix up to `at` is UTF-8.
fn byte_line_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

/// serde's messages name the bad word and the expected ones:
/// "unknown field `rdp_prot`, expected one of `rdp_port`, `rdp_udp`" and
/// "unknown variant `centrl`, expected `none` or `central`". Turn them into a hint; every
/// other message gets one too (what to write, or where the format is described).
fn hint_for(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        return format!("add `{field} = ...` to this table ({FORMAT_HINT})");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let expected = rest.split(", expected ").nth(1).unwrap_or("");
        let wanted = match expected {
            e if is_integer_type(e) => "a number without quotes, such as 3389",
            e if e.contains("bool") => "true or false, without quotes",
            e if e.contains("sequence") => "a list in brackets, such as [\"http\"]",
            e if e.contains("string") => "text in double quotes",
            _ => return FORMAT_HINT.to_owned(),
        };
        return format!("write {wanted}");
    }
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return FORMAT_HINT.to_owned();
    };
    let Some((word, expected)) = rest.split_once('`') else {
        return FORMAT_HINT.to_owned();
    };
    let candidates: Vec<&str> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|c| !c.is_empty())
        .collect();
    if candidates.is_empty() {
        return FORMAT_HINT.to_owned();
    }
    suggest::hint(word, &candidates)
}

/// serde names integer types `i64`, `u16` ...; some messages say "integer".
fn is_integer_type(expected: &str) -> bool {
    let digits = expected.get(1..).unwrap_or("");
    expected.contains("integer")
        || (expected.starts_with(['i', 'u'])
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit()))
}

/// Where to read about the format, for errors without a more precise hint.
const FORMAT_HINT: &str = "the file format is in docs/reference/deployment-file.md";

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(
        dead_code,
        reason = "the fields exist to be named in errors, never read"
    )]
    struct T {
        rdp_port: Option<u16>,
        rdp_udp: Option<bool>,
    }

    #[test]
    fn unknown_key_gets_a_suggestion_and_a_span() {
        let src = "rdp_prot = 3389\n";
        let d = parse::<T>(src).unwrap_err();
        assert!(
            d.message.contains("unknown field `rdp_prot`"),
            "{}",
            d.message
        );
        assert_eq!(d.hint.as_deref(), Some("did you mean \"rdp_port\"?"));
        assert_eq!(d.span, Some(0..8));
    }

    #[test]
    fn empty_binary_and_syntax_errors_are_diagnostics() {
        assert!(parse::<T>("  \n").unwrap_err().message.contains("empty"));
        assert!(parse::<T>("a\0b").unwrap_err().message.contains("binary"));
        let d = parse::<T>("rdp_port = = 3\n").unwrap_err();
        assert!(d.span.is_some());
        assert_eq!(d.hint.as_deref(), Some(FORMAT_HINT));
        let d = parse::<T>("rdp_port = \"abc\"\n").unwrap_err();
        assert_eq!(
            d.hint.as_deref(),
            Some("write a number without quotes, such as 3389")
        );
        assert_eq!(decode(b"\xEF\xBB\xBFname").unwrap(), "name");
    }

    /// Files as Windows Notepad and PowerShell save them.
    #[test]
    fn decodes_what_windows_tools_save() {
        let text = "name = \"x\"\r\n# caf\u{e9} \u{1F600}\r\n";
        let le: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = b"\xFE\xFF"
            .iter()
            .copied()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let bom8: Vec<u8> = b"\xEF\xBB\xBF"
            .iter()
            .chain(text.as_bytes())
            .copied()
            .collect();
        for bytes in [&le, &be, &bom8, &text.as_bytes().to_vec()] {
            assert_eq!(decode(bytes).unwrap(), text);
        }
        #[derive(serde::Deserialize)]
        struct N {
            name: String,
        }
        assert_eq!(parse::<N>(text).unwrap().name, "x");
    }

    /// Deep dotted keys and deep nesting are located errors, never a bare "recursion limit".
    #[test]
    fn deep_nesting_has_a_place() {
        for (text, line) in [
            (
                format!("rdp_port = 1\na.{} = 1\n", vec!["b"; 100].join(".")),
                2,
            ),
            (
                format!("rdp_port = 1\n\n[{}]\n", vec!["b"; 200].join(".")),
                3,
            ),
            (
                format!("rdp_port = {}{}\n", "[".repeat(300), "]".repeat(300)),
                1,
            ),
            (
                format!("rdp_port = {}1{}\n", "{b=".repeat(300), "}".repeat(300)),
                1,
            ),
        ] {
            let d = parse::<T>(&text).unwrap_err().locate(&text);
            assert_eq!(d.line, Some(line), "{}", d.message);
            assert!(d.hint.is_some());
        }
    }

    /// Every encoding error has a line and a column, and a hint.
    #[test]
    fn encoding_errors_have_line_and_column() {
        let at = |bytes: &[u8]| {
            let d = decode(bytes).unwrap_err();
            assert!(d.hint.is_some(), "{}", d.message);
            (d.line.unwrap(), d.column.unwrap(), d.message)
        };
        let no_bom: Vec<u8> = "name = \"x\"\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(at(&no_bom).2.contains("UTF-16 without a byte order mark"));
        let no_bom_be: Vec<u8> = "name = \"x\"\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(at(&no_bom_be).2.contains("UTF-16"));
        let (line, column, m) = at(b"name = 1\n# \xC3\xA9 \xC3 x\n");
        assert_eq!((line, column), (2, 5), "{m}");
        let (line, column, m) = at(b"a = 1\nbb = 2\0\n");
        assert_eq!((line, column), (2, 7), "{m}");
        assert!(m.contains("NUL"));
        // UTF-16 with a NUL character, an unpaired surrogate, an odd length.
        let (line, column, _) = at(b"\xFF\xFEa\0\n\0b\0\0\0");
        assert_eq!((line, column), (2, 2));
        let (line, column, m) = at(b"\xFF\xFEa\0\x00\xD8b\0");
        assert_eq!((line, column), (1, 2), "{m}");
        assert!(at(b"\xFF\xFEa\0b").2.contains("half"));
        let rendered = decode(b"x\xFF").unwrap_err().render("f.toml", "");
        assert!(rendered.contains("--> f.toml:1:2"), "{rendered}");
    }
}

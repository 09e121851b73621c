//! One TOML front door for every file rdsports reads (the embedded catalog and deployment
//! files), so both get the same checks and the same diagnostics.

use serde::de::DeserializeOwned;

use crate::diag::Diagnostic;
use crate::suggest;

/// Checks that `text` is a usable text file, then deserialises it.
///
/// TOML syntax errors, unknown keys and unknown enum values come back as one located
/// [`Diagnostic`] with a hint (the nearest known key or value when there is one).
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, Diagnostic> {
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
    toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_owned();
        let hint = hint_for(&message);
        Diagnostic::error(message, e.span()).with_hint(hint)
    })
}

/// Decodes file bytes as UTF-8 text (a UTF-8 byte order mark is skipped).
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Diagnostic::error("the file is UTF-16, not UTF-8", None)
            .with_hint("save it as UTF-8 (PowerShell: `Set-Content -Encoding utf8`)"));
    }
    if bytes.contains(&0) {
        return Err(
            Diagnostic::error("the file is binary (it holds NUL bytes), not TOML", None)
                .with_hint("give a TOML text file"),
        );
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        Diagnostic::error(format!("the file is not valid UTF-8 (byte {at})"), None)
            .with_hint("save it as UTF-8")
    })
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
const FORMAT_HINT: &str = "the file format is in the README, \"The deployment file\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
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
        assert!(
            decode(b"\xff\xfeh\0")
                .unwrap_err()
                .message
                .contains("UTF-16")
        );
        assert!(decode(b"ok \xc3").unwrap_err().message.contains("UTF-8"));
        assert_eq!(decode(b"\xEF\xBB\xBFname").unwrap(), "name");
    }
}

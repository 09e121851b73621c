//! The shapes `ConvertTo-Json` gives one cmdlet's output, in Windows PowerShell 5.1 and
//! PowerShell 7, read into plain values, each problem located by its JSON path.
//!
//! * 5.1: a single result is an object, several are an array, and an array that carries the
//!   extended `Count` property comes out as `{"value": [...], "Count": n}`
//!   (PowerShell/PowerShell issue #5579); enums are numbers; dates are `"\/Date(ms)\/"`.
//! * 7: `-AsArray` makes a single result an array; enums are numbers, or names with
//!   `-EnumsAsStrings`; dates are ISO 8601.
//!
//! PowerShell's property names are not case-sensitive (the 2012 R2 help writes
//! `Gatewaymode`), so fields are looked up without regard to case.

use serde_json::{Map, Value};

use crate::Problem;

/// The items of one cmdlet's output: an array, the 5.1 wrapper, a single object, or nothing
/// (`null`, an empty file's `[]`).
pub(crate) fn items<'v>(v: &'v Value, path: &str) -> Result<Vec<(String, &'v Value)>, Problem> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => Ok(a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("{path}[{i}]"), x))
            .collect()),
        Value::Object(o) => match wrapped(o) {
            Some(a) => Ok(a
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("{path}.value[{i}]"), x))
                .collect()),
            None => Ok(vec![(path.to_owned(), v)]),
        },
        _ => Err(Problem::at(
            path,
            format!("expected an object or an array, found {}", kind(v)),
            "pipe the cmdlet into ConvertTo-Json (`Get-RDServer | ConvertTo-Json -Depth 4`)",
        )),
    }
}

/// The array inside 5.1's `{"value": [...], "Count": n}`.
fn wrapped(o: &Map<String, Value>) -> Option<&Vec<Value>> {
    if o.len() != 2 || !o.contains_key("Count") {
        return None;
    }
    o.get("value").and_then(Value::as_array)
}

/// The object at `path`, or the error that says what was there.
pub(crate) fn object<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, Problem> {
    v.as_object().ok_or_else(|| {
        Problem::at(
            path,
            format!("expected an object, found {}", kind(v)),
            "give the cmdlet's output as ConvertTo-Json wrote it",
        )
    })
}

/// Field `key` of `o`, found without regard to case; `null` counts as absent.
pub(crate) fn field<'v>(o: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

/// A string field.
pub(crate) fn string(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, Problem> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(Problem::at(
            &format!("{path}.{key}"),
            format!("expected a string, found {}", kind(v)),
            "give the cmdlet's output as ConvertTo-Json wrote it",
        )),
    }
}

/// A string field that must be there.
pub(crate) fn required(o: &Map<String, Value>, key: &str, path: &str) -> Result<String, Problem> {
    match string(o, key, path)? {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(Problem::at(
            path,
            format!("no {key}"),
            "is this the cmdlet the file is named after? Export with `| ConvertTo-Json -Depth 4`",
        )),
    }
}

/// A boolean field (PowerShell writes `true`/`false`; a name or 0/1 is taken too).
pub(crate) fn boolean(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<bool>, Problem> {
    match field(o, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(Problem::at(
            &format!("{path}.{key}"),
            format!("expected true or false, found {}", kind(v)),
            "give the cmdlet's output as ConvertTo-Json wrote it",
        )),
    }
}

/// A list of strings: an array, 5.1's wrapper, or one string (a one-item list as 5.1 writes
/// it when the property is not typed as an array).
pub(crate) fn strings(
    o: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Vec<(String, String)>, Problem> {
    let at = format!("{path}.{key}");
    let Some(v) = field(o, key) else {
        return Ok(Vec::new());
    };
    if let Value::String(s) = v {
        return Ok(vec![(at, s.clone())]);
    }
    let mut out = Vec::new();
    for (p, x) in items(v, &at)? {
        match x {
            Value::String(s) => out.push((p, s.clone())),
            Value::Null => {}
            other => {
                return Err(Problem::at(
                    &p,
                    format!("expected a string, found {}", kind(other)),
                    "give the cmdlet's output as ConvertTo-Json wrote it",
                ));
            }
        }
    }
    Ok(out)
}

/// One enumeration of the RemoteDesktop module: its values, each with its number and every
/// name Microsoft has written for it (the first is ours).
pub(crate) struct Enum {
    /// The .NET type's name, for messages.
    pub name: &'static str,
    /// `(number, names)`.
    pub values: &'static [(i64, &'static [&'static str])],
}

impl Enum {
    /// The canonical name of field `key` of `o`, read as a number (5.1, 7's default), a
    /// number in a string, or a name (7 with `-EnumsAsStrings`, the collector), any case.
    pub(crate) fn read(
        &self,
        o: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Result<Option<&'static str>, Problem> {
        let Some(v) = field(o, key) else {
            return Ok(None);
        };
        let at = format!("{path}.{key}");
        let found = match v {
            Value::Number(n) => n
                .as_i64()
                .and_then(|n| self.values.iter().find(|(k, _)| *k == n)),
            Value::String(s) => {
                let s = s.trim();
                match s.parse::<i64>() {
                    Ok(n) => self.values.iter().find(|(k, _)| *k == n),
                    Err(_) => self
                        .values
                        .iter()
                        .find(|(_, names)| names.iter().any(|m| m.eq_ignore_ascii_case(s))),
                }
            }
            _ => None,
        };
        match found {
            Some((_, names)) => Ok(Some(names[0])),
            None => {
                let known: Vec<String> = self
                    .values
                    .iter()
                    .map(|(n, names)| format!("{} ({n})", names.join(" or ")))
                    .collect();
                Err(Problem::at(
                    &at,
                    format!("{} is not a value of {}", short(v), self.name),
                    format!("{} takes {}", self.name, known.join(", ")),
                ))
            }
        }
    }
}

/// What kind of JSON value `v` is, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `v` as a short text for messages (at most 40 characters).
pub(crate) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// A date as either serialiser writes it, as ISO 8601 (UTC for 5.1's milliseconds):
/// `"/Date(1326441600000)/"` (the JSON `"\/Date(...)\/"` once read) or the ISO text itself.
pub(crate) fn date(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // 5.1 may append a zone offset (`+0100`) to local times; the instant is the number.
        let digits_end = inner
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '+' || *c == '-')
            .map_or(inner.len(), |(i, _)| i);
        let ms: i64 = inner[..digits_end].parse().ok()?;
        return Some(iso_of_ms(ms));
    }
    let b = t.as_bytes();
    let iso = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-:.+".contains(c));
    iso.then(|| t.to_owned())
}

/// Milliseconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
fn iso_of_ms(ms: i64) -> String {
    rdsports_schema::rfc3339(ms.div_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_both_serialisers() {
        // ConvertTo-Json's own example in the 5.1 reference: 2012-01-13.
        assert_eq!(
            date("/Date(1326441600000)/").as_deref(),
            Some("2012-01-13T08:00:00Z")
        );
        assert_eq!(
            date("/Date(0+0100)/").as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            date("2026-01-12T08:00:00.0000000+01:00").as_deref(),
            Some("2026-01-12T08:00:00.0000000+01:00")
        );
        assert_eq!(date("yesterday"), None);
        assert_eq!(date("/Date(x)/"), None);
    }

    #[test]
    fn items_of_every_shape() {
        let one = serde_json::json!({"Server": "a"});
        assert_eq!(items(&one, "$").unwrap()[0].0, "$");
        let wrapped = serde_json::json!({"value": [{"Server": "a"}, {"Server": "b"}], "Count": 2});
        let w = items(&wrapped, "$").unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[1].0, "$.value[1]");
        assert!(items(&serde_json::json!(null), "$").unwrap().is_empty());
        let e = items(&serde_json::json!(3), "$").unwrap_err();
        assert!(e.message.contains("found a number"), "{}", e.message);
    }
}

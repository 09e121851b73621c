//! Secrets never pass: fields that hold one are removed, and the credentials of connection
//! strings are cut out, before anything else reads the input.

use serde_json::Value;

use crate::sql;

/// Field names that hold a secret (any case): `Win32_TSGatewayRADIUSServer.SharedSecret`, and
/// any password a tool might add.
const SECRET_FIELDS: [&str; 4] = ["SharedSecret", "Password", "Pwd", "Secret"];

/// Removes every secret from `v` (at `path`); returns where each was.
pub(crate) fn scrub(v: &mut Value, path: &str) -> Vec<String> {
    let mut dropped = Vec::new();
    walk(v, path, &mut dropped);
    dropped
}

fn walk(v: &mut Value, path: &str, dropped: &mut Vec<String>) {
    // serde_json refuses input nested deeper than 128 levels: the walk is bounded by it.
    match v {
        Value::Object(o) => {
            let secret: Vec<String> = o
                .keys()
                .filter(|k| SECRET_FIELDS.iter().any(|s| s.eq_ignore_ascii_case(k)))
                .cloned()
                .collect();
            for k in secret {
                o.remove(&k);
                dropped.push(format!("{path}.{k}"));
            }
            for (k, x) in o.iter_mut() {
                walk(x, &format!("{path}.{k}"), dropped);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                walk(x, &format!("{path}[{i}]"), dropped);
            }
        }
        Value::String(s) => {
            if let Some(clean) = sql::without_credentials(s) {
                *s = clean;
                dropped.push(path.to_owned());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_secret_and_pwd_are_dropped() {
        let mut v = serde_json::json!({
            "servers": [{"Name": "nps01", "SharedSecret": "s3cret"}],
            "DatabaseConnectionString": "Driver={SQL Server Native Client 13.0};Server=tcp:cb-sqls1.database.windows.net,1433;Database=CB;Uid=admin@cb;Pwd={p;w};Encrypt=yes"
        });
        let places = scrub(&mut v, "$");
        assert_eq!(
            places,
            ["$.DatabaseConnectionString", "$.servers[0].SharedSecret"]
        );
        let text = v.to_string();
        assert!(!text.contains("s3cret") && !text.contains("p;w"), "{text}");
        assert!(
            text.contains("Server=tcp:cb-sqls1.database.windows.net,1433"),
            "{text}"
        );
    }
}

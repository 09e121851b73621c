//! `Get-RDServer | Export-Csv`: read when the roles were `-join`ed into one column, refused
//! with the way to export when they were written as `System.String[]` (what `Export-Csv`
//! makes of an array).
//!
//! The reader is small and hand-written so that every field keeps its line and column:
//! `Export-Csv` quotes every field (5.1) or every field that needs it (7), doubles quotes
//! inside, and 5.1 writes a `#TYPE ...` line first unless told `-NoTypeInformation`.

use crate::cmdlets::{CSV_HINT, known_roles, role_of};
use crate::{Inventory, MAX_SERVERS, Problem};

/// A field and where it starts (1-based line and column).
struct Field {
    text: String,
    line: usize,
    column: usize,
}

/// The records of `text`, each a list of fields.
fn records(text: &str) -> Result<Vec<Vec<Field>>, Problem> {
    let mut out: Vec<Vec<Field>> = Vec::new();
    let mut record: Vec<Field> = Vec::new();
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let (mut line, mut column) = (1usize, 1usize);
    loop {
        // At the start of a field.
        let (start_line, start_column) = (line, column);
        let mut field = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            column += 1;
            loop {
                match chars.next() {
                    None => {
                        return Err(Problem::at(
                            &format!("{start_line}:{start_column}"),
                            "a quoted field is never closed",
                            "give the file Export-Csv wrote, unchanged",
                        ));
                    }
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        column += 2;
                        field.push('"');
                    }
                    Some('"') => {
                        column += 1;
                        break;
                    }
                    Some('\n') => {
                        line += 1;
                        column = 1;
                        field.push('\n');
                    }
                    Some(c) => {
                        column += 1;
                        field.push(c);
                    }
                }
            }
        }
        // Unquoted text (or what follows a closing quote) up to the separator.
        loop {
            match chars.peek() {
                None | Some(',') | Some('\n') | Some('\r') => break,
                Some(&c) => {
                    chars.next();
                    column += 1;
                    field.push(c);
                }
            }
        }
        record.push(Field {
            text: field,
            line: start_line,
            column: start_column,
        });
        match chars.next() {
            Some(',') => column += 1,
            Some('\r') => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                column = 1;
                out.push(std::mem::take(&mut record));
            }
            Some('\n') => {
                line += 1;
                column = 1;
                out.push(std::mem::take(&mut record));
            }
            _ => {
                out.push(std::mem::take(&mut record));
                break;
            }
        }
        if out.len() > MAX_SERVERS + 2 {
            return Err(Problem::at(
                &format!("{line}:1"),
                format!("more than {MAX_SERVERS} lines"),
                "import one deployment at a time",
            ));
        }
    }
    out.retain(|r| !(r.len() == 1 && r[0].text.trim().is_empty()));
    Ok(out)
}

/// Reads `Get-RDServer | Export-Csv` into `inv`.
pub(crate) fn read_servers(inv: &mut Inventory, text: &str) -> Result<(), Problem> {
    let mut rows = records(text)?.into_iter();
    let mut header = rows.next();
    if header
        .as_ref()
        .is_some_and(|h| h.first().is_some_and(|f| f.text.starts_with("#TYPE")))
    {
        header = rows.next();
    }
    let Some(header) = header else {
        return Err(Problem::at(
            "1:1",
            "the CSV file is empty",
            "export with the Server and Roles columns",
        ));
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|f| f.text.trim().eq_ignore_ascii_case(name))
    };
    let (Some(server_col), Some(roles_col)) = (col("Server"), col("Roles")) else {
        let first = &header[0];
        return Err(Problem::at(
            &format!("{}:{}", first.line, first.column),
            "the header has no Server and Roles columns: is this Get-RDServer's export?",
            CSV_HINT,
        ));
    };
    let mut unknown: Vec<(String, String)> = Vec::new();
    for row in rows {
        let (Some(server), Some(roles)) = (row.get(server_col), row.get(roles_col)) else {
            let f = &row[0];
            return Err(Problem::at(
                &format!("{}:{}", f.line, f.column),
                "this line has fewer columns than the header",
                "give the file Export-Csv wrote, unchanged",
            ));
        };
        if roles.text.trim() == "System.String[]" {
            return Err(Problem::at(
                &format!("{}:{}", roles.line, roles.column),
                "the roles were written as \"System.String[]\" (Export-Csv writes an array as its type name)",
                CSV_HINT,
            ));
        }
        let name = server.text.trim();
        if name.is_empty() {
            return Err(Problem::at(
                &format!("{}:{}", server.line, server.column),
                "empty Server",
                "give the file Export-Csv wrote, unchanged",
            ));
        }
        inv.server(name)?;
        for r in roles.text.split([';', ',', ' ']).filter(|r| !r.is_empty()) {
            match role_of(r) {
                Some(role) => inv.role(name, role, "Get-RDServer (CSV)")?,
                None => unknown.push((format!("{}:{}", roles.line, roles.column), r.to_owned())),
            }
        }
    }
    if let Some((first, _)) = unknown.first() {
        let names: Vec<String> = unknown.iter().map(|(_, n)| format!("{n:?}")).collect();
        return Err(Problem::at(
            first,
            format!("unknown role names: {}", names.join(", ")),
            format!("Get-RDServer's roles are {}", known_roles()),
        ));
    }
    inv.visible.extend(crate::cmdlets::ROLES.map(|(_, r)| r));
    Ok(())
}

//! The broker database's connection string: the SQL server, port and instance read out of
//! `SERVER=` (`tcp:host,port`, `host\instance`), credentials never kept.
//!
//! Forms from Microsoft's documentation: on premises
//! `DRIVER=SQL Server Native Client 11.0;SERVER=sql01;Trusted_Connection=Yes;APP=Remote Desktop Services Connection Broker;DATABASE=RDCB`
//! (support/windows-server/remote/error-configuration-rd-connection-brokers-high-availability),
//! Azure SQL `Driver={SQL Server Native Client 13.0};Server=tcp:cb-sqls1.database.windows.net,1433;...;Pwd={your_password_here};...`
//! (remote-desktop-services/Create-an-Azure-SQL-database-for-the-RD-Connection-Broker).

/// The SQL server of a connection string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlServer {
    /// Host name (or address).
    pub host: String,
    /// `,port` when given.
    pub port: Option<u16>,
    /// `\instance` when given.
    pub instance: Option<String>,
}

/// Keys of a connection string that carry credentials.
const CREDENTIALS: [&str; 2] = ["pwd", "password"];

/// The `key=value` parts of a connection string; a value in braces may hold `;`.
fn parts(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut depth) = (0, 0u32);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn key(part: &str) -> String {
    part.split('=')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// `s` without its credential parts, or `None` when it has none.
pub(crate) fn without_credentials(s: &str) -> Option<String> {
    if !s.contains('=') {
        return None;
    }
    let all = parts(s);
    let kept: Vec<&str> = all
        .iter()
        .copied()
        .filter(|p| !CREDENTIALS.contains(&key(p).as_str()))
        .collect();
    (kept.len() != all.len()).then(|| kept.join(";"))
}

/// The server of a connection string (`SERVER=`, `Data Source=`, `Address=`).
pub(crate) fn server(s: &str) -> Option<SqlServer> {
    let value = parts(s).into_iter().find_map(|p| {
        let k = key(p);
        matches!(k.as_str(), "server" | "data source" | "address" | "addr")
            .then(|| p.split_once('=').map(|(_, v)| v.trim()))
            .flatten()
    })?;
    let value = value.trim_matches(['{', '}']);
    let value = value
        .strip_prefix("tcp:")
        .or_else(|| value.strip_prefix("TCP:"))
        .unwrap_or(value);
    let (rest, port) = match value.rsplit_once(',') {
        Some((h, p)) => (h, Some(p.trim().parse::<u16>().ok().filter(|p| *p != 0)?)),
        None => (value, None),
    };
    let (host, instance) = match rest.split_once('\\') {
        Some((h, i)) => (h, Some(i.trim().to_owned()).filter(|i| !i.is_empty())),
        None => (rest, None),
    };
    let host = host.trim();
    (!host.is_empty()).then(|| SqlServer {
        host: host.to_owned(),
        port,
        instance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_of_microsofts_forms() {
        assert_eq!(
            server(
                "DRIVER=SQL Server Native Client 11.0;SERVER=sql01;Trusted_Connection=Yes;APP=Remote Desktop Services Connection Broker;DATABASE=RDCB"
            ),
            Some(SqlServer {
                host: "sql01".into(),
                port: None,
                instance: None
            })
        );
        assert_eq!(
            server(
                "Driver={SQL Server Native Client 13.0};Server=tcp:cb-sqls1.database.windows.net,1433;Database=CB;"
            ),
            Some(SqlServer {
                host: "cb-sqls1.database.windows.net".into(),
                port: Some(1433),
                instance: None
            })
        );
        assert_eq!(
            server("DRIVER=ODBC Driver 17 for SQL Server;SERVER=sql02\\RDCB;DATABASE=RDCB"),
            Some(SqlServer {
                host: "sql02".into(),
                port: None,
                instance: Some("RDCB".into())
            })
        );
        assert_eq!(server("SERVER=sql02,99999"), None);
        assert_eq!(server("DATABASE=x"), None);
    }

    #[test]
    fn credentials_are_cut() {
        assert_eq!(
            without_credentials("Server=a;Uid=u;PWD={x;y};Encrypt=yes").as_deref(),
            Some("Server=a;Uid=u;Encrypt=yes")
        );
        assert_eq!(without_credentials("Server=a;Trusted_Connection=Yes"), None);
        assert_eq!(without_credentials("no connection string"), None);
    }
}

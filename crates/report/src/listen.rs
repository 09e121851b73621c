//! `rdsports listen` for people: the table of ports opened, what to do about ports the
//! system refused, one line per contact (held to a few per port and second under a flood),
//! and durations as people write them. The listeners are `rdsports_net::listen`; the JSON
//! document is `rdsports_schema::listen`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use rdsports_core::diag::thousands;
use rdsports_schema::Transport;
use rdsports_schema::listen::{Contact, Opened, Outcome};

use crate::table::Table;

/// One line for the log (`handshake ok`, `other bytes: 19 bytes, starting 03 00 00 13` ...).
pub fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Handshake { .. } => "handshake ok".to_owned(),
        Outcome::Unanswered { reason } => format!("request not answered: {reason}"),
        Outcome::Other { bytes, head } => format!(
            "other bytes: {bytes} byte{}{} (not an rdsports request)",
            if *bytes == 1 { "" } else { "s" },
            if head.is_empty() {
                String::new()
            } else {
                format!(", starting {head}")
            }
        ),
        Outcome::Incomplete {
            bytes,
            timed_out: true,
        } => format!("incomplete request: {bytes} bytes, then silence"),
        Outcome::Incomplete { bytes, .. } => {
            format!("incomplete request: {bytes} bytes, then the peer closed")
        }
        Outcome::Empty => "connected and closed without sending (a plain port check)".into(),
    }
}

/// One log line for a contact: time since start, source, protocol and port, outcome.
pub fn contact_line(contact: &Contact) -> String {
    format!(
        "{:>9}  {:<22} {} {:<5}  {}",
        format!("+{:.1}s", contact.at_ms as f64 / 1000.0),
        contact.peer.to_string(),
        contact.transport,
        contact.port,
        describe(&contact.outcome)
    )
}

/// The advice for ports the system would not let us bind, one paragraph.
pub fn denied_advice(denied: &[&Opened], exe: &str) -> Option<String> {
    if denied.is_empty() {
        return None;
    }
    let list = port_list(denied.iter().copied());
    let privileged = denied.iter().any(|o| o.port < 1024);
    let mut text = format!("denied: {list}");
    if privileged && cfg!(unix) {
        let _ = write!(
            text,
            ": ports below 1024 need privileges. Run as root (sudo rdsports listen ...), or \
             grant the capability once: sudo setcap cap_net_bind_service=+ep {exe}"
        );
    } else if cfg!(windows) {
        // WSAEACCES (10013) from bind: Windows needs no privilege for low ports; the port is
        // reserved (an excluded port range, often Hyper-V or WinNAT) or held exclusively.
        let _ = write!(
            text,
            ": Windows refused the port (WSAEACCES): it is in an excluded port range (see \
             `netsh interface ipv4 show excludedportrange protocol=tcp`, and protocol=udp) or \
             another program holds it exclusively. Pick the ports with --ports, or free the range"
        );
    } else if let Some(error) = denied.iter().find_map(|o| o.error.as_deref()) {
        let _ = write!(text, ": {error}");
    }
    Some(text)
}

/// The PowerShell lines that admit the listener through Windows Firewall.
pub fn windows_firewall_lines(open: &[&Opened], exe: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (transport, name) in [(Transport::Tcp, "TCP"), (Transport::Udp, "UDP")] {
        let ports: Vec<String> = open
            .iter()
            .filter(|o| o.transport == transport)
            .map(|o| o.port.to_string())
            .collect();
        if ports.is_empty() {
            continue;
        }
        lines.push(format!(
            "New-NetFirewallRule -DisplayName 'rdsports listen (temporary)' -Direction Inbound \
             -Action Allow -Protocol {name} -LocalPort {} -Program '{}'",
            ports.join(","),
            exe.replace('\'', "''")
        ));
    }
    if !lines.is_empty() {
        lines.push(
            "Remove-NetFirewallRule -DisplayName 'rdsports listen (temporary)'   # afterwards"
                .into(),
        );
    }
    lines
}

/// The table of requested ports: protocol, port, state and the flows that need it.
pub fn opened_table(
    opened: &[Opened],
    why: &BTreeMap<(Transport, u16), &str>,
    width: usize,
) -> String {
    let mut table = Table::new(&["PROTO", "PORT", "STATE", "FOR"]).flexible_last();
    for o in opened {
        table.row(vec![
            o.transport.to_string(),
            o.port.to_string(),
            o.state.as_str().to_owned(),
            why.get(&(o.transport, o.port))
                .copied()
                .unwrap_or("")
                .to_owned(),
        ]);
    }
    table.render(width, 2)
}

/// `88, 135, 389/udp`: TCP ports bare, UDP ones marked.
pub fn port_list<'a>(ports: impl Iterator<Item = &'a Opened>) -> String {
    ports
        .map(|o| match o.transport {
            Transport::Tcp => o.port.to_string(),
            Transport::Udp => format!("{}/udp", o.port),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1h30m`, `2m5s`, `1.2s`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        let text = format!("{:.1}", d.as_secs_f64());
        return format!("{}s", text.trim_end_matches(".0"));
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if s > 0 {
        let _ = write!(out, "{s}s");
    }
    out
}

/// Contact lines per port and second shown in full; beyond that one summary line per
/// interval says how many more came and from how many sources.
pub const CONTACT_LINES_PER_SECOND: u32 = 5;

/// Keeps a contact log readable (and its size bounded) under a flood: per port, the first
/// [`CONTACT_LINES_PER_SECOND`] contacts of each second are shown; the others are counted,
/// and when the second is over one line sums them up ("+12,345 more contacts from 1,024
/// sources in the last 1 s"). Pure: the caller prints.
#[derive(Debug)]
pub struct ContactLines {
    per_second: u32,
    /// The second (since the start) being counted.
    second: Option<u64>,
    shown: HashMap<(Transport, u16), u32>,
    hidden: usize,
    sources: HashSet<IpAddr>,
}

/// Distinct sources counted per second (the summary says "at least" beyond).
const MAX_COUNTED_SOURCES: usize = 65_536;

impl Default for ContactLines {
    fn default() -> Self {
        ContactLines::new(CONTACT_LINES_PER_SECOND)
    }
}

impl ContactLines {
    /// At most `per_second` contact lines per port and second (at least 1).
    pub fn new(per_second: u32) -> Self {
        ContactLines {
            per_second: per_second.max(1),
            second: None,
            shown: HashMap::new(),
            hidden: 0,
            sources: HashSet::new(),
        }
    }

    /// Takes a contact: first the summary of an earlier second that ended (if contacts were
    /// held back in it), then whether this contact's own line is shown.
    pub fn offer(&mut self, contact: &Contact) -> (Option<String>, bool) {
        let second = contact.at_ms / 1000;
        let summary = match self.second {
            Some(s) if s != second => self.finish(),
            _ => None,
        };
        self.second = Some(second);
        let n = self
            .shown
            .entry((contact.transport, contact.port))
            .or_insert(0);
        if *n < self.per_second {
            *n += 1;
            return (summary, true);
        }
        self.hidden += 1;
        if self.sources.len() < MAX_COUNTED_SOURCES {
            self.sources.insert(contact.peer.ip());
        }
        (summary, false)
    }

    /// The summary of the second being counted, if contacts were held back in it (call at
    /// the end, too).
    pub fn finish(&mut self) -> Option<String> {
        let second = self.second?;
        self.shown.clear();
        let hidden = std::mem::take(&mut self.hidden);
        let sources = self.sources.len();
        self.sources.clear();
        (hidden > 0).then(|| {
            format!(
                "{:>9}  +{} more contact{} from {}{} source{} in the last 1 s (not shown)",
                format!("+{}.0s", second + 1),
                thousands(hidden),
                if hidden == 1 { "" } else { "s" },
                thousands(sources),
                if sources >= MAX_COUNTED_SOURCES {
                    "+"
                } else {
                    ""
                },
                if sources == 1 { "" } else { "s" },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use rdsports_schema::listen::OpenState;

    use super::*;

    #[test]
    fn outcomes_read_as_sentences() {
        let other = Outcome::Other {
            bytes: 19,
            head: "03 00 00 13 0e e0 00 00".into(),
        };
        assert_eq!(
            describe(&other),
            "other bytes: 19 bytes, starting 03 00 00 13 0e e0 00 00 (not an rdsports request)"
        );
        assert_eq!(
            describe(&Outcome::Handshake {
                nonce: "0102".into(),
                reply_bytes: 40
            }),
            "handshake ok"
        );
        assert!(
            describe(&Outcome::Incomplete {
                bytes: 10,
                timed_out: true
            })
            .contains("silence")
        );
    }

    #[test]
    fn contact_lines_are_capped_per_port_and_second_with_one_summary() {
        let contact = |at_ms: u64, port: u16, source: u8| Contact {
            at_ms,
            peer: SocketAddr::from(([127, 0, 0, source], 40000)),
            transport: Transport::Tcp,
            port,
            outcome: Outcome::Empty,
        };
        let mut lines = ContactLines::new(5);
        let mut shown = 0;
        let mut summaries = Vec::new();
        // 20,000 contacts in the first second from 100 sources on port 1, 3 on port 2.
        for i in 0..20_000u64 {
            let (summary, show) = lines.offer(&contact(i / 20, 1, (i % 100) as u8));
            summaries.extend(summary);
            shown += usize::from(show);
        }
        for _ in 0..3 {
            let (summary, show) = lines.offer(&contact(999, 2, 1));
            summaries.extend(summary);
            assert!(show);
        }
        assert_eq!(shown, 5);
        assert!(summaries.is_empty());
        let (summary, show) = lines.offer(&contact(1500, 1, 1));
        assert!(show);
        assert_eq!(
            summary.as_deref(),
            Some("    +1.0s  +19,995 more contacts from 100 sources in the last 1 s (not shown)")
        );
        assert_eq!(lines.finish(), None);
    }

    fn opened(transport: Transport, port: u16, state: OpenState) -> Opened {
        Opened {
            transport,
            port,
            state,
            bound: None,
            error: Some("Permission denied (os error 13)".into()),
        }
    }

    #[test]
    fn denied_ports_come_with_the_fix() {
        let low = opened(Transport::Tcp, 88, OpenState::Denied);
        let udp = opened(Transport::Udp, 389, OpenState::Denied);
        let text = denied_advice(&[&low, &udp], "/usr/bin/rdsports").unwrap();
        assert!(text.starts_with("denied: 88, 389/udp"), "{text}");
        if cfg!(unix) {
            assert!(text.contains("Run as root"), "{text}");
            assert!(
                text.contains("setcap cap_net_bind_service=+ep /usr/bin/rdsports"),
                "{text}"
            );
        }
        if cfg!(windows) {
            assert!(text.contains("WSAEACCES"), "{text}");
            assert!(text.contains("excludedportrange"), "{text}");
            assert!(!text.contains("root"), "{text}");
        }
        assert_eq!(denied_advice(&[], "x"), None);
    }

    #[test]
    fn windows_firewall_rule_lines() {
        let tcp = opened(Transport::Tcp, 3389, OpenState::Open);
        let tcp2 = opened(Transport::Tcp, 5504, OpenState::Open);
        let udp = opened(Transport::Udp, 3391, OpenState::Open);
        let lines = windows_firewall_lines(&[&tcp, &tcp2, &udp], r"C:\Tools\O'Brien\rdsports.exe");
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "New-NetFirewallRule -DisplayName 'rdsports listen (temporary)' -Direction Inbound \
             -Action Allow -Protocol TCP -LocalPort 3389,5504 -Program \
             'C:\\Tools\\O''Brien\\rdsports.exe'"
        );
        assert!(lines[1].contains("-Protocol UDP -LocalPort 3391"));
        assert!(lines[2].starts_with("Remove-NetFirewallRule"));
        assert!(windows_firewall_lines(&[], "x").is_empty());
    }

    #[test]
    fn a_contact_is_one_line() {
        let contact = Contact {
            at_ms: 12_345,
            peer: "127.0.0.5:41230".parse().unwrap(),
            transport: Transport::Tcp,
            port: 88,
            outcome: Outcome::Empty,
        };
        assert_eq!(
            contact_line(&contact),
            "   +12.3s  127.0.0.5:41230        tcp 88     connected and closed without sending \
             (a plain port check)"
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_millis(1200)), "1.2s");
        assert_eq!(human(Duration::from_secs(1)), "1s");
    }
}

//! Reader for Cisco ASA `show running-config` (and, in the same file, `show access-list` for
//! the hit counts).
//!
//! Read: `names`/`name`, `interface` with `nameif`, `security-level` and `ip address` /
//! `ipv6 address`, `route` / `ipv6 route`, `same-security-traffic permit inter-interface`,
//! `object network` (host, subnet, range, fqdn), `object service`, `object-group network`,
//! `service` (typed port groups and service-object groups) and `protocol`, `access-list NAME
//! extended permit|deny` with protocols, objects, `host`, `any`/`any4`/`any6`, masks, IPv6
//! prefixes, `eq`/`neq`/`lt`/`gt`/`range` ports and `inactive`, and `access-group NAME in|out
//! interface IF` and `access-group NAME global`.
//!
//! Semantics (ASA 8.3 and later: access lists name real addresses): a connection is matched
//! against the inbound access list of the interface it enters, then the global access list,
//! first match, then the implicit deny; an interface with neither falls back to security
//! levels (higher to lower allowed). An outbound access list of the interface it leaves is
//! read after. Which interface a packet enters and leaves by: each interface stands for the
//! networks of the deployment's zone with the interface's name (or the zone given with
//! `--interface NAMEIF=ZONE`), else for its connected network and the routes through it, the
//! most specific one deciding. FQDN objects, identity and security-group matches, the ASA's
//! own interface address and time ranges make an entry "possible".
//!
//! The reader in three steps: `lex` splits the text into command lines and words;
//! `config` builds a typed configuration from them line by line, resolving names, objects
//! and groups through `resolve` as they are defined and used (the ASA defines a name before
//! its use, and what a name stands for decides how the rest of an entry reads, so the first
//! error in the file is the one reported); `lower` turns it into chains. Port and protocol
//! names are tables in `names`.

mod config;
mod lex;
mod lower;
mod names;
mod resolve;

use crate::{ReadError, ReadOptions, Ruleset};

/// Reads `show running-config` (optionally followed by `show access-list`).
pub fn read(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let config = config::parse(text, name)?;
    Ok(lower::ruleset(config, name, opts))
}

#[cfg(test)]
mod tests {
    use super::names::port_number;
    use super::*;
    use crate::eval::Verdict;
    use crate::model::Decision;
    use crate::space::{TCP, UDP};
    use crate::test_support::{allowed, verdict};

    fn opts(ifaces: &[(&str, &str)]) -> ReadOptions {
        ReadOptions {
            interfaces: ifaces
                .iter()
                .map(|(n, net)| (n.to_string(), vec![net.parse().unwrap()]))
                .collect(),
            ..ReadOptions::default()
        }
    }

    const TWO: &str = "interface Gi0/0\n nameif outside\n security-level 0\n ip address 203.0.113.2 255.255.255.0\n\
                       interface Gi0/1\n nameif inside\n security-level 100\n ip address 192.0.2.1 255.255.255.0\n\
                       route outside 0.0.0.0 0.0.0.0 203.0.113.1 1\n";

    #[test]
    fn security_levels_without_access_lists() {
        let text = format!("{TWO}access-list unused extended permit ip any any\n");
        let rs = read(&text, "fw", &ReadOptions::default()).unwrap();
        // Higher to lower: allowed; lower to higher: dropped by the implicit deny.
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 443),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.7", "192.0.2.5", TCP, 443),
            Some(false)
        );
    }

    #[test]
    fn interface_list_then_global_then_implicit_deny() {
        let text = format!(
            "{TWO}access-list out_in extended deny tcp any host 192.0.2.5 eq 445\n\
             access-list out_in extended permit tcp any 192.0.2.0 255.255.255.0 eq https\n\
             access-list g extended permit tcp any host 192.0.2.5 range 5985 5986\n\
             access-list g extended permit udp any host 192.0.2.5 eq domain\n\
             access-group out_in in interface outside\naccess-group g global\n"
        );
        let rs = read(&text, "fw", &ReadOptions::default()).unwrap();
        let from = "198.51.100.7";
        assert_eq!(allowed(&rs, from, "192.0.2.5", TCP, 443), Some(true));
        assert_eq!(allowed(&rs, from, "192.0.2.5", TCP, 445), Some(false));
        assert_eq!(allowed(&rs, from, "192.0.2.5", TCP, 5986), Some(true));
        assert_eq!(allowed(&rs, from, "192.0.2.5", UDP, 53), Some(true));
        assert_eq!(allowed(&rs, from, "192.0.2.5", UDP, 54), Some(false));
        // The inside interface has no list of its own: the global one, then the implicit
        // deny (security levels no longer apply).
        assert_eq!(
            allowed(&rs, "192.0.2.9", "192.0.2.5", TCP, 5985),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "192.0.2.9", "198.51.100.1", TCP, 80),
            Some(false)
        );
    }

    #[test]
    fn outbound_lists_are_read_after() {
        let text = format!(
            "{TWO}access-list o extended deny tcp any any eq telnet\n\
             access-list o extended permit ip any any\naccess-group o out interface outside\n"
        );
        let rs = read(&text, "fw", &ReadOptions::default()).unwrap();
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 23),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 22),
            Some(true)
        );
    }

    #[test]
    fn port_operators_and_names() {
        assert_eq!(port_number("kerberos", false), Some(750));
        assert_eq!(port_number("radius", true), Some(1645));
        assert_eq!(port_number("radius", false), None);
        assert_eq!(port_number("https", false), Some(443));
        assert_eq!(port_number("ntp", true), Some(123));
        let text = "access-list a extended permit tcp any any neq www\n\
                    access-list a extended permit udp any any lt 100\n\
                    access-list a extended permit udp any any gt 65000\n\
                    access-list a extended deny ip any any\n\
                    access-group a in interface inside\n";
        let rs = read(text, "fw", &opts(&[("inside", "192.0.2.0/24")])).unwrap();
        let (s, d) = ("192.0.2.5", "198.51.100.7");
        assert_eq!(allowed(&rs, s, d, TCP, 80), Some(false));
        assert_eq!(allowed(&rs, s, d, TCP, 81), Some(true));
        assert_eq!(allowed(&rs, s, d, UDP, 99), Some(true));
        assert_eq!(allowed(&rs, s, d, UDP, 100), Some(false));
        assert_eq!(allowed(&rs, s, d, UDP, 65001), Some(true));
    }

    #[test]
    fn families_ranges_names_and_groups() {
        let text = "names\nname 192.0.2.80 web\nobject network pool\n range 192.0.2.100 192.0.2.109\n\
                    object-group network servers\n network-object host web\n network-object object pool\n\
                    object-group service both tcp-udp\n port-object eq 53\n\
                    access-list a extended permit tcp any6 2001:db8::/32 eq 22\n\
                    access-list a extended permit tcp any4 object-group servers eq 8080\n\
                    access-list a extended permit tcp-udp any4 host web object-group both\n\
                    access-group a in interface outside\n";
        let rs = read(
            text,
            "fw",
            &opts(&[("outside", "0.0.0.0/0"), ("outside", "::/0")]),
        )
        .unwrap();
        assert_eq!(
            allowed(&rs, "2001:db8:1::1", "2001:db8::5", TCP, 22),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.80", TCP, 8080),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.109", TCP, 8080),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.110", TCP, 8080),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.80", UDP, 53),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.80", UDP, 54),
            Some(false)
        );
    }

    #[test]
    fn undecidable_matches_are_possible() {
        let text = "object network cdn\n fqdn v4 cdn.example.com\n\
                    access-list a extended permit tcp any object cdn eq https\n\
                    access-list a extended permit tcp user EXAMPLE\\bob any any eq ssh\n\
                    access-list a extended permit tcp any any eq 8443 time-range work\n\
                    access-group a in interface inside\n";
        let rs = read(text, "fw", &opts(&[("inside", "192.0.2.0/24")])).unwrap();
        for port in [443, 22, 8443] {
            match verdict(&rs, "192.0.2.5", "198.51.100.7", TCP, port) {
                Verdict::Possible { otherwise, .. } => assert_eq!(otherwise, Decision::Drop),
                v => panic!("port {port}: {v:?}"),
            }
        }
        assert!(
            rs.notes
                .iter()
                .any(|n| n.message.contains("user EXAMPLE\\bob"))
        );
        // A source on no interface: possible, never guessed.
        assert!(matches!(
            verdict(&rs, "203.0.113.9", "192.0.2.5", TCP, 443),
            Verdict::Possible { .. }
        ));
    }

    #[test]
    fn hit_counts_by_line_with_remarks_counted() {
        let text = "access-list a remark first\n\
                    access-list a extended permit tcp any any eq 80\n\
                    access-list a extended permit tcp any any eq 81 inactive\n\
                    access-group a in interface inside\n\
                    access-list a; 2 elements; name hash: 0x1\n\
                    access-list a line 1 remark first\n\
                    access-list a line 2 extended permit tcp any any eq www (hitcnt=7) 0x2\n\
                    access-list a line 3 extended permit tcp any any eq 81 inactive (hitcnt=0) (inactive) 0x3\n";
        let rs = read(text, "fw", &opts(&[("inside", "192.0.2.0/24")])).unwrap();
        assert!(rs.counters);
        let rules = &rs.chains[0].rules;
        assert_eq!(rules[0].hits, Some(7));
        assert_eq!(rules[1].hits, Some(0));
        assert!(rules[1].never_new, "inactive never matches");
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 81),
            Some(false)
        );
    }

    #[test]
    fn bad_input_is_located() {
        let e = read(
            "access-list a extended permit tcp any 192.0.2.0 255.0.255.0 eq 80\n",
            "fw",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.location, "fw:1:49");
        assert!(e.message.contains("netmask"));
        let e = read(
            "access-list a extended allow tcp any any\n",
            "fw",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.location, "fw:1:24");
        let e = read("hostname fw\n", "fw", &ReadOptions::default()).unwrap_err();
        assert!(e.message.contains("no access-list"));
        let e = read(
            "access-list a extended permit tcp any any eq nosuchport\n",
            "fw",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.location.starts_with("fw:1:"), "{e}");
    }
}

#![no_main]
//! Fuzzes the LDAP, CLDAP and NETLOGON parsers of `rdsports_wire::ldap`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::ldap;

fuzz_target!(|data: &[u8]| {
    let _ = ldap::parse_message(data);
    if let Ok(Some(reply)) = ldap::parse_rootdse_response(data) {
        let _ = ldap::identify_rootdse(&reply, 1);
    }
    if let Ok(reply) = ldap::parse_cldap_response(data) {
        let _ = ldap::identify_cldap(&reply);
    }
    let _ = ldap::parse_netlogon(data);
});

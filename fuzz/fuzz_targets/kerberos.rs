#![no_main]
//! Fuzzes the KRB-ERROR / AS-REP parser of `rdsports_wire::kerberos` (UDP and TCP forms).

use libfuzzer_sys::fuzz_target;
use rdsports_wire::kerberos;

fuzz_target!(|data: &[u8]| {
    if let Ok(reply) = kerberos::parse_reply(data) {
        let _ = kerberos::identify(&reply);
    }
    let _ = kerberos::parse_tcp_reply(data);
});

#![no_main]
//! Fuzzes the DNS response parser of `rdsports_wire::dns` (UDP and TCP forms).

use libfuzzer_sys::fuzz_target;
use rdsports_wire::dns;

fuzz_target!(|data: &[u8]| {
    // Use the message's own id so the parser goes past the header.
    let id = match data {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0x1234,
    };
    if let Ok(response) = dns::parse_response(data, id) {
        let _ = dns::identify(&response);
    }
    let _ = dns::parse_tcp_response(data, 0x1234);
    let _ = dns::read_name(data, 0);
});

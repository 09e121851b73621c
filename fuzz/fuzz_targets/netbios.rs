#![no_main]
//! Fuzzes the NetBIOS node status and session response parsers of `rdsports_wire::netbios`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::netbios;

fuzz_target!(|data: &[u8]| {
    let id = match data {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0x1234,
    };
    if let Ok(status) = netbios::parse_node_status_response(data, id) {
        let _ = netbios::identify_node_status(&status);
    }
    if let Ok(Some(response)) = netbios::parse_session_response(data) {
        let _ = netbios::identify_session(&response);
    }
});

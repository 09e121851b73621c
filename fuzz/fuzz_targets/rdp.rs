#![no_main]
//! Fuzzes the RDP X.224 Connection Confirm parser of `rdsports_wire::rdp`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::rdp;

fuzz_target!(|data: &[u8]| {
    if let Ok(negotiation) = rdp::parse_connection_confirm(data) {
        let _ = rdp::identify(&negotiation);
    }
    let _ = rdp::RdpNegotiate::new().on_bytes(data);
});

#![no_main]
//! Fuzzes the RDP-UDP SYN+ACK parser of `rdsports_wire::rdpeudp`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::rdpeudp;

fuzz_target!(|data: &[u8]| {
    if let Ok(syn_ack) = rdpeudp::parse_syn_ack(data) {
        let _ = rdpeudp::identify(&syn_ack, 0x1234_5678);
    }
    let _ = rdpeudp::RdpUdpSyn::new(0x1234_5678).on_bytes(data);
});

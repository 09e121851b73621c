#![no_main]
//! Fuzzes the BER TLV reader of `rdsports_wire::ber`: arbitrary bytes must never panic.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::ber;

fuzz_target!(|data: &[u8]| {
    let _ = ber::validate(data, ber::MAX_DEPTH);
    let _ = ber::read_tlv(data);
    let _ = ber::parse_generalized_time(data);
    let mut reader = ber::Reader::new(data);
    while let Ok(tlv) = reader.read() {
        let _ = ber::decode_integer(tlv.value);
    }
});

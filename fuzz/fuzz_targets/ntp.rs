#![no_main]
//! Fuzzes the NTP reply parser of `rdsports_wire::ntp`: the header reader, the reply checks
//! with the origin echoed (taken from the input, so the checks pass and `identify` runs)
//! and not, and the exchange's answer when the peer closes.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::ntp;

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = ntp::parse_packet(data) {
        let _ = ntp::identify(&packet, 1_700_000_000);
        let _ = ntp::identify(&packet, i64::MAX);
    }
    let echoed = data
        .get(24..32)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or_else(ntp::NtpTime::default, |b| {
            ntp::NtpTime::from_bits(u64::from_be_bytes(b))
        });
    let mut query = ntp::NtpQuery::new(echoed);
    let _ = query.on_bytes(data);
    let _ = query.on_close(data);
    let _ = ntp::NtpQuery::at_unix(1_700_000_000, 0).on_bytes(data);
});

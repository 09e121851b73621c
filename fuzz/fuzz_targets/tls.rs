#![no_main]
//! Fuzzes the certificate summary of `rdsports_wire::tls` (x509-parser underneath).

use libfuzzer_sys::fuzz_target;
use rdsports_wire::tls;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = tls::summarize(data, 1_700_000_000) {
        let _ = summary.covers_name("rdsh01.example.test");
        let _ = summary.to_json();
    }
});

#![no_main]
//! Fuzzes the first-bytes classifier and the banner reader of `rdsports_wire::identify`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::identify;

fuzz_target!(|data: &[u8]| {
    let _ = identify::classify(data);
    let _ = identify::first_line(data);
    let _ = identify::first_bytes(data);
    let _ = identify::first_bytes_text(data);
    let mut banner = identify::BannerWait::new();
    let _ = banner.on_bytes(data);
    let _ = banner.on_close(data);
});

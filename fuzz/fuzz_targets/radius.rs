#![no_main]
//! Fuzzes the RADIUS reply parser of `rdsports_wire::radius`, with and without a secret.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::radius;

fuzz_target!(|data: &[u8]| {
    let identifier = data.get(1).copied().unwrap_or(0);
    let authenticator = [0x5a; 16];
    if let Ok(response) = radius::parse_response(data, identifier, &authenticator, Some(b"secret"))
    {
        let _ = radius::identify(&response);
    }
    let _ = radius::parse_response(data, identifier, &authenticator, None);
});

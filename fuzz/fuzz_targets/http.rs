#![no_main]
//! Fuzzes the HTTP response head and body readers and the WinRM IdentifyResponse scan of
//! `rdsports_wire::http`.

use libfuzzer_sys::fuzz_target;
use rdsports_wire::Exchange;
use rdsports_wire::http;

fuzz_target!(|data: &[u8]| {
    if let Ok(head) = http::parse_response_head(data) {
        let _ = head.auth_schemes();
        let _ = http::read_body(&head, data);
        let _ = http::identify_winrm(&head, Some(data));
    }
    let _ = http::parse_identify_response(data);
    let text = String::from_utf8_lossy(data);
    let _ = http::element_text(&text, "ProductVersion");
    let _ = http::HttpGet::new("fuzz.example.test", "/").on_bytes(data);
    let _ = http::WinRmIdentify::new("fuzz.example.test").on_bytes(data);
});

#![no_main]
//! Fuzzes the netsh reader of `rdsports_audit` with both of its inputs: the bytes up to the
//! first NUL are the rule listing (`netsh advfirewall firewall show rule name=all verbose`),
//! the rest the profile listing (`netsh advfirewall show allprofiles`), then evaluates
//! whatever was read on a packet space, for each profile.

use libfuzzer_sys::fuzz_target;
use rdsports_audit::ReadOptions;
use rdsports_audit::model::Hook;
use rdsports_audit::space::Cube;

fuzz_target!(|data: &[u8]| {
    let (rules, profiles) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(rules) = std::str::from_utf8(rules) else {
        return;
    };
    let profiles = profiles.and_then(|p| std::str::from_utf8(p).ok());
    for profile in ["domain", "private", "public"] {
        let opts = ReadOptions {
            profile: Some(profile.to_owned()),
            ..ReadOptions::default()
        };
        let read =
            rdsports_audit::read::netsh::read(rules, "fuzz", profiles.map(|p| ("p", p)), &opts);
        if let Ok(rs) = read {
            for hook in [Hook::Input, Hook::Output] {
                let _ = rdsports_audit::eval::evaluate(&rs, hook, Cube::full());
            }
        }
    }
});

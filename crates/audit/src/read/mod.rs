//! The readers, one module a platform, each named like the `rules` generator of the same
//! platform (`rdsports_policy::gen`): an export in, one normalised [`Ruleset`] out.
//!
//! * [`nftables`]: `nft -j list ruleset`.
//! * [`iptables`]: `iptables-save` / `ip6tables-save`.
//! * [`windows`]: the rdsports export script's JSON, and the GPO/registry rule strings.
//! * [`netsh`]: `netsh advfirewall firewall show rule name=all verbose` (English).
//! * [`azure_nsg`]: Azure network security groups.
//! * [`aws`]: AWS security groups and network ACLs.
//! * [`cisco_asa`]: Cisco ASA `show running-config` and `show access-list`.
//! * [`aerleon`]: Aerleon and Capirca policies with their definitions.
//!
//! [`crate::read()`] picks one by format name.
//!
//! [`Ruleset`]: crate::Ruleset

pub mod aerleon;
pub mod aws;
pub mod azure_nsg;
pub mod cisco_asa;
mod cloud;
pub mod iptables;
pub mod netsh;
pub mod nftables;
pub mod windows;

/// How many characters of one value from the export (a name, a comment, an id, a token) a
/// message, a location or a rule's text echoes; longer values are cut there and end in `...`.
pub const WINDOW: usize = 60;

/// At most `max` characters of `s`, then `...` when it is longer: the one way values from an
/// export are cut for messages ([`WINDOW`]) and rule texts for references (see
/// [`crate::report`]).
pub fn clip_to(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_owned(),
    }
}

/// At most [`WINDOW`] characters of `s`, then `...`.
pub fn clip(s: &str) -> String {
    clip_to(s, WINDOW)
}

/// A message for people, bounded: each word (a value it echoes) cut to [`WINDOW`]
/// characters, the whole to 16 windows. Errors and notes are shown through it.
pub fn bounded(message: &str) -> String {
    let words = message
        .split(' ')
        .map(|w| match w.char_indices().nth(WINDOW) {
            Some(_) => std::borrow::Cow::Owned(clip(w)),
            None => std::borrow::Cow::Borrowed(w),
        });
    let mut out = String::new();
    for (i, w) in words.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&w);
        if out.len() > 16 * WINDOW * 4 {
            break;
        }
    }
    clip_to(&out, 16 * WINDOW)
}

/// Whether a JSON text is an object (a struct read from it must not be read from an array).
pub(crate) fn object(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// How deep arrays and objects nest in a JSON text (strings skipped).
pub(crate) fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

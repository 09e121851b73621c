//! Naming and text cleaning: identifiers of a restricted alphabet ([`Namer`]), the character
//! classes of the targets, one-line text for comments and descriptions, and the comment text
//! that names a rule's hosts and catalog entries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::policy::Policy;

/// Writes `text` as comment lines starting with `mark`, of at most about 92 characters; a
/// line that starts with two spaces (a command) stays whole.
pub(crate) fn wrap_comment(s: &mut String, mark: &str, text: &str) {
    use std::fmt::Write as _;
    if text.starts_with("  ") {
        let _ = writeln!(s, "{mark}{text}");
        return;
    }
    let mut line = String::from(mark);
    for word in text.split(' ') {
        if line.len() > mark.len() && line.len() + 1 + word.len() > 92 {
            let _ = writeln!(s, "{line}");
            line = String::from(mark);
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(s, "{line}");
}

/// Turns names into identifiers of a restricted alphabet, unique within one rendering, and
/// says which names it had to change.
pub(crate) struct Namer {
    target: &'static str,
    what: &'static str,
    prefix: &'static str,
    allowed: fn(char) -> bool,
    max_len: usize,
    by_name: BTreeMap<String, String>,
    taken: BTreeSet<String>,
    /// Per cleaned-up stem, the last suffix number given: many names that clean up to the
    /// same identifier (CJK names become `n_____`) number on from there, in linear time.
    last_suffix: HashMap<String, usize>,
    warnings: Vec<String>,
    /// Renamed names beyond the ones warned about one by one.
    more_renamed: usize,
}

/// Renamed names warned about one by one; the rest are counted in one line.
const RENAMES_SHOWN: usize = 10;

impl Namer {
    /// A namer for `what` (`zone name`) in `target`; `allowed` must accept ASCII letters,
    /// digits and `_`; names start with a letter and hold at most `max_len` characters.
    pub(crate) fn new(
        target: &'static str,
        what: &'static str,
        allowed: fn(char) -> bool,
        max_len: usize,
    ) -> Namer {
        Namer {
            target,
            what,
            prefix: "",
            allowed,
            max_len: max_len.max(8),
            by_name: BTreeMap::new(),
            taken: BTreeSet::new(),
            last_suffix: HashMap::new(),
            warnings: Vec::new(),
            more_renamed: 0,
        }
    }

    /// Identifiers start with `prefix` (which must be allowed characters, starting with a
    /// letter): keeps them apart from the platform's keywords.
    pub(crate) fn with_prefix(mut self, prefix: &'static str) -> Namer {
        self.prefix = prefix;
        self
    }

    /// The identifier for `name` (the same one every time for the same name).
    pub(crate) fn name(&mut self, name: &str) -> String {
        if let Some(id) = self.by_name.get(name) {
            return id.clone();
        }
        let mut id: String = self.prefix.to_owned();
        id.extend(
            name.chars()
                .map(|c| if (self.allowed)(c) { c } else { '_' }),
        );
        if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
            id.insert_str(0, "n_");
        }
        truncate_chars(&mut id, self.max_len);
        // Unique: append _2, _3 ... (shortening the stem so the limit holds).
        let stem = id.clone();
        let mut n = self.last_suffix.get(&stem).copied().unwrap_or(1);
        if n > 1 {
            // Numbering goes on where it stopped for this stem.
            let suffix = format!("_{n}");
            let mut s = stem.clone();
            truncate_chars(&mut s, self.max_len.saturating_sub(suffix.len()));
            id = s + &suffix;
        }
        while self.taken.contains(&id) {
            n += 1;
            let suffix = format!("_{n}");
            let mut s = stem.clone();
            truncate_chars(&mut s, self.max_len.saturating_sub(suffix.len()));
            id = s + &suffix;
        }
        if n > 1 {
            self.last_suffix.insert(stem, n);
        }
        if id.strip_prefix(self.prefix) != Some(name) && self.warnings.len() >= RENAMES_SHOWN {
            self.more_renamed += 1;
        } else if id.strip_prefix(self.prefix) != Some(name) {
            self.warnings.push(format!(
                "{}: {} {:?} is written `{}` (allowed: letters, digits and a few marks, \
                 starting with a letter, at most {} characters, unique)",
                self.target, self.what, name, id, self.max_len
            ));
        }
        self.taken.insert(id.clone());
        self.by_name.insert(name.to_owned(), id.clone());
        id
    }

    /// The warnings about renamed names: the first few one by one, then how many more.
    pub(crate) fn into_warnings(mut self) -> Vec<String> {
        if self.more_renamed > 0 {
            self.warnings.push(format!(
                "{}: and {} more names renamed the same way ({})",
                self.target, self.more_renamed, self.what
            ));
        }
        self.warnings
    }
}

/// `[A-Za-z0-9_-]`: identifiers of nft, ASA and Aerleon, and file names.
pub(crate) fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Cuts `s` to at most `max` characters.
pub(crate) fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

/// Text for a comment or description that must stay on one line: every control character and
/// Unicode line or paragraph separator becomes a space.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Text restricted to `allowed` characters (others become `_`), cut to `max` characters.
pub(crate) fn restricted(s: &str, allowed: fn(char) -> bool, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    truncate_chars(&mut out, max);
    out
}

/// Printable ASCII without quotes, backslash and the characters shells and config languages
/// treat specially: what goes inside quoted comments of nft, iptables and ASA.
pub(crate) fn plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _-.,;:/()+=@[]".contains(c)
}

/// Which hosts a rule joins, for a comment: `A -> B` on a zone firewall, only the other
/// side in a host's own file (`from A`, `to B`), whose rules are shared by hosts alike.
pub(crate) fn peers(policy: &Policy, rule: &crate::policy::Rule, show: Show) -> String {
    let list = |hosts: &[usize]| one_line(&super::windows::host_list(policy, hosts));
    match show {
        Show::Both => format!("{} -> {}", list(&rule.from_hosts), list(&rule.to_hosts)),
        Show::Sources => format!("from {}", list(&rule.from_hosts)),
        Show::Destinations => format!("to {}", list(&rule.to_hosts)),
    }
}

/// Which side of a rule a comment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Show {
    Both,
    Sources,
    Destinations,
}

/// JSON text of `v`, pretty-printed, ending in a newline. U+2028 and U+2029 (valid in JSON
/// strings, but line breaks to JavaScript and some editors) are written as escapes; serde_json
/// already escapes every control character.
pub(crate) fn json_text(v: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    text.push('\n');
    text
}

/// The catalog ids and purposes of a rule as one line: `S12 A08: purpose; purpose`.
pub(crate) fn trace(policy: &Policy, rule: &crate::policy::Rule) -> String {
    format!(
        "{}: {}",
        policy.ids(rule).join(" "),
        policy.purposes(rule).join("; ")
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn namer_restricts_uniques_and_warns() {
        let mut n = Namer::new("t", "zone name", ident_char, 16);
        assert_eq!(n.name("internal"), "internal");
        assert_eq!(n.name("dmz 1"), "dmz_1");
        assert_eq!(n.name("dmz;1"), "dmz_1_2");
        assert_eq!(n.name("dmz 1"), "dmz_1");
        assert_eq!(n.name("1st"), "n_1st");
        assert_eq!(n.name(""), "n_");
        assert_eq!(n.name("ä\"$(x)"), "n_____x_");
        assert_eq!(n.name("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnop");
        assert_eq!(n.name("abcdefghijklmnopQ"), "abcdefghijklmn_2");
        let w = n.into_warnings();
        assert_eq!(w.len(), 7, "{w:#?}");
        assert!(w[0].contains("\"dmz 1\" is written `dmz_1`"));
    }

    /// Thousands of names that clean up to the same identifier: distinct identifiers, the
    /// same ones as numbering from 2 each time would give, and a bounded list of warnings.
    #[test]
    fn namer_is_linear_and_caps_its_warnings() {
        let mut n = Namer::new("t", "host name", ident_char, 12);
        let names: Vec<String> = (0..20_000)
            .map(|i| {
                char::from_u32(0x4E00 + i)
                    .map(|c| c.to_string().repeat(3))
                    .unwrap()
            })
            .collect();
        let ids: Vec<String> = names.iter().map(|x| n.name(x)).collect();
        assert_eq!(ids[0], "n____");
        assert_eq!(ids[1], "n_____2");
        assert_eq!(ids[19_999], "n_____20000");
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(ids.iter().all(|i| i.chars().count() <= 12));
        // A name that is its own identifier, taken later by numbering, still gets a new one.
        let mut m = Namer::new("t", "zone name", ident_char, 16);
        assert_eq!(m.name("a b"), "a_b");
        assert_eq!(m.name("a_b_2"), "a_b_2");
        assert_eq!(m.name("a;b"), "a_b_3");
        assert_eq!(m.name("a:b"), "a_b_4");
        let w = n.into_warnings();
        assert_eq!(w.len(), RENAMES_SHOWN + 1);
        assert!(
            w[RENAMES_SHOWN].contains("and 19990 more names renamed the same way (host name)"),
            "{w:?}"
        );
    }

    #[test]
    fn one_line_removes_line_breaks() {
        assert_eq!(one_line("a\nb\r\u{2028}c\u{85}\td"), "a b  c  d");
    }
}

//! File names that work on every file system an admin copies the rules to.
//!
//! Generators name files after hosts, zones and the deployment, with letters, digits, `_`
//! and `-` only. Two things still break on Windows (and on case-insensitive macOS volumes):
//! the reserved device names (`CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`,
//! with any extension: `CON.ps1` cannot be created) and names that differ only in case
//! (`GW01.ps1` and `gw01.ps1` overwrite each other on NTFS). [`portable`] renames both, the
//! same way for every file of one name (`gw01.rules` and `gw01.v6.rules` stay a pair), and
//! says what it renamed.

use std::collections::{HashMap, HashSet};

/// Renames files whose names Windows reserves or which differ from an earlier file's name
/// only in case; returns one warning per renamed name (the first few, then a count).
///
/// The first file of a name keeps it; a reserved name gets `_` appended (`CON_.ps1`); a
/// case collision is numbered (`GW01_2.ps1`), counting on past names already taken.
pub fn portable(files: &mut [(String, String)], target: &str) -> Vec<String> {
    // (directory, stem) as written -> the stem to use.
    let mut renamed: HashMap<(String, String), String> = HashMap::new();
    // (directory, stem) in lower case, as a case-insensitive file system sees them.
    let mut taken: HashSet<(String, String)> = HashSet::new();
    let mut last_suffix: HashMap<(String, String), usize> = HashMap::new();
    let mut warnings = Vec::new();
    let mut more = 0usize;
    for (path, _) in files.iter_mut() {
        let (dir, file) = match path.rfind('/') {
            Some(i) => (path[..=i].to_owned(), path[i + 1..].to_owned()),
            None => (String::new(), path.clone()),
        };
        let (stem, ext) = match file.find('.') {
            Some(i) => (file[..i].to_owned(), file[i..].to_owned()),
            None => (file.clone(), String::new()),
        };
        let key = (dir.clone(), stem.clone());
        let new_stem = match renamed.get(&key) {
            Some(s) => s.clone(),
            None => {
                let reserved = is_reserved(&stem);
                let mut candidate = if reserved {
                    format!("{stem}_")
                } else {
                    stem.clone()
                };
                let lower = |s: &str| (dir.to_lowercase(), s.to_lowercase());
                if taken.contains(&lower(&candidate)) {
                    let base = candidate.clone();
                    let mut n = last_suffix.get(&lower(&base)).copied().unwrap_or(1);
                    loop {
                        n += 1;
                        candidate = format!("{base}_{n}");
                        if !taken.contains(&lower(&candidate)) {
                            break;
                        }
                    }
                    last_suffix.insert(lower(&base), n);
                }
                taken.insert(lower(&candidate));
                if candidate != stem {
                    if warnings.len() < SHOWN {
                        let why = if reserved {
                            format!(
                                "{} is a reserved device name on Windows",
                                stem.to_uppercase()
                            )
                        } else {
                            "an earlier file name differs from it only in case (one file on \
                             Windows and macOS)"
                                .to_owned()
                        };
                        warnings.push(format!(
                            "{target}: file {dir}{stem}{ext} is written {dir}{candidate}{ext}: {why}"
                        ));
                    } else {
                        more += 1;
                    }
                }
                renamed.insert(key, candidate.clone());
                candidate
            }
        };
        if new_stem != stem {
            *path = format!("{dir}{new_stem}{ext}");
        }
    }
    if more > 0 {
        warnings.push(format!(
            "{target}: and {more} more file names are written differently (reserved on Windows, or differing only in case)"
        ));
    }
    warnings
}

/// Renamed files warned about one by one.
const SHOWN: usize = 10;

/// Whether Windows reserves `stem` (whatever the extension, in any case).
fn is_reserved(stem: &str) -> bool {
    let upper = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" => true,
        _ => {
            let b = upper.as_bytes();
            b.len() == 4
                && (upper.starts_with("COM") || upper.starts_with("LPT"))
                && b[3].is_ascii_digit()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> (Vec<String>, Vec<String>) {
        let mut files: Vec<(String, String)> = list
            .iter()
            .map(|n| ((*n).to_owned(), String::new()))
            .collect();
        let w = portable(&mut files, "t");
        (files.into_iter().map(|(n, _)| n).collect(), w)
    }

    #[test]
    fn reserved_names_and_case_collisions_become_distinct_safe_names() {
        let (out, w) = names(&[
            "CON.ps1",
            "nul.ps1",
            "Com1.ps1",
            "LPT9.ps1",
            "aux.ps1",
            "PRN.ps1",
            "COM10.ps1",
            "GW01.ps1",
            "gw01.ps1",
            "Gw01.ps1",
            "gw01_2.ps1",
            "console.ps1",
            "con_.ps1",
        ]);
        assert_eq!(
            out,
            [
                "CON_.ps1",
                "nul_.ps1",
                "Com1_.ps1",
                "LPT9_.ps1",
                "aux_.ps1",
                "PRN_.ps1",
                "COM10.ps1",
                "GW01.ps1",
                "gw01_2.ps1",
                "Gw01_3.ps1",
                "gw01_2_2.ps1",
                "console.ps1",
                "con__2.ps1",
            ]
        );
        let lower: HashSet<String> = out.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), out.len());
        assert!(
            out.iter()
                .all(|n| !is_reserved(n.split('.').next().unwrap()))
        );
        assert_eq!(w.len(), 10, "{w:#?}");
        assert!(w[0].contains("file CON.ps1 is written CON_.ps1: CON is a reserved"));
        assert!(
            w[6].contains("file gw01.ps1 is written gw01_2.ps1: an earlier"),
            "{w:#?}"
        );
    }

    #[test]
    fn pairs_stay_pairs_and_directories_count() {
        let (out, w) = names(&[
            "NUL.rules",
            "NUL.v6.rules",
            "a/x.yaml",
            "b/X.yaml",
            "b/x.yaml",
            "plain.nft",
        ]);
        assert_eq!(
            out,
            [
                "NUL_.rules",
                "NUL_.v6.rules",
                "a/x.yaml",
                "b/X.yaml",
                "b/x_2.yaml",
                "plain.nft"
            ]
        );
        assert_eq!(w.len(), 2);
        let (_, none) = names(&["a.ps1", "b.ps1"]);
        assert!(none.is_empty());
    }

    #[test]
    fn many_collisions_are_linear_and_counted() {
        let list: Vec<String> = (0..4096)
            .map(|i| {
                // gggg..., gggG..., the same name in 4,096 cases: all one name on NTFS.
                let s: String = format!("{:b}", i + 4096)
                    .chars()
                    .map(|c| if c == '1' { 'G' } else { 'g' })
                    .collect();
                format!("{s}.ps1")
            })
            .collect();
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        let (out, w) = names(&refs);
        let lower: HashSet<String> = out.iter().map(|n| n.to_lowercase()).collect();
        assert_eq!(lower.len(), 4096);
        assert_eq!(w.len(), 11);
        assert!(w[10].contains("and 4085 more"), "{}", w[10]);
    }
}

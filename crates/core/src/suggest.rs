//! "Did you mean ...?": the nearest known word to a misspelt one.

/// The candidate closest to `word` by edit distance, when it is close enough to be a likely
/// typo (at most a third of the word's length, and at least 1 edit allowed for short words).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

/// A hint sentence for `nearest`, or a list of the valid words when nothing is close.
pub fn hint(word: &str, candidates: &[&str]) -> String {
    match nearest(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean \"{c}\"?"),
        None => format!("expected one of: {}", candidates.join(", ")),
    }
}

/// Levenshtein distance over characters (inputs are short keys and names).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            nearest("sesion-host", ["session-host", "gateway"]),
            Some("session-host")
        );
        assert_eq!(
            nearest("rdp_prot", ["rdp_port", "rdp_udp"]),
            Some("rdp_port")
        );
        assert_eq!(nearest("zzzzzz", ["gateway"]), None);
        assert_eq!(hint("xyz", &["a", "b"]), "expected one of: a, b");
    }
}

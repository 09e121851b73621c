//! Lines and words of an ASA configuration, and where they are.
//!
//! Blank lines, comments (`!`), the `:` lines of `show running-config` (`: Saved`, `: end`)
//! and the CLI prompt of a pasted `show` command (`fw01# show access-list`) hold no
//! command. A line is indented when it belongs to the block (interface, object, group) the
//! last unindented line opened.

use crate::ReadError;
use crate::model::Note;

/// The hint of an error in a configuration line.
pub(super) const HINT_CONFIG: &str = "give the output of `show running-config` exactly as the ASA prints it (more system:running-config works too)";

/// The hint of an error in an access-list entry.
pub(super) const HINT_ACE: &str = "an entry reads: access-list NAME extended permit|deny PROTOCOL SOURCE [PORTS] DESTINATION [PORTS]";

/// One line that holds a command.
pub(super) struct Line<'t> {
    /// The line number (1-based).
    pub(super) ln: usize,
    /// The line without its trailing blanks.
    pub(super) text: &'t str,
    /// Its words with their columns (1-based).
    pub(super) words: Vec<(usize, &'t str)>,
    /// Whether it is indented (a line of the open block).
    pub(super) indented: bool,
}

/// The lines of `text` that hold a command.
pub(super) fn lines(text: &str) -> impl Iterator<Item = Line<'_>> {
    text.lines().enumerate().filter_map(|(n, raw)| {
        let text = raw.trim_end();
        let words = words(text);
        let &(_, first) = words.first()?;
        if first.starts_with('!') || first.starts_with(':') || first.ends_with('#') {
            return None;
        }
        Some(Line {
            ln: n + 1,
            text,
            indented: text.starts_with(' ') || text.starts_with('\t'),
            words,
        })
    })
}

/// Words of a line with their columns (1-based).
pub(super) fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s + 1, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s + 1, &line[s..]));
    }
    out
}

/// The words of a command from some word on, and the column an error about a missing word
/// names (past the end of the line for a command, 1 for a line of a block).
#[derive(Clone, Copy)]
pub(super) struct Words<'l, 't> {
    ws: &'l [(usize, &'t str)],
    end: usize,
}

impl<'l, 't> Words<'l, 't> {
    /// The words `ws`; `end` is the column of a word that is not there.
    pub(super) fn new(ws: &'l [(usize, &'t str)], end: usize) -> Self {
        Words { ws, end }
    }

    /// Word `i`.
    pub(super) fn get(&self, i: usize) -> Option<&'t str> {
        self.ws.get(i).map(|x| x.1)
    }

    /// The column of word `i`.
    pub(super) fn col(&self, i: usize) -> usize {
        self.ws.get(i).map_or(self.end, |x| x.0)
    }

    /// The last word.
    pub(super) fn last(&self) -> Option<&'t str> {
        self.ws.last().map(|x| x.1)
    }

    /// The words from word `i` on (none when `i` is past the end).
    pub(super) fn from(&self, i: usize) -> Words<'l, 't> {
        Words {
            ws: &self.ws[i.min(self.ws.len())..],
            end: self.end,
        }
    }
}

/// Where a line is: its file and line number, for errors and notes.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    /// The file name.
    pub(super) name: &'a str,
    /// The line number (1-based).
    pub(super) ln: usize,
}

impl At<'_> {
    /// `FILE:LINE`.
    pub(super) fn location(self) -> String {
        format!("{}:{}", self.name, self.ln)
    }

    /// An error at column `col` of the line.
    pub(super) fn err(self, col: usize, message: String, hint: &str) -> ReadError {
        ReadError {
            location: format!("{}:{}:{col}", self.name, self.ln),
            message,
            hint: hint.to_owned(),
        }
    }

    /// A note on the line.
    pub(super) fn note(self, message: String) -> Note {
        Note {
            location: self.location(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_their_columns() {
        assert_eq!(
            words(" nameif\tinside  x"),
            vec![(2, "nameif"), (9, "inside"), (17, "x")]
        );
        assert!(words("   ").is_empty());
    }

    #[test]
    fn comments_colon_lines_and_prompts_hold_no_command() {
        let text = ": Saved\n!\n\nfw01# show access-list\nhostname fw\n nameif inside  \n";
        let got: Vec<(usize, &str, bool)> =
            lines(text).map(|l| (l.ln, l.text, l.indented)).collect();
        assert_eq!(
            got,
            vec![(5, "hostname fw", false), (6, " nameif inside", true)]
        );
    }

    #[test]
    fn a_missing_word_is_located_at_the_end() {
        let ws = words("route outside");
        let w = Words::new(&ws, 14);
        assert_eq!((w.get(1), w.col(1)), (Some("outside"), 7));
        assert_eq!((w.get(2), w.col(2)), (None, 14));
        assert_eq!(w.from(1).get(0), Some("outside"));
        assert_eq!(w.from(2).get(0), None);
        assert_eq!(w.from(3).get(0), None);
    }
}

//! Plain aligned text tables that fit a terminal width.
//!
//! Columns are as wide as their widest cell, except the last one marked `flexible`, which
//! takes what is left of the width and is cut with "…" when it does not fit (or dropped when
//! fewer than 12 columns remain for it).

/// A table under construction.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    flexible_last: bool,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
            flexible_last: false,
        }
    }

    /// The last column may be shortened or dropped to fit the width.
    pub fn flexible_last(mut self) -> Self {
        self.flexible_last = true;
        self
    }

    /// Adds a row (missing cells are empty, extra cells ignored).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders with two spaces between columns, within `width` characters where possible,
    /// each line indented by `indent` spaces.
    pub fn render(&self, width: usize, indent: usize) -> String {
        let n = self.headers.len();
        let cell = |row: &Vec<String>, i: usize| row.get(i).map_or("", String::as_str).to_owned();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).chars().count());
            }
        }
        let mut shown = n;
        if self.flexible_last && n > 0 {
            let fixed: usize = widths[..n - 1].iter().map(|w| w + 2).sum::<usize>() + indent;
            let room = width.saturating_sub(fixed);
            if room < 12 {
                shown = n - 1;
            } else {
                widths[n - 1] = widths[n - 1].min(room);
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<String>| {
            let mut l = " ".repeat(indent);
            for (i, c) in cells.iter().enumerate().take(shown) {
                let c = fit(c, widths[i]);
                if i + 1 == shown {
                    l.push_str(&c);
                } else {
                    l.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(self.headers.iter().map(|h| (*h).to_owned()).collect());
        for row in &self.rows {
            line((0..n).map(|i| cell(row, i)).collect());
        }
        out
    }
}

/// `text` cut to `width` characters with a trailing "…" when it is longer.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_and_cuts_the_flexible_column() {
        let mut t = Table::new(&["A", "LONGER", "WHY"]).flexible_last();
        t.row(vec![
            "x".into(),
            "y".into(),
            "a rather long purpose that will not fit".into(),
        ]);
        assert_eq!(
            t.render(30, 0),
            "A  LONGER  WHY\nx  y       a rather long purp…\n"
        );
        // Too narrow: the flexible column is dropped.
        assert_eq!(t.render(15, 0), "A  LONGER\nx  y\n");
    }
}

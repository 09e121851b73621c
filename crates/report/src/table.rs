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

    /// Adds a row (missing cells are empty, extra cells ignored). Control characters in a
    /// cell are escaped ([`rdsports_core::text::one_line`]): cells hold what files and peers said.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| match rdsports_core::text::one_line(&c) {
                    std::borrow::Cow::Borrowed(_) => c,
                    std::borrow::Cow::Owned(escaped) => escaped,
                })
                .collect(),
        );
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders with two spaces between columns, within `width` characters where possible,
    /// each line indented by `indent` spaces.
    pub fn render(&self, width: usize, indent: usize) -> String {
        let mut columns = Columns::new(&self.headers, self.flexible_last);
        for row in &self.rows {
            columns.measure(row);
        }
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = columns.write_header(&mut out, width, indent);
        for row in &self.rows {
            let _ = columns.write_row(&mut out, row, width, indent);
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Column widths measured over rows that need not be kept: measure every row first, then
/// write them, so tables of millions of rows stream in constant memory.
#[derive(Debug, Clone)]
pub struct Columns {
    headers: Vec<&'static str>,
    widths: Vec<usize>,
    flexible_last: bool,
}

impl Columns {
    /// Columns with these headers (their widths count).
    pub fn new(headers: &[&'static str], flexible_last: bool) -> Self {
        Columns {
            headers: headers.to_vec(),
            widths: headers.iter().map(|h| h.chars().count()).collect(),
            flexible_last,
        }
    }

    /// Widens the columns to hold `cells`.
    pub fn measure<S: AsRef<str>>(&mut self, cells: &[S]) {
        for (w, c) in self.widths.iter_mut().zip(cells) {
            *w = (*w).max(c.as_ref().chars().count());
        }
    }

    /// The widths to write with, and how many columns fit in `width`.
    fn layout(&self, width: usize, indent: usize) -> (Vec<usize>, usize) {
        let n = self.widths.len();
        let mut widths = self.widths.clone();
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
        (widths, shown)
    }

    /// Writes the header line.
    pub fn write_header(
        &self,
        out: &mut dyn std::io::Write,
        width: usize,
        indent: usize,
    ) -> std::io::Result<()> {
        let headers = self.headers.clone();
        self.write_row(out, &headers, width, indent)
    }

    /// Writes one row (missing cells are empty, extra cells ignored).
    pub fn write_row<S: AsRef<str>>(
        &self,
        out: &mut dyn std::io::Write,
        cells: &[S],
        width: usize,
        indent: usize,
    ) -> std::io::Result<()> {
        let (widths, shown) = self.layout(width, indent);
        let mut line = " ".repeat(indent);
        for (i, w) in widths.iter().enumerate().take(shown) {
            let c = fit(cells.get(i).map_or("", AsRef::as_ref), *w);
            if i + 1 == shown {
                line.push_str(&c);
            } else {
                line.push_str(&format!("{c:<w$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())
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

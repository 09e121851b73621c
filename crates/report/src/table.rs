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
        let mut rows = columns.rows(width, indent);
        // Writing into a Vec cannot fail.
        let _ = rows.write(&mut out, &columns.headers);
        for row in &self.rows {
            let _ = rows.write(&mut out, row);
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

    /// Widens column `column` to hold `chars` characters (what [`Columns::measure`] does
    /// for a cell, for callers that know the width without the text).
    pub fn widen(&mut self, column: usize, chars: usize) {
        if let Some(w) = self.widths.get_mut(column) {
            *w = (*w).max(chars);
        }
    }

    /// The row writer for these widths: which columns fit in `width` and how wide each is.
    pub fn rows(&self, width: usize, indent: usize) -> Rows {
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
        widths.truncate(shown);
        Rows {
            widths,
            indent,
            line: String::new(),
        }
    }

    /// Writes the header line.
    pub fn write_header(
        &self,
        out: &mut dyn std::io::Write,
        width: usize,
        indent: usize,
    ) -> std::io::Result<()> {
        self.rows(width, indent).write(out, &self.headers)
    }

    /// Writes one row (missing cells are empty, extra cells ignored).
    pub fn write_row<S: AsRef<str>>(
        &self,
        out: &mut dyn std::io::Write,
        cells: &[S],
        width: usize,
        indent: usize,
    ) -> std::io::Result<()> {
        self.rows(width, indent).write(out, cells)
    }
}

/// Writes rows with the layout [`Columns::rows`] chose, reusing one line buffer: millions of
/// rows cost no allocation each.
#[derive(Debug, Clone)]
pub struct Rows {
    /// Widths of the columns shown.
    widths: Vec<usize>,
    indent: usize,
    line: String,
}

impl Rows {
    /// Writes one row (missing cells are empty, extra cells ignored): two spaces between
    /// columns, cells cut with "…" to their column, trailing spaces removed.
    pub fn write<W: std::io::Write + ?Sized, S: AsRef<str>>(
        &mut self,
        out: &mut W,
        cells: &[S],
    ) -> std::io::Result<()> {
        self.write_cells(
            out,
            cells.iter().map(|c| {
                let c = c.as_ref();
                (c, c.chars().count())
            }),
        )
    }

    /// [`Rows::write`] for cells whose widths in characters are known: each cell with its
    /// width.
    pub fn write_counted<W: std::io::Write + ?Sized>(
        &mut self,
        out: &mut W,
        cells: &[(&str, usize)],
    ) -> std::io::Result<()> {
        self.write_cells(out, cells.iter().copied())
    }

    fn write_cells<'c, W: std::io::Write + ?Sized>(
        &mut self,
        out: &mut W,
        mut cells: impl Iterator<Item = (&'c str, usize)>,
    ) -> std::io::Result<()> {
        let line = &mut self.line;
        line.clear();
        spaces(line, self.indent);
        let shown = self.widths.len();
        for (i, &w) in self.widths.iter().enumerate() {
            let (text, chars) = cells.next().unwrap_or(("", 0));
            let used = if chars <= w {
                line.push_str(text);
                chars
            } else {
                let keep = w.saturating_sub(1);
                let end = text
                    .char_indices()
                    .nth(keep)
                    .map_or(text.len(), |(at, _)| at);
                line.push_str(&text[..end]);
                line.push('…');
                keep + 1
            };
            if i + 1 < shown {
                spaces(line, w.saturating_sub(used) + 2);
            }
        }
        let kept = line.trim_end().len();
        line.truncate(kept);
        line.push('\n');
        out.write_all(line.as_bytes())
    }
}

/// Appends `n` spaces.
fn spaces(line: &mut String, mut n: usize) {
    const SPACES: &str = "                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        n -= k;
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

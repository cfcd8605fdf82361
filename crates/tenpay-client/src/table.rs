//! The table text every bill and fund flow shares: a header, backtick-prefixed rows, a
//! summary header and row; lines bounded; cells read by name. A leaf: the trade bill
//! (`bill_rows`) and the fund flow read through it.

use std::collections::BTreeMap;
use std::io::{BufRead, Read as _};

use tenpay_xml::{Fee, Fen};

use crate::Error;

pub(crate) fn cells(line: &str) -> Vec<String> {
    // Every cell is prefixed with a backtick, so ",`" separates cells even when a cell (the
    // goods name) contains a comma.
    line.trim_end_matches('\r')
        .strip_prefix('`')
        .unwrap_or(line)
        .split(",`")
        .map(str::to_owned)
        .collect()
}

/// The first of `names` the row has (layouts renamed columns), with its name.
pub(crate) fn pick<'a>(
    cells: &'a BTreeMap<String, String>,
    names: &[&'static str],
) -> Option<(&'static str, &'a str)> {
    names
        .iter()
        .find_map(|n| cells.get(*n).map(|v| (*n, v.as_str())))
}

/// The first of `names` the row has, read by `parse`; empty is `None`, an error names the
/// column.
pub(crate) fn cell_in<T>(
    cells: &BTreeMap<String, String>,
    names: &[&'static str],
    parse: impl Fn(&str) -> Result<T, tenpay_xml::Error>,
) -> Result<Option<T>, Error> {
    match pick(cells, names) {
        None | Some((_, "")) => Ok(None),
        Some((name, v)) => parse(v)
            .map(Some)
            .map_err(|e| column_error(name, &e.to_string())),
    }
}

/// A yuan amount (two decimals) from the first of `names`.
pub(crate) fn yuan_in(
    cells: &BTreeMap<String, String>,
    names: &[&'static str],
) -> Result<Option<Fen>, Error> {
    cell_in(cells, names, Fen::from_yuan)
}

/// A fee (five decimals, signed) from the first of `names`.
pub(crate) fn fee_in(
    cells: &BTreeMap<String, String>,
    names: &[&'static str],
) -> Result<Option<Fee>, Error> {
    cell_in(cells, names, Fee::from_yuan)
}

pub(crate) fn yuan(cell: Option<&String>) -> Result<Option<Fen>, Error> {
    match cell.map(String::as_str) {
        None | Some("") => Ok(None),
        Some(v) => Fen::from_yuan(v).map(Some).map_err(Error::Decode),
    }
}

pub(crate) fn malformed(why: &str) -> Error {
    Error::NotXml {
        reason: format!("malformed bill: {why}"),
        excerpt: String::new(),
    }
}

/// An error in a bill's column, naming it.
pub(crate) fn column_error(column: &str, reason: &str) -> Error {
    Error::Decode(tenpay_xml::Error::InvalidValue {
        field: column.to_owned(),
        reason: reason.to_owned(),
    })
}

/// The longest line read (a real bill row is well under 1 KiB).
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// What [`TableLines`] read next.
pub(crate) enum Row {
    /// A row's cells, as many as the header's columns.
    Cells(Vec<String>),
    /// The summary, by its own header's names; no row follows.
    Summary(BTreeMap<String, String>),
}

/// The layout every bill and fund flow shares, read line by line: a header (a leading UTF-8
/// BOM skipped), backtick-prefixed rows, a summary header, a summary row.
#[derive(Debug)]
pub(crate) struct TableLines<R> {
    input: R,
    pub(crate) columns: Vec<String>,
    line: String,
    finished: bool,
}

impl<R: BufRead> TableLines<R> {
    pub(crate) fn new(mut input: R) -> Result<Self, Error> {
        let mut line = String::new();
        if !next_line(&mut input, &mut line)? {
            return Err(malformed("empty"));
        }
        let header = line.strip_prefix('\u{feff}').unwrap_or(&line);
        let columns = header.split(',').map(str::to_owned).collect();
        Ok(Self {
            input,
            columns,
            line,
            finished: false,
        })
    }

    /// The next row or the summary; `None` after the summary or an error.
    pub(crate) fn next_row(&mut self) -> Option<Result<Row, Error>> {
        if self.finished {
            return None;
        }
        let result = self.read();
        if !matches!(result, Ok(Row::Cells(_))) {
            self.finished = true;
        }
        Some(result)
    }

    fn read(&mut self) -> Result<Row, Error> {
        if !next_line(&mut self.input, &mut self.line)? {
            return Err(malformed("no summary"));
        }
        if !self.line.starts_with('`') {
            let names: Vec<String> = self.line.split(',').map(str::to_owned).collect();
            if !next_line(&mut self.input, &mut self.line)? {
                return Err(malformed("no summary row"));
            }
            let values = cells(&self.line);
            if values.len() != names.len() {
                return Err(malformed(
                    "the summary row has another number of cells than its header",
                ));
            }
            return Ok(Row::Summary(names.into_iter().zip(values).collect()));
        }
        let values = cells(&self.line);
        if values.len() != self.columns.len() {
            return Err(malformed(
                "a row has another number of cells than the header",
            ));
        }
        Ok(Row::Cells(values))
    }
}

/// The next non-blank line into `line`, without its line end; `false` at the end.
pub(crate) fn next_line(input: &mut impl BufRead, line: &mut String) -> Result<bool, Error> {
    loop {
        line.clear();
        let n = input
            .by_ref()
            .take(MAX_LINE as u64 + 1)
            .read_line(line)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    malformed("not UTF-8 text")
                } else {
                    Error::ReadBill(e)
                }
            })?;
        if n == 0 {
            return Ok(false);
        }
        if n > MAX_LINE && !line.ends_with('\n') {
            return Err(malformed("a line is longer than 64 KiB"));
        }
        let end = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(end);
        if !line.trim().is_empty() {
            return Ok(true);
        }
    }
}

//! A results table as text cells: a sweep CSV, a merged shard, a `layers.csv`.
//!
//! Pure: parsed from and rendered to strings. Cells stay text so that reading a file and
//! writing it back gives the same bytes.

use crate::error::{Error, Problem, Result};

/// A CSV table: a header and rows of text cells (every row as wide as the header).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Parse CSV text with a header line. `origin` names the file in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Table> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let err = |e: csv::Error| {
            let line = e.position().map(|p| p.line() as usize);
            Error::Parse {
                origin: origin.to_string(),
                line,
                column: None,
                message: match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("row has {len} fields, the header {expected_len}")
                    }
                    _ => e.to_string(),
                },
            }
        };
        let headers: Vec<String> = r
            .headers()
            .map_err(err)?
            .iter()
            .map(str::to_string)
            .collect();
        if headers.is_empty() || headers.iter().all(String::is_empty) {
            return Err(Error::Parse {
                origin: origin.to_string(),
                line: Some(1),
                column: None,
                message: "no header line".into(),
            });
        }
        let mut rows = Vec::new();
        for rec in r.records() {
            rows.push(rec.map_err(err)?.iter().map(str::to_string).collect());
        }
        Ok(Table { headers, rows })
    }

    /// Parse the rows a killed writer left: a last line without its newline is dropped (it
    /// may be cut short). Rows keep whatever width they have (a damaged or edited line may
    /// be wider or narrower than the header), each with the line it starts on, for the
    /// caller to check. Returns the records and the byte length of the complete lines; text
    /// without one complete line gives no header and no rows.
    pub fn parse_partial(text: &str, origin: &str) -> Result<(Records, usize)> {
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        if complete == 0 {
            return Ok((Records::default(), 0));
        }
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(&text.as_bytes()[..complete]);
        let err = |e: csv::Error| Error::Parse {
            origin: origin.to_string(),
            line: e.position().map(|p| p.line() as usize),
            column: None,
            message: e.to_string(),
        };
        let headers = r
            .headers()
            .map_err(err)?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(err)?;
            let line = rec.position().map_or(0, |p| p.line() as usize);
            rows.push((line, rec.iter().map(str::to_string).collect()));
        }
        Ok((Records { headers, rows }, complete))
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// The index of column `name`, or an error listing the columns. `origin` names the file.
    pub fn require(&self, name: &str, origin: &str, option: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| {
            Error::invalid(
                origin,
                vec![Problem::new(option, format!("no column `{name}`"))
                    .with_help(format!("columns: {}", self.headers.join(", ")))],
            )
        })
    }

    /// CSV text (header then rows).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.headers).expect("in-memory writer");
        for r in &self.rows {
            w.write_record(r).expect("in-memory writer");
        }
        String::from_utf8(w.into_inner().expect("in-memory writer")).expect("CSV is UTF-8")
    }

    /// The table keeping only rows where `keep` holds.
    pub fn filtered(&self, keep: impl Fn(&[String]) -> bool) -> Table {
        Table {
            headers: self.headers.clone(),
            rows: self.rows.iter().filter(|r| keep(r)).cloned().collect(),
        }
    }

    /// Rows matching every `COLUMN=VALUE` filter, and (when the table has a `status`
    /// column, as sweep results do) whose status is `ok`.
    pub fn select(&self, filters: &[String], origin: &str) -> Result<Table> {
        let mut conds = Vec::new();
        for f in filters {
            let Some((c, v)) = f.split_once('=') else {
                return Err(Error::invalid(
                    origin,
                    vec![Problem::new(
                        "--where",
                        format!("`{f}` is not COLUMN=VALUE"),
                    )],
                ));
            };
            conds.push((
                self.require(c.trim(), origin, "--where")?,
                v.trim().to_string(),
            ));
        }
        let status = self.col("status");
        Ok(self.filtered(|r| {
            status.is_none_or(|s| r[s] == "ok") && conds.iter().all(|(c, v)| r[*c] == *v)
        }))
    }
}

/// CSV records that need not be as wide as their header, each with the (1-based) line it
/// starts on: what [`Table::parse_partial`] reads from a file another process wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Records {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// One line of CSV text for a record (with its newline).
pub fn csv_line(fields: &[String]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).expect("in-memory writer");
    String::from_utf8(w.into_inner().expect("in-memory writer")).expect("CSV is UTF-8")
}

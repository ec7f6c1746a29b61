//! Errors of the plumsim library: every variant names the input it came from.
//!
//! Loading and validation never panic on bad input; they return one of these, and the
//! binary maps [`Error::is_user_error`] to exit code 2.

use std::fmt;

/// One problem found while validating an input, with the field path it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted path of the offending field, e.g. `array.rows` or `layers[3] (conv1).stride`.
    pub path: String,
    /// What is wrong, including the value found.
    pub message: String,
    /// What is allowed, or how to fix it.
    pub help: Option<String>,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// Error type of the plumsim library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not valid TOML/JSON/CSV, or a field has the wrong type or is unknown.
    #[error("{origin}{}: {message}", location(*line, *column))]
    Parse {
        origin: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// The input parsed but breaks one or more rules; every problem is listed.
    #[error("{origin}: {} problem{}:\n{}", problems.len(), if problems.len() == 1 { "" } else { "s" }, list(problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
    /// A file could not be read or written (the OS error follows in the chain).
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A weight tensor could not be loaded or does not fit its layer.
    #[error("{file}: tensor `{tensor}`{}: {message}", layer.as_ref().map(|l| format!(" (layer `{l}`)")).unwrap_or_default())]
    Weights {
        file: String,
        tensor: String,
        layer: Option<String>,
        message: String,
    },
    /// A requested feature is valid input but not modelled for this combination.
    #[error("{0}")]
    Unsupported(String),
    /// plumsim failed on valid input (a bug or a library failure, e.g. drawing a plot).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// True for errors caused by the user's input (exit code 2), false for internal ones.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }

    pub fn invalid(origin: impl Into<String>, problems: Vec<Problem>) -> Self {
        Error::Invalid {
            origin: origin.into(),
            problems,
        }
    }
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |p| offset - p - 1) + 1;
    (line, col)
}

/// A TOML syntax or type error in `text`, located by line and column when the parser knows
/// where.
pub fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    let (line, column) = match e.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    Error::Parse {
        origin: origin.to_string(),
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Check an integer field against `lo..=hi`, pushing a problem under `path` when it is outside;
/// the value returned then is `max(lo, 1)`, so validation can go on and report more.
/// A number as a message shows it: plain when it reads well, in scientific notation when it
/// is very large or very small (`1e308`, not 309 digits).
pub fn show_number(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e7).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

pub fn check_range(problems: &mut Vec<Problem>, path: &str, value: i64, lo: i64, hi: i64) -> u32 {
    if value < lo || value > hi {
        problems.push(
            Problem::new(path, format!("{value} is out of range"))
                .with_help(format!("allowed: {lo}..={hi}")),
        );
        lo.max(1) as u32
    } else {
        value as u32
    }
}

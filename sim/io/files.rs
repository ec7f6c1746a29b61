//! Opening input files: only regular files, text with a size cap and invalid UTF-8 located.
//!
//! Every file plumsim reads goes through [`open_regular`]: a path that is not a regular file
//! once symlinks are followed (a FIFO, a socket, a device such as `/dev/zero`, a directory)
//! is refused by name before it is opened for reading, since reading a FIFO blocks and a
//! device never ends. On Unix the file is then opened without blocking and checked again
//! through its handle, so a path swapped in between is refused too.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

use crate::error::{line_col, Error, Problem, Result};

/// The largest text input (architecture TOML, workload JSON, SCALE-Sim CSV and cfg, sweep
/// specs, labels): 256 MiB.
pub const MAX_TEXT_BYTES: u64 = 256 << 20;

/// What a path that is not a regular file is, for messages.
fn what(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    "not a file"
}

/// The error for a path that is not a regular file: "not a regular file (a FIFO)".
pub fn not_regular(meta: &Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "not a regular file ({}); plumsim reads only regular files",
            what(meta)
        ),
    )
}

/// Open `path` for reading if it is a regular file (after following symlinks), with its
/// length in bytes. Anything else is refused before it is opened for reading.
pub fn open_regular(path: &Path) -> io::Result<(File, u64)> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // Opening a FIFO swapped in after the check must not block: open without blocking,
        // then check the opened file itself.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok((file, meta.len()))
}

/// Read the text file at `path` (at most [`MAX_TEXT_BYTES`]), naming it on failure.
pub fn read_text(path: &Path) -> Result<String> {
    read_text_capped(path, MAX_TEXT_BYTES)
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Read the text file at `path`, refusing it if it is not a regular file, if it holds more
/// than `cap` bytes, or if it is not UTF-8 (an [`Error::Parse`] at the first bad byte).
pub fn read_text_capped(path: &Path, cap: u64) -> Result<String> {
    let origin = path.display().to_string();
    let io = |source| Error::Io {
        path: origin.clone(),
        source,
    };
    let too_large = |len: String| {
        Error::invalid(
            origin.clone(),
            vec![
                Problem::new("file", format!("is {len}, too large for a text input")).with_help(
                    format!("text inputs are at most {} ({cap} bytes)", size_text(cap)),
                ),
            ],
        )
    };
    let (file, len) = open_regular(path).map_err(io)?;
    if len > cap {
        return Err(too_large(format!("{len} bytes")));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The length was checked, but the file may grow while it is read.
    file.take(cap + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(format!("more than {cap} bytes")));
    }
    String::from_utf8(bytes).map_err(|e| utf8_error(&origin, e))
}

/// Bytes read from `origin` as UTF-8 text; invalid UTF-8 is an [`Error::Parse`] at its line
/// and column.
pub fn decode_utf8(bytes: Vec<u8>, origin: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| utf8_error(origin, e))
}

/// Invalid UTF-8 as a parse error at its line and column (1-based, in bytes), with its byte
/// offset.
fn utf8_error(origin: &str, e: std::string::FromUtf8Error) -> Error {
    let at = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    let valid = std::str::from_utf8(&bytes[..at]).expect("valid up to here");
    let (line, column) = line_col(valid, at);
    Error::Parse {
        origin: origin.to_string(),
        line: Some(line),
        column: Some(column),
        message: format!(
            "invalid UTF-8: byte 0x{:02x} at byte offset {at} (help: save the file as UTF-8 text)",
            bytes[at]
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_located_by_line_column_and_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.toml");
        std::fs::write(&p, b"name = \"x\"\nrows = \"\xe9t\xe9\"\n").unwrap();
        let e = read_text(&p).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Parse {
                    line: Some(2),
                    column: Some(9),
                    ..
                }
            ),
            "{e:?}"
        );
        let s = e.to_string();
        assert!(
            s.starts_with(&format!(
                "{}:2:9: invalid UTF-8: byte 0xe9 at byte offset 19",
                p.display()
            )),
            "{s}"
        );
    }

    #[test]
    fn text_over_the_cap_is_refused_with_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.json");
        std::fs::write(&p, vec![b' '; 2048]).unwrap();
        let e = read_text_capped(&p, 1024).unwrap_err().to_string();
        assert!(e.contains("is 2048 bytes, too large"), "{e}");
        assert!(e.contains("at most 1024 bytes"), "{e}");
        assert_eq!(read_text_capped(&p, 2048).unwrap().len(), 2048);
        assert!(size_text(MAX_TEXT_BYTES) == "256 MiB");
    }

    #[test]
    fn directories_are_not_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let Error::Io { path, source } = read_text(dir.path()).unwrap_err() else {
            panic!("not an Io error")
        };
        assert_eq!(path, dir.path().display().to_string());
        let s = source.to_string();
        assert!(s.contains("not a regular file (a directory)"), "{s}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_and_dev_zero_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("arch.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_regular(&fifo).unwrap_err().to_string();
        assert!(e.contains("not a regular file (a FIFO)"), "{e}");
        let link = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let e = open_regular(&link).unwrap_err().to_string();
        assert!(e.contains("not a regular file (a character device)"), "{e}");
    }
}

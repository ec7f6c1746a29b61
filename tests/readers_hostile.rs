//! Hostile input files: whatever a reader is given (a FIFO, a device, a directory, a deflate
//! bomb, a header that lies about its size, invalid UTF-8), it is refused by name with exit
//! code 2, quickly, before the resources the file asks for are spent. Every hostile file is
//! made in a temporary folder and is small on disk; the bombs are built in memory.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use plumsim::io::weights::{load_tensor, Expect, WeightLoader};

/// A tiny network whose `conv1` ([4, 3, 3, 3] weights) reads `conv1.weight` from `file`.
fn workload(file: &str) -> String {
    format!(
        r#"{{
  "name": "tiny",
  "inputs": {{"x": [3, 8, 8]}},
  "layers": [
    {{"name": "conv1", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 4, "kernel": 3,
     "weights": {{"file": "{file}", "tensor": "conv1.weight"}}}},
    {{"name": "fc", "op": "linear", "inputs": ["y"], "output": "o", "out_features": 10}}
  ]
}}"#
    )
}

const CONV1: [u64; 4] = [4, 3, 3, 3];

fn arch() -> String {
    common::path_str(&common::root().join("arch/dense_pe16.toml"))
}

/// Run plumsim, failing the test (instead of hanging it) if it does not end within `limit`.
fn plumsim_within(limit: Duration, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plumsim"))
        .args(args)
        .current_dir(common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plumsim");
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("plumsim {args:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    (child.wait_with_output().unwrap(), took)
}

/// Run plumsim (within a minute): exit code 2; its stderr and how long it took.
fn plumsim_refuses(args: &[&str]) -> (String, Duration) {
    let (o, took) = plumsim_within(Duration::from_secs(60), args);
    let e = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    (e, took)
}

/// `plumsim validate` of the tiny network beside `weights` (named `name` in the workload):
/// exit code 2, its stderr.
fn validate_refuses(dir: &Path, weight_file: &str) -> String {
    let wl = dir.join("tiny.json");
    std::fs::write(&wl, workload(weight_file)).unwrap();
    let (e, took) = plumsim_refuses(&["validate", &arch(), &common::path_str(&wl)]);
    assert!(took < Duration::from_secs(20), "took {took:?}: {e}");
    e
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

// ------------------------------------------------------------------ not regular files

#[cfg(unix)]
#[test]
fn a_safetensors_link_to_dev_zero_or_a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.safetensors")).unwrap();
    let e = validate_refuses(dir.path(), "zero.safetensors");
    assert!(
        e.contains("zero.safetensors: tensor `conv1.weight` (layer `conv1`)")
            && e.contains("not a regular file (a character device)"),
        "{e}"
    );
    let fifo = dir.path().join("pipe");
    mkfifo(&fifo);
    std::os::unix::fs::symlink(&fifo, dir.path().join("w.safetensors")).unwrap();
    let e = validate_refuses(dir.path(), "w.safetensors");
    assert!(
        e.contains("w.safetensors: tensor `conv1.weight`")
            && e.contains("not a regular file (a FIFO)"),
        "{e}"
    );
    // The same for .npz and .npy weights.
    std::os::unix::fs::symlink(&fifo, dir.path().join("w.npz")).unwrap();
    let e = validate_refuses(dir.path(), "w.npz");
    assert!(
        e.contains("w.npz") && e.contains("not a regular file (a FIFO)"),
        "{e}"
    );
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("w.npy")).unwrap();
    let e = validate_refuses(dir.path(), "w.npy");
    assert!(
        e.contains("w.npy") && e.contains("not a regular file"),
        "{e}"
    );
}

#[cfg(unix)]
#[test]
fn text_inputs_that_are_not_regular_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("tiny.json");
    std::fs::write(&wl, workload("w.npz")).unwrap();
    let fifo = dir.path().join("arch.toml");
    mkfifo(&fifo);
    let (e, _) = plumsim_refuses(&["run", &common::path_str(&fifo), &common::path_str(&wl)]);
    assert!(
        e.contains(&format!(
            "{}: not a regular file (a FIFO)",
            common::path_str(&fifo)
        )),
        "{e}"
    );
    // A workload that is a directory, or a link to /dev/zero.
    for (name, make) in [("dir.json", None), ("zero.json", Some("/dev/zero"))] {
        let p = dir.path().join(name);
        match make {
            None => std::fs::create_dir(&p).unwrap(),
            Some(target) => std::os::unix::fs::symlink(target, &p).unwrap(),
        }
        let (e, _) = plumsim_refuses(&["run", &arch(), &common::path_str(&p)]);
        assert!(
            e.contains(&format!("{}: not a regular file", common::path_str(&p))),
            "{e}"
        );
    }
    // A SCALE-Sim config that is a FIFO.
    let cfg = dir.path().join("config.cfg");
    mkfifo(&cfg);
    let (e, _) = plumsim_refuses(&[
        "import",
        "scalesim",
        &common::path_str(&cfg),
        "--out",
        &common::path_str(dir.path()),
    ]);
    assert!(e.contains("not a regular file (a FIFO)"), "{e}");
}

#[test]
fn a_text_input_over_the_cap_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // A sparse file: 300 MiB long, nothing written.
    let p = dir.path().join("huge.json");
    std::fs::File::create(&p)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let (e, took) = plumsim_refuses(&["run", &arch(), &common::path_str(&p)]);
    assert!(
        e.contains("is 314572800 bytes, too large for a text input")
            && e.contains("at most 256 MiB"),
        "{e}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn invalid_utf8_is_a_parse_error_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.json");
    let mut text = workload("w.npz").into_bytes();
    let at = text.windows(4).position(|w| w == b"tiny").unwrap();
    text[at + 1] = 0xff;
    std::fs::write(&p, &text).unwrap();
    let o = common::plumsim(&["validate", &arch(), &common::path_str(&p)]);
    let e = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains(&format!(
            "{}:2:13: invalid UTF-8: byte 0xff at byte offset {}",
            common::path_str(&p),
            at + 1
        )),
        "{e}"
    );
    assert!(!e.contains("stream did not contain valid UTF-8"), "{e}");
}

// ------------------------------------------------------------------ .npy headers

/// A version-1 `.npy` header for `dict` (padded to 64 bytes, as numpy writes it).
fn npy_header(dict: &str) -> Vec<u8> {
    let mut text = dict.to_string();
    while (10 + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(text.len() as u16).to_le_bytes());
    h.extend_from_slice(text.as_bytes());
    h
}

/// Writes to `p` an `.npy` file of the header for `dict` and `data_len` zero bytes.
fn write_npy(p: &Path, dict: &str, data_len: usize) {
    let mut bytes = npy_header(dict);
    bytes.extend_from_slice(&vec![0u8; data_len]);
    std::fs::write(p, &bytes).unwrap();
}

#[test]
fn a_fortran_header_whose_shape_wraps_is_refused_naming_file_tensor_and_shape() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.npy");
    write_npy(
        &p,
        "{'descr': '<f4', 'fortran_order': True, 'shape': (9223372036854775809, 2), }",
        8,
    );
    let e = load_tensor(&p, "w").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: tensor `w`: shape [9223372036854775809, 2]",
            p.display()
        )),
        "{e}"
    );
    let e = validate_refuses(dir.path(), "w.npy");
    assert!(
        e.contains("w.npy: tensor `conv1.weight` (layer `conv1`): shape [9223372036854775809, 2] has more elements than a 64-bit count holds"),
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
}

/// Why `l` refuses `conv1.weight` of `p` for the layer `conv1`.
fn conv1_refusal(l: &mut WeightLoader, p: &Path) -> String {
    l.load_shaped(p, "conv1.weight", "conv1", &CONV1)
        .unwrap_err()
        .to_string()
}

#[test]
fn npy_headers_are_checked_against_the_layer_and_the_file_before_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.npy");
    let mut l = WeightLoader::new();
    // A right shape over too few bytes: refused before reading, with both sizes.
    write_npy(
        &p,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3, 3, 3), }",
        100,
    );
    let e = conv1_refusal(&mut l, &p);
    assert!(
        e.contains("the file holds 100 bytes after its header, but the header declares 432"),
        "{e}"
    );
    // A shape of 2^40 elements over 8 bytes: the layer's shape is checked first.
    write_npy(
        &p,
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }",
        8,
    );
    let e = conv1_refusal(&mut l, &p);
    assert!(
        e.contains("shape [1099511627776] does not match the layer's weight shape [4, 3, 3, 3]"),
        "{e}"
    );
    // Without a layer, every tensor is still bounded and checked against the file.
    let e = load_tensor(&p, "t").unwrap_err().to_string();
    assert!(
        e.contains("has 1099511627776 elements (help: at most 4294967296 per tensor)"),
        "{e}"
    );
    // A version-2 header claiming 4 GiB of header text.
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    bytes.extend_from_slice(b"{}");
    std::fs::write(&p, &bytes).unwrap();
    let e = load_tensor(&p, "t").unwrap_err().to_string();
    assert!(
        e.contains("not a valid .npy file: a header of 4294967295 bytes"),
        "{e}"
    );
    // A check of the caller's sees the header's shape before anything is read.
    write_npy(
        &p,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
        16,
    );
    let seen = std::cell::RefCell::new(Vec::new());
    let check = |s: &[u64]| {
        seen.borrow_mut().push(s.to_vec());
        Ok(())
    };
    let t = l
        .load_expecting(&p, "t", None, Expect::Check(&check))
        .unwrap();
    assert_eq!((t.shape, t.data), (vec![2, 2], vec![0.0; 4]));
    assert_eq!(*seen.borrow(), vec![vec![2, 2]]);
}

// ------------------------------------------------------------------ .npz deflate bombs

/// Bits written least significant first, as deflate packs them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    /// `n` bits of `value`, least significant first (deflate's header fields, extra bits).
    fn put(&mut self, value: u32, n: u32) {
        for i in 0..n {
            if self.used == 0 {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            *self.bytes.last_mut().unwrap() |= bit << self.used;
            self.used = (self.used + 1) % 8;
        }
    }

    /// A Huffman code of `n` bits, most significant first.
    fn code(&mut self, code: u32, n: u32) {
        for i in (0..n).rev() {
            self.put((code >> i) & 1, 1);
        }
    }

    /// `n` zero bits, fast.
    fn zeros(&mut self, mut n: u64) {
        while n > 0 && self.used != 0 {
            self.put(0, 1);
            n -= 1;
        }
        self.bytes.resize(self.bytes.len() + (n / 8) as usize, 0);
        for _ in 0..n % 8 {
            self.put(0, 1);
        }
    }

    fn align(&mut self) {
        self.used = 0;
    }
}

/// A raw deflate stream of `head` (a stored block) then `1 + 258 runs` zero bytes: a literal
/// zero, then `runs` copies of 258 bytes at distance 1, each coded in 2 bits by a dynamic
/// Huffman block (deflate's best ratio, about 1032:1).
fn deflate_bomb(head: &[u8], runs: u64) -> Vec<u8> {
    let mut b = Bits::default();
    // Stored block, not final.
    b.put(0, 1);
    b.put(0, 2);
    b.align();
    let len = head.len() as u16;
    b.bytes.extend_from_slice(&len.to_le_bytes());
    b.bytes.extend_from_slice(&(!len).to_le_bytes());
    b.bytes.extend_from_slice(head);
    // Dynamic block, final: literal/length codes 0 (2 bits), 256 (2 bits), 285 (1 bit);
    // distance codes 0 and 1 (1 bit each).
    b.put(1, 1);
    b.put(2, 2);
    b.put(286 - 257, 5);
    b.put(2 - 1, 5);
    b.put(18 - 4, 4);
    // Code-length code lengths, in deflate's order: 18 -> 1 bit, 1 and 2 -> 2 bits.
    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
    for sym in order {
        b.put(
            match sym {
                18 => 1,
                1 | 2 => 2,
                _ => 0,
            },
            3,
        );
    }
    // Canonical code-length codes: 18 = 0, 1 = 10, 2 = 11.
    let (cl1, cl2, cl18) = ((0b10, 2), (0b11, 2), (0b0, 1));
    let zeros = |b: &mut Bits, mut n: u32| {
        while n > 0 {
            let k = n.min(138);
            b.code(cl18.0, cl18.1);
            b.put(k - 11, 7);
            n -= k;
        }
    };
    b.code(cl2.0, cl2.1); // literal 0: 2 bits
    zeros(&mut b, 255);
    b.code(cl2.0, cl2.1); // end of block: 2 bits
    zeros(&mut b, 28);
    b.code(cl1.0, cl1.1); // length 258 (code 285): 1 bit
    b.code(cl1.0, cl1.1); // distance code 0 (distance 1)
    b.code(cl1.0, cl1.1); // distance code 1 (unused)
                          // Canonical literal/length codes: 285 = 0, 0 = 10, 256 = 11; distance 0 = 0.
    b.code(0b10, 2);
    b.zeros(2 * runs);
    b.code(0b11, 2);
    b.bytes
}

/// A one-entry zip of `compressed` (deflate) declaring `size` bytes uncompressed (zip64 when
/// it needs to). The CRC is left 0: a reader that stops where the header says never gets to
/// check it.
fn zip_one(name: &str, compressed: &[u8], size: u64) -> Vec<u8> {
    let csize = compressed.len() as u64;
    let zip64 = size >= 0xFFFF_FFFF || csize >= 0xFFFF_FFFF;
    let extra: Vec<u8> = if zip64 {
        let mut e = vec![0x01, 0x00, 16, 0];
        e.extend_from_slice(&size.to_le_bytes());
        e.extend_from_slice(&csize.to_le_bytes());
        e
    } else {
        Vec::new()
    };
    let (s32, c32) = if zip64 {
        (u32::MAX, u32::MAX)
    } else {
        (size as u32, csize as u32)
    };
    let u16le = |v: u16| v.to_le_bytes();
    let u32le = |v: u32| v.to_le_bytes();
    let mut z = Vec::new();
    let common = |z: &mut Vec<u8>| {
        z.extend_from_slice(&u16le(45)); // version needed
        z.extend_from_slice(&u16le(0)); // flags
        z.extend_from_slice(&u16le(8)); // deflate
        z.extend_from_slice(&u16le(0)); // time
        z.extend_from_slice(&u16le(0x21)); // date: 1980-01-01
        z.extend_from_slice(&u32le(0)); // crc
        z.extend_from_slice(&u32le(c32));
        z.extend_from_slice(&u32le(s32));
        z.extend_from_slice(&u16le(name.len() as u16));
        z.extend_from_slice(&u16le(extra.len() as u16));
    };
    z.extend_from_slice(&u32le(0x0403_4b50));
    common(&mut z);
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(&extra);
    z.extend_from_slice(compressed);
    let cd_start = z.len() as u32;
    z.extend_from_slice(&u32le(0x0201_4b50));
    z.extend_from_slice(&u16le(45)); // version made by
    common(&mut z);
    z.extend_from_slice(&u16le(0)); // comment
    z.extend_from_slice(&u16le(0)); // disk
    z.extend_from_slice(&u16le(0)); // internal attributes
    z.extend_from_slice(&u32le(0)); // external attributes
    z.extend_from_slice(&u32le(0)); // local header offset
    z.extend_from_slice(name.as_bytes());
    z.extend_from_slice(&extra);
    let cd_len = z.len() as u32 - cd_start;
    z.extend_from_slice(&u32le(0x0605_4b50));
    z.extend_from_slice(&u16le(0));
    z.extend_from_slice(&u16le(0));
    z.extend_from_slice(&u16le(1));
    z.extend_from_slice(&u16le(1));
    z.extend_from_slice(&u32le(cd_len));
    z.extend_from_slice(&u32le(cd_start));
    z.extend_from_slice(&u16le(0));
    z
}

const GIB8: u64 = 8 << 30;

#[test]
fn the_bomb_builder_makes_a_valid_stream() {
    // Small enough to inflate here: head, then 1 + 258 x 4 zeros, through the zip reader.
    let head = npy_header("{'descr': '|u1', 'fortran_order': False, 'shape': (1033,), }");
    let bomb = deflate_bomb(&head, 4);
    let total = head.len() as u64 + 1 + 258 * 4;
    let zip = zip_one("a.npy", &bomb, total);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.npz");
    std::fs::write(&p, &zip).unwrap();
    let mut archive = npyz::zip::ZipArchive::new(std::fs::File::open(&p).unwrap()).unwrap();
    let mut entry = archive.by_index(0).unwrap();
    let mut out = Vec::new();
    // The CRC is left 0: read exactly the declared bytes.
    std::io::Read::read_exact(&mut entry, {
        out.resize(total as usize, 1);
        &mut out
    })
    .unwrap();
    assert_eq!(&out[..head.len()], &head[..]);
    assert!(out[head.len()..].iter().all(|&b| b == 0));
}

#[test]
fn an_npz_deflate_bomb_is_refused_without_inflating_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.npz");
    let runs = GIB8 / 258;
    let mut l = WeightLoader::new();
    let mut refused = |header: &[u8], declared: Option<u64>| -> String {
        let bomb = deflate_bomb(header, runs);
        let size = header.len() as u64 + 1 + 258 * runs;
        assert!(size >= GIB8 - 258 && bomb.len() < (9 << 20));
        std::fs::write(
            &p,
            zip_one("conv1.weight.npy", &bomb, declared.unwrap_or(size)),
        )
        .unwrap();
        let start = Instant::now();
        let e = conv1_refusal(&mut WeightLoader::new(), &p);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}: {e}",
            start.elapsed()
        );
        assert!(
            e.starts_with(&format!(
                "{}: tensor `conv1.weight` (layer `conv1`): ",
                p.display()
            )),
            "{e}"
        );
        // Through a loader that keeps the file open, too.
        let _ = l.load_shaped(&p, "conv1.weight", "conv1", &CONV1);
        e
    };
    // The layer's shape, then 8 GiB of zeros where 432 bytes belong; the archive says so.
    let head = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3, 3, 3), }");
    let e = refused(&head, None);
    assert!(
        e.contains("the archive entry declares 8589934")
            && e.contains("declares 432 bytes of data"),
        "{e}"
    );
    // The same, the archive lying that the entry is header + 432 bytes: reading stops one
    // byte past them.
    let e = refused(&head, Some(head.len() as u64 + 432));
    assert!(
        e.contains("the archive entry holds more than the 432 bytes of data its header declares"),
        "{e}"
    );
    // An 8 GiB array declared honestly: not the layer's shape.
    let head = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }");
    let e = refused(&head, None);
    assert!(
        e.contains("shape [2147483648] does not match the layer's weight shape [4, 3, 3, 3]"),
        "{e}"
    );
    // Through the command line: exit 2 at once.
    let e = validate_refuses(dir.path(), "w.npz");
    assert!(
        e.contains("w.npz: tensor `conv1.weight` (layer `conv1`): shape [2147483648]"),
        "{e}"
    );
}

// ------------------------------------------------------------------ safetensors

/// A safetensors file: the 8-byte length, `header`, then `data`.
fn safetensors_bytes(header: &str, data: &[u8]) -> Vec<u8> {
    let mut b = (header.len() as u64).to_le_bytes().to_vec();
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(data);
    b
}

#[test]
fn safetensors_headers_are_checked_before_any_tensor_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.safetensors");
    let refused = |bytes: &[u8]| -> String {
        std::fs::write(&p, bytes).unwrap();
        conv1_refusal(&mut WeightLoader::new(), &p)
    };
    // A header length past the cap, or past the file.
    let mut b = u64::MAX.to_le_bytes().to_vec();
    b.extend_from_slice(b"{}");
    let e = refused(&b);
    assert!(
        e.contains("not a valid .safetensors file: a header of 18446744073709551615 bytes (help: at most 100000000)"),
        "{e}"
    );
    let mut b = 1000u64.to_le_bytes().to_vec();
    b.extend_from_slice(b"{}");
    let e = refused(&b);
    assert!(
        e.contains("a header of 1000 bytes, but only 2 bytes follow its length"),
        "{e}"
    );
    let e = refused(&[1, 2, 3]);
    assert!(
        e.contains("3 bytes, too short for its 8-byte header length"),
        "{e}"
    );
    // Offsets past the end of the file.
    let h = r#"{"conv1.weight":{"dtype":"F32","shape":[4,3,3,3],"data_offsets":[0,432]}}"#;
    let e = refused(&safetensors_bytes(h, &[0u8; 16]));
    assert!(
        e.contains("its tensors span 432 bytes of data, but the file holds 16 after the header"),
        "{e}"
    );
    // A shape whose size overflows.
    let h =
        r#"{"conv1.weight":{"dtype":"F32","shape":[9223372036854775809,2],"data_offsets":[0,8]}}"#;
    let e = refused(&safetensors_bytes(h, &[0u8; 8]));
    assert!(e.contains("needs more than 2^64"), "{e}");
    // Consistent, but not the layer's shape.
    let h = r#"{"conv1.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#;
    let e = refused(&safetensors_bytes(h, &[0u8; 16]));
    assert!(
        e.contains("shape [2, 2] does not match the layer's weight shape [4, 3, 3, 3]"),
        "{e}"
    );
    // Two tensors: only the asked one is read, from its offset.
    let mut data: Vec<u8> = (0..108).flat_map(|i| (i as f32).to_le_bytes()).collect();
    data.extend_from_slice(&7.5f32.to_le_bytes());
    let h = r#"{"__metadata__":{"format":"pt"},"conv1.weight":{"dtype":"F32","shape":[4,3,3,3],"data_offsets":[0,432]},"b":{"dtype":"F32","shape":[1],"data_offsets":[432,436]}}"#;
    std::fs::write(&p, safetensors_bytes(h, &data)).unwrap();
    let mut l = WeightLoader::new();
    assert_eq!(l.load(&p, "b", None).unwrap().data, vec![7.5]);
    let w = l.load_shaped(&p, "conv1.weight", "conv1", &CONV1).unwrap();
    assert_eq!(w, (0..108).map(|i| i as f32).collect::<Vec<_>>());
}

// ------------------------------------------------------------------ real inputs

const INPUT_NET: &str = r#"{
  "name": "tiny",
  "inputs": {"x": [3, 4, 4]},
  "layers": [
    {"name": "fc", "op": "linear", "inputs": ["x"], "output": "o", "out_features": 10}
  ]
}"#;

fn input_net() -> plumsim::workload::Network {
    plumsim::workload::parse_workload(INPUT_NET, "tiny.json").unwrap()
}

/// Why the inputs at `p` (no labels) are refused for `net`.
fn inputs_refusal(p: &Path, net: &plumsim::workload::Network) -> String {
    plumsim::io::load_inputs(p, net, None)
        .unwrap_err()
        .to_string()
}

#[test]
fn input_tensors_are_checked_against_the_network_before_their_data() {
    let dir = tempfile::tempdir().unwrap();
    let net = input_net();
    let p = dir.path().join("x.npy");
    // 2^40 inputs declared over 8 bytes.
    write_npy(
        &p,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 3, 4, 4), }",
        8,
    );
    let e = inputs_refusal(&p, &net);
    assert!(
        e.contains("1099511627776 inputs") && e.contains("1..=100000 inputs per run"),
        "{e}"
    );
    // The wrong per-sample shape.
    write_npy(
        &p,
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 5), }",
        8,
    );
    let e = inputs_refusal(&p, &net);
    assert!(e.contains("input array of shape [2, 3, 4, 5]"), "{e}");
    // An .npz whose input is a deflate bomb behind the network's shape.
    let head = npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4, 4), }");
    let runs = GIB8 / 258;
    let bomb = deflate_bomb(&head, runs);
    let z = dir.path().join("x.npz");
    std::fs::write(&z, zip_one("input.npy", &bomb, head.len() as u64 + 384)).unwrap();
    let start = Instant::now();
    let e = inputs_refusal(&z, &net);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(
        e.contains("holds more than the 384 bytes of data its header declares"),
        "{e}"
    );
    // Labels and logits are checked against the number of inputs and the network's output.
    let labels = dir.path().join("l.npz");
    {
        let mut npz = npyz::npz::NpzWriter::create(&labels).unwrap();
        for (name, shape, n) in [
            ("input", vec![2u64, 3, 4, 4], 96),
            ("logits", vec![2, 9], 18),
        ] {
            let mut w = npyz::WriterBuilder::begin_nd(npyz::WriterBuilder::shape(
                npyz::WriterBuilder::default_dtype(
                    npz.array::<f32>(name, Default::default()).unwrap(),
                ),
                &shape,
            ))
            .unwrap();
            w.extend(vec![0.5f32; n]).unwrap();
            w.finish().unwrap();
        }
        npz.zip_writer().finish().unwrap();
    }
    let e = inputs_refusal(&labels, &net);
    assert!(
        e.contains("`logits` of shape [2, 9]") && e.contains("[2, 10]"),
        "{e}"
    );
}

/// A PNG of `w x h` grey pixels declared in its IHDR, with no image data.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[]);
    png
}

#[test]
fn images_are_bounded_before_they_are_decoded_and_must_be_regular_files() {
    let net = input_net();
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("imgs");
    std::fs::create_dir(&images).unwrap();
    let img = images.join("a_1.png");
    std::fs::write(&img, png_header(20_000, 20_000)).unwrap();
    let e = inputs_refusal(&images, &net);
    assert!(
        e.contains("20000 x 20000 pixels") && e.contains("at most 2^28 pixels"),
        "{e}"
    );
    // A baseline JPEG frame header of 65535 x 65535 pixels, and nothing else.
    std::fs::remove_file(&img).unwrap();
    let jpg = images.join("b_1.jpg");
    std::fs::write(
        &jpg,
        [
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x01, 0x11,
            0x00,
        ],
    )
    .unwrap();
    let e = inputs_refusal(&images, &net);
    assert!(
        e.contains("65535 x 65535 pixels") && e.contains("at most 2^28 pixels"),
        "{e}"
    );
    std::fs::remove_file(&jpg).unwrap();
    #[cfg(unix)]
    {
        // An image that is a FIFO, or a link to /dev/zero, is refused by name.
        let fifo = images.join("c_1.png");
        mkfifo(&fifo);
        let e = plumsim::io::load_inputs(&images, &net, None).unwrap_err();
        let plumsim::Error::Io { path, source } = e else {
            panic!("not an Io error: {e}")
        };
        assert_eq!(path, fifo.display().to_string());
        assert!(
            source.to_string().contains("not a regular file (a FIFO)"),
            "{source}"
        );
        std::fs::remove_file(&fifo).unwrap();
        // --inputs and --labels that are not regular files.
        let e = plumsim::io::load_inputs(Path::new("/dev/zero"), &net, None).unwrap_err();
        assert!(matches!(e, plumsim::Error::Io { .. }), "{e:?}");
        let x = dir.path().join("x.npy");
        write_npy(
            &x,
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 4), }",
            192,
        );
        assert_eq!(
            plumsim::io::load_inputs(&x, &net, None)
                .unwrap()
                .values
                .len(),
            1
        );
        let labels = dir.path().join("labels.txt");
        mkfifo(&labels);
        let e = plumsim::io::load_inputs(&x, &net, Some(&labels)).unwrap_err();
        let shown = format!("{e:?}");
        assert!(shown.contains("not a regular file (a FIFO)"), "{shown}");
    }
}

// ------------------------------------------------------------------ SCALE-Sim import

const CFG: &str = "[general]\nrun_name = t\n\n[architecture_presets]\nArrayHeight:    16\nArrayWidth:     16\nIfmapSramSzkB:   64\nFilterSramSzkB:  64\nOfmapSramSzkB:   64\nIfmapOffset:    0\nFilterOffset:   10000000\nOfmapOffset:    20000000\nBandwidth : 10\nDataflow : os\nMemoryBanks:   1\n\n[run_presets]\nInterfaceBandwidth: USER\n";

fn import(dir: &Path, cfg: &str, extra: &[&str]) -> Output {
    let p = dir.join("config.cfg");
    std::fs::write(&p, cfg).unwrap();
    let out = dir.join("out");
    let mut args = vec![
        "import".to_string(),
        "scalesim".into(),
        common::path_str(&p),
        "--out".into(),
        common::path_str(&out),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::plumsim(&args)
}

/// [`import`], refused with exit code 2: its stderr.
fn import_refused(dir: &Path, cfg: &str, extra: &[&str]) -> String {
    let o = import(dir, cfg, extra);
    let e = common::stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    e
}

#[test]
fn scalesim_import_errors_name_the_cfg_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = common::path_str(&dir.path().join("config.cfg"));
    // CFG with `from` replaced by `to`, refused: its stderr.
    let edited_refused =
        |from: &str, to: &str| import_refused(dir.path(), &CFG.replace(from, to), &[]);
    let e = edited_refused("ArrayHeight:    16", "ArrayHeight: 16.7");
    assert!(
        e.contains(&format!(
            "error: {cfg_path}: 1 problem:\n  - ArrayHeight (line 5): `16.7` is not a whole number"
        )),
        "{e}"
    );
    assert!(!dir.path().join("out").exists());
    // Too large for an array: SCALE-Sim's key, not `<imported architecture>:7:8`.
    let e = edited_refused("ArrayHeight:    16", "ArrayHeight: 99999999999999999999");
    assert!(
        e.contains("ArrayHeight (line 5)") && !e.contains("<imported"),
        "{e}"
    );
    // A buffer the generated architecture refuses: pointed back at its cfg key.
    let e = edited_refused("OfmapSramSzkB:   64", "OfmapSramSzkB: 1");
    assert!(
        e.contains(&format!(
            "error: {cfg_path}: 1 problem:\n  - OfmapSramSzkB (line 9): 1024 bytes cannot hold"
        )) && e.contains("(as `buffers.output.capacity_bytes` in the imported architecture)")
            && !e.contains("<imported"),
        "{e}"
    );
    // A topology cell beyond any size: an error at its line and column, no panic.
    let topo = dir.path().join("t.csv");
    std::fs::write(&topo, "Layer, M, N, K,\ng1, 9223372036854775807, 4, 4,\n").unwrap();
    let e = import_refused(dir.path(), CFG, &[&common::path_str(&topo)]);
    assert!(
        e.contains(&format!(
            "{}:2:5: column 2 (`M`) must be a whole number from 1 to 4294967295",
            topo.display()
        )),
        "{e}"
    );
}

#[test]
fn scalesim_keys_plumsim_does_not_model_are_warned_about_or_refused_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = CFG.replace("MemoryBanks:   1", "MemoryBanks:   4")
        + "\n[sparsity]\nSparsitySupport : true\n\n[layout]\nIfmapCustomLayout: True\n";
    let o = import(dir.path(), &cfg, &[]);
    let e = common::stderr(&o);
    assert!(o.status.success(), "{e}");
    for key in [
        "`MemoryBanks` = `4`",
        "[sparsity] `SparsitySupport`",
        "[layout] `IfmapCustomLayout`",
    ] {
        assert!(e.contains("warning: ") && e.contains(key), "{key}: {e}");
    }
    assert_eq!(e.matches("warning: ").count(), 3, "{e}");
    assert!(dir.path().join("out/t.toml").is_file());
    let e = import_refused(dir.path(), &cfg, &["--strict"]);
    assert!(e.contains("3 problems") && e.contains("--strict"), "{e}");
    // The shipped SCALE-Sim configs' keys are all modelled: no warning.
    let o = import(dir.path(), CFG, &[]);
    assert!(
        o.status.success() && !common::stderr(&o).contains("warning"),
        "{}",
        common::stderr(&o)
    );
}

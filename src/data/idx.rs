//! The IDX binary format of MNIST (LeCun et al.), unsigned-byte arrays only, raw or gzipped.
//!
//! Layout: `00 00 <type> <ndims>`, then `ndims` big-endian `u32` sizes, then the data in
//! row-major order.

use crate::{Error, Result, bail};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use std::io::{Read, Write};
use std::path::Path;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// IDX type code for unsigned bytes, the only element type supported.
const UNSIGNED_BYTE: u8 = 0x08;

/// An n-dimensional array of unsigned bytes read from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Sizes, outermost first (e.g. `[60000, 28, 28]` for MNIST training images).
    pub dims: Vec<usize>,
    /// Row-major elements, `dims.iter().product()` of them.
    pub data: Vec<u8>,
}

/// Read an IDX file of unsigned bytes; gzip is detected by its magic bytes, not by the name.
///
/// A gzipped file is inflated only as far as its header says the array goes (plus one byte,
/// to notice trailing data), so a small file whose header or content claims gigabytes
/// cannot exhaust memory.
pub fn read_idx(path: &Path) -> Result<IdxArray> {
    let raw = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let source = path.display().to_string();
    if raw.starts_with(&GZIP_MAGIC) {
        let bytes = inflate_bounded(&raw)
            .map_err(|e| Error::new(format!("{source}: corrupt or truncated gzip data: {e}")))?;
        return parse_idx(&bytes, &source);
    }
    parse_idx(&raw, &source).map_err(|e| {
        if path.extension().is_some_and(|ext| ext == "gz") {
            Error::new(format!(
                "{e} (the name ends in .gz, but the file is not gzip data: it does not start with 1f 8b)"
            ))
        } else {
            e
        }
    })
}

/// The inflated IDX header and at most one byte more than the array it declares.
fn inflate_bounded(gzip: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut decoder = MultiGzDecoder::new(gzip);
    let mut bytes = Vec::new();
    (&mut decoder).take(4).read_to_end(&mut bytes)?;
    if bytes.len() < 4 {
        return Ok(bytes);
    }
    let ndims = u64::from(bytes[3]);
    (&mut decoder).take(4 * ndims).read_to_end(&mut bytes)?;
    let declared = bytes[4..]
        .chunks_exact(4)
        .try_fold(1u64, |acc, b| {
            acc.checked_mul(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        })
        // Dimensions too large to multiply are reported by `parse_idx`; read no data.
        .unwrap_or(0);
    decoder
        .take(declared.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn parse_idx(bytes: &[u8], source: &str) -> Result<IdxArray> {
    let (dims, header_len) = parse_header(bytes, source)?;
    let expected = dims.iter().product::<usize>();
    let data = &bytes[header_len..];
    if data.len() != expected {
        if data.len() < expected {
            bail!(
                "{source}: truncated IDX file: expected {expected} bytes of data for dims {dims:?}, found {}",
                data.len()
            );
        }
        // A gzipped file is inflated one byte past the array only: "more", not a count.
        bail!(
            "{source}: IDX file has trailing bytes: expected {expected} bytes of data for dims {dims:?}, found more"
        );
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// The dimensions the header at the start of `bytes` declares (their product fits a
/// `usize`), and the header's length.
fn parse_header(bytes: &[u8], source: &str) -> Result<(Vec<usize>, usize)> {
    let Some(magic) = bytes.get(..4) else {
        bail!(
            "{source}: too short for an IDX file: {} bytes ({}), expected a 4-byte magic 00 00 08 <ndims>",
            bytes.len(),
            hex(bytes)
        );
    };
    if magic[..2] != [0, 0] {
        bail!(
            "{source}: not an IDX file: magic bytes are {}, expected 00 00 08 <ndims> (e.g. 00 00 08 03 for images)",
            hex(magic)
        );
    }
    if magic[2] != UNSIGNED_BYTE {
        bail!(
            "{source}: IDX element type 0x{:02x} ({}) is not supported, only 0x08 (unsigned byte)",
            magic[2],
            type_name(magic[2])
        );
    }
    let ndims = usize::from(magic[3]);
    if ndims == 0 {
        bail!(
            "{source}: IDX header declares 0 dimensions (magic {})",
            hex(magic)
        );
    }
    let header_len = 4 + 4 * ndims;
    let Some(size_bytes) = bytes.get(4..header_len) else {
        bail!(
            "{source}: truncated IDX header: expected {header_len} bytes for {ndims} dimensions, found {}",
            bytes.len()
        );
    };
    let dims: Vec<usize> = size_bytes
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    if dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .is_none()
    {
        bail!("{source}: IDX dimensions {dims:?} are too large");
    }
    Ok((dims, header_len))
}

/// An IDX file read one item (the array's first index: an image, a label) at a time, raw or
/// gzipped, with [`read_idx`]'s checks and messages, so a file of any size takes the memory of
/// the items asked for.
pub struct IdxReader {
    reader: Box<dyn Read>,
    source: String,
    gzip: bool,
    /// Sizes, outermost first.
    pub dims: Vec<usize>,
    /// Bytes of one item: the product of `dims[1..]`.
    item_len: usize,
    /// Items read so far.
    read: usize,
}

impl IdxReader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Self> {
        let source = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
        let mut buffered = std::io::BufReader::new(file);
        let gzip = std::io::BufRead::fill_buf(&mut buffered)
            .map_err(|e| Error::io("read", path, e))?
            .starts_with(&GZIP_MAGIC);
        let mut reader: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let corrupt = |e: std::io::Error| {
            Error::new(format!("{source}: corrupt or truncated gzip data: {e}"))
        };
        let mut header = Vec::new();
        (&mut reader)
            .take(4)
            .read_to_end(&mut header)
            .map_err(corrupt)?;
        if let Some(&ndims) = header.get(3) {
            (&mut reader)
                .take(4 * u64::from(ndims))
                .read_to_end(&mut header)
                .map_err(corrupt)?;
        }
        let (dims, _) = parse_header(&header, &source).map_err(|e| {
            if !gzip && path.extension().is_some_and(|ext| ext == "gz") {
                Error::new(format!(
                    "{e} (the name ends in .gz, but the file is not gzip data: it does not start with 1f 8b)"
                ))
            } else {
                e
            }
        })?;
        Ok(Self {
            reader,
            source,
            gzip,
            item_len: dims[1..].iter().product(),
            dims,
            read: 0,
        })
    }

    /// The number of items the header declares.
    pub fn len(&self) -> usize {
        self.dims[0]
    }

    /// Whether the header declares no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `count` more items, row-major (`count` × the item size bytes, fewer at the end);
    /// empty after the last. At the end, data beyond the declared items is an error.
    pub fn next_items(&mut self, count: usize) -> Result<Vec<u8>> {
        let count = count.min(self.len() - self.read);
        let mut bytes = vec![0; count * self.item_len];
        let mut filled = 0;
        while filled < bytes.len() {
            match self.reader.read(&mut bytes[filled..]) {
                Ok(0) => bail!(
                    "{}: truncated IDX file: expected {} bytes of data for dims {:?}, found {}",
                    self.source,
                    self.len() * self.item_len,
                    self.dims,
                    self.read * self.item_len + filled
                ),
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if self.gzip => {
                    bail!("{}: corrupt or truncated gzip data: {e}", self.source)
                }
                Err(e) => bail!("cannot read {}: {e}", self.source),
            }
        }
        self.read += count;
        if self.read == self.len() && count > 0 || self.is_empty() {
            let mut extra = [0u8; 1];
            if matches!(self.reader.read(&mut extra), Ok(n) if n > 0) {
                bail!(
                    "{}: IDX file has trailing bytes: expected {} bytes of data for dims {:?}, found more",
                    self.source,
                    self.len() * self.item_len,
                    self.dims
                );
            }
        }
        Ok(bytes)
    }
}

/// Write an unsigned-byte IDX file, gzipped if `gzip` (for tests and users preparing data).
pub fn write_idx(path: &Path, dims: &[usize], data: &[u8], gzip: bool) -> Result<()> {
    let source = path.display();
    if dims.is_empty() || dims.len() > usize::from(u8::MAX) {
        bail!(
            "{source}: an IDX array needs 1 to 255 dimensions, got {}",
            dims.len()
        );
    }
    let mut header = vec![0, 0, UNSIGNED_BYTE, dims.len() as u8];
    for &dim in dims {
        let Ok(dim) = u32::try_from(dim) else {
            bail!("{source}: IDX dimension {dim} does not fit in 32 bits");
        };
        header.extend_from_slice(&dim.to_be_bytes());
    }
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if expected != Some(data.len()) {
        bail!(
            "{source}: IDX dims {dims:?} do not match the {} bytes of data given",
            data.len()
        );
    }
    let write = || -> std::io::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        if gzip {
            let mut encoder = GzEncoder::new(file, Compression::default());
            encoder.write_all(&header)?;
            encoder.write_all(data)?;
            encoder.finish()?.flush()
        } else {
            let mut file = file;
            file.write_all(&header)?;
            file.write_all(data)?;
            file.flush()
        }
    };
    write().map_err(|e| Error::io("write", path, e))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The IDX specification's element types, for error messages.
fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0b => "16-bit integer",
        0x0c => "32-bit integer",
        0x0d => "32-bit float",
        0x0e => "64-bit float",
        _ => "not an IDX type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_raw_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..24).collect();
        for gzip in [false, true] {
            // The name says nothing about compression: detection is by content.
            let path = dir.path().join(format!("array-{gzip}"));
            write_idx(&path, &[2, 3, 4], &data, gzip).unwrap();
            let raw = std::fs::read(&path).unwrap();
            assert_eq!(raw.starts_with(&GZIP_MAGIC), gzip);
            let array = read_idx(&path).unwrap();
            assert_eq!(array.dims, vec![2, 3, 4]);
            assert_eq!(array.data, data);
        }
    }

    #[test]
    fn the_streaming_reader_reads_what_read_idx_reads() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..60).collect();
        for gzip in [false, true] {
            let path = dir.path().join(format!("items-{gzip}"));
            write_idx(&path, &[5, 3, 4], &data, gzip).unwrap();
            let mut reader = IdxReader::open(&path).unwrap();
            assert_eq!((reader.dims.clone(), reader.len()), (vec![5, 3, 4], 5));
            let mut read = Vec::new();
            for expected in [2, 2, 1, 0] {
                let items = reader.next_items(2).unwrap();
                assert_eq!(items.len(), expected * 12);
                read.extend(items);
            }
            assert_eq!(read, read_idx(&path).unwrap().data);
        }
        let path = dir.path().join("cut");
        std::fs::write(&path, [0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5]).unwrap();
        let mut reader = IdxReader::open(&path).unwrap();
        assert_eq!(reader.next_items(2).unwrap(), vec![1, 2, 3, 4]);
        let message = reader.next_items(2).unwrap_err().to_string();
        assert!(
            message.contains(
                "cut: truncated IDX file: expected 6 bytes of data for dims [3, 2], found 5"
            ),
            "{message}"
        );
        std::fs::write(&path, [0, 0, 8, 1, 0, 0, 0, 1, 7, 7]).unwrap();
        let message = IdxReader::open(&path)
            .unwrap()
            .next_items(5)
            .unwrap_err()
            .to_string();
        assert!(message.contains("trailing bytes"), "{message}");
        std::fs::write(&path, b"<html>").unwrap();
        let message = IdxReader::open(&path).err().unwrap().to_string();
        assert!(message.contains("3c 68 74 6d"), "{message}");
    }

    fn read_bytes(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad-idx");
        std::fs::write(&path, bytes).unwrap();
        let message = read_idx(&path).unwrap_err().message().to_string();
        assert!(message.contains("bad-idx: "), "{message}");
        message
    }

    #[test]
    fn wrong_magic_shows_bytes() {
        let message = read_bytes(b"PK\x03\x04rest");
        assert!(message.contains("50 4b 03 04"), "{message}");
        assert!(message.contains("expected 00 00 08"), "{message}");
        let message = read_bytes(&[0, 0]);
        assert!(message.contains("too short"), "{message}");
    }

    #[test]
    fn unsupported_type_is_named() {
        let message = read_bytes(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        assert!(message.contains("0x0d (32-bit float)"), "{message}");
    }

    #[test]
    fn truncated_data_and_header() {
        let message = read_bytes(&[0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3]);
        assert!(
            message
                .contains("truncated IDX file: expected 6 bytes of data for dims [2, 3], found 3"),
            "{message}"
        );
        let message = read_bytes(&[0, 0, 8, 3, 0, 0, 0, 2]);
        assert!(message.contains("truncated IDX header"), "{message}");
        let message = read_bytes(&[0, 0, 8, 1, 0, 0, 0, 1, 7, 7]);
        assert!(message.contains("trailing bytes"), "{message}");
    }

    #[test]
    fn truncated_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.gz");
        write_idx(&path, &[1000], &[7; 1000], true).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let message = read_idx(&path).unwrap_err().message().to_string();
        assert!(
            message.contains("cut.gz: corrupt or truncated gzip"),
            "{message}"
        );
    }

    #[test]
    fn huge_or_overflowing_dimensions_allocate_nothing() {
        // (4 billion)³ overflows usize; 4 billion fits but exceeds the file.
        let mut header = vec![0, 0, 8, 3];
        header.extend([255; 12]);
        let message = read_bytes(&header);
        assert!(message.contains("too large"), "{message}");
        let message = read_bytes(&[0, 0, 8, 1, 255, 255, 255, 255, 1, 2]);
        assert!(
            message.contains("truncated IDX file: expected 4294967295 bytes"),
            "{message}"
        );
        // The same header gzipped: inflated only as far as the data goes, not 4 GB.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claims-4gb.gz");
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(&[0, 0, 8, 1, 255, 255, 255, 255, 1, 2])
            .unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let message = read_idx(&path).unwrap_err().to_string();
        assert!(
            message.contains("claims-4gb.gz: truncated IDX file"),
            "{message}"
        );
    }

    #[test]
    fn gz_name_without_gzip_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train-labels-idx1-ubyte.gz");
        std::fs::write(&path, b"<html>not found</html>").unwrap();
        let message = read_idx(&path).unwrap_err().to_string();
        assert!(
            message.contains("train-labels-idx1-ubyte.gz: not an IDX file"),
            "{message}"
        );
        assert!(message.contains("not gzip data"), "{message}");
        // Detection is by content: a raw IDX file named .gz still reads.
        write_idx(&path, &[2], &[1, 2], false).unwrap();
        assert_eq!(read_idx(&path).unwrap().data, vec![1, 2]);
        // Gzip trailing data is noticed without inflating it all.
        write_idx(&path, &[2], &[1, 2], true).unwrap();
        let mut bytes = {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder
                .write_all(&[0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3, 4])
                .unwrap();
            encoder.finish().unwrap()
        };
        std::fs::write(&path, &bytes).unwrap();
        let message = read_idx(&path).unwrap_err().to_string();
        assert!(message.contains("trailing bytes"), "{message}");
        // Garbage after the gzip magic.
        bytes.truncate(2);
        bytes.extend_from_slice(b"garbage");
        std::fs::write(&path, &bytes).unwrap();
        let message = read_idx(&path).unwrap_err().to_string();
        assert!(message.contains("corrupt or truncated gzip"), "{message}");
    }

    #[test]
    fn unreadable_file_and_bad_write() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing-idx");
        let message = read_idx(&missing).unwrap_err().message().to_string();
        assert!(
            message.contains("cannot read") && message.contains("missing-idx"),
            "{message}"
        );
        let message = write_idx(&missing, &[2, 2], &[0; 3], false)
            .unwrap_err()
            .to_string();
        assert!(message.contains("do not match"), "{message}");
        assert!(write_idx(&missing, &[], &[], false).is_err());
    }
}

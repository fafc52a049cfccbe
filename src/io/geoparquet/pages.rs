//! geoframe's own pass over the page headers of a column chunk, before parquet decodes it:
//! each page must lie inside its chunk, and the size it claims uncompressed must be one its
//! compression codec can produce from the bytes it has.
//!
//! Why: parquet 59.3 reserves a page's claimed uncompressed size (`decode_page`,
//! `serialized_reader.rs:447`, `Vec::with_capacity`) before decompressing, so a 200-byte
//! page header claiming 2 GB made it reserve 2 GB (found by fuzzing). The page header is
//! Thrift compact protocol; only the three sizes and a v2 page's `is_compressed` flag are
//! read here, every other field is skipped.

use parquet::basic::Compression;
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::reader::ChunkReader;

/// Bytes of a page's uncompressed size a codec may claim beyond `ratio` × its compressed
/// size (headers, short inputs).
const SLACK: u64 = 64 * 1024;

/// A page of ZSTD or Brotli may claim this much whatever its compressed size: both reach
/// ratios of 10^4 on runs of equal values, so no ratio bounds them, and no writer puts
/// more than this in one page of a GeoParquet file.
const HIGH_RATIO_PAGE_LIMIT: u64 = 256 * 1024 * 1024;

/// The largest decompressed / compressed ratio `codec` reaches, or `None` when it is not
/// bounded by one.
fn max_ratio(codec: Compression) -> Option<u64> {
    match codec {
        Compression::UNCOMPRESSED => Some(1),
        // A 3-byte copy makes at most 64 bytes.
        Compression::SNAPPY => Some(32),
        // Each 255 in a length extension adds 255 bytes.
        Compression::LZ4 | Compression::LZ4_RAW => Some(256),
        // Deflate's limit is 1032:1.
        Compression::GZIP(_) | Compression::LZO => Some(1040),
        Compression::BROTLI(_) | Compression::ZSTD(_) => None,
    }
}

/// Checks every page header of one column chunk; the error says which page and why.
pub(crate) fn check_column_chunk<R: ChunkReader>(
    file: &R,
    column: &ColumnChunkMetaData,
) -> Result<(), String> {
    let start = column
        .dictionary_page_offset()
        .unwrap_or_else(|| column.data_page_offset());
    let (Ok(start), Ok(len)) = (
        u64::try_from(start),
        u64::try_from(column.compressed_size()),
    ) else {
        return Err("negative byte range".into());
    };
    let codec = column.compression();
    let mut offset = 0u64;
    let mut page = 0usize;
    while offset < len {
        let header = read_header(file, start + offset, len - offset)
            .map_err(|e| format!("page {page} at byte {}: {e}", start + offset))?;
        let stored = u64::try_from(header.compressed)
            .map_err(|_| format!("page {page}: compressed size {}", header.compressed))?;
        let claimed = u64::try_from(header.uncompressed)
            .map_err(|_| format!("page {page}: uncompressed size {}", header.uncompressed))?;
        let end = offset + header.len + stored;
        if end > len {
            return Err(format!(
                "page {page} ends at byte {} of a column chunk of {len} bytes",
                end
            ));
        }
        if header.compressed_body && codec != Compression::UNCOMPRESSED {
            let limit = match max_ratio(codec) {
                Some(ratio) => stored.saturating_mul(ratio).saturating_add(SLACK),
                None => HIGH_RATIO_PAGE_LIMIT,
            };
            if claimed > limit {
                return Err(format!(
                    "page {page} claims {claimed} bytes uncompressed from {stored} bytes of {codec:?}"
                ));
            }
        }
        offset = end;
        page += 1;
    }
    Ok(())
}

/// What a page header says about the page's size.
#[derive(Debug, PartialEq)]
struct PageSizes {
    /// The header's own length in bytes.
    len: u64,
    uncompressed: i64,
    compressed: i64,
    /// False only for a v2 data page marked `is_compressed = false`.
    compressed_body: bool,
}

/// Reads the header at `at`, whose page and header have `room` bytes left in the chunk.
fn read_header<R: ChunkReader>(file: &R, at: u64, room: u64) -> Result<PageSizes, String> {
    // Headers are tens of bytes; statistics can make them longer, so the window grows.
    let mut window = 4096u64.min(room);
    loop {
        let bytes = file
            .get_bytes(at, window as usize)
            .map_err(|e| e.to_string())?;
        match parse_header(&bytes) {
            Err(ThriftError::Truncated) if window < room => {
                window = (window * 4).min(room);
            }
            Err(ThriftError::Truncated) => return Err("page header runs past its chunk".into()),
            Err(ThriftError::Malformed(what)) => return Err(format!("page header: {what}")),
            Ok(sizes) => return Ok(sizes),
        }
    }
}

#[derive(Debug, PartialEq)]
enum ThriftError {
    /// The bytes end inside the header.
    Truncated,
    Malformed(&'static str),
}

/// Thrift compact protocol element types.
mod kind {
    pub const STOP: u8 = 0;
    pub const TRUE: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
}

/// Deeper nesting than any Parquet structure is refused rather than recursed into.
const MAX_DEPTH: usize = 16;

struct Compact<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Compact<'_> {
    fn byte(&mut self) -> Result<u8, ThriftError> {
        let b = *self.bytes.get(self.at).ok_or(ThriftError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, ThriftError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ThriftError::Malformed("varint longer than 10 bytes"))
    }

    fn zigzag(&mut self) -> Result<i64, ThriftError> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn skip(&mut self, n: u64) -> Result<(), ThriftError> {
        let end = u64::try_from(self.at)
            .ok()
            .and_then(|at| at.checked_add(n))
            .ok_or(ThriftError::Truncated)?;
        if end > self.bytes.len() as u64 {
            return Err(ThriftError::Truncated);
        }
        self.at = end as usize;
        Ok(())
    }

    /// Reads a field header: `None` at the struct's end, else (field id, element type).
    fn field(&mut self, last_id: i16) -> Result<Option<(i16, u8)>, ThriftError> {
        let b = self.byte()?;
        let ty = b & 0x0f;
        if ty == kind::STOP {
            return Ok(None);
        }
        let delta = b >> 4;
        let id = if delta == 0 {
            i16::try_from(self.zigzag()?).map_err(|_| ThriftError::Malformed("field id"))?
        } else {
            last_id.wrapping_add(i16::from(delta))
        };
        Ok(Some((id, ty)))
    }

    fn skip_value(&mut self, ty: u8, depth: usize) -> Result<(), ThriftError> {
        if depth > MAX_DEPTH {
            return Err(ThriftError::Malformed("nested too deep"));
        }
        match ty {
            kind::TRUE | kind::FALSE => Ok(()),
            kind::BYTE => self.skip(1),
            kind::I16 | kind::I32 | kind::I64 => self.varint().map(drop),
            kind::DOUBLE => self.skip(8),
            kind::BINARY => {
                let n = self.varint()?;
                self.skip(n)
            }
            kind::LIST | kind::SET => {
                let head = self.byte()?;
                let element = head & 0x0f;
                let n = match head >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                // Every element takes at least a byte: a count past the bytes left is
                // truncation, found before looping over it.
                if n > (self.bytes.len() - self.at) as u64 {
                    return Err(ThriftError::Truncated);
                }
                for _ in 0..n {
                    // Booleans in a list are a byte each.
                    if element == kind::TRUE || element == kind::FALSE {
                        self.skip(1)?;
                    } else {
                        self.skip_value(element, depth + 1)?;
                    }
                }
                Ok(())
            }
            kind::MAP => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                if n > (self.bytes.len() - self.at) as u64 {
                    return Err(ThriftError::Truncated);
                }
                for _ in 0..n {
                    self.skip_value(types >> 4, depth + 1)?;
                    self.skip_value(types & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            kind::STRUCT => {
                let mut last = 0;
                while let Some((id, ty)) = self.field(last)? {
                    self.skip_value(ty, depth + 1)?;
                    last = id;
                }
                Ok(())
            }
            _ => Err(ThriftError::Malformed("unknown element type")),
        }
    }

    fn int(&mut self, ty: u8) -> Result<i64, ThriftError> {
        match ty {
            kind::I16 | kind::I32 | kind::I64 => self.zigzag(),
            _ => Err(ThriftError::Malformed("size is not an integer")),
        }
    }
}

/// Parses a `PageHeader` (fields 2 and 3: uncompressed and compressed page size; field 8:
/// `DataPageHeaderV2`, whose field 7 is `is_compressed`).
fn parse_header(bytes: &[u8]) -> Result<PageSizes, ThriftError> {
    let mut input = Compact { bytes, at: 0 };
    let (mut uncompressed, mut compressed) = (None, None);
    let mut compressed_body = true;
    let mut last = 0;
    while let Some((id, ty)) = input.field(last)? {
        match (id, ty) {
            (2, _) => uncompressed = Some(input.int(ty)?),
            (3, _) => compressed = Some(input.int(ty)?),
            (8, kind::STRUCT) => {
                let mut last_inner = 0;
                while let Some((inner, ty)) = input.field(last_inner)? {
                    match (inner, ty) {
                        (7, kind::FALSE) => compressed_body = false,
                        (7, kind::TRUE) => compressed_body = true,
                        _ => input.skip_value(ty, 1)?,
                    }
                    last_inner = inner;
                }
            }
            _ => input.skip_value(ty, 0)?,
        }
        last = id;
    }
    match (uncompressed, compressed) {
        (Some(uncompressed), Some(compressed)) => Ok(PageSizes {
            len: input.at as u64,
            uncompressed,
            compressed,
            compressed_body,
        }),
        _ => Err(ThriftError::Malformed("no page sizes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact-protocol page header written by hand: type DATA_PAGE (0), the two sizes,
    /// a CRC, and a `DataPageHeader` { num_values 3, encoding 0, def 3, rep 3 }.
    fn header(uncompressed: i32, compressed: i32) -> Vec<u8> {
        let zigzag = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
        let varint = |mut v: u64, out: &mut Vec<u8>| loop {
            if v < 0x80 {
                out.push(v as u8);
                break;
            }
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        };
        let mut out = vec![0x15, 0x00]; // field 1, i32: 0
        out.push(0x15);
        varint(zigzag(uncompressed.into()), &mut out);
        out.push(0x15);
        varint(zigzag(compressed.into()), &mut out);
        out.push(0x15); // field 4 crc
        varint(zigzag(-7), &mut out);
        out.push(0x1c); // field 5, struct
        out.extend([0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00]);
        out.push(0x00);
        out
    }

    #[test]
    fn reads_the_sizes_and_the_header_length() {
        let bytes = header(1_000_000, 4321);
        let sizes = parse_header(&bytes).unwrap();
        assert_eq!(
            sizes,
            PageSizes {
                len: bytes.len() as u64,
                uncompressed: 1_000_000,
                compressed: 4321,
                compressed_body: true,
            }
        );
    }

    #[test]
    fn every_cut_of_a_header_is_truncated_not_a_panic() {
        let bytes = header(2_000_000_000, 12);
        for cut in 0..bytes.len() {
            assert_eq!(
                parse_header(&bytes[..cut]),
                Err(ThriftError::Truncated),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_list_count_past_the_input_is_truncated_at_once() {
        // field 1 as a list of 2^60 i32s, in 12 bytes.
        let bytes = [
            0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10,
        ];
        assert_eq!(parse_header(&bytes), Err(ThriftError::Truncated));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut bytes = vec![0x1c; 40]; // struct in struct in ...
        bytes.push(0);
        assert_eq!(
            parse_header(&bytes),
            Err(ThriftError::Malformed("nested too deep"))
        );
    }
}

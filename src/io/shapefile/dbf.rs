//! The dBase III `.dbf` attribute table: header, columnar decoding straight into Arrow
//! arrays, and writing.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field};
use encoding_rs::Encoding;

use crate::error::{Error, Result};
use crate::io::{date_from_days, ValueKind};

/// One field descriptor.
#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub kind: u8,
    /// Byte offset inside a record (after the deletion flag).
    pub offset: usize,
    pub len: usize,
    pub decimals: u8,
}

impl FieldDef {
    pub(crate) fn data_type(&self) -> DataType {
        match self.kind {
            b'N' | b'F' if self.decimals == 0 && self.len <= 20 => DataType::Int64,
            b'N' | b'F' | b'O' => DataType::Float64,
            b'L' => DataType::Boolean,
            b'D' => DataType::Date32,
            _ => DataType::Utf8,
        }
    }
}

/// The parsed header of a `.dbf` file.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub records: u64,
    pub header_len: u64,
    pub record_len: usize,
    pub fields: Vec<FieldDef>,
}

impl Header {
    pub(crate) fn arrow_fields(&self) -> Vec<Field> {
        self.fields
            .iter()
            .map(|f| Field::new(&f.name, f.data_type(), true))
            .collect()
    }
}

/// Parses the header; `file_len` is checked against the record count so that a truncated
/// table is reported here rather than halfway through a read.
pub(crate) fn parse_header(bytes: &[u8], file_len: u64, path: &Path) -> Result<Header> {
    let bad = |m: String| Error::format(path, None, m);
    if bytes.len() < 32 {
        return Err(bad(format!(
            "file is {} bytes, shorter than a dBase header",
            bytes.len()
        )));
    }
    let records = u64::from(u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]));
    let header_len = u64::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let record_len = usize::from(u16::from_le_bytes([bytes[10], bytes[11]]));
    if header_len < 33 || header_len as usize > bytes.len() {
        return Err(bad(format!(
            "header length {header_len} does not fit the file"
        )));
    }
    let mut fields = Vec::new();
    let mut offset = 1; // deletion flag
    let mut at = 32;
    while at + 32 <= header_len as usize && bytes[at] != 0x0D {
        let d = &bytes[at..at + 32];
        let raw_name = &d[..11];
        let end = raw_name.iter().position(|&b| b == 0).unwrap_or(11);
        let name = String::from_utf8_lossy(&raw_name[..end]).trim().to_string();
        let len = usize::from(d[16]);
        fields.push(FieldDef {
            name,
            kind: d[11].to_ascii_uppercase(),
            offset,
            len,
            decimals: d[17],
        });
        offset += len;
        at += 32;
    }
    if offset != record_len {
        return Err(bad(format!(
            "record length {record_len} differs from the field widths' sum {offset}"
        )));
    }
    dedupe_names(&mut fields);
    let needed = header_len + records * record_len as u64;
    if file_len < needed {
        return Err(bad(format!(
            "truncated: header promises {records} records of {record_len} bytes ({needed} bytes), the file has {file_len}"
        )));
    }
    Ok(Header {
        records,
        header_len,
        record_len,
        fields,
    })
}

fn dedupe_names(fields: &mut [FieldDef]) {
    for i in 0..fields.len() {
        if fields[i].name.is_empty() {
            fields[i].name = format!("field_{i}");
        }
        let mut n = 1;
        let base = fields[i].name.clone();
        while fields[..i].iter().any(|f| f.name == fields[i].name) {
            fields[i].name = format!("{base}_{n}");
            n += 1;
        }
    }
}

/// The text encoding named by a `.cpg` file (or the caller), defaulting to UTF-8 with a
/// Windows-1252 fallback for bytes that are not UTF-8.
pub(crate) fn encoding_for(label: Option<&str>) -> Option<&'static Encoding> {
    let label = label?.trim();
    let mapped = match label {
        "1252" | "ANSI 1252" => "windows-1252",
        "88591" | "8859_1" => "iso-8859-1",
        "1251" => "windows-1251",
        "1250" => "windows-1250",
        "UTF8" => "utf-8",
        other => other,
    };
    Encoding::for_label(mapped.as_bytes())
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != 0)
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |e| e + 1);
    &bytes[..end]
}

/// Decodes `count` consecutive records (`rows` bytes) into one Arrow array per field.
/// `first_record` numbers records in errors.
pub(crate) fn decode_columns(
    header: &Header,
    rows: &[u8],
    count: usize,
    first_record: u64,
    encoding: Option<&'static Encoding>,
    path: &Path,
) -> Result<Vec<ArrayRef>> {
    let rec = header.record_len;
    let cell = |r: usize, f: &FieldDef| &rows[r * rec + f.offset..r * rec + f.offset + f.len];
    let numeric_error = |r: usize, f: &FieldDef, raw: &[u8]| {
        Error::format(
            path,
            Some(first_record + r as u64),
            format!(
                "field {:?}: {:?} is not a number",
                f.name,
                String::from_utf8_lossy(raw)
            ),
        )
    };
    header
        .fields
        .iter()
        .map(|f| -> Result<ArrayRef> {
            Ok(match f.data_type() {
                DataType::Int64 => {
                    let mut b = Int64Builder::with_capacity(count);
                    for r in 0..count {
                        let raw = trim(cell(r, f));
                        if is_blank_number(raw) {
                            b.append_null();
                        } else {
                            b.append_value(parse_int(raw).ok_or_else(|| numeric_error(r, f, raw))?);
                        }
                    }
                    Arc::new(b.finish())
                }
                DataType::Float64 => {
                    let mut b = Float64Builder::with_capacity(count);
                    for r in 0..count {
                        let raw = trim(cell(r, f));
                        if is_blank_number(raw) {
                            b.append_null();
                        } else {
                            b.append_value(
                                parse_float(raw).ok_or_else(|| numeric_error(r, f, raw))?,
                            );
                        }
                    }
                    Arc::new(b.finish())
                }
                DataType::Boolean => {
                    let mut b = BooleanBuilder::with_capacity(count);
                    for r in 0..count {
                        match cell(r, f).first() {
                            Some(b'T' | b't' | b'Y' | b'y') => b.append_value(true),
                            Some(b'F' | b'f' | b'N' | b'n') => b.append_value(false),
                            _ => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                DataType::Date32 => {
                    let mut b = Date32Builder::with_capacity(count);
                    for r in 0..count {
                        let raw = trim(cell(r, f));
                        match parse_date(raw) {
                            Some(d) => b.append_value(d),
                            None if raw.is_empty() || raw.iter().all(|&c| c == b'0') => {
                                b.append_null()
                            }
                            None => {
                                return Err(Error::format(
                                    path,
                                    Some(first_record + r as u64),
                                    format!(
                                        "field {:?}: {:?} is not a YYYYMMDD date",
                                        f.name,
                                        String::from_utf8_lossy(raw)
                                    ),
                                ))
                            }
                        }
                    }
                    Arc::new(b.finish())
                }
                _ => {
                    let mut b = StringBuilder::with_capacity(count, count * f.len.min(16));
                    for r in 0..count {
                        let raw = trim_end(cell(r, f));
                        if raw.is_empty() {
                            b.append_null();
                        } else {
                            b.append_value(decode_text(raw, encoding));
                        }
                    }
                    Arc::new(b.finish())
                }
            })
        })
        .collect()
}

fn decode_text<'a>(
    raw: &'a [u8],
    encoding: Option<&'static Encoding>,
) -> std::borrow::Cow<'a, str> {
    match encoding {
        Some(enc) => enc.decode_without_bom_handling(raw).0,
        None => match std::str::from_utf8(raw) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(raw).0,
        },
    }
}

fn is_blank_number(raw: &[u8]) -> bool {
    raw.is_empty() || raw.iter().all(|&c| c == b'*' || c == b'?')
}

fn parse_int(raw: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(raw).ok()?;
    s.parse::<i64>().ok().or_else(|| {
        // Integer fields written by some tools carry a ".0".
        let v = s.parse::<f64>().ok()?;
        (v.fract() == 0.0 && v.abs() < 9.2e18).then_some(v as i64)
    })
}

fn parse_float(raw: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(raw).ok()?;
    s.parse::<f64>()
        .ok()
        .or_else(|| s.replace(',', ".").parse().ok())
}

/// Days since 1970-01-01 for a `YYYYMMDD` date.
fn parse_date(raw: &[u8]) -> Option<i32> {
    if raw.len() != 8 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |s: &[u8]| s.iter().fold(0i32, |a, &d| a * 10 + i32::from(d - b'0'));
    let date =
        chrono::NaiveDate::from_ymd_opt(n(&raw[..4]), n(&raw[4..6]) as u32, n(&raw[6..]) as u32)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from(date.signed_duration_since(epoch).num_days()).ok()
}

/// How one Arrow column is written to a `.dbf` field.
pub(crate) struct OutField {
    pub name: String,
    pub kind: u8,
    pub len: usize,
    pub decimals: u8,
    cells: Vec<Vec<u8>>,
}

/// Formats an Arrow column as `.dbf` cells, choosing field type and width from the data.
/// Strings longer than 254 bytes cannot be stored and are an error, not a truncation.
pub(crate) fn format_column(name: &str, array: &dyn Array, path: &Path) -> Result<OutField> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, Int64Type};
    let too_long = |row: usize, len: usize| {
        Error::Unwritable {
        path: path.to_path_buf(),
        message: format!("column {name:?}, row {row}: {len}-byte value does not fit a .dbf field (254 bytes at most)"),
    }
    };
    let (kind, decimals, cells): (u8, u8, Vec<Vec<u8>>) = match ValueKind::of(array.data_type()) {
        ValueKind::Bool => {
            let a = array.as_boolean();
            (
                b'L',
                0,
                (0..a.len())
                    .map(|i| {
                        vec![if a.is_null(i) {
                            b'?'
                        } else if a.value(i) {
                            b'T'
                        } else {
                            b'F'
                        }]
                    })
                    .collect(),
            )
        }
        ValueKind::Int => {
            let cast = arrow_cast::cast(array, &DataType::Int64)?;
            let a = cast.as_primitive::<Int64Type>();
            (
                b'N',
                0,
                (0..a.len())
                    .map(|i| {
                        if a.is_null(i) {
                            Vec::new()
                        } else {
                            a.value(i).to_string().into_bytes()
                        }
                    })
                    .collect(),
            )
        }
        ValueKind::Float => {
            let cast = arrow_cast::cast(array, &DataType::Float64)?;
            let a = cast.as_primitive::<Float64Type>();
            let cells = (0..a.len())
                .map(|i| {
                    if a.is_null(i) || a.value(i).is_nan() {
                        return Vec::new();
                    }
                    let v = a.value(i);
                    // Shortest text that reads back to the same f64; exponent form when long.
                    let plain = v.to_string();
                    if plain.len() <= 24 {
                        plain.into_bytes()
                    } else {
                        format!("{v:e}").into_bytes()
                    }
                })
                .collect();
            (b'N', 15, cells)
        }
        ValueKind::Date => {
            let a = array.as_primitive::<Date32Type>();
            let mut cells = Vec::with_capacity(a.len());
            for i in 0..a.len() {
                if a.is_null(i) {
                    cells.push(Vec::new());
                    continue;
                }
                let date = date_from_days(a.value(i))
                    .filter(|d| (0..=9999).contains(&chrono::Datelike::year(d)))
                    .ok_or_else(|| Error::Unwritable {
                        path: path.to_path_buf(),
                        message: format!(
                            "column {name:?}, row {i}: a .dbf date needs a year in 0..=9999"
                        ),
                    })?;
                cells.push(date.format("%Y%m%d").to_string().into_bytes());
            }
            (b'D', 0, cells)
        }
        ValueKind::Text => {
            let cast = arrow_cast::cast(array, &DataType::Utf8)?;
            let a = cast.as_string::<i32>();
            let mut cells = Vec::with_capacity(a.len());
            for i in 0..a.len() {
                let v = if a.is_null(i) {
                    Vec::new()
                } else {
                    a.value(i).as_bytes().to_vec()
                };
                if v.len() > 254 {
                    return Err(too_long(i, v.len()));
                }
                cells.push(v);
            }
            (b'C', 0, cells)
        }
    };
    let widest = cells.iter().map(Vec::len).max().unwrap_or(0);
    let len = match kind {
        b'L' => 1,
        b'D' => 8,
        b'N' if decimals == 0 => widest.clamp(18, 20),
        b'N' => 24,
        _ => widest.max(1),
    };
    Ok(OutField {
        name: name.to_string(),
        kind,
        len,
        decimals,
        cells,
    })
}

/// Serializes the `.dbf` header for `records` records of `fields`.
pub(crate) fn write_header(fields: &[OutField], records: usize, out: &mut Vec<u8>) {
    let header_len = 32 + 32 * fields.len() + 1;
    let record_len = 1 + fields.iter().map(|f| f.len).sum::<usize>();
    out.push(0x03);
    out.extend_from_slice(&[126, 1, 1]); // last update: 2026-01-01
    out.extend_from_slice(&(records as u32).to_le_bytes());
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(&(record_len as u16).to_le_bytes());
    out.extend_from_slice(&[0u8; 17]);
    out.push(0x57); // language driver: ANSI; the .cpg says UTF-8
    out.extend_from_slice(&[0u8; 2]);
    for f in fields {
        let mut name = [0u8; 11];
        let bytes = f.name.as_bytes();
        name[..bytes.len().min(10)].copy_from_slice(&bytes[..bytes.len().min(10)]);
        out.extend_from_slice(&name);
        out.push(f.kind);
        out.extend_from_slice(&[0u8; 4]);
        out.push(f.len as u8);
        out.push(f.decimals);
        out.extend_from_slice(&[0u8; 14]);
    }
    out.push(0x0D);
}

/// Appends the cells of `records` records of `fields` to a spill, each cell as its length
/// (one byte: cells are at most 254 bytes) and its bytes, before field widths are known.
pub(crate) fn spill_records(fields: &[OutField], records: usize, out: &mut Vec<u8>) {
    for r in 0..records {
        for f in fields {
            let cell = &f.cells[r];
            out.push(cell.len() as u8);
            out.extend_from_slice(cell);
        }
    }
}

/// Reads `records` spilled records back and writes them as `.dbf` records padded to the
/// widths of `fields` (which are at least the widest spilled cell).
pub(crate) fn unspill_records(
    fields: &[OutField],
    records: usize,
    mut spill: impl std::io::Read,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    let record_len = 1 + fields.iter().map(|f| f.len).sum::<usize>();
    let mut record = Vec::with_capacity(record_len);
    let mut cell = [0u8; 256];
    for _ in 0..records {
        record.clear();
        record.push(b' ');
        for f in fields {
            let mut len = [0u8; 1];
            spill.read_exact(&mut len)?;
            let len = usize::from(len[0]);
            spill.read_exact(&mut cell[..len])?;
            let pad = f.len.saturating_sub(len);
            if f.kind == b'N' {
                record.extend(std::iter::repeat_n(b' ', pad));
                record.extend_from_slice(&cell[..len]);
            } else {
                record.extend_from_slice(&cell[..len]);
                record.extend(std::iter::repeat_n(b' ', pad));
            }
        }
        out.write_all(&record)?;
    }
    Ok(())
}

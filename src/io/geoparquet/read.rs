//! Reading GeoParquet: [`GeoParquetSource`], one partition per row-group slice.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use super::{parquet_error, GeoParquetOptions};
use crate::crs::Crs;
use crate::error::{Error, Result};
use crate::io::source::{read_source, PartitionMeta, PartitionSource};
use crate::partition::Partition;
use crate::{geometry, GeoFrame};

/// Reads a GeoParquet file (WKB encoding) into a [`GeoFrame`], its partitions read in
/// parallel (see [`GeoParquetSource`]).
pub fn read_geoparquet(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoFrame> {
    read_source(&GeoParquetSource::open(path, options)?)
}

/// An open GeoParquet file (WKB encoding) as a [`PartitionSource`]: each partition is a
/// slice of at most `rows_per_partition` rows of one row group. The primary geometry
/// column and the CRS come from the `geo` metadata; a missing `crs` key means OGC:CRS84
/// (read as EPSG:4326, longitude first), an explicit `null` means no CRS. Partition bounds
/// are the file's `bbox` until the partitions are read.
pub struct GeoParquetSource {
    path: std::path::PathBuf,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    bbox: Option<geo::Rect>,
    /// (row group, first row in it, rows) of each partition.
    slices: Vec<(usize, usize, usize)>,
}

impl PartitionSource for GeoParquetSource {
    fn describe(&self) -> String {
        format!("geoparquet {}", self.path.display())
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.geometry_column
    }
    fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        // Without a bbox in the metadata, a partition could be anywhere.
        let bounds = Some(self.bbox.unwrap_or_else(geometry::everywhere));
        self.slices
            .iter()
            .map(|&(_, _, rows)| PartitionMeta {
                rows: rows as u64,
                bounds,
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        self.read_slice(k)
    }
}

impl GeoParquetSource {
    /// Opens `path` and reads its footer and `geo` metadata; no row is read.
    pub fn open(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<GeoParquetSource> {
        let path = path.as_ref();
        let rows_per_partition = options.rows_per_partition;
        if rows_per_partition == 0 {
            return Err(Error::InvalidArgument(
                "rows_per_partition must be at least 1".into(),
            ));
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error(path))?;
        let geo = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
            .and_then(|k| k.value.clone())
            .ok_or_else(|| Error::format(path, None, "no `geo` metadata: not a GeoParquet file"))?;
        let geo: Value = serde_json::from_str(&geo)
            .map_err(|e| Error::format(path, None, format!("`geo` metadata is not JSON: {e}")))?;
        let primary = geo["primary_column"]
            .as_str()
            .ok_or_else(|| Error::format(path, None, "`geo` metadata has no primary_column"))?
            .to_string();
        let column = &geo["columns"][&primary];
        let encoding = column["encoding"].as_str().unwrap_or("");
        if !encoding.eq_ignore_ascii_case("wkb") {
            return Err(Error::NotImplemented {
                op: "read_geoparquet with native GeoArrow encoding",
                roadmap: "geoparquet-native-encodings",
            });
        }
        let crs = match column.get("crs") {
            None => Some(Crs::epsg(4326)),
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Crs::from_user_input(s)?),
            Some(v) => Some(Crs::from_user_input(&v.to_string())?),
        };
        let bbox = column["bbox"].as_array().and_then(|b| {
            let v: Vec<f64> = b.iter().filter_map(Value::as_f64).collect();
            (v.len() == 4).then(|| geo::Rect::new((v[0], v[1]), (v[2], v[3])))
        });
        let arrow_schema = builder.schema().clone();
        let geometry_column = crate::frame::column_index(&arrow_schema, &primary)?;
        let mut fields: Vec<arrow_schema::FieldRef> =
            arrow_schema.fields().iter().cloned().collect();
        fields[geometry_column] = Arc::new(geometry::geometry_field(&primary));
        let mut slices = Vec::new();
        for (g, rg) in builder.metadata().row_groups().iter().enumerate() {
            let rows = usize::try_from(rg.num_rows()).unwrap_or(0);
            let mut start = 0;
            while start < rows {
                let len = rows_per_partition.min(rows - start);
                slices.push((g, start, len));
                start += len;
            }
        }
        Ok(GeoParquetSource {
            path: path.to_path_buf(),
            schema: Arc::new(Schema::new(fields)),
            geometry_column,
            crs,
            bbox,
            slices,
        })
    }

    fn read_slice(&self, k: usize) -> Result<Partition> {
        use parquet::arrow::arrow_reader::{RowSelection, RowSelector};
        let path = &self.path;
        let &(group, start, len) = self
            .slices
            .get(k)
            .ok_or_else(|| Error::Internal(format!("{}: no partition {k}", path.display())))?;
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(parquet_error(path))?
            .with_row_groups(vec![group])
            .with_row_selection(RowSelection::from(vec![
                RowSelector::skip(start),
                RowSelector::select(len),
            ]))
            .with_batch_size(len.max(1))
            .build()
            .map_err(parquet_error(path))?;
        let mut batches = Vec::new();
        for batch in reader {
            let batch = batch?;
            let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
            if columns[self.geometry_column].data_type() != &DataType::Binary {
                columns[self.geometry_column] =
                    arrow_cast::cast(&columns[self.geometry_column], &DataType::Binary)?;
            }
            batches.push(RecordBatch::try_new(self.schema.clone(), columns)?);
        }
        let batch = arrow_select::concat::concat_batches(&self.schema, &batches)?;
        let first_row: u64 = self.slices[..k].iter().map(|s| s.2 as u64).sum();
        Partition::new(batch, self.geometry_column, first_row).map_err(|e| e.in_file(path))
    }
}

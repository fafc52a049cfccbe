//! GeoParquet 1.1's `bbox` covering column, read side: the `covering` entry of the `geo`
//! metadata names a struct column holding each row's `xmin`, `ymin`, `xmax`, `ymax`.
//!
//! Its column statistics give every row group a box before any data is read, so a lazy
//! scan's partitions carry real bounds and joins and box filters prune row groups. The
//! column itself is not read into the frame: it describes the geometries as written, and
//! carried along it would go stale under reprojection or any per-row operation (writers
//! compute it again from the geometries).

use std::path::Path;

use geo::Rect;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;
use parquet::schema::types::SchemaDescriptor;
use serde_json::Value;

use crate::error::{Error, Result};

/// Where a file's covering lives.
#[derive(Debug, Clone)]
pub(super) struct Covering {
    /// The struct column's name (a root of the schema).
    pub(super) column: String,
    /// The Parquet leaf columns of `xmin`, `ymin`, `xmax`, `ymax`.
    leaves: [usize; 4],
}

impl Covering {
    /// The covering the `geo` metadata of the primary column declares, checked against the
    /// file's schema; `None` when there is none.
    pub(super) fn find(
        path: &Path,
        column_metadata: &Value,
        schema: &SchemaDescriptor,
    ) -> Result<Option<Covering>> {
        let Some(bbox) = column_metadata.get("covering").and_then(|c| c.get("bbox")) else {
            return Ok(None);
        };
        let bad = |message: String| Error::format(path, None, message);
        let mut leaves = [0; 4];
        let mut root: Option<String> = None;
        for (slot, key) in leaves.iter_mut().zip(["xmin", "ymin", "xmax", "ymax"]) {
            let parts: Vec<&str> = bbox[key]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let [struct_name, _] = parts.as_slice() else {
                return Err(bad(format!(
                    "the `geo` covering's {key} is {}, not a path [column, field]",
                    bbox[key]
                )));
            };
            if root.as_deref().is_some_and(|r| r != *struct_name) {
                return Err(bad(
                    "the `geo` covering's fields are not in one struct column".into(),
                ));
            }
            root = Some(struct_name.to_string());
            *slot = (0..schema.num_columns())
                .find(|&i| schema.column(i).path().parts() == parts.as_slice())
                .ok_or_else(|| {
                    bad(format!(
                        "the `geo` covering's {key} names {parts:?}, not a column of the file"
                    ))
                })?;
        }
        Ok(root.map(|column| Covering { column, leaves }))
    }

    /// The box the covering's statistics give row group `group`: the least `xmin` and
    /// `ymin` and the greatest `xmax` and `ymax`. `None` when a statistic is missing or
    /// not a finite number, or when the row group holds no box at all.
    pub(super) fn row_group_box(&self, group: &RowGroupMetaData) -> Option<Rect> {
        let stat = |leaf: usize, want_min: bool| -> Option<f64> {
            let v = match group.columns().get(leaf)?.statistics()? {
                Statistics::Double(s) => {
                    if want_min {
                        *s.min_opt()?
                    } else {
                        *s.max_opt()?
                    }
                }
                Statistics::Float(s) => f64::from(if want_min {
                    *s.min_opt()?
                } else {
                    *s.max_opt()?
                }),
                _ => return None,
            };
            v.is_finite().then_some(v)
        };
        let [xmin, ymin, xmax, ymax] = self.leaves;
        let (x0, y0) = (stat(xmin, true)?, stat(ymin, true)?);
        let (x1, y1) = (stat(xmax, false)?, stat(ymax, false)?);
        (x0 <= x1 && y0 <= y1).then(|| Rect::new((x0, y0), (x1, y1)))
    }
}

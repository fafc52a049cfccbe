//! Deterministic synthetic point layers for benchmarks and examples.
//!
//! The generator is the splitmix64 recipe documented in the peers' `gen_points.py`, so a
//! Rust run and a Python run produce the very same points: state `s` starts at the seed;
//! draw `k` (from 1) is `mix(seed + k * 0x9E3779B97F4A7C15)` and `u = (z >> 11) * 2^-53`.
//! Point `i` takes draws `3i+1`, `3i+2`, `3i+3`: `x = -125 + 59 u1`, `y = 24 + 26 u2`,
//! `value = u3`. Because draw `k` depends on `k` alone, rows are generated in parallel,
//! partition by partition ([`PointSource`]).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::io::{PartitionMeta, PartitionSource};
use crate::partition::Partition;
use crate::{geometry, Crs, GeoFrame};

/// The seed `gen_points.py` uses.
pub const DEFAULT_SEED: u64 = 42;

/// The `k`-th uniform draw in [0, 1) of the splitmix64 stream with `seed` (`k` from 1).
#[inline]
pub fn splitmix64_uniform(seed: u64, k: u64) -> f64 {
    let mut z = seed.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Point `i` of the layer: `(x, y, value)`.
#[inline]
pub fn point(seed: u64, i: u64) -> (f64, f64, f64) {
    let u = |j: u64| splitmix64_uniform(seed, 3 * i + j);
    (-125.0 + 59.0 * u(1), 24.0 + 26.0 * u(2), u(3))
}

/// The box every point lies in: `[-125, 24, -66, 50]`.
pub const EXTENT: [f64; 4] = [-125.0, 24.0, -66.0, 50.0];

/// `n` uniform points over the contiguous-US box [-125, 24, -66, 50] with columns `id`
/// (Int64) and `value` (Float64), in EPSG:4326, `rows_per_partition` rows per partition.
///
/// ```
/// let pts = geoframe::datagen::uniform_points(1000, 42, 256)?;
/// assert_eq!((pts.len(), pts.npartitions()), (1000, 4));
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn uniform_points(n: u64, seed: u64, rows_per_partition: usize) -> Result<GeoFrame> {
    crate::io::read_source(&PointSource::new(n, seed, rows_per_partition))
}

/// The same points as a [`PartitionSource`]: each partition is generated when a task
/// reads it (point `i` depends on `i` alone), so a plan can write any number of points
/// partition by partition in bounded memory.
///
/// ```
/// use std::sync::Arc;
/// use geoframe::datagen::PointSource;
/// use geoframe::plan::{ExecuteOptions, LazyFrame};
/// let points = LazyFrame::scan(Arc::new(PointSource::new(1000, 42, 300)));
/// assert_eq!(points.npartitions(), 4);
/// assert_eq!(points.count_rows(&ExecuteOptions::default())?, 1000);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub struct PointSource {
    n: u64,
    seed: u64,
    /// Half-diagonal of the diamond around each point; `None` for the points themselves.
    diamond: Option<f64>,
    rows_per_partition: u64,
    schema: SchemaRef,
    crs: Option<Crs>,
}

impl PointSource {
    /// `n` points of the layer with `seed`, `rows_per_partition` to a partition.
    pub fn new(n: u64, seed: u64, rows_per_partition: usize) -> PointSource {
        PointSource {
            n,
            seed,
            diamond: None,
            rows_per_partition: rows_per_partition.max(1) as u64,
            schema: Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, true),
                Field::new("value", DataType::Float64, true),
                geometry::geometry_field(crate::DEFAULT_GEOMETRY_COLUMN),
            ])),
            crs: Some(Crs::epsg(4326)),
        }
    }
}

impl PointSource {
    /// The peers' `gen_diamonds.py` layer: around point `i`, the diamond (a square turned
    /// 45 degrees) `(x, y-d), (x+d, y), (x, y+d), (x-d, y), (x, y-d)` with half-diagonal `d`
    /// (degrees; the peers use 0.02), and the column `id` = `i` alone.
    ///
    /// ```
    /// use geoframe::datagen::PointSource;
    /// use geoframe::io::{read_source, PartitionSource};
    /// let diamonds = read_source(&PointSource::diamonds(100, 42, 0.02, 64))?;
    /// assert_eq!((diamonds.len(), diamonds.npartitions()), (100, 2));
    /// let area = diamonds.area()?.value(0);
    /// assert!((area - 2.0 * 0.02 * 0.02).abs() < 1e-12);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn diamonds(
        n: u64,
        seed: u64,
        half_diagonal: f64,
        rows_per_partition: usize,
    ) -> PointSource {
        PointSource {
            diamond: Some(half_diagonal),
            schema: Arc::new(Schema::new(vec![
                Field::new("id", DataType::Int64, true),
                geometry::geometry_field(crate::DEFAULT_GEOMETRY_COLUMN),
            ])),
            ..PointSource::new(n, seed, rows_per_partition)
        }
    }
}

impl PartitionSource for PointSource {
    fn describe(&self) -> String {
        match self.diamond {
            Some(d) => format!(
                "{} splitmix64 diamonds of half-diagonal {d} (seed {})",
                self.n, self.seed
            ),
            None => format!("{} splitmix64 points (seed {})", self.n, self.seed),
        }
    }
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn geometry_column(&self) -> usize {
        self.schema.fields().len() - 1
    }
    fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }
    fn partitions(&self) -> Vec<PartitionMeta> {
        let [x0, y0, x1, y1] = EXTENT;
        let d = self.diamond.unwrap_or(0.0);
        let (x0, y0, x1, y1) = (x0 - d, y0 - d, x1 + d, y1 + d);
        (0..self.n.div_ceil(self.rows_per_partition))
            .map(|k| PartitionMeta {
                rows: self
                    .rows_per_partition
                    .min(self.n - k * self.rows_per_partition),
                bounds: Some(geo::Rect::new((x0, y0), (x1, y1))),
            })
            .collect()
    }
    fn read_partition(&self, k: usize) -> Result<Partition> {
        let start = k as u64 * self.rows_per_partition;
        let end = (start + self.rows_per_partition).min(self.n);
        if start >= end {
            return Err(Error::Internal(format!(
                "{}: no partition {k}",
                self.describe()
            )));
        }
        let rows = (end - start) as usize;
        let mut ids = Vec::with_capacity(rows);
        let mut values = Vec::with_capacity(rows);
        let mut wkb = Vec::with_capacity(rows * if self.diamond.is_some() { 93 } else { 21 });
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0i32);
        for i in start..end {
            let (x, y, v) = point(self.seed, i);
            ids.push(i as i64);
            values.push(v);
            wkb.push(1u8);
            match self.diamond {
                None => {
                    wkb.extend_from_slice(&1u32.to_le_bytes());
                    wkb.extend_from_slice(&x.to_le_bytes());
                    wkb.extend_from_slice(&y.to_le_bytes());
                }
                Some(d) => {
                    wkb.extend_from_slice(&3u32.to_le_bytes());
                    wkb.extend_from_slice(&1u32.to_le_bytes());
                    wkb.extend_from_slice(&5u32.to_le_bytes());
                    for (cx, cy) in [(x, y - d), (x + d, y), (x, y + d), (x - d, y), (x, y - d)] {
                        wkb.extend_from_slice(&cx.to_le_bytes());
                        wkb.extend_from_slice(&cy.to_le_bytes());
                    }
                }
            }
            offsets.push(wkb.len() as i32);
        }
        let geometry = arrow_array::BinaryArray::new(
            arrow_buffer::OffsetBuffer::new(offsets.into()),
            wkb.into(),
            None,
        );
        let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(ids))];
        if self.diamond.is_none() {
            columns.push(Arc::new(Float64Array::from(values)));
        }
        columns.push(Arc::new(geometry));
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Partition::new(batch, self.geometry_column(), start)
    }
}

//! [`GeoFrame`]: a geospatial dataframe split into partitions.

use std::sync::{Arc, OnceLock};

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{Schema, SchemaRef};
use geo::{Geometry, Polygon, Rect};
use rayon::prelude::*;

use crate::crs::Crs;
use crate::error::{CollectInOrder, Error, Result};
use crate::geometry;
use crate::partition::{Partition, PartitionIndex};

/// The default name of the geometry column.
pub const DEFAULT_GEOMETRY_COLUMN: &str = "geometry";

/// A geospatial dataframe: one Arrow schema (attribute columns plus a WKB geometry column),
/// a CRS, a list of [`Partition`]s and an R-tree over the partitions' bounds.
///
/// Every row lives in exactly one partition; rows are numbered across partitions in order
/// (partition 0's rows first), and that number is the row's index.
///
/// ```
/// use geo::{point, Geometry};
/// use geoframe::{Crs, GeoFrame};
///
/// let points: Vec<Geometry> = (0..10).map(|i| point!(x: i as f64, y: 0.0).into()).collect();
/// let frame = GeoFrame::from_geometries(points, Some(Crs::epsg(4326)))?.repartition(4)?;
/// assert_eq!(frame.len(), 10);
/// assert_eq!(frame.npartitions(), 3);
/// let b = frame.total_bounds().unwrap();
/// assert_eq!((b.min().x, b.max().x), (0.0, 9.0));
/// # Ok::<(), geoframe::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GeoFrame {
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    partitions: Vec<Partition>,
    index: PartitionIndex,
    /// Convex hull of each partition, computed on first use. Frames are immutable (every
    /// operation builds a new one through `from_parts`), so the cache never goes stale.
    hulls: Arc<OnceLock<Vec<Option<Polygon>>>>,
}

impl GeoFrame {
    /// Assembles a frame from partitions that share `schema`. Internal: callers have
    /// checked the schema and computed the bounds.
    pub(crate) fn from_parts(
        schema: SchemaRef,
        geometry_column: usize,
        crs: Option<Crs>,
        partitions: Vec<Partition>,
    ) -> GeoFrame {
        let bounds: Vec<Option<Rect>> = partitions.iter().map(|p| p.bounds()).collect();
        GeoFrame {
            schema,
            geometry_column,
            crs,
            index: PartitionIndex::new(&bounds),
            partitions,
            hulls: Arc::new(OnceLock::new()),
        }
    }

    /// A frame with a single `geometry` column and one partition.
    pub fn from_geometries(geometries: Vec<Geometry>, crs: Option<Crs>) -> Result<GeoFrame> {
        Self::from_optional_geometries(geometries.iter().map(Some), crs)
    }

    /// Like [`GeoFrame::from_geometries`], with `None` for null geometries.
    pub fn from_optional_geometries<'a>(
        geometries: impl IntoIterator<Item = Option<&'a Geometry>>,
        crs: Option<Crs>,
    ) -> Result<GeoFrame> {
        let array = geometry::encode_array(geometries);
        let schema = Arc::new(Schema::new(vec![geometry::geometry_field(
            DEFAULT_GEOMETRY_COLUMN,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(array)])?;
        Self::from_record_batches(schema, vec![batch], DEFAULT_GEOMETRY_COLUMN, crs)
    }

    /// A frame from Arrow batches, one partition per batch. `geometry_column` names a
    /// `Binary` column of WKB; every coordinate must be finite.
    pub fn from_record_batches(
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        geometry_column: &str,
        crs: Option<Crs>,
    ) -> Result<GeoFrame> {
        let geometry_index = column_index(&schema, geometry_column)?;
        let schema = with_geometry_field(&schema, geometry_index);
        let mut first_rows = Vec::with_capacity(batches.len());
        let mut next = 0u64;
        for b in &batches {
            if b.schema().fields().len() != schema.fields().len()
                || b.schema()
                    .fields()
                    .iter()
                    .zip(schema.fields())
                    .any(|(a, s)| a.name() != s.name() || a.data_type() != s.data_type())
            {
                return Err(Error::InvalidArgument(format!(
                    "batch schema {:?} does not match frame schema {:?}",
                    b.schema().fields(),
                    schema.fields()
                )));
            }
            first_rows.push(next);
            next += b.num_rows() as u64;
        }
        let partitions = batches
            .into_par_iter()
            .zip(first_rows)
            .map(|(b, first)| {
                let b = b.with_schema(schema.clone())?;
                Partition::new(b, geometry_index, first)
            })
            .collect_in_order()?;
        Ok(Self::from_parts(schema, geometry_index, crs, partitions))
    }

    /// `f` of every partition and the number of its first row, in parallel; the results
    /// in partition order, or the first error in partition order.
    pub(crate) fn map_partitions<T: Send>(
        &self,
        f: impl Fn(&Partition, u64) -> Result<T> + Sync + Send,
    ) -> Result<Vec<T>> {
        self.partitions
            .par_iter()
            .zip(self.partition_offsets())
            .map(|(p, first)| f(p, first))
            .collect_in_order()
    }

    /// Number of partitions.
    pub fn npartitions(&self) -> usize {
        self.partitions.len()
    }

    /// The partitions, in row order.
    pub fn partitions(&self) -> &[Partition] {
        &self.partitions
    }

    /// The R-tree over the partitions' bounds.
    pub fn partition_index(&self) -> &PartitionIndex {
        &self.index
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.partitions.iter().map(Partition::len).sum()
    }

    /// Whether the frame has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Arrow schema, geometry column included.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Name of the geometry column.
    pub fn geometry_column(&self) -> &str {
        self.schema.field(self.geometry_column).name()
    }

    /// Position of the geometry column in the schema.
    pub fn geometry_column_index(&self) -> usize {
        self.geometry_column
    }

    /// The coordinate reference system, if known.
    pub fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }

    /// The bounding box of every geometry in the frame.
    pub fn total_bounds(&self) -> Option<Rect> {
        self.partitions
            .iter()
            .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds()))
    }

    /// The bounding box of each partition (`None` for partitions with no geometry).
    pub fn partition_bounds(&self) -> Vec<Option<Rect>> {
        self.partitions.iter().map(Partition::bounds).collect()
    }

    /// The convex hull of each partition's geometries (`None` for partitions without any),
    /// a tighter extent than [`GeoFrame::partition_bounds`] for pruning; dask-geopandas'
    /// `calculate_spatial_partitions`. Computed in parallel on first call, then cached.
    ///
    /// ```
    /// use geo::{point, Area, Geometry};
    /// let pts: Vec<Geometry> = vec![point!(x: 0.0, y: 0.0).into(), point!(x: 2.0, y: 0.0).into(), point!(x: 0.0, y: 2.0).into()];
    /// let frame = geoframe::GeoFrame::from_geometries(pts, None)?;
    /// let hull = frame.calculate_spatial_partitions()?[0].clone().unwrap();
    /// assert_eq!(hull.unsigned_area(), 2.0); // the triangle, where the bounds have area 4
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn calculate_spatial_partitions(&self) -> Result<Vec<Option<Polygon>>> {
        if let Some(h) = self.hulls.get() {
            return Ok(h.clone());
        }
        let hulls = self.map_partitions(|p, first| {
            use geo::{ConvexHull, CoordsIter};
            let coords: Vec<geo::Point> = p
                .geometries(first)?
                .iter()
                .flatten()
                .flat_map(|g| g.coords_iter().map(geo::Point::from).collect::<Vec<_>>())
                .collect();
            Ok((!coords.is_empty()).then(|| geo::MultiPoint(coords).convex_hull()))
        })?;
        Ok(self.hulls.get_or_init(|| hulls).clone())
    }

    /// The index of each partition's first row.
    pub fn partition_offsets(&self) -> Vec<u64> {
        let mut next = 0u64;
        self.partitions
            .iter()
            .map(|p| {
                let first = next;
                next += p.len() as u64;
                first
            })
            .collect()
    }

    /// Iterates over the partitions' batches.
    pub fn batches(&self) -> impl Iterator<Item = &RecordBatch> + '_ {
        self.partitions.iter().map(Partition::batch)
    }

    /// All rows in one batch.
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let batches: Vec<&RecordBatch> = self.batches().collect();
        Ok(arrow_select::concat::concat_batches(&self.schema, batches)?)
    }

    /// Every geometry, decoded, in row order.
    pub fn geometries(&self) -> Result<Vec<Option<Geometry>>> {
        let parts = self.map_partitions(|p, first| p.geometries(first))?;
        Ok(parts.into_iter().flatten().collect())
    }

    /// Sets the CRS without transforming coordinates. Fails if the frame already has a
    /// different CRS, unless `allow_override` (GeoPandas' `set_crs`).
    pub fn set_crs(mut self, crs: Crs, allow_override: bool) -> Result<GeoFrame> {
        if let Some(old) = &self.crs {
            if !allow_override && !old.equivalent(&crs) {
                return Err(Error::InvalidArgument(format!(
                    "the frame already has CRS {old}; pass allow_override to replace it with {crs}, or use to_crs to transform"
                )));
            }
        }
        self.crs = Some(crs);
        Ok(self)
    }

    /// Reprojects every geometry to `target` with PROJ, partition by partition in parallel;
    /// partition bounds are recomputed.
    ///
    /// ```
    /// use geo::{point, Geometry};
    /// use geoframe::{Crs, GeoFrame};
    /// let frame = GeoFrame::from_geometries(vec![point!(x: 0.0, y: 0.0).into()], Some(Crs::epsg(4326)))?;
    /// let mercator = frame.to_crs(&Crs::epsg(3857))?;
    /// assert_eq!(mercator.crs().unwrap().to_epsg(), Some(3857));
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn to_crs(&self, target: &Crs) -> Result<GeoFrame> {
        let source = self.crs.as_ref().ok_or(Error::MissingCrs("to_crs"))?;
        crate::crs::transformer(source, target)?; // fail early, before any partition
        let partitions = self.map_partitions(|p, first| {
            let proj = crate::crs::transformer(source, target)?;
            crate::crs::reproject_partition(p, &proj, first)
        })?;
        Ok(Self::from_parts(
            self.schema.clone(),
            self.geometry_column,
            Some(target.clone()),
            partitions,
        ))
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> GeoFrame {
        let mut left = n;
        let mut partitions = Vec::new();
        for p in &self.partitions {
            if left == 0 {
                break;
            }
            let take = left.min(p.len());
            left -= take;
            if take == p.len() {
                partitions.push(p.clone());
            } else {
                let slice = p.batch().slice(0, take);
                // The partition's own bounds contain the slice's, should these fail.
                partitions.push(
                    Partition::from_checked_rows(slice.clone(), self.geometry_column)
                        .unwrap_or_else(|_| {
                            Partition::with_bounds(slice, self.geometry_column, p.bounds())
                        }),
                );
            }
        }
        Self::from_parts(
            self.schema.clone(),
            self.geometry_column,
            self.crs.clone(),
            partitions,
        )
    }

    /// Keeps the named columns, in the order given; the geometry column is always kept
    /// (appended last if not named).
    pub fn select(&self, columns: &[&str]) -> Result<GeoFrame> {
        let projection = Projection::new(&self.schema, self.geometry_column, columns)?;
        let partitions = self
            .partitions
            .iter()
            .map(|p| projection.apply(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::from_parts(
            projection.schema,
            projection.geometry_column,
            self.crs.clone(),
            partitions,
        ))
    }

    /// Keeps the rows where `mask` is true (null counts as false). `mask` has one entry per
    /// row of the frame. Partitions keep their order; bounds are recomputed.
    pub fn filter(&self, mask: &BooleanArray) -> Result<GeoFrame> {
        if mask.len() != self.len() {
            return Err(Error::InvalidArgument(format!(
                "filter mask has {} entries, the frame has {} rows",
                mask.len(),
                self.len()
            )));
        }
        let partitions = self.map_partitions(|p, first| {
            let part_mask = mask.slice(first as usize, p.len());
            let batch = arrow_select::filter::filter_record_batch(p.batch(), &part_mask)?;
            Partition::from_checked_rows(batch, self.geometry_column)
        })?;
        Ok(Self::from_parts(
            self.schema.clone(),
            self.geometry_column,
            self.crs.clone(),
            partitions,
        ))
    }

    /// Appends frames with the same columns and CRS; partitions are kept as they are.
    pub fn concat(frames: &[GeoFrame]) -> Result<GeoFrame> {
        let first = frames
            .first()
            .ok_or_else(|| Error::InvalidArgument("concat of no frames".into()))?;
        let mut partitions = Vec::new();
        for f in frames {
            let same_columns = f.schema.fields().len() == first.schema.fields().len()
                && f.schema
                    .fields()
                    .iter()
                    .zip(first.schema.fields())
                    .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
                && f.geometry_column == first.geometry_column;
            if !same_columns {
                return Err(Error::InvalidArgument(format!(
                    "concat: columns {:?} differ from {:?}",
                    names(&f.schema),
                    names(&first.schema)
                )));
            }
            crate::crs::check_same("concat", first.crs.as_ref(), f.crs.as_ref())?;
            for p in &f.partitions {
                let batch = p.batch().clone().with_schema(first.schema.clone())?;
                partitions.push(Partition::with_bounds(
                    batch,
                    first.geometry_column,
                    p.bounds(),
                ));
            }
        }
        Ok(Self::from_parts(
            first.schema.clone(),
            first.geometry_column,
            first.crs.clone(),
            partitions,
        ))
    }

    /// Splits the rows, in order, into partitions of at most `rows_per_partition` rows.
    /// (Spatially coherent partitions come from a spatial shuffle, not from this.)
    pub fn repartition(&self, rows_per_partition: usize) -> Result<GeoFrame> {
        if rows_per_partition == 0 {
            return Err(Error::InvalidArgument(
                "rows_per_partition must be at least 1".into(),
            ));
        }
        let all = self.to_record_batch()?;
        let starts: Vec<usize> = (0..all.num_rows()).step_by(rows_per_partition).collect();
        let partitions = starts
            .par_iter()
            .map(|&start| {
                let len = rows_per_partition.min(all.num_rows() - start);
                Partition::from_checked_rows(all.slice(start, len), self.geometry_column)
            })
            .collect_in_order()?;
        Ok(Self::from_parts(
            self.schema.clone(),
            self.geometry_column,
            self.crs.clone(),
            partitions,
        ))
    }

    /// A column by name, concatenated over all partitions.
    pub fn column(&self, name: &str) -> Result<ArrayRef> {
        let i = column_index(&self.schema, name)?;
        let arrays: Vec<&dyn Array> = self.batches().map(|b| b.column(i).as_ref()).collect();
        if arrays.is_empty() {
            return Ok(arrow_array::new_empty_array(
                self.schema.field(i).data_type(),
            ));
        }
        Ok(arrow_select::concat::concat(&arrays)?)
    }

    /// The frame with `values` (one per row, in row order) as a column named `name`,
    /// added at the end or replacing the column of that name. Partitions are kept.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use geo::{point, Geometry};
    /// use geoframe::GeoFrame;
    /// let points: Vec<Geometry> = (0..4).map(|i| point!(x: i as f64, y: 0.0).into()).collect();
    /// let frame = GeoFrame::from_geometries(points, None)?.repartition(3)?;
    /// let ids = Arc::new(arrow_array::Int64Array::from(vec![10, 11, 12, 13]));
    /// let frame = frame.with_column("id", ids)?;
    /// assert_eq!(frame.column("id")?.len(), 4);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn with_column(&self, name: &str, values: ArrayRef) -> Result<GeoFrame> {
        if values.len() != self.len() {
            return Err(Error::InvalidArgument(format!(
                "with_column({name:?}): {} values for {} rows",
                values.len(),
                self.len()
            )));
        }
        if name == self.geometry_column() {
            return Err(Error::InvalidArgument(format!(
                "with_column({name:?}) would replace the geometry column"
            )));
        }
        let field = arrow_schema::Field::new(name, values.data_type().clone(), true);
        let mut fields: Vec<arrow_schema::FieldRef> =
            self.schema.fields().iter().cloned().collect();
        let position = match self.schema.index_of(name) {
            Ok(i) => {
                fields[i] = Arc::new(field);
                i
            }
            Err(_) => {
                fields.push(Arc::new(field));
                fields.len() - 1
            }
        };
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.schema.metadata().clone(),
        ));
        let mut start = 0;
        let mut partitions = Vec::with_capacity(self.partitions.len());
        for p in &self.partitions {
            let mut columns = p.batch().columns().to_vec();
            let slice = values.slice(start, p.len());
            start += p.len();
            if position < columns.len() {
                columns[position] = slice;
            } else {
                columns.push(slice);
            }
            let batch = RecordBatch::try_new(schema.clone(), columns)?;
            partitions.push(Partition::with_bounds(
                batch,
                self.geometry_column,
                p.bounds(),
            ));
        }
        Ok(Self::from_parts(
            schema,
            self.geometry_column,
            self.crs.clone(),
            partitions,
        ))
    }
}

/// A choice of columns by name, resolved against a schema: the step shared by
/// [`GeoFrame::select`] and the lazy plan's `select`. The geometry column is always kept
/// (appended last if not named).
#[derive(Debug, Clone)]
pub(crate) struct Projection {
    /// Positions of the kept columns in the input, in output order.
    pub indices: Vec<usize>,
    /// Position of the geometry column in the output.
    pub geometry_column: usize,
    /// The output schema.
    pub schema: SchemaRef,
}

impl Projection {
    pub(crate) fn new(
        schema: &SchemaRef,
        geometry_column: usize,
        columns: &[&str],
    ) -> Result<Projection> {
        let mut indices = columns
            .iter()
            .map(|c| column_index(schema, c))
            .collect::<Result<Vec<_>>>()?;
        if !indices.contains(&geometry_column) {
            indices.push(geometry_column);
        }
        let output_geometry = indices
            .iter()
            .position(|&i| i == geometry_column)
            .ok_or_else(|| Error::Internal("select lost the geometry column".into()))?;
        Ok(Projection {
            schema: Arc::new(schema.project(&indices)?),
            indices,
            geometry_column: output_geometry,
        })
    }

    /// The projection of one partition (its bounds are kept: the geometries are).
    pub(crate) fn apply(&self, partition: &Partition) -> Result<Partition> {
        partition.project(&self.indices, self.geometry_column)
    }
}

fn names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

pub(crate) fn column_index(schema: &Schema, name: &str) -> Result<usize> {
    schema.index_of(name).map_err(|_| Error::UnknownColumn {
        name: name.to_string(),
        available: names(schema),
    })
}

/// The schema with the geometry field tagged as `geoarrow.wkb`.
fn with_geometry_field(schema: &SchemaRef, geometry_index: usize) -> SchemaRef {
    let field = schema.field(geometry_index);
    if field
        .metadata()
        .get("ARROW:extension:name")
        .map(String::as_str)
        == Some(geometry::WKB_EXTENSION)
    {
        return schema.clone();
    }
    let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
    fields[geometry_index] = Arc::new(geometry::geometry_field(field.name()));
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

//! [`LazyFrame`]'s builder methods: each checks its arguments, prunes what it can from the
//! partitions' metadata ([`super::prune`]) and adds one node to the logical plan; and the
//! entry points that compile and run it.

use std::path::Path;
use std::sync::Arc;

use super::executor::{ExecuteOptions, RunStats};
use super::graph::Graph;
use super::logical::{LazyFrame, Node};
use super::prune;
use super::run::{self, Computation};
use crate::error::{Error, Result};
use crate::frame::Projection;
use crate::io::{
    GeoJsonSink, GeoJsonSource, GeoParquetDatasetSink, GeoParquetOptions, GeoParquetSink,
    GeoParquetWriteOptions, MemorySource, PartitionSink, PartitionSource, ShapefileOptions,
    ShapefileSink, ShapefileSource, SinkLayout,
};
use crate::join::{How, Predicate};
use crate::ops::{ColumnOp, GeometryOp, Measure};
use crate::partition::{shuffle, ShuffleMethod};
use crate::{geometry, Crs, GeoFrame};

/// A lazy frame over a shapefile: nothing but the headers is read until the frame is
/// computed, and then each partition (`rows_per_partition` records) is read by its own
/// task when a later task needs it and dropped when none does (see [`ShapefileSource`]).
pub fn scan_shapefile(path: impl AsRef<Path>, options: &ShapefileOptions) -> Result<LazyFrame> {
    Ok(LazyFrame::scan(Arc::new(ShapefileSource::open(
        path, options,
    )?)))
}

/// A lazy frame over a GeoParquet file, one partition per row-group slice (see
/// [`crate::io::GeoParquetSource`]), or over a partitioned dataset, a directory or `*` pattern of
/// such files (see [`crate::io::GeoParquetDataset`]): only footers are read, and each
/// partition's bounds come from them.
pub fn scan_geoparquet(path: impl AsRef<Path>, options: &GeoParquetOptions) -> Result<LazyFrame> {
    Ok(LazyFrame::scan(Arc::from(crate::io::geoparquet::open_any(
        path.as_ref(),
        options,
    )?)))
}

/// A lazy frame over a GeoJSON file, `rows_per_partition` features per partition (see
/// [`GeoJsonSource`]: partition bounds are known before any partition is decoded).
///
/// ```
/// use geoframe::join::{How, Predicate};
/// use geoframe::plan::{scan_geojson, scan_shapefile, ExecuteOptions};
/// let path = std::env::temp_dir().join("geoframe_scan_geojson_doc.geojson");
/// std::fs::write(&path, r#"{"type": "FeatureCollection", "features": [
///   {"type": "Feature", "properties": {"name": "Paris"}, "geometry": {"type": "Point", "coordinates": [2.35, 48.86]}},
///   {"type": "Feature", "properties": {"name": "Lima"}, "geometry": {"type": "Point", "coordinates": [-77.04, -12.05]}}]}"#)?;
/// let points = scan_geojson(&path, 1)?;
/// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &Default::default())?;
/// let joined = points.sjoin(&countries, How::Inner, Predicate::Within)?.collect(&ExecuteOptions::default())?;
/// assert_eq!(joined.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scan_geojson(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<LazyFrame> {
    Ok(LazyFrame::scan(Arc::new(GeoJsonSource::open(
        path,
        rows_per_partition,
    )?)))
}

/// A lazy frame over a FlatGeobuf file, `rows_per_partition` features per partition (see
/// [`crate::io::FlatGeobufSource`]: with the file's spatial index, each partition is a run
/// of its leaves, bounded by their boxes, before any feature is read).
///
/// ```
/// use geoframe::io::{read_shapefile, write_flatgeobuf};
/// use geoframe::join::{How, Predicate};
/// use geoframe::plan::{scan_flatgeobuf, ExecuteOptions};
/// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &Default::default())?;
/// let path = std::env::temp_dir().join("geoframe_scan_flatgeobuf_doc.fgb");
/// write_flatgeobuf(&countries, &path)?;
/// let scanned = scan_flatgeobuf(&path, 20)?;
/// let touching = scanned.sjoin(&scanned, How::Inner, Predicate::Touches)?;
/// assert!(touching.collect(&ExecuteOptions::default())?.len() > 300);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn scan_flatgeobuf(path: impl AsRef<Path>, rows_per_partition: usize) -> Result<LazyFrame> {
    Ok(LazyFrame::scan(Arc::new(
        crate::io::FlatGeobufSource::open(path, rows_per_partition)?,
    )))
}

/// A lazy frame over a GeoPackage layer (see [`crate::io::GeoPackageSource`]: each
/// partition is a run of feature ids, bounded by the layer's R-tree).
///
/// ```
/// use geoframe::io::GeoPackageOptions;
/// use geoframe::plan::{scan_geopackage, ExecuteOptions};
/// let options = GeoPackageOptions { layer: Some("cities".into()), rows_per_partition: 100 };
/// let cities = scan_geopackage("tests/data/peers/countries_gdal.gpkg", &options)?;
/// assert_eq!(cities.count_rows(&ExecuteOptions::default())?, 243);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn scan_geopackage(
    path: impl AsRef<Path>,
    options: &crate::io::GeoPackageOptions,
) -> Result<LazyFrame> {
    Ok(LazyFrame::scan(Arc::new(
        crate::io::GeoPackageSource::open(path, options)?,
    )))
}

impl From<GeoFrame> for LazyFrame {
    fn from(frame: GeoFrame) -> LazyFrame {
        LazyFrame::scan(Arc::new(MemorySource(frame)))
    }
}

impl LazyFrame {
    /// A plan that reads `source`, one task per partition: how any format, geoframe's or
    /// one of your own, enters a plan.
    pub fn scan(source: Arc<dyn PartitionSource>) -> LazyFrame {
        LazyFrame::from_node(Node::Scan(source))
    }

    /// The schema of the computed frame.
    pub fn schema(&self) -> &arrow_schema::SchemaRef {
        &self.schema
    }

    /// The CRS of the computed frame.
    pub fn crs(&self) -> Option<&Crs> {
        self.crs.as_ref()
    }

    /// Number of partitions of the computed frame.
    pub fn npartitions(&self) -> usize {
        self.parts.len()
    }

    /// Keeps the named columns, in order; the geometry column is always kept (appended last
    /// if not named).
    pub fn select(&self, columns: &[&str]) -> Result<LazyFrame> {
        let projection = Projection::new(&self.schema, self.geometry_column, columns)?;
        Ok(LazyFrame::from_node(Node::Select {
            input: self.clone(),
            projection,
        }))
    }

    /// Reprojects to `target`, one task per partition. Partition bounds are unknown until
    /// computed, so a join after `to_crs` considers every partition pair.
    pub fn to_crs(&self, target: &Crs) -> Result<LazyFrame> {
        let source = self.crs.as_ref().ok_or(Error::MissingCrs("to_crs"))?;
        crate::crs::transformer(source, target)?;
        Ok(LazyFrame::from_node(Node::ToCrs {
            input: self.clone(),
            target: target.clone(),
        }))
    }

    /// Applies a per-row geometry operation (see [`GeoFrame::map_geometry`]), one task per
    /// partition. Partition bounds are carried over where the operation keeps geometries
    /// inside them (centroids, hulls, simplification, ...), grown or shifted for buffers
    /// and translations, and unknown after other affine transforms.
    ///
    /// ```
    /// use geoframe::io::ShapefileOptions;
    /// use geoframe::plan::scan_shapefile;
    /// use geoframe::ops::GeometryOp;
    /// use geoframe::plan::ExecuteOptions;
    /// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &ShapefileOptions { rows_per_partition: 50, ..Default::default() })?;
    /// let centres = countries.map_geometry(GeometryOp::Centroid)?.collect(&ExecuteOptions::default())?;
    /// assert_eq!(centres.geom_type()?.value(0), "Point");
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn map_geometry(&self, op: GeometryOp) -> Result<LazyFrame> {
        op.check()?;
        Ok(LazyFrame::from_node(Node::MapGeometry {
            input: self.clone(),
            op,
        }))
    }

    /// Appends a column `name` computed per row from the geometry, one task per partition
    /// ([`ColumnOp`]: a [`Measure`], or a predicate against one geometry, answered from the
    /// partition's bounds where they miss it).
    ///
    /// ```
    /// use geoframe::io::ShapefileOptions;
    /// use geoframe::plan::scan_shapefile;
    /// use geoframe::ops::{ColumnOp, Measure};
    /// use geoframe::plan::ExecuteOptions;
    /// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &ShapefileOptions { rows_per_partition: 50, ..Default::default() })?;
    /// let with_area = countries
    ///     .with_column("km2", ColumnOp::Measure(Measure::GeodesicArea))?
    ///     .collect(&ExecuteOptions::default())?;
    /// assert!(with_area.column("km2").is_ok());
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn with_column(&self, name: &str, op: ColumnOp) -> Result<LazyFrame> {
        if self.schema.index_of(name).is_ok() {
            return Err(Error::InvalidArgument(format!(
                "with_column: the frame already has a column {name:?}"
            )));
        }
        match &op {
            ColumnOp::Measure(m) if m.geodesic() => {
                crate::ops::measure::require_geographic(self.crs.as_ref(), m.name())?
            }
            ColumnOp::Relate {
                predicate,
                geometry,
            } => {
                geometry::from_wkb(geometry, 0)?;
                predicate.check()?;
            }
            _ => {}
        }
        Ok(LazyFrame::from_node(Node::AddColumn {
            input: self.clone(),
            name: name.to_string(),
            op,
        }))
    }

    /// [`LazyFrame::with_column`] with a [`Measure`].
    pub fn with_measure(&self, name: &str, measure: Measure) -> Result<LazyFrame> {
        self.with_column(name, ColumnOp::Measure(measure))
    }

    /// Spatial join with `right` (see [`GeoFrame::sjoin`]). The candidate partition pairs
    /// are fixed now, from the two sides' partition R-trees (boxes grown by the distance of
    /// `DWithin`); only those pairs become tasks.
    pub fn sjoin(&self, right: &LazyFrame, how: How, predicate: Predicate) -> Result<LazyFrame> {
        self.rows_before_running("sjoin")?;
        right.rows_before_running("sjoin")?;
        crate::crs::check_same("sjoin", self.crs.as_ref(), right.crs.as_ref())?;
        predicate.check()?;
        let (base, other, predicate) = match how {
            How::Right => (right, self, predicate.converse()),
            _ => (self, right, predicate),
        };
        let groups = prune::join_groups(
            &base.parts,
            &other.parts,
            predicate.reach(),
            how != How::Inner,
        );
        Ok(LazyFrame::from_node(Node::Join {
            base: base.clone(),
            other: other.clone(),
            predicate,
            how,
            groups,
        }))
    }

    /// Clips to `mask` (see [`GeoFrame::clip`]); partitions whose bounds miss the mask's
    /// box get no task at all.
    pub fn clip(&self, mask: &geo::Geometry) -> Result<LazyFrame> {
        crate::ops::clip::mask_polygons(mask)?;
        let kept = prune::clip_partitions(&self.parts, geo::BoundingRect::bounding_rect(mask));
        Ok(LazyFrame::from_node(Node::Clip {
            input: self.clone(),
            mask: geometry::to_wkb(mask),
            kept,
        }))
    }

    /// Keeps the rows whose geometry's bounding box meets `rect` (as GeoPandas'
    /// `read_parquet(bbox=...)`; geometries are kept whole, see [`LazyFrame::clip`] to cut
    /// them). Partitions whose bounds miss `rect` get no task and are never read: on a
    /// GeoParquet scan with a `bbox` covering column, those are the row groups whose
    /// covering statistics miss it.
    ///
    /// ```
    /// use geoframe::io::ShapefileOptions;
    /// use geoframe::plan::{scan_shapefile, ExecuteOptions};
    /// let counties = scan_shapefile("data/us_counties/us_counties.shp", &ShapefileOptions { rows_per_partition: 200, ..Default::default() })?;
    /// let colorado = geo::Rect::new((-109.05, 36.99), (-102.04, 41.0));
    /// let near = counties.filter_bbox(colorado);
    /// println!("{}", near.explain());
    /// let frame = near.collect(&ExecuteOptions::default())?;
    /// assert!(frame.len() > 64 && frame.len() < 200);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn filter_bbox(&self, rect: geo::Rect) -> LazyFrame {
        let kept = prune::clip_partitions(&self.parts, Some(rect));
        LazyFrame::from_node(Node::FilterBbox {
            input: self.clone(),
            rect,
            kept,
        })
    }

    /// Nearest-neighbour join with `right` (see [`GeoFrame::sjoin_nearest`]). For each
    /// left partition, the right partitions that may hold a nearest row are fixed now:
    /// those whose bounds lie no farther than the nearest partition's farthest point (and
    /// within `max_distance`).
    pub fn sjoin_nearest(
        &self,
        right: &LazyFrame,
        how: How,
        max_distance: Option<f64>,
        distance_col: Option<&str>,
    ) -> Result<LazyFrame> {
        self.nearest(right, how, max_distance, distance_col, false)
    }

    /// Like [`LazyFrame::sjoin_nearest`], but a right geometry equal to the left one is
    /// never its nearest (GeoPandas' `sjoin_nearest(..., exclusive=True)`): joining a layer
    /// with itself finds each row's nearest *other* row.
    ///
    /// ```
    /// use geoframe::io::ShapefileOptions;
    /// use geoframe::plan::scan_shapefile;
    /// use geoframe::join::How;
    /// use geoframe::plan::ExecuteOptions;
    /// let cities = scan_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &ShapefileOptions::default())?;
    /// let pairs = cities
    ///     .sjoin_nearest_exclusive(&cities, How::Inner, None, Some("distance"))?
    ///     .collect(&ExecuteOptions::default())?;
    /// assert!(pairs.len() >= 243); // every city has a nearest other city (ties add rows)
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn sjoin_nearest_exclusive(
        &self,
        right: &LazyFrame,
        how: How,
        max_distance: Option<f64>,
        distance_col: Option<&str>,
    ) -> Result<LazyFrame> {
        self.nearest(right, how, max_distance, distance_col, true)
    }

    fn nearest(
        &self,
        right: &LazyFrame,
        how: How,
        max_distance: Option<f64>,
        distance_col: Option<&str>,
        exclusive: bool,
    ) -> Result<LazyFrame> {
        self.rows_before_running("sjoin_nearest")?;
        right.rows_before_running("sjoin_nearest")?;
        if how == How::Right {
            return Err(Error::NotImplemented {
                op: "sjoin_nearest(how=right)",
                roadmap: "sjoin-nearest-right",
            });
        }
        if let Some(d) = max_distance {
            if d.is_nan() || d < 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "sjoin_nearest: max_distance must be >= 0, not {d}"
                )));
            }
        }
        crate::crs::check_same("sjoin_nearest", self.crs.as_ref(), right.crs.as_ref())?;
        let searches = prune::nearest_searches(
            &self.parts,
            &right.parts,
            max_distance,
            exclusive,
            how == How::Left,
        );
        Ok(LazyFrame::from_node(Node::Nearest {
            left: self.clone(),
            right: right.clone(),
            how,
            max_distance,
            exclusive,
            distance_col: distance_col.map(str::to_string),
            searches,
        }))
    }

    /// Spatially shuffles the rows into `npartitions` compact partitions (see
    /// [`GeoFrame::spatial_shuffle`]) and computes the result, as dask-geopandas computes
    /// the partition extents of a shuffle: later joins need them to prune pairs.
    pub fn spatial_shuffle(
        &self,
        method: ShuffleMethod,
        npartitions: usize,
        options: &ExecuteOptions,
    ) -> Result<GeoFrame> {
        self.spatial_shuffle_lazy(method, npartitions)?
            .collect(options)
    }

    /// The plan of a spatial shuffle, not computed: keys per input partition, one ordering
    /// task, one gather task per output partition. Its partition bounds are unknown until
    /// computed, so a join planned on it considers every partition pair; prefer
    /// [`LazyFrame::spatial_shuffle`] before a join.
    pub fn spatial_shuffle_lazy(
        &self,
        method: ShuffleMethod,
        npartitions: usize,
    ) -> Result<LazyFrame> {
        if npartitions == 0 {
            return Err(Error::InvalidArgument(
                "npartitions must be at least 1".into(),
            ));
        }
        let rows: u64 = self.rows_before_running("spatial_shuffle")?;
        if rows >= u64::from(u32::MAX) {
            return Err(Error::InvalidArgument(format!(
                "spatial_shuffle handles fewer than 2^32 rows, not {rows}"
            )));
        }
        Ok(LazyFrame::from_node(Node::Shuffle {
            input: self.clone(),
            method,
            sizes: shuffle::split_sizes(rows as usize, npartitions),
        }))
    }

    /// The task graph that computes this frame (outputs: one task per partition).
    pub fn graph(&self) -> Graph {
        super::compile::compile(self, super::compile::CompileMode::Collect).0
    }

    /// The task graph in Graphviz DOT (see [`Graph::to_dot`]).
    pub fn to_dot(&self) -> String {
        self.graph().to_dot()
    }

    /// Runs the plan and returns the frame.
    pub fn collect(&self, options: &ExecuteOptions) -> Result<GeoFrame> {
        Ok(self.collect_with_stats(options)?.0)
    }

    /// Runs the plan; the frame and how many tasks each worker ran.
    pub fn collect_with_stats(&self, options: &ExecuteOptions) -> Result<(GeoFrame, RunStats)> {
        self.start(options)?.finish()
    }

    /// Starts running the plan and returns at once; [`Computation::add_workers`] adds
    /// workers while it runs, [`Computation::finish`] waits for the frame.
    pub fn start(&self, options: &ExecuteOptions) -> Result<Computation> {
        Computation::start(self, options)
    }

    /// What a sink must know before the first partition: schema, geometry column, CRS.
    pub fn layout(&self) -> SinkLayout {
        SinkLayout {
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
        }
    }

    /// Runs the plan and writes it through `sink` as it is computed: each output
    /// partition is written as soon as it and every partition before it are done, so
    /// reading, computing and writing overlap and the result is never held whole (see
    /// [`Computation::write_to`]; memory is bounded by [`ExecuteOptions::memory_limit`]).
    /// The output appears only when every partition is written.
    ///
    /// ```
    /// use geoframe::io::{read_geoparquet, GeoParquetWriteOptions};
    /// use geoframe::join::{How, Predicate};
    /// use geoframe::plan::{scan_shapefile, ExecuteOptions};
    /// let cities = scan_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &Default::default())?;
    /// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &Default::default())?;
    /// let path = std::env::temp_dir().join("geoframe_sink_geoparquet_doc.parquet");
    /// let stats = cities
    ///     .sjoin(&countries, How::Inner, Predicate::Within)?
    ///     .sink_geoparquet(&path, &GeoParquetWriteOptions::default(), &ExecuteOptions::default())?;
    /// assert_eq!(stats.rows_written, 213);
    /// assert_eq!(read_geoparquet(&path, &Default::default())?.len(), 213);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn sink(&self, sink: Box<dyn PartitionSink>, options: &ExecuteOptions) -> Result<RunStats> {
        self.start(options)?.write_to(sink)
    }

    /// Runs the plan into a GeoParquet file, one row group per output partition, as
    /// [`LazyFrame::sink`] does.
    pub fn sink_geoparquet(
        &self,
        path: impl AsRef<Path>,
        write: &GeoParquetWriteOptions,
        options: &ExecuteOptions,
    ) -> Result<RunStats> {
        let sink = GeoParquetSink::create_with(path, &self.layout(), write)?;
        self.sink(Box::new(sink), options)
    }

    /// Runs the plan into a partitioned GeoParquet dataset: a directory with one file per
    /// output partition (see [`GeoParquetDatasetSink`]), written as [`LazyFrame::sink`]
    /// does. [`scan_geoparquet`] on the directory gets the partitions back with their
    /// bounds, from the footers alone.
    pub fn sink_dataset(
        &self,
        path: impl AsRef<Path>,
        write: &GeoParquetWriteOptions,
        options: &ExecuteOptions,
    ) -> Result<RunStats> {
        let sink = GeoParquetDatasetSink::create(path, &self.layout(), write)?;
        self.sink(Box::new(sink), options)
    }

    /// Runs the plan into a shapefile, as [`LazyFrame::sink`] does (see
    /// [`ShapefileSink`] for what the format holds).
    pub fn sink_shapefile(
        &self,
        path: impl AsRef<Path>,
        options: &ExecuteOptions,
    ) -> Result<RunStats> {
        let sink = ShapefileSink::create(path, &self.layout())?;
        self.sink(Box::new(sink), options)
    }

    /// Runs the plan into a GeoJSON file, as [`LazyFrame::sink`] does.
    pub fn sink_geojson(
        &self,
        path: impl AsRef<Path>,
        options: &ExecuteOptions,
    ) -> Result<RunStats> {
        let sink = GeoJsonSink::create(path, &self.layout())?;
        self.sink(Box::new(sink), options)
    }

    /// Counts the rows, partition by partition: each partition is loaded, counted and
    /// dropped, so a frame larger than memory can be counted. An inner join's pairs are
    /// counted without assembling its rows.
    pub fn count_rows(&self, options: &ExecuteOptions) -> Result<u64> {
        run::count_rows(self, options)
    }
}

//! [`LazyFrame`]: a frame described by the operations that produce it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_schema::SchemaRef;
use geo::Rect;

use super::executor::{ExecuteOptions, RunHandle, RunStats};
use super::graph::{Graph, TaskId, TaskKind};
use super::tasks::{Context, SourceData, Value};
use crate::error::{Error, Result};
use crate::io::geoparquet::GeoParquetSource;
use crate::io::shapefile::ShapefileSource;
use crate::join::{join_schema, start_radius, How, Predicate};
use crate::ops::{ColumnOp, GeometryOp, Measure};
use crate::partition::{shuffle, Partition, PartitionIndex, ShuffleMethod};
use crate::{geometry, Crs, GeoFrame};

/// What is known of a partition before it is computed.
#[derive(Debug, Clone, Copy)]
struct PartMeta {
    rows: u64,
    /// Bounds that contain the partition's geometries (exact, or the file's extent).
    bounds: Option<Rect>,
}

enum Node {
    Source(Arc<SourceData>),
    Select {
        input: LazyFrame,
        columns: Vec<usize>,
    },
    ToCrs {
        input: LazyFrame,
        target: Crs,
    },
    MapGeometry {
        input: LazyFrame,
        op: GeometryOp,
    },
    AddColumn {
        input: LazyFrame,
        name: String,
        op: ColumnOp,
    },
    Clip {
        input: LazyFrame,
        mask: Vec<u8>,
        /// The input partitions whose bounds meet the mask's box, in order.
        kept: Vec<usize>,
    },
    Shuffle {
        input: LazyFrame,
        method: ShuffleMethod,
        sizes: Vec<usize>,
    },
    Nearest {
        left: LazyFrame,
        right: LazyFrame,
        how: How,
        max_distance: Option<f64>,
        exclusive: bool,
        with_distance: bool,
        /// For each output partition: its left partition, the right partitions that may
        /// hold a nearest row, the search's starting radius and its limit.
        groups: Vec<(usize, Vec<usize>, f64, f64)>,
    },
    Join {
        /// The side whose rows the output follows (left, or right for right joins).
        base: LazyFrame,
        other: LazyFrame,
        /// The predicate as `base <predicate> other`.
        predicate: Predicate,
        how: How,
        /// For each output partition: its base partition and the other side's partitions
        /// it meets.
        groups: Vec<(usize, Vec<usize>)>,
    },
}

/// A frame that has not been computed: a plan of operations over sources (frames in
/// memory, shapefiles, GeoParquet files). Building on it only adds to the plan;
/// [`LazyFrame::collect`] (or [`LazyFrame::count_rows`]) turns the plan into a task graph,
/// one task per partition or partition pair, and runs it on a pool of workers.
///
/// ```
/// use geoframe::io::{scan_shapefile, ShapefileOptions};
/// use geoframe::join::{How, Predicate};
/// use geoframe::plan::ExecuteOptions;
///
/// let options = ShapefileOptions { rows_per_partition: 50, ..Default::default() };
/// let cities = scan_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
/// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?;
/// let joined = cities.sjoin(&countries, How::Inner, Predicate::Within)?;
/// println!("{}", joined.to_dot()); // the task graph, in Graphviz DOT
/// let frame = joined.collect(&ExecuteOptions { workers: 2, progress: false })?;
/// assert_eq!(frame.len(), 213);
/// # Ok::<(), geoframe::Error>(())
/// ```
#[derive(Clone)]
pub struct LazyFrame {
    node: Arc<Node>,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
    parts: Arc<Vec<PartMeta>>,
}

impl std::fmt::Debug for LazyFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyFrame")
            .field(
                "columns",
                &self
                    .schema
                    .fields()
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>(),
            )
            .field("npartitions", &self.parts.len())
            .field("crs", &self.crs.as_ref().map(ToString::to_string))
            .finish()
    }
}

impl From<GeoFrame> for LazyFrame {
    fn from(frame: GeoFrame) -> LazyFrame {
        let parts = frame
            .partitions()
            .iter()
            .map(|p| PartMeta {
                rows: p.len() as u64,
                bounds: p.bounds(),
            })
            .collect();
        LazyFrame {
            schema: frame.schema().clone(),
            geometry_column: frame.geometry_column_index(),
            crs: frame.crs().cloned(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Source(Arc::new(SourceData::Memory(frame)))),
        }
    }
}

impl LazyFrame {
    pub(crate) fn from_shapefile(
        source: Arc<ShapefileSource>,
        rows_per_partition: usize,
    ) -> LazyFrame {
        let rows = source.rows();
        let bounds = source.header_bounds();
        let parts = (0..rows)
            .step_by(rows_per_partition)
            .map(|first| PartMeta {
                rows: (rows_per_partition as u64).min(rows - first),
                bounds,
            })
            .collect();
        LazyFrame {
            schema: source.schema().clone(),
            geometry_column: source.schema().fields().len() - 1,
            crs: source.crs().cloned(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Source(Arc::new(SourceData::Shapefile {
                source,
                rows_per_partition,
            }))),
        }
    }

    pub(crate) fn from_geoparquet(source: Arc<GeoParquetSource>) -> LazyFrame {
        // Without a bbox in the metadata, a partition could be anywhere.
        let everywhere = Rect::new((f64::MIN, f64::MIN), (f64::MAX, f64::MAX));
        let parts = source
            .slices
            .iter()
            .map(|&(_, _, rows)| PartMeta {
                rows: rows as u64,
                bounds: Some(source.bbox.unwrap_or(everywhere)),
            })
            .collect();
        LazyFrame {
            schema: source.schema.clone(),
            geometry_column: source.geometry_column,
            crs: source.crs.clone(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Source(Arc::new(SourceData::GeoParquet(source)))),
        }
    }

    /// The schema of the computed frame.
    pub fn schema(&self) -> &SchemaRef {
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
        let mut indices = columns
            .iter()
            .map(|c| crate::frame::column_index(&self.schema, c))
            .collect::<Result<Vec<_>>>()?;
        if !indices.contains(&self.geometry_column) {
            indices.push(self.geometry_column);
        }
        let geometry_column = indices
            .iter()
            .position(|&i| i == self.geometry_column)
            .unwrap_or(0);
        Ok(LazyFrame {
            schema: Arc::new(self.schema.project(&indices)?),
            geometry_column,
            crs: self.crs.clone(),
            parts: self.parts.clone(),
            node: Arc::new(Node::Select {
                input: self.clone(),
                columns: indices,
            }),
        })
    }

    /// Reprojects to `target`, one task per partition. Partition bounds are unknown until
    /// computed, so a join after `to_crs` considers every partition pair.
    pub fn to_crs(&self, target: &Crs) -> Result<LazyFrame> {
        let source = self.crs.as_ref().ok_or(Error::MissingCrs("to_crs"))?;
        crate::crs::transformer(source, target)?;
        let everywhere = Rect::new((f64::MIN, f64::MIN), (f64::MAX, f64::MAX));
        let parts = self
            .parts
            .iter()
            .map(|p| PartMeta {
                rows: p.rows,
                bounds: p.bounds.map(|_| everywhere),
            })
            .collect();
        Ok(LazyFrame {
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: Some(target.clone()),
            parts: Arc::new(parts),
            node: Arc::new(Node::ToCrs {
                input: self.clone(),
                target: target.clone(),
            }),
        })
    }

    /// Applies a per-row geometry operation (see [`GeoFrame::map_geometry`]), one task per
    /// partition. Partition bounds are carried over where the operation keeps geometries
    /// inside them (centroids, hulls, simplification, ...), grown or shifted for buffers
    /// and translations, and unknown after other affine transforms.
    ///
    /// ```
    /// use geoframe::io::{scan_shapefile, ShapefileOptions};
    /// use geoframe::ops::GeometryOp;
    /// use geoframe::plan::ExecuteOptions;
    /// let countries = scan_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &ShapefileOptions { rows_per_partition: 50, ..Default::default() })?;
    /// let centres = countries.map_geometry(GeometryOp::Centroid)?.collect(&ExecuteOptions::default())?;
    /// assert_eq!(centres.geom_type()?.value(0), "Point");
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn map_geometry(&self, op: GeometryOp) -> Result<LazyFrame> {
        op.check()?;
        let everywhere = Rect::new((f64::MIN, f64::MIN), (f64::MAX, f64::MAX));
        let parts = self
            .parts
            .iter()
            .map(|p| PartMeta {
                rows: p.rows,
                bounds: p.bounds.map(|b| op.bounds_after(b).unwrap_or(everywhere)),
            })
            .collect();
        Ok(LazyFrame {
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            parts: Arc::new(parts),
            node: Arc::new(Node::MapGeometry {
                input: self.clone(),
                op,
            }),
        })
    }

    /// Appends a column `name` computed per row from the geometry, one task per partition
    /// ([`ColumnOp`]: a [`Measure`], or a predicate against one geometry, answered from the
    /// partition's bounds where they miss it).
    ///
    /// ```
    /// use geoframe::io::{scan_shapefile, ShapefileOptions};
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
                crate::geometry::from_wkb(geometry, 0)?;
                predicate.check()?;
            }
            _ => {}
        }
        let mut fields: Vec<arrow_schema::FieldRef> =
            self.schema.fields().iter().cloned().collect();
        fields.push(Arc::new(arrow_schema::Field::new(
            name,
            op.data_type(),
            true,
        )));
        Ok(LazyFrame {
            schema: Arc::new(arrow_schema::Schema::new_with_metadata(
                fields,
                self.schema.metadata().clone(),
            )),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            parts: self.parts.clone(),
            node: Arc::new(Node::AddColumn {
                input: self.clone(),
                name: name.to_string(),
                op,
            }),
        })
    }

    /// [`LazyFrame::with_column`] with a [`Measure`].
    pub fn with_measure(&self, name: &str, measure: Measure) -> Result<LazyFrame> {
        self.with_column(name, ColumnOp::Measure(measure))
    }

    /// Spatial join with `right` (see [`crate::join::sjoin`]). The candidate partition
    /// pairs are fixed now, from the two sides' partition R-trees (boxes grown by the
    /// distance of `DWithin`); only those pairs become tasks.
    pub fn sjoin(&self, right: &LazyFrame, how: How, predicate: Predicate) -> Result<LazyFrame> {
        self.known_rows()?;
        right.known_rows()?;
        match (&self.crs, &right.crs) {
            (Some(a), Some(b)) if !a.equivalent(b) => {
                return Err(Error::InvalidArgument(format!(
                    "sjoin: CRS mismatch ({a} vs {b}); reproject one side with to_crs"
                )))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "sjoin: one frame has a CRS and the other has none".into(),
                ))
            }
            _ => {}
        }
        predicate.check()?;
        let (base, other, predicate) = match how {
            How::Right => (right, self, predicate.converse()),
            _ => (self, right, predicate),
        };
        let reach = predicate.reach();
        let grown: Vec<Option<Rect>> = base
            .parts
            .iter()
            .map(|p| {
                p.bounds.map(|b| {
                    Rect::new(
                        (b.min().x - reach, b.min().y - reach),
                        (b.max().x + reach, b.max().y + reach),
                    )
                })
            })
            .collect();
        let base_index = PartitionIndex::new(&grown);
        let other_index =
            PartitionIndex::new(&other.parts.iter().map(|p| p.bounds).collect::<Vec<_>>());
        let mut by_base: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        if how != How::Inner {
            for (k, p) in base.parts.iter().enumerate() {
                if p.rows > 0 {
                    by_base.insert(k, Vec::new());
                }
            }
        }
        for (b, o) in base_index.intersecting_pairs(&other_index) {
            if base.parts[b].rows > 0 && other.parts[o].rows > 0 {
                by_base.entry(b).or_default().push(o);
            }
        }
        let groups: Vec<(usize, Vec<usize>)> = by_base.into_iter().collect();
        let parts = groups
            .iter()
            .map(|(b, _)| PartMeta {
                rows: 0, // unknown until computed; nothing downstream relies on it
                bounds: base.parts[*b].bounds,
            })
            .collect();
        Ok(LazyFrame {
            schema: join_schema(
                &base.schema,
                base.geometry_column,
                &other.schema,
                other.geometry_column,
                how,
            ),
            geometry_column: base.geometry_column,
            crs: base.crs.clone(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Join {
                base: base.clone(),
                other: other.clone(),
                predicate,
                how,
                groups,
            }),
        })
    }

    /// Clips to `mask` (see [`crate::join::clip`]); partitions whose bounds miss the mask's
    /// box get no task at all.
    pub fn clip(&self, mask: &geo::Geometry) -> Result<LazyFrame> {
        crate::join::mask_polygons(mask)?;
        let mask_box = geo::BoundingRect::bounding_rect(mask);
        let kept: Vec<usize> = self
            .parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.rows > 0)
            .filter(|(_, p)| match (p.bounds, mask_box) {
                (Some(b), Some(m)) => geo::Intersects::intersects(&b, &m),
                _ => false,
            })
            .map(|(k, _)| k)
            .collect();
        let parts = kept.iter().map(|&k| self.parts[k]).collect();
        Ok(LazyFrame {
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Clip {
                input: self.clone(),
                mask: geometry::to_wkb(mask),
                kept,
            }),
        })
    }

    /// Nearest-neighbour join with `right` (see [`crate::join::sjoin_nearest`]). For each
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
    /// use geoframe::io::{scan_shapefile, ShapefileOptions};
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
        self.known_rows()?;
        right.known_rows()?;
        if how == How::Right {
            return Err(Error::NotImplemented {
                op: "sjoin_nearest(how=right)",
                roadmap: "sjoin-nearest-right",
            });
        }
        if let Some(d) = max_distance {
            if d.is_nan() || d < 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "max_distance must be >= 0, not {d}"
                )));
            }
        }
        match (&self.crs, &right.crs) {
            (Some(a), Some(b)) if !a.equivalent(b) => {
                return Err(Error::InvalidArgument(format!(
                    "sjoin_nearest: CRS mismatch ({a} vs {b}); reproject one side with to_crs"
                )))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(Error::InvalidArgument(
                    "sjoin_nearest: one frame has a CRS and the other has none".into(),
                ))
            }
            _ => {}
        }
        let box_distance = |a: Rect, b: Rect| -> (f64, f64) {
            // (smallest, largest) distance between points of the two boxes.
            let dx = (b.min().x - a.max().x).max(a.min().x - b.max().x).max(0.0);
            let dy = (b.min().y - a.max().y).max(a.min().y - b.max().y).max(0.0);
            let fx = (a.max().x - b.min().x)
                .abs()
                .max((b.max().x - a.min().x).abs());
            let fy = (a.max().y - b.min().y)
                .abs()
                .max((b.max().y - a.min().y).abs());
            (dx.hypot(dy), fx.hypot(fy))
        };
        let right_rows: u64 = right.parts.iter().map(|p| p.rows).sum();
        let right_extent = right
            .parts
            .iter()
            .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds));
        let mut groups = Vec::new();
        for (l, lp) in self.parts.iter().enumerate() {
            if lp.rows == 0 {
                continue;
            }
            let Some(lb) = lp.bounds else {
                if how == How::Left {
                    groups.push((l, Vec::new(), 1.0, 0.0));
                }
                continue;
            };
            let candidates: Vec<(usize, f64, f64)> = right
                .parts
                .iter()
                .enumerate()
                .filter(|(_, rp)| rp.rows > 0)
                .filter_map(|(r, rp)| rp.bounds.map(|rb| (r, box_distance(lb, rb))))
                .map(|(r, (near, far))| (r, near, far))
                .collect();
            // The nearest partition's farthest point bounds the search, unless the rows
            // there may all be excluded as equal to the left one.
            let upper = if exclusive {
                f64::INFINITY
            } else {
                candidates.iter().map(|c| c.2).fold(f64::INFINITY, f64::min)
            };
            let cap = max_distance.unwrap_or(f64::INFINITY).min(upper);
            let rs: Vec<usize> = candidates
                .iter()
                .filter(|c| c.1 <= cap)
                .map(|c| c.0)
                .collect();
            if rs.is_empty() && how == How::Inner {
                continue;
            }
            let limit = right_extent.map_or(0.0, |e| box_distance(lb, e).1);
            groups.push((l, rs, start_radius(right_extent, right_rows), limit));
        }
        let mut schema = join_schema(
            &self.schema,
            self.geometry_column,
            &right.schema,
            right.geometry_column,
            how,
        );
        if let Some(name) = distance_col {
            let mut fields: Vec<arrow_schema::FieldRef> = schema.fields().iter().cloned().collect();
            fields.push(Arc::new(arrow_schema::Field::new(
                name,
                arrow_schema::DataType::Float64,
                true,
            )));
            schema = Arc::new(arrow_schema::Schema::new(fields));
        }
        let parts = groups
            .iter()
            .map(|g| PartMeta {
                rows: 0,
                bounds: self.parts[g.0].bounds,
            })
            .collect();
        Ok(LazyFrame {
            schema,
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Nearest {
                left: self.clone(),
                right: right.clone(),
                how,
                max_distance,
                exclusive,
                with_distance: distance_col.is_some(),
                groups,
            }),
        })
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
        let rows: u64 = self.known_rows()?;
        if rows >= u64::from(u32::MAX) {
            return Err(Error::InvalidArgument(format!(
                "spatial_shuffle handles fewer than 2^32 rows, not {rows}"
            )));
        }
        let sizes = shuffle::split_sizes(rows as usize, npartitions);
        let everywhere = Rect::new((f64::MIN, f64::MIN), (f64::MAX, f64::MAX));
        let parts = sizes
            .iter()
            .map(|&s| PartMeta {
                rows: s as u64,
                bounds: Some(everywhere),
            })
            .collect();
        Ok(LazyFrame {
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
            parts: Arc::new(parts),
            node: Arc::new(Node::Shuffle {
                input: self.clone(),
                method,
                sizes,
            }),
        })
    }

    /// Whether each partition's row count is known before running: joins and clips know
    /// theirs only once computed, and the row numbers later operations report
    /// (`index_left`, ...) depend on them.
    fn rows_known(&self) -> bool {
        match self.node.as_ref() {
            Node::Source(_) | Node::Shuffle { .. } => true,
            Node::Select { input, .. }
            | Node::ToCrs { input, .. }
            | Node::MapGeometry { input, .. }
            | Node::AddColumn { input, .. } => input.rows_known(),
            Node::Join { .. } | Node::Nearest { .. } | Node::Clip { .. } => false,
        }
    }

    fn known_rows(&self) -> Result<u64> {
        if self.rows_known() {
            Ok(self.parts.iter().map(|p| p.rows).sum())
        } else {
            Err(Error::InvalidArgument(
                "the row numbers of a join's or clip's output are known only once computed; collect it first".into(),
            ))
        }
    }

    /// The task graph that computes this frame (outputs: one task per partition).
    pub fn graph(&self) -> Graph {
        self.compile().0
    }

    /// The task graph in Graphviz DOT (see [`Graph::to_dot`]).
    pub fn to_dot(&self) -> String {
        self.graph().to_dot()
    }

    fn compile(&self) -> (Graph, Context) {
        let mut compiler = Compiler::default();
        let outputs = compiler.emit(self);
        compiler.graph.outputs = outputs;
        (compiler.graph, compiler.context)
    }

    /// Runs the plan and returns the frame.
    pub fn collect(&self, options: &ExecuteOptions) -> Result<GeoFrame> {
        Ok(self.collect_with_stats(options)?.0)
    }

    /// Runs the plan; the frame and how many tasks each worker ran.
    pub fn collect_with_stats(&self, options: &ExecuteOptions) -> Result<(GeoFrame, RunStats)> {
        let handle = self.start(options)?;
        handle.finish()
    }

    /// Starts running the plan and returns at once; [`Computation::add_workers`] adds
    /// workers while it runs, [`Computation::finish`] waits for the frame.
    pub fn start(&self, options: &ExecuteOptions) -> Result<Computation> {
        let (graph, context) = self.compile();
        let run = RunHandle::start(Arc::new(graph), Arc::new(context), options)?;
        Ok(Computation {
            run,
            schema: self.schema.clone(),
            geometry_column: self.geometry_column,
            crs: self.crs.clone(),
        })
    }

    /// Counts the rows, partition by partition: each partition is loaded, counted and
    /// dropped, so a frame larger than memory can be counted.
    pub fn count_rows(&self, options: &ExecuteOptions) -> Result<u64> {
        let mut compiler = Compiler::default();
        // An inner join has one row per matching pair: count the pairs, without assembling
        // the rows (each pair is found by exactly one pair task).
        let parts = match self.node.as_ref() {
            Node::Join {
                base,
                other,
                predicate,
                how: How::Inner,
                groups,
            } => {
                let (_, _, pairs) = compiler.emit_join_pairs(base, other, *predicate, groups);
                pairs.into_iter().flatten().collect()
            }
            _ => compiler.emit(self),
        };
        let counts: Vec<TaskId> = parts
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                compiler
                    .graph
                    .push(TaskKind::CountRows, Some(k), None, vec![t])
            })
            .collect();
        let sum = compiler.graph.push(TaskKind::SumCounts, None, None, counts);
        compiler.graph.outputs = vec![sum];
        let run = RunHandle::start(
            Arc::new(compiler.graph),
            Arc::new(compiler.context),
            options,
        )?;
        let (values, _) = run.wait()?;
        match values.first().map(|v| v.as_ref()) {
            Some(Value::Count(n)) => Ok(*n),
            _ => Err(Error::InvalidArgument(
                "count task returned no count".into(),
            )),
        }
    }
}

/// A computation under way, started by [`LazyFrame::start`].
pub struct Computation {
    run: RunHandle,
    schema: SchemaRef,
    geometry_column: usize,
    crs: Option<Crs>,
}

impl Computation {
    /// Adds `count` workers; they take ready tasks at once.
    pub fn add_workers(&self, count: usize) -> Result<()> {
        self.run.add_workers(count)
    }

    /// Tasks done so far, and the total.
    pub fn progress(&self) -> (usize, usize) {
        self.run.progress()
    }

    /// Tasks run by each worker so far.
    pub fn stats(&self) -> RunStats {
        self.run.stats()
    }

    /// Waits for the result; the frame and how many tasks each worker ran.
    pub fn finish(self) -> Result<(GeoFrame, RunStats)> {
        let (values, stats) = self.run.wait()?;
        let partitions = values
            .iter()
            .map(|v| match v.as_ref() {
                Value::Partition(p) => Ok(p.clone()),
                _ => Err(Error::InvalidArgument(
                    "an output task returned no partition".into(),
                )),
            })
            .collect::<Result<Vec<Partition>>>()?;
        // Joins and shuffles can produce partitions with no rows; a frame keeps only rows.
        let partitions: Vec<Partition> = partitions.into_iter().filter(|p| !p.is_empty()).collect();
        let frame = GeoFrame::from_parts(self.schema, self.geometry_column, self.crs, partitions);
        Ok((frame, stats))
    }
}

#[derive(Default)]
struct Compiler {
    graph: Graph,
    context: Context,
    /// Tasks already emitted for a node (by address), so shared inputs run once.
    done: HashMap<usize, Vec<TaskId>>,
}

impl Compiler {
    /// One task per partition of `input`, made by `kind(k)`, for nodes that map partition
    /// `k` of their input to partition `k` of `frame`.
    fn emit_per_partition(
        &mut self,
        frame: &LazyFrame,
        input: &LazyFrame,
        kind: impl Fn(usize) -> TaskKind,
    ) -> Vec<TaskId> {
        let inputs = self.emit(input);
        inputs
            .iter()
            .enumerate()
            .map(|(k, &t)| {
                self.graph
                    .push(kind(k), Some(k), Some(frame.parts[k].rows), vec![t])
            })
            .collect()
    }

    /// Emits the tasks of `frame` and returns the task of each of its partitions.
    fn emit(&mut self, frame: &LazyFrame) -> Vec<TaskId> {
        let key = Arc::as_ptr(&frame.node) as usize;
        if let Some(tasks) = self.done.get(&key) {
            return tasks.clone();
        }
        let first_rows: Vec<u64> = prefix(&frame.parts);
        let tasks: Vec<TaskId> = match frame.node.as_ref() {
            Node::Source(data) => {
                let source = self.context.sources.len();
                self.context.sources.push(data.clone());
                (0..frame.parts.len())
                    .map(|k| {
                        self.graph.push(
                            TaskKind::Scan {
                                source,
                                partition: k,
                            },
                            Some(k),
                            Some(frame.parts[k].rows),
                            vec![],
                        )
                    })
                    .collect()
            }
            Node::Select { input, columns } => {
                self.emit_per_partition(frame, input, |_| TaskKind::Select {
                    columns: columns.clone(),
                    geometry_column: frame.geometry_column,
                })
            }
            Node::ToCrs { input, target } => {
                let from = input
                    .crs
                    .as_ref()
                    .map(|c| c.definition().to_string())
                    .unwrap_or_default();
                self.emit_per_partition(frame, input, |k| TaskKind::ToCrs {
                    from: from.clone(),
                    to: target.definition().to_string(),
                    first_row: first_rows[k],
                })
            }
            Node::AddColumn { input, name, op } => {
                self.emit_per_partition(frame, input, |k| TaskKind::AddColumn {
                    op: op.clone(),
                    name: name.clone(),
                    first_row: first_rows[k],
                })
            }
            Node::MapGeometry { input, op } => {
                self.emit_per_partition(frame, input, |k| TaskKind::MapGeometry {
                    op: op.clone(),
                    first_row: first_rows[k],
                })
            }
            Node::Clip { input, mask, kept } => {
                let inputs = self.emit(input);
                let input_first = prefix(&input.parts);
                kept.iter()
                    .enumerate()
                    .map(|(k, &i)| {
                        let kind = TaskKind::Clip {
                            mask: mask.clone(),
                            first_row: input_first[i],
                        };
                        self.graph
                            .push(kind, Some(k), Some(input.parts[i].rows), vec![inputs[i]])
                    })
                    .collect()
            }
            Node::Shuffle {
                input,
                method,
                sizes,
            } => {
                let inputs = self.emit(input);
                let input_first: Vec<u64> = prefix(&input.parts);
                let extent = input
                    .parts
                    .iter()
                    .fold(None, |acc, p| geometry::merge_bounds(acc, p.bounds))
                    .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
                let keys: Vec<TaskId> = inputs
                    .iter()
                    .enumerate()
                    .map(|(k, &t)| {
                        let kind = TaskKind::ShuffleKeys {
                            method: *method,
                            extent,
                            first_row: input_first[k],
                        };
                        self.graph
                            .push(kind, Some(k), Some(input.parts[k].rows), vec![t])
                    })
                    .collect();
                let plan = self.graph.push(
                    TaskKind::ShufflePlan {
                        method: *method,
                        sizes: sizes.clone(),
                    },
                    None,
                    Some(sizes.iter().sum::<usize>() as u64),
                    keys.clone(),
                );
                (0..sizes.len())
                    .map(|k| {
                        let mut deps = vec![plan];
                        deps.extend(&keys);
                        deps.extend(&inputs);
                        self.graph.push(
                            TaskKind::ShuffleGather { output: k },
                            Some(k),
                            Some(sizes[k] as u64),
                            deps,
                        )
                    })
                    .collect()
            }
            Node::Nearest {
                left,
                right,
                how,
                max_distance,
                exclusive,
                with_distance,
                groups,
            } => {
                let lefts = self.emit(left);
                let rights = self.emit(right);
                let left_first: Vec<u64> = prefix(&left.parts);
                let right_first: Vec<u64> = prefix(&right.parts);
                let schema = self.context.schemas.len();
                self.context.schemas.push(frame.schema.clone());
                let other_schema = self.context.schemas.len();
                self.context.schemas.push(right.schema.clone());
                let mut indexes: BTreeMap<usize, TaskId> = BTreeMap::new();
                let mut out = Vec::with_capacity(groups.len());
                for (k, (l, rs, radius, limit)) in groups.iter().enumerate() {
                    let mut deps = vec![lefts[*l]];
                    for &r in rs {
                        deps.push(*indexes.entry(r).or_insert_with(|| {
                            self.graph.push(
                                TaskKind::BuildIndex {
                                    first_row: right_first[r],
                                },
                                Some(r),
                                Some(right.parts[r].rows),
                                vec![rights[r]],
                            )
                        }));
                    }
                    let pairs = self.graph.push(
                        TaskKind::NearestPairs {
                            left_first_row: left_first[*l],
                            right_first_rows: rs.iter().map(|&r| right_first[r]).collect(),
                            max_distance: *max_distance,
                            radius: *radius,
                            limit: *limit,
                            exclusive: *exclusive,
                        },
                        Some(*l),
                        None,
                        deps,
                    );
                    let mut deps = vec![lefts[*l], pairs];
                    deps.extend(rs.iter().map(|&r| rights[r]));
                    out.push(self.graph.push(
                        TaskKind::JoinMerge {
                            how: *how,
                            base_first_row: left_first[*l],
                            other_first_rows: rs.iter().map(|&r| right_first[r]).collect(),
                            pair_results: 1,
                            schema,
                            other_schema,
                            other_geometry: right.geometry_column,
                            with_distance: *with_distance,
                        },
                        Some(k),
                        None,
                        deps,
                    ));
                }
                out
            }
            Node::Join {
                base,
                other,
                predicate,
                how,
                groups,
            } => {
                let (bases, others, pair_tasks) =
                    self.emit_join_pairs(base, other, *predicate, groups);
                let base_first: Vec<u64> = prefix(&base.parts);
                let other_first: Vec<u64> = prefix(&other.parts);
                let schema = self.context.schemas.len();
                self.context.schemas.push(frame.schema.clone());
                let other_schema = self.context.schemas.len();
                self.context.schemas.push(other.schema.clone());
                let mut out = Vec::with_capacity(groups.len());
                for (k, ((b, os), pair_tasks)) in groups.iter().zip(pair_tasks).enumerate() {
                    let mut deps = vec![bases[*b]];
                    deps.extend(&pair_tasks);
                    deps.extend(os.iter().map(|&o| others[o]));
                    out.push(self.graph.push(
                        TaskKind::JoinMerge {
                            how: *how,
                            base_first_row: base_first[*b],
                            other_first_rows: os.iter().map(|&o| other_first[o]).collect(),
                            pair_results: pair_tasks.len(),
                            schema,
                            other_schema,
                            other_geometry: other.geometry_column,
                            with_distance: false,
                        },
                        Some(k),
                        None,
                        deps,
                    ));
                }
                out
            }
        };
        self.done.insert(key, tasks.clone());
        tasks
    }

    /// The pair tasks of a join of `base` with `other`, one list per group (base partition
    /// and the other partitions it meets), with the tasks of both inputs: (base tasks, other
    /// tasks, pair tasks per group).
    fn emit_join_pairs(
        &mut self,
        base: &LazyFrame,
        other: &LazyFrame,
        predicate: Predicate,
        groups: &[(usize, Vec<usize>)],
    ) -> (Vec<TaskId>, Vec<TaskId>, Vec<Vec<TaskId>>) {
        let bases = self.emit(base);
        let others = self.emit(other);
        let base_first: Vec<u64> = prefix(&base.parts);
        let other_first: Vec<u64> = prefix(&other.parts);
        let mut indexes: BTreeMap<usize, TaskId> = BTreeMap::new();
        let mut pairs = Vec::with_capacity(groups.len());
        for (b, os) in groups {
            let mut pair_tasks = Vec::with_capacity(os.len());
            for &o in os {
                let index = *indexes.entry(o).or_insert_with(|| {
                    self.graph.push(
                        TaskKind::BuildIndex {
                            first_row: other_first[o],
                        },
                        Some(o),
                        Some(other.parts[o].rows),
                        vec![others[o]],
                    )
                });
                pair_tasks.push(self.graph.push(
                    TaskKind::JoinPair {
                        predicate,
                        left_first_row: base_first[*b],
                        right_first_row: other_first[o],
                    },
                    Some(*b),
                    None,
                    vec![bases[*b], index],
                ));
            }
            pairs.push(pair_tasks);
        }
        (bases, others, pairs)
    }
}

fn prefix(parts: &[PartMeta]) -> Vec<u64> {
    parts
        .iter()
        .scan(0u64, |next, p| {
            let first = *next;
            *next += p.rows;
            Some(first)
        })
        .collect()
}

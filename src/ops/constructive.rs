//! Operations that give each row a new geometry ([`GeometryOp`], applied with
//! [`GeoFrame::map_geometry`] or lazily with `LazyFrame::map_geometry`), plus
//! [`GeoFrame::explode`] and [`points_from_xy`].
//!
//! Attributes and partitions are kept; partition bounds are recomputed from the new
//! geometries.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use geo::{
    AffineOps, AffineTransform, BoundingRect, Buffer, Centroid, ConvexHull, Coord, Geometry,
    InteriorPoint, LineString, MakeValid, MultiLineString, MultiPoint, Rotate, Scale, Simplify,
    SimplifyVw, SimplifyVwPreserve, Skew, Translate,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{CollectInOrder, Error, Result};
use crate::partition::Partition;
use crate::{geometry, Crs, GeoFrame};

/// How [`GeometryOp::Simplify`] drops vertices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimplifyMethod {
    /// Ramer-Douglas-Peucker (GeoPandas' `simplify(preserve_topology=False)`).
    DouglasPeucker,
    /// Visvalingam-Whyatt: drops the vertices of smallest triangle area (tolerance is an
    /// area).
    VisvalingamWhyatt,
    /// Visvalingam-Whyatt that never makes rings or lines cross themselves or each other.
    VisvalingamWhyattPreserve,
}

/// A per-row geometry operation. Plain data, so a plan that holds one can be serialized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GeometryOp {
    /// Area-weighted centroid (of the highest dimension), as GEOS computes it.
    Centroid,
    /// A point guaranteed to lie inside the geometry (GeoPandas' `representative_point`).
    RepresentativePoint,
    /// The bounding box: a polygon, or a point or line where the box is degenerate.
    Envelope,
    /// The convex hull (a point stays a point).
    ConvexHull,
    /// The boundary: rings of polygons as lines, end points of open lines; empty for points.
    Boundary,
    /// Fewer vertices, every dropped one within `tolerance` of the result.
    Simplify {
        /// Distance (or area, for Visvalingam-Whyatt) below which vertices are dropped.
        tolerance: f64,
        /// Which algorithm.
        method: SimplifyMethod,
    },
    /// Everything within `distance` (round joins and caps); negative shrinks polygons.
    Buffer {
        /// The buffer distance in CRS units.
        distance: f64,
    },
    /// `x' = a x + b y + xoff`, `y' = d x + e y + yoff` (shapely's `affine_transform`
    /// order: `[a, b, d, e, xoff, yoff]`).
    Affine {
        /// `[a, b, d, e, xoff, yoff]`.
        matrix: [f64; 6],
    },
    /// Shift by (`dx`, `dy`).
    Translate {
        /// Shift along x.
        dx: f64,
        /// Shift along y.
        dy: f64,
    },
    /// Counter-clockwise rotation by `degrees` around the row's bounding-box centre
    /// (GeoPandas' `rotate(angle, origin="center")`).
    Rotate {
        /// Angle in degrees.
        degrees: f64,
    },
    /// Scaling around the row's bounding-box centre (GeoPandas' `scale(xfact, yfact)`).
    Scale {
        /// Factor along x.
        x: f64,
        /// Factor along y.
        y: f64,
    },
    /// Shear by angles in degrees around the row's bounding-box centre (GeoPandas'
    /// `skew(xs, ys)`).
    Skew {
        /// Shear angle along x, in degrees.
        x_degrees: f64,
        /// Shear angle along y, in degrees.
        y_degrees: f64,
    },
    /// Repairs invalid polygons (self-intersections, wrong nesting) with `geo`'s
    /// `MakeValid`; other types are returned as they are.
    MakeValid,
}

impl GeometryOp {
    /// A short name, for task graphs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            GeometryOp::Centroid => "centroid",
            GeometryOp::RepresentativePoint => "representative_point",
            GeometryOp::Envelope => "envelope",
            GeometryOp::ConvexHull => "convex_hull",
            GeometryOp::Boundary => "boundary",
            GeometryOp::Simplify { .. } => "simplify",
            GeometryOp::Buffer { .. } => "buffer",
            GeometryOp::Affine { .. } => "affine_transform",
            GeometryOp::Translate { .. } => "translate",
            GeometryOp::Rotate { .. } => "rotate",
            GeometryOp::Scale { .. } => "scale",
            GeometryOp::Skew { .. } => "skew",
            GeometryOp::MakeValid => "make_valid",
        }
    }

    /// Checks the parameters (finite numbers, non-negative tolerance).
    pub fn check(&self) -> Result<()> {
        let numbers: Vec<f64> = match self {
            GeometryOp::Simplify { tolerance, .. } => {
                if *tolerance < 0.0 {
                    return Err(Error::InvalidArgument(format!(
                        "simplify tolerance must be >= 0, not {tolerance}"
                    )));
                }
                vec![*tolerance]
            }
            GeometryOp::Buffer { distance } => vec![*distance],
            GeometryOp::Affine { matrix } => matrix.to_vec(),
            GeometryOp::Translate { dx, dy } => vec![*dx, *dy],
            GeometryOp::Rotate { degrees } => vec![*degrees],
            GeometryOp::Scale { x, y } => vec![*x, *y],
            GeometryOp::Skew {
                x_degrees,
                y_degrees,
            } => vec![*x_degrees, *y_degrees],
            _ => vec![],
        };
        if numbers.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "{}: parameters must be finite, got {numbers:?}",
                self.name()
            )))
        }
    }

    /// Bounds that hold the results of geometries within `bounds`; `None` when they can be
    /// anywhere (rotations, scaling, shears, general affine transforms).
    pub fn bounds_after(&self, bounds: geo::Rect) -> Option<geo::Rect> {
        match self {
            GeometryOp::Buffer { distance } => {
                let d = distance.max(0.0);
                Some(geo::Rect::new(
                    (bounds.min().x - d, bounds.min().y - d),
                    (bounds.max().x + d, bounds.max().y + d),
                ))
            }
            GeometryOp::Translate { dx, dy } => Some(bounds.translate(*dx, *dy)),
            GeometryOp::Affine { .. }
            | GeometryOp::Rotate { .. }
            | GeometryOp::Scale { .. }
            | GeometryOp::Skew { .. } => None,
            _ => Some(bounds),
        }
    }

    /// The operation applied to one geometry; `None` where the result is empty (the
    /// centroid of an empty geometry, say) and the row becomes null.
    pub fn apply(&self, g: &Geometry) -> Option<Geometry> {
        Some(match self {
            GeometryOp::Centroid => g.centroid()?.into(),
            GeometryOp::RepresentativePoint => g.interior_point()?.into(),
            GeometryOp::Envelope => envelope(g)?,
            GeometryOp::ConvexHull => match g {
                Geometry::Point(_) => g.clone(),
                _ => g.convex_hull().into(),
            },
            GeometryOp::Boundary => boundary(g),
            GeometryOp::Simplify { tolerance, method } => simplify(g, *tolerance, *method),
            GeometryOp::Buffer { distance } => g.buffer(*distance).into(),
            GeometryOp::Affine { matrix } => {
                let [a, b, d, e, xoff, yoff] = *matrix;
                g.affine_transform(&AffineTransform::new(a, b, xoff, d, e, yoff))
            }
            GeometryOp::Translate { dx, dy } => g.translate(*dx, *dy),
            GeometryOp::Rotate { degrees } => g.rotate_around_center(*degrees),
            GeometryOp::Scale { x, y } => g.scale_xy(*x, *y),
            GeometryOp::Skew {
                x_degrees,
                y_degrees,
            } => g.skew_xy(*x_degrees, *y_degrees),
            GeometryOp::MakeValid => match g {
                Geometry::Polygon(p) => p.make_valid().ok()?.into(),
                Geometry::MultiPolygon(m) => m.make_valid().ok()?.into(),
                _ => g.clone(),
            },
        })
    }

    /// The operation applied to every row of one partition (rows numbered from
    /// `first_row`), attributes kept.
    pub(crate) fn apply_partition(
        &self,
        frame_schema: &arrow_schema::SchemaRef,
        p: &Partition,
        first_row: u64,
    ) -> Result<Partition> {
        let geoms = p.geometries(first_row)?;
        let out: Vec<Option<Geometry>> = geoms
            .iter()
            .map(|g| g.as_ref().and_then(|g| self.apply(g)))
            .collect();
        let array = geometry::encode_array(out.iter().map(Option::as_ref));
        let mut columns: Vec<ArrayRef> = p.batch().columns().to_vec();
        columns[p.geometry_column_index()] = Arc::new(array);
        let batch = RecordBatch::try_new(frame_schema.clone(), columns)?;
        Partition::new(batch, p.geometry_column_index(), first_row)
    }
}

fn envelope(g: &Geometry) -> Option<Geometry> {
    let r = g.bounding_rect()?;
    let (w, h) = (r.width(), r.height());
    Some(if w == 0.0 && h == 0.0 {
        geo::Point::from(r.min()).into()
    } else if w == 0.0 || h == 0.0 {
        LineString::from(vec![r.min(), r.max()]).into()
    } else {
        r.to_polygon().into()
    })
}

fn boundary(g: &Geometry) -> Geometry {
    let rings = |p: &geo::Polygon| -> Vec<LineString> {
        std::iter::once(p.exterior().clone())
            .chain(p.interiors().iter().cloned())
            .collect()
    };
    let ends = |l: &LineString| -> Vec<geo::Point> {
        match (l.0.first(), l.0.last()) {
            (Some(a), Some(b)) if a != b => vec![(*a).into(), (*b).into()],
            _ => vec![],
        }
    };
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => {
            Geometry::GeometryCollection(Default::default())
        }
        Geometry::Line(l) => MultiPoint::new(vec![l.start.into(), l.end.into()]).into(),
        Geometry::LineString(l) => MultiPoint::new(ends(l)).into(),
        Geometry::MultiLineString(m) => {
            // Mod-2 rule: end points shared by an even number of lines are not boundary.
            let mut counts: Vec<(Coord, usize)> = Vec::new();
            for l in &m.0 {
                for p in ends(l) {
                    match counts.iter_mut().find(|(c, _)| *c == p.0) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((p.0, 1)),
                    }
                }
            }
            MultiPoint::new(
                counts
                    .into_iter()
                    .filter(|(_, n)| n % 2 == 1)
                    .map(|(c, _)| c.into())
                    .collect(),
            )
            .into()
        }
        Geometry::Polygon(p) if p.interiors().is_empty() => p.exterior().clone().into(),
        Geometry::Polygon(p) => MultiLineString::new(rings(p)).into(),
        Geometry::MultiPolygon(m) => {
            MultiLineString::new(m.0.iter().flat_map(rings).collect()).into()
        }
        Geometry::Rect(r) => r.to_polygon().exterior().clone().into(),
        Geometry::Triangle(t) => t.to_polygon().exterior().clone().into(),
        Geometry::GeometryCollection(c) => {
            Geometry::GeometryCollection(c.0.iter().map(boundary).collect())
        }
    }
}

fn simplify(g: &Geometry, tolerance: f64, method: SimplifyMethod) -> Geometry {
    macro_rules! by_method {
        ($x:expr) => {
            match method {
                SimplifyMethod::DouglasPeucker => $x.simplify(tolerance).into(),
                SimplifyMethod::VisvalingamWhyatt => $x.simplify_vw(tolerance).into(),
                SimplifyMethod::VisvalingamWhyattPreserve => {
                    $x.simplify_vw_preserve(tolerance).into()
                }
            }
        };
    }
    match g {
        Geometry::LineString(l) => by_method!(l),
        Geometry::MultiLineString(m) => by_method!(m),
        Geometry::Polygon(p) => by_method!(p),
        Geometry::MultiPolygon(m) => by_method!(m),
        Geometry::GeometryCollection(c) => Geometry::GeometryCollection(
            c.0.iter().map(|g| simplify(g, tolerance, method)).collect(),
        ),
        _ => g.clone(),
    }
}

impl GeoFrame {
    /// Applies `op` to every row, partition by partition in parallel; attributes and
    /// partitions are kept and partition bounds recomputed.
    ///
    /// ```
    /// use geo::{polygon, Geometry};
    /// use geoframe::{ops::GeometryOp, GeoFrame};
    /// let square: Geometry = polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 2., y: 2.), (x: 0., y: 2.)].into();
    /// let frame = GeoFrame::from_geometries(vec![square], None)?;
    /// let moved = frame.map_geometry(&GeometryOp::Translate { dx: 10.0, dy: 0.0 })?;
    /// assert_eq!(moved.total_bounds().unwrap().min().x, 10.0);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn map_geometry(&self, op: &GeometryOp) -> Result<GeoFrame> {
        op.check()?;
        let offsets = self.partition_offsets();
        let partitions = self
            .partitions()
            .par_iter()
            .zip(offsets)
            .map(|(p, first)| op.apply_partition(self.schema(), p, first))
            .collect_in_order()?;
        Ok(GeoFrame::from_parts(
            self.schema().clone(),
            self.geometry_column_index(),
            self.crs().cloned(),
            partitions,
        ))
    }

    /// The centroid of each row ([`GeometryOp::Centroid`]).
    pub fn centroid(&self) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Centroid)
    }

    /// A point inside each row ([`GeometryOp::RepresentativePoint`]).
    pub fn representative_point(&self) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::RepresentativePoint)
    }

    /// The bounding box of each row ([`GeometryOp::Envelope`]).
    pub fn envelope(&self) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Envelope)
    }

    /// The convex hull of each row ([`GeometryOp::ConvexHull`]).
    pub fn convex_hull(&self) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::ConvexHull)
    }

    /// The boundary of each row ([`GeometryOp::Boundary`]).
    pub fn boundary(&self) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Boundary)
    }

    /// Douglas-Peucker simplification of each row ([`GeometryOp::Simplify`]).
    pub fn simplify(&self, tolerance: f64) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Simplify {
            tolerance,
            method: SimplifyMethod::DouglasPeucker,
        })
    }

    /// The buffer of each row ([`GeometryOp::Buffer`]).
    pub fn buffer(&self, distance: f64) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Buffer { distance })
    }

    /// Each row shifted by (`dx`, `dy`).
    pub fn translate(&self, dx: f64, dy: f64) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Translate { dx, dy })
    }

    /// Each row rotated by `degrees` around its bounding-box centre.
    pub fn rotate(&self, degrees: f64) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Rotate { degrees })
    }

    /// Each row scaled around its bounding-box centre.
    pub fn scale(&self, x: f64, y: f64) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Scale { x, y })
    }

    /// Each row sheared by angles in degrees around its bounding-box centre.
    pub fn skew(&self, x_degrees: f64, y_degrees: f64) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::Skew {
            x_degrees,
            y_degrees,
        })
    }

    /// Each polygon row repaired ([`GeometryOp::MakeValid`]).
    pub fn make_valid(&self) -> Result<GeoFrame> {
        self.map_geometry(&GeometryOp::MakeValid)
    }

    /// One row per part of each multi-part row (MultiPoint, MultiLineString, MultiPolygon,
    /// GeometryCollection), attributes repeated, plus a column `source_row` with the row
    /// each part came from (GeoPandas keeps the index). Single-part and null rows stay as
    /// they are. Partitions are kept.
    ///
    /// ```
    /// use geo::{point, Geometry, MultiPoint};
    /// use geoframe::GeoFrame;
    /// let two: Geometry = MultiPoint::new(vec![point!(x: 0., y: 0.), point!(x: 1., y: 1.)]).into();
    /// let frame = GeoFrame::from_geometries(vec![two], None)?.explode()?;
    /// assert_eq!(frame.len(), 2);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn explode(&self) -> Result<GeoFrame> {
        if self.schema().column_with_name("source_row").is_some() {
            return Err(Error::InvalidArgument(
                "explode: the frame already has a column named source_row".into(),
            ));
        }
        let mut fields: Vec<Field> = self
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("source_row", DataType::Int64, false));
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.schema().metadata().clone(),
        ));
        let gcol = self.geometry_column_index();
        let offsets = self.partition_offsets();
        let partitions = self
            .partitions()
            .par_iter()
            .zip(offsets)
            .map(|(p, first)| {
                let mut take = Vec::new();
                let mut parts: Vec<Option<Geometry>> = Vec::new();
                for (i, g) in p.geometries(first)?.into_iter().enumerate() {
                    let pieces: Vec<Geometry> = match g {
                        Some(Geometry::MultiPoint(m)) => m.0.into_iter().map(Into::into).collect(),
                        Some(Geometry::MultiLineString(m)) => {
                            m.0.into_iter().map(Into::into).collect()
                        }
                        Some(Geometry::MultiPolygon(m)) => {
                            m.0.into_iter().map(Into::into).collect()
                        }
                        Some(Geometry::GeometryCollection(c)) => c.0,
                        Some(g) => vec![g],
                        None => {
                            take.push(i as u64);
                            parts.push(None);
                            continue;
                        }
                    };
                    for piece in pieces {
                        take.push(i as u64);
                        parts.push(Some(piece));
                    }
                }
                let source_row =
                    Int64Array::from_iter_values(take.iter().map(|&i| (first + i) as i64));
                let taken = arrow_select::take::take_record_batch(
                    p.batch(),
                    &arrow_array::UInt64Array::from(take),
                )?;
                let mut columns: Vec<ArrayRef> = taken.columns().to_vec();
                columns[gcol] = Arc::new(geometry::encode_array(parts.iter().map(Option::as_ref)));
                columns.push(Arc::new(source_row));
                Ok(RecordBatch::try_new(schema.clone(), columns)?)
            })
            .collect_in_order()?;
        let name = self.geometry_column().to_string();
        GeoFrame::from_record_batches(schema, partitions, &name, self.crs().cloned())
    }
}

/// A point layer from coordinate columns (GeoPandas' `points_from_xy`), one partition.
///
/// ```
/// let frame = geoframe::ops::points_from_xy(&[0.0, 1.0], &[5.0, 6.0], None)?;
/// assert_eq!(frame.len(), 2);
/// assert_eq!(frame.y()?.value(1), 6.0);
/// # Ok::<(), geoframe::Error>(())
/// ```
pub fn points_from_xy(x: &[f64], y: &[f64], crs: Option<Crs>) -> Result<GeoFrame> {
    if x.len() != y.len() {
        return Err(Error::InvalidArgument(format!(
            "points_from_xy: {} x values but {} y values",
            x.len(),
            y.len()
        )));
    }
    let points: Vec<Geometry> = x
        .iter()
        .zip(y)
        .map(|(&x, &y)| geo::Point::new(x, y).into())
        .collect();
    GeoFrame::from_geometries(points, crs)
}

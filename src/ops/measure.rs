//! Per-row measures and properties, as Arrow arrays in row order (nulls where the geometry
//! is null).
//!
//! Planar measures (`area`, `length`, `distance`) are in the units of the frame's CRS, as
//! GeoPandas computes them. The `geodesic_*` measures are on the WGS84 ellipsoid (Karney's
//! algorithm, as pyproj's `Geod`), in metres and square metres, and need a geographic CRS:
//! the names keep degrees and metres apart.

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use geo::{
    Area, BoundingRect, Distance, Euclidean, Geodesic, GeodesicArea, Geometry, HasDimensions,
    Length, LineString, Validation,
};

use serde::{Deserialize, Serialize};

use super::per_row;
use crate::error::{Error, Result};
use crate::partition::Partition;
use crate::{geometry, GeoFrame};

/// Sum of the lengths of `g`'s lines, or of its rings for polygons (GeoPandas' `length`).
fn total_length(g: &Geometry, line: &impl Fn(&LineString) -> f64) -> f64 {
    match g {
        Geometry::Point(_) | Geometry::MultiPoint(_) => 0.0,
        Geometry::Line(l) => line(&LineString::from(vec![l.start, l.end])),
        Geometry::LineString(l) => line(l),
        Geometry::MultiLineString(m) => m.0.iter().map(line).sum(),
        Geometry::Polygon(p) => line(p.exterior()) + p.interiors().iter().map(line).sum::<f64>(),
        Geometry::MultiPolygon(m) => {
            m.0.iter()
                .map(|p| total_length(&Geometry::Polygon(p.clone()), line))
                .sum()
        }
        Geometry::Rect(r) => total_length(&Geometry::Polygon(r.to_polygon()), line),
        Geometry::Triangle(t) => total_length(&Geometry::Polygon(t.to_polygon()), line),
        Geometry::GeometryCollection(c) => c.0.iter().map(|g| total_length(g, line)).sum(),
    }
}

fn geodesic_area_of(g: &Geometry) -> f64 {
    match g {
        // |signed area| per polygon, as pyproj's Geod: `geodesic_area_unsigned` of a
        // clockwise ring is the rest of the ellipsoid.
        Geometry::Polygon(p) => p.geodesic_area_signed().abs(),
        Geometry::MultiPolygon(m) => m.0.iter().map(|p| p.geodesic_area_signed().abs()).sum(),
        Geometry::Rect(r) => r.to_polygon().geodesic_area_signed().abs(),
        Geometry::Triangle(t) => t.to_polygon().geodesic_area_signed().abs(),
        Geometry::GeometryCollection(c) => c.0.iter().map(geodesic_area_of).sum(),
        _ => 0.0,
    }
}

/// A per-row number, as a plain value so a plan can carry it
/// (`LazyFrame::with_measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// Planar area ([`GeoFrame::area`]).
    Area,
    /// Planar length ([`GeoFrame::length`]).
    Length,
    /// Geodesic area in m² ([`GeoFrame::geodesic_area`]).
    GeodesicArea,
    /// Geodesic length in m ([`GeoFrame::geodesic_length`]).
    GeodesicLength,
    /// x of a point ([`GeoFrame::x`]).
    X,
    /// y of a point ([`GeoFrame::y`]).
    Y,
}

impl Measure {
    /// The GeoPandas-style name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Area => "area",
            Measure::Length => "length",
            Measure::GeodesicArea => "geodesic_area",
            Measure::GeodesicLength => "geodesic_length",
            Measure::X => "x",
            Measure::Y => "y",
        }
    }

    /// Whether the measure needs a geographic CRS.
    pub fn geodesic(self) -> bool {
        matches!(self, Measure::GeodesicArea | Measure::GeodesicLength)
    }

    /// The measure of one geometry (row `row`, for errors).
    pub fn of(self, g: &Geometry, row: u64) -> Result<f64> {
        Ok(match self {
            Measure::Area => g.unsigned_area(),
            Measure::Length => total_length(g, &|l: &LineString| Euclidean.length(l)),
            Measure::GeodesicArea => geodesic_area_of(g),
            Measure::GeodesicLength => total_length(g, &|l: &LineString| Geodesic.length(l)),
            Measure::X | Measure::Y => match g {
                Geometry::Point(p) if self == Measure::X => p.x(),
                Geometry::Point(p) => p.y(),
                _ => return Err(not_a_point(self.name(), row, g)),
            },
        })
    }

    /// The measure of every row of one partition (nulls stay null).
    pub(crate) fn of_partition(self, p: &Partition, first_row: u64) -> Result<Float64Array> {
        p.geometries(first_row)?
            .iter()
            .enumerate()
            .map(|(i, g)| {
                g.as_ref()
                    .map(|g| self.of(g, first_row + i as u64))
                    .transpose()
            })
            .collect()
    }
}

fn floats(values: Vec<Option<f64>>) -> Float64Array {
    values.into_iter().collect()
}

/// Fails unless `crs` is geographic (longitude, latitude in degrees).
pub(crate) fn require_geographic(crs: Option<&crate::Crs>, op: &'static str) -> Result<()> {
    let crs = crs.ok_or(Error::MissingCrs(op))?;
    if crs.is_geographic()? {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{op} needs a geographic CRS (longitude/latitude); this frame is in {crs}: \
             use the planar measure, or to_crs(EPSG:4326) first"
        )))
    }
}

impl GeoFrame {
    /// Fails unless the frame's CRS is geographic (longitude, latitude in degrees).
    fn require_geographic(&self, op: &'static str) -> Result<()> {
        require_geographic(self.crs(), op)
    }

    /// Planar area of each row, in CRS units squared (0 for points and lines).
    ///
    /// ```
    /// use geo::{polygon, Geometry};
    /// use geoframe::GeoFrame;
    /// let square: Geometry = polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 2., y: 2.), (x: 0., y: 2.)].into();
    /// let frame = GeoFrame::from_geometries(vec![square], None)?;
    /// assert_eq!(frame.area()?.value(0), 4.0);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn area(&self) -> Result<Float64Array> {
        self.measure(Measure::Area)
    }

    /// Any [`Measure`] of each row, partition by partition in parallel.
    pub fn measure(&self, measure: Measure) -> Result<Float64Array> {
        if measure.geodesic() {
            self.require_geographic(measure.name())?;
        }
        Ok(floats(per_row(self, |g, row| measure.of(g, row))?))
    }

    /// Planar length of each row: line length, or ring perimeter for polygons (0 for points).
    pub fn length(&self) -> Result<Float64Array> {
        self.measure(Measure::Length)
    }

    /// Geodesic area of each row on the WGS84 ellipsoid, in m². Needs a geographic CRS.
    pub fn geodesic_area(&self) -> Result<Float64Array> {
        self.measure(Measure::GeodesicArea)
    }

    /// Geodesic length (perimeter for polygons) of each row on the WGS84 ellipsoid, in m.
    /// Needs a geographic CRS.
    pub fn geodesic_length(&self) -> Result<Float64Array> {
        self.measure(Measure::GeodesicLength)
    }

    /// Planar distance from each row to `other`, in CRS units (0 where they meet).
    pub fn distance(&self, other: &Geometry) -> Result<Float64Array> {
        Ok(floats(per_row(self, |g, _| {
            Ok(Euclidean.distance(g, other))
        })?))
    }

    /// Geodesic distance in metres from each point row to the point `other` (WGS84). Needs
    /// a geographic CRS and point rows.
    pub fn geodesic_distance(&self, other: &geo::Point) -> Result<Float64Array> {
        self.require_geographic("geodesic_distance")?;
        Ok(floats(per_row(self, |g, row| match g {
            Geometry::Point(p) => Ok(Geodesic.distance(*p, *other)),
            _ => Err(not_a_point("geodesic_distance", row, g)),
        })?))
    }

    /// Bounds of each row as columns `minx`, `miny`, `maxx`, `maxy` (nulls for empty or
    /// null geometries).
    pub fn bounds(&self) -> Result<RecordBatch> {
        let rects = per_row(self, |g, _| Ok(g.bounding_rect()))?;
        let col = |f: &dyn Fn(&geo::Rect) -> f64| -> ArrayRef {
            Arc::new(
                rects
                    .iter()
                    .map(|r| r.flatten().map(|r| f(&r)))
                    .collect::<Float64Array>(),
            )
        };
        let schema = Schema::new(
            ["minx", "miny", "maxx", "maxy"]
                .map(|n| Field::new(n, DataType::Float64, true))
                .to_vec(),
        );
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                col(&|r| r.min().x),
                col(&|r| r.min().y),
                col(&|r| r.max().x),
                col(&|r| r.max().y),
            ],
        )?)
    }

    /// GeoPandas' geometry type name of each row (`"Point"`, `"MultiPolygon"`, ...).
    pub fn geom_type(&self) -> Result<StringArray> {
        let names = per_row(self, |g, _| Ok(geometry::type_name(g)))?;
        Ok(names.into_iter().collect())
    }

    /// Whether each row's geometry is empty (GeoPandas' `is_empty`; `GeoFrame::is_empty`
    /// says whether the frame has rows). A null geometry gives null.
    pub fn geom_is_empty(&self) -> Result<BooleanArray> {
        Ok(per_row(self, |g, _| Ok(g.is_empty()))?
            .into_iter()
            .collect())
    }

    /// Whether each row is valid in the OGC sense (closed, non-self-intersecting rings,
    /// holes inside their shell, ...), as `geo`'s `Validation` decides.
    pub fn is_valid(&self) -> Result<BooleanArray> {
        Ok(per_row(self, |g, _| Ok(g.is_valid()))?
            .into_iter()
            .collect())
    }

    /// `"Valid Geometry"` for valid rows (GeoPandas' wording), else the first reason the
    /// row is invalid.
    pub fn is_valid_reason(&self) -> Result<StringArray> {
        let reasons = per_row(self, |g, _| {
            Ok(match g.check_validation() {
                Ok(()) => "Valid Geometry".to_string(),
                Err(e) => e.to_string(),
            })
        })?;
        Ok(reasons.into_iter().collect())
    }

    /// The x coordinate of each point row; an error names the first row that is not a point.
    pub fn x(&self) -> Result<Float64Array> {
        self.measure(Measure::X)
    }

    /// The y coordinate of each point row; an error names the first row that is not a point.
    pub fn y(&self) -> Result<Float64Array> {
        self.measure(Measure::Y)
    }
}

fn not_a_point(op: &str, row: u64, g: &Geometry) -> Error {
    Error::InvalidGeometry {
        path: None,
        record: row,
        message: format!("{op} needs a Point, found a {}", geometry::type_name(g)),
    }
}

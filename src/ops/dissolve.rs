//! `dissolve(by, aggregates)`: group rows by attribute values and union each group's
//! polygons; `union_all`: the union of every polygon of a frame.
//!
//! Partitions are read in parallel and their rows grouped; each group's polygons are then
//! unioned in a balanced tree over fixed runs of rows (in row order), groups and subtrees
//! in parallel. The tree depends on the rows only, not on the partitions or the workers, so
//! the result is the same whatever the partitioning.
//!
//! Where a group is a clean coverage (neighbours share their edges vertex for vertex, as
//! counties cut from one topology do), shared edges cancel exactly and every input
//! coordinate is kept: areas equal the sums of the parts to about 1e-15. Otherwise each
//! group is snapped once to one integer grid over its bounds (`i_overlay`'s, about 2^-30
//! of the extent: areas move by a few parts in 10^9) and unioned exactly on it, so shared
//! boundaries still cancel without slivers.
//!
//! Invalid polygons (self-intersecting rings, rings wound the wrong way, holes touching
//! their shell) are not rejected or repaired first: every ring is oriented (shells
//! counter-clockwise, holes clockwise) and the union counts windings with the non-zero
//! fill rule, which resolves self-intersections and overlaps the way GEOS's `make_valid`
//! followed by `union` does for the common cases. It never fails on them.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema};
use geo::orient::Direction;
use geo::{Area, BoundingRect, Geometry, MultiPolygon, Orient};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{IntOverlayOptions, Overlay, ShapeType};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::adapter::FloatPointAdapter;
use i_overlay::i_float::float::rect::FloatRect;
use i_overlay::i_shape::int::shape::{IntContour, IntShape, IntShapes};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::GeoFrame;

/// How [`GeoFrame::dissolve`] combines a column's values within a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The value of the group's first row (in row order), any type.
    First,
    /// Sum of the non-null values, as Float64.
    Sum,
    /// Mean of the non-null values, as Float64 (null for a group of nulls).
    Mean,
    /// Number of non-null values, as Int64.
    Count,
    /// Smallest non-null value, as Float64.
    Min,
    /// Largest non-null value, as Float64.
    Max,
}

impl Aggregate {
    fn name(self) -> &'static str {
        match self {
            Aggregate::First => "first",
            Aggregate::Sum => "sum",
            Aggregate::Mean => "mean",
            Aggregate::Count => "count",
            Aggregate::Min => "min",
            Aggregate::Max => "max",
        }
    }
}

/// Subtrees with more rows than this are unioned in parallel.
const PARALLEL_ROWS: usize = 16;

/// The polygons of `g` with shells counter-clockwise and holes clockwise; `None` for
/// points and lines.
fn polygons_of(g: &Geometry, row: u64) -> Result<Vec<geo::Polygon>> {
    Ok(match g {
        Geometry::Polygon(p) => vec![p.orient(Direction::Default)],
        Geometry::MultiPolygon(m) => m.orient(Direction::Default).0,
        Geometry::Rect(r) => vec![r.to_polygon().orient(Direction::Default)],
        Geometry::Triangle(t) => vec![t.to_polygon().orient(Direction::Default)],
        Geometry::GeometryCollection(c) if c.0.is_empty() => vec![],
        other => {
            return Err(Error::InvalidGeometry {
                path: None,
                record: row,
                message: format!(
                    "dissolve and union_all union polygons; found a {} (see ROADMAP.md#dissolve-non-polygonal)",
                    crate::geometry::type_name(other)
                ),
            })
        }
    })
}

/// One integer grid for a whole union: every polygon of a group is snapped to it once, so
/// shared boundaries stay identical and the integer unions that follow are exact (unions
/// done in floats choose a new grid per operation, which leaves slivers between neighbours).
struct Grid(FloatPointAdapter<[f64; 2], f64>);

impl Grid {
    fn over(rows: &[Vec<geo::Polygon>]) -> Option<Grid> {
        let rect = rows
            .iter()
            .flatten()
            .filter_map(|p| p.bounding_rect())
            .reduce(|a, b| crate::geometry::merge_bounds(Some(a), Some(b)).unwrap_or(a))?;
        Some(Grid(FloatPointAdapter::new(FloatRect::new(
            rect.min().x,
            rect.max().x,
            rect.min().y,
            rect.max().y,
        ))))
    }

    fn shape(&self, p: &geo::Polygon) -> IntShape {
        let ring = |r: &geo::LineString| -> IntContour {
            let mut c: IntContour =
                r.0.iter()
                    .map(|c| self.0.float_to_int(&[c.x, c.y]))
                    .collect();
            if c.len() > 1 && c.first() == c.last() {
                c.pop();
            }
            c
        };
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(ring)
            .filter(|c| c.len() >= 3)
            .collect()
    }

    fn polygons(&self, shapes: IntShapes) -> MultiPolygon {
        let ring = |c: &IntContour| -> geo::LineString {
            let mut coords: Vec<geo::Coord> = c
                .iter()
                .map(|p| {
                    let [x, y] = self.0.int_to_float(p);
                    geo::coord! { x: x, y: y }
                })
                .collect();
            if let Some(&first) = coords.first() {
                coords.push(first);
            }
            geo::LineString::new(coords)
        };
        MultiPolygon::new(
            shapes
                .iter()
                .filter_map(|s| {
                    let (shell, holes) = s.split_first()?;
                    Some(geo::Polygon::new(
                        ring(shell),
                        holes.iter().map(ring).collect(),
                    ))
                })
                .collect(),
        )
    }
}

fn int_union(subject: &[IntShape], clip: &[IntShape]) -> IntShapes {
    let edges: usize = subject.iter().chain(clip).flatten().map(Vec::len).sum();
    let mut overlay = Overlay::new_custom(edges, IntOverlayOptions::ogc(), Default::default());
    overlay.add_shapes(subject, ShapeType::Subject);
    overlay.add_shapes(clip, ShapeType::Clip);
    overlay.overlay(OverlayRule::Union, FillRule::NonZero)
}

/// Union of `rows` on `grid`, as a balanced tree of pairwise unions, the halves of large
/// subtrees in parallel.
fn union_tree(grid: &Grid, rows: &[Vec<geo::Polygon>]) -> IntShapes {
    match rows {
        [] => Vec::new(),
        [row] => {
            let shapes: IntShapes = row.iter().map(|p| grid.shape(p)).collect();
            int_union(&shapes, &[])
        }
        _ => {
            let (a, b) = rows.split_at(rows.len() / 2);
            let (a, b) = if rows.len() > PARALLEL_ROWS {
                rayon::join(|| union_tree(grid, a), || union_tree(grid, b))
            } else {
                (union_tree(grid, a), union_tree(grid, b))
            };
            int_union(&a, &b)
        }
    }
}

/// The union of `rows` (each a list of oriented polygons).
///
/// Where the rows form a clean coverage (neighbours share edges vertex for vertex), the
/// exact edge-cancelling union of [`super::coverage`] is returned: it keeps every input
/// coordinate. It is checked against the overlay union (same area to 1e-7, so no overlap
/// or gap was mistaken), which is returned otherwise.
fn union_rows(rows: &[Vec<geo::Polygon>]) -> MultiPolygon {
    let Some(grid) = Grid::over(rows) else {
        return MultiPolygon::new(vec![]);
    };
    let overlay = grid.polygons(union_tree(&grid, rows));
    match super::coverage::coverage_union(rows.iter().flatten()) {
        Some(exact) => {
            let (a, b) = (exact.unsigned_area(), overlay.unsigned_area());
            if (a - b).abs() <= 1e-7 * a.max(b) && exact.0.len() == overlay.0.len() {
                exact
            } else {
                overlay
            }
        }
        None => overlay,
    }
}

impl GeoFrame {
    /// The union of every polygon of the frame (`None` when it has none).
    ///
    /// ```
    /// use geo::{Geometry, Rect};
    /// use geoframe::GeoFrame;
    /// let a: Geometry = Rect::new((0., 0.), (2., 2.)).to_polygon().into();
    /// let b: Geometry = Rect::new((1., 0.), (3., 2.)).to_polygon().into();
    /// let union = GeoFrame::from_geometries(vec![a, b], None)?.union_all()?.unwrap();
    /// assert_eq!(geo::Area::unsigned_area(&union), 6.0);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn union_all(&self) -> Result<Option<Geometry>> {
        let rows: Vec<Vec<geo::Polygon>> = super::per_row(self, polygons_of)?
            .into_iter()
            .flatten()
            .collect();
        let union = union_rows(&rows);
        Ok((!union.0.is_empty()).then(|| union.into()))
    }

    /// Groups rows by the values of the `by` columns and unions each group's polygons;
    /// `aggregates` say which other columns to keep and how. The output has one row per
    /// group, sorted by the group's values (as GeoPandas' `dissolve` sorts), with the `by`
    /// columns, then one column per aggregate named `column` (or `column_agg` when the
    /// same column is aggregated more than once), then the geometry; one partition. Rows
    /// with a null geometry count in aggregates but add nothing to the union.
    ///
    /// ```
    /// use geoframe::io::{read_shapefile, ShapefileOptions};
    /// use geoframe::ops::Aggregate;
    /// let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &ShapefileOptions::default())?;
    /// let continents = countries.dissolve(&["continent"], &[("pop_est", Aggregate::Sum)])?;
    /// assert_eq!(continents.len(), 8);
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn dissolve(&self, by: &[&str], aggregates: &[(&str, Aggregate)]) -> Result<GeoFrame> {
        if by.is_empty() {
            return Err(Error::InvalidArgument(
                "dissolve needs at least one column to group by (union_all unions everything)"
                    .into(),
            ));
        }
        let key_columns = by
            .iter()
            .map(|name| {
                if *name == self.geometry_column() {
                    return Err(Error::InvalidArgument(format!(
                        "dissolve cannot group by the geometry column {name:?}"
                    )));
                }
                self.column(name)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        // Group rows by their key, in key order; rows in row order within a group.
        let mut groups: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
        for (row, key) in group_keys(&key_columns)?.into_iter().enumerate() {
            groups.entry(key).or_default().push(row);
        }
        let mut polygons: Vec<Option<Vec<geo::Polygon>>> = super::per_row(self, polygons_of)?;
        let groups: Vec<Vec<usize>> = groups.into_values().collect();
        // Each row is in one group: move its polygons there.
        let grouped: Vec<Vec<Vec<geo::Polygon>>> = groups
            .iter()
            .map(|rows| rows.iter().filter_map(|&r| polygons[r].take()).collect())
            .collect();
        let unions: Vec<MultiPolygon> = grouped.par_iter().map(|parts| union_rows(parts)).collect();

        let firsts = UInt64Array::from_iter_values(groups.iter().map(|g| g[0] as u64));
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (name, column) in by.iter().zip(&key_columns) {
            fields.push(self.schema().field_with_name(name)?.clone());
            columns.push(arrow_select::take::take(column.as_ref(), &firsts, None)?);
        }
        for (name, agg) in aggregates {
            let repeated = aggregates.iter().filter(|(n, _)| n == name).count() > 1;
            let out_name = if repeated {
                format!("{name}_{}", agg.name())
            } else {
                name.to_string()
            };
            let column = self.column(name)?;
            let (field, array) =
                aggregate(&out_name, &column, *agg, &groups, &firsts).map_err(|e| match e {
                    Error::Arrow(e) => Error::InvalidArgument(format!(
                        "dissolve: cannot aggregate column {name:?} with {}: {e}",
                        agg.name()
                    )),
                    other => other,
                })?;
            fields.push(field);
            columns.push(array);
        }
        let geometry_name = self.geometry_column().to_string();
        fields.push(crate::geometry::geometry_field(&geometry_name));
        let geometries: Vec<Option<Geometry>> = unions
            .into_iter()
            .map(|m| (!m.0.is_empty()).then(|| m.into()))
            .collect();
        columns.push(Arc::new(crate::geometry::encode_array(
            geometries.iter().map(Option::as_ref),
        )));
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        GeoFrame::from_record_batches(schema, vec![batch], &geometry_name, self.crs().cloned())
    }
}

/// Each row's group key: the values of the `by` columns as text (a null as `"\0null"`).
/// Groups are ordered by these keys, as vectors of strings.
pub(crate) fn group_keys(columns: &[ArrayRef]) -> Result<Vec<Vec<String>>> {
    let formatters = columns
        .iter()
        .map(|c| {
            arrow_cast::display::ArrayFormatter::try_new(
                c.as_ref(),
                &arrow_cast::display::FormatOptions::default().with_null("\u{0}null"),
            )
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let rows = columns.first().map_or(0, |c| c.len());
    Ok((0..rows)
        .map(|row| {
            formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect()
        })
        .collect())
}

fn aggregate(
    name: &str,
    column: &ArrayRef,
    agg: Aggregate,
    groups: &[Vec<usize>],
    firsts: &UInt64Array,
) -> Result<(Field, ArrayRef)> {
    if agg == Aggregate::First {
        let array = arrow_select::take::take(column.as_ref(), firsts, None)?;
        return Ok((Field::new(name, column.data_type().clone(), true), array));
    }
    if agg == Aggregate::Count {
        let counts = groups
            .iter()
            .map(|rows| rows.iter().filter(|&&r| column.is_valid(r)).count() as i64);
        return Ok((
            Field::new(name, DataType::Int64, false),
            Arc::new(Int64Array::from_iter_values(counts)),
        ));
    }
    if !column.data_type().is_numeric() {
        return Err(Error::InvalidArgument(format!(
            "dissolve: {} needs a numeric column; {name:?} is {}",
            agg.name(),
            column.data_type()
        )));
    }
    let floats = arrow_cast::cast(column.as_ref(), &DataType::Float64)?;
    let floats = floats
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| Error::InvalidArgument(format!("column {name:?} is not numeric")))?;
    let values: Float64Array = groups
        .iter()
        .map(|rows| {
            let vals = rows
                .iter()
                .filter(|&&r| floats.is_valid(r))
                .map(|&r| floats.value(r));
            match agg {
                Aggregate::Sum => Some(vals.sum()),
                Aggregate::Mean => {
                    let v: Vec<f64> = vals.collect();
                    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
                }
                Aggregate::Min => vals.reduce(f64::min),
                Aggregate::Max => vals.reduce(f64::max),
                Aggregate::First | Aggregate::Count => None,
            }
        })
        .collect();
    Ok((Field::new(name, DataType::Float64, true), Arc::new(values)))
}

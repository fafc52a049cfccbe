//! Native GeoArrow geometry arrays (`point`, `linestring`, `polygon` and their `multi`
//! forms: nested lists around coordinates), as GeoParquet files written with
//! `geometry_encoding="geoarrow"` store them: read into geoframe's WKB column (`read`),
//! and written from it on request (`write`).

mod read;
mod write;

pub use read::native_to_wkb;
pub use write::wkb_to_native;

use std::str::FromStr;
use std::sync::Arc;

use arrow_schema::{DataType, Field};

/// A native GeoArrow geometry type: how many list levels sit above the coordinates, and
/// the WKB type code each level writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeEncoding {
    /// `point`: a coordinate per row.
    Point,
    /// `linestring`: a list of coordinates.
    LineString,
    /// `polygon`: a list of rings.
    Polygon,
    /// `multipoint`: a list of coordinates, each a point.
    MultiPoint,
    /// `multilinestring`: a list of line strings.
    MultiLineString,
    /// `multipolygon`: a list of polygons.
    MultiPolygon,
}

impl FromStr for NativeEncoding {
    type Err = ();

    /// The GeoParquet `encoding` names (any case).
    fn from_str(s: &str) -> std::result::Result<Self, ()> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "point" => NativeEncoding::Point,
            "linestring" => NativeEncoding::LineString,
            "polygon" => NativeEncoding::Polygon,
            "multipoint" => NativeEncoding::MultiPoint,
            "multilinestring" => NativeEncoding::MultiLineString,
            "multipolygon" => NativeEncoding::MultiPolygon,
            _ => return Err(()),
        })
    }
}

impl NativeEncoding {
    /// How many list levels sit above the coordinates.
    pub(crate) fn depth(self) -> usize {
        use NativeEncoding::*;
        match self {
            Point => 0,
            LineString | MultiPoint => 1,
            Polygon | MultiLineString => 2,
            MultiPolygon => 3,
        }
    }

    /// The GeoParquet `encoding` name.
    pub fn name(self) -> &'static str {
        match self {
            NativeEncoding::Point => "point",
            NativeEncoding::LineString => "linestring",
            NativeEncoding::Polygon => "polygon",
            NativeEncoding::MultiPoint => "multipoint",
            NativeEncoding::MultiLineString => "multilinestring",
            NativeEncoding::MultiPolygon => "multipolygon",
        }
    }

    /// The narrowest encoding that holds every one of `types` (GeoJSON type names):
    /// points with multipoints are `multipoint`, and so on; `None` when they mix
    /// families (points with lines, say) or hold a collection.
    ///
    /// ```
    /// use geoframe::geometry::NativeEncoding;
    /// assert_eq!(NativeEncoding::holding(["Polygon", "MultiPolygon"]), Some(NativeEncoding::MultiPolygon));
    /// assert_eq!(NativeEncoding::holding(["Point"]), Some(NativeEncoding::Point));
    /// assert_eq!(NativeEncoding::holding(["Point", "LineString"]), None);
    /// ```
    pub fn holding<'a>(types: impl IntoIterator<Item = &'a str>) -> Option<NativeEncoding> {
        use NativeEncoding::*;
        let mut found: Option<NativeEncoding> = None;
        for t in types {
            let (single, multi) = match t {
                "Point" | "MultiPoint" => (Point, MultiPoint),
                "LineString" | "MultiLineString" => (LineString, MultiLineString),
                "Polygon" | "MultiPolygon" => (Polygon, MultiPolygon),
                _ => return None,
            };
            let this = if t.starts_with("Multi") {
                multi
            } else {
                single
            };
            found = match found {
                None => Some(this),
                Some(f) if f == this => Some(f),
                Some(f) if f == single || f == multi => Some(multi),
                Some(_) => return None,
            };
        }
        found
    }

    /// The Arrow type of this encoding with separated `x`, `y` coordinates.
    pub fn data_type(self) -> DataType {
        use NativeEncoding::*;
        let coords = DataType::Struct(
            vec![
                Field::new("x", DataType::Float64, false),
                Field::new("y", DataType::Float64, false),
            ]
            .into(),
        );
        let list =
            |name: &str, inner: DataType| DataType::List(Arc::new(Field::new(name, inner, false)));
        match self {
            Point => coords,
            LineString => list("vertices", coords),
            MultiPoint => list("points", coords),
            Polygon => list("rings", list("vertices", coords)),
            MultiLineString => list("linestrings", list("vertices", coords)),
            MultiPolygon => list("polygons", list("rings", list("vertices", coords))),
        }
    }

    /// The field of a geometry column `name` in this encoding, with its GeoArrow
    /// extension name.
    pub fn field(self, name: &str) -> Field {
        let metadata = std::collections::HashMap::from([
            (
                "ARROW:extension:name".to_string(),
                format!("geoarrow.{}", self.name()),
            ),
            ("ARROW:extension:metadata".to_string(), "{}".to_string()),
        ]);
        Field::new(name, self.data_type(), true).with_metadata(metadata)
    }
}

//! Spatial predicates, with the DE-9IM meanings GEOS and GeoPandas give them.

use geo::algorithm::coordinate_position::CoordPos;
use geo::relate::IntersectionMatrix;
use geo::{Distance, Euclidean, Geometry, Intersects, Relate};
use serde::{Deserialize, Serialize};

use super::index::prepared::PreparedPolygon;

/// The relation a joined pair must satisfy: `left <predicate> right`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Predicate {
    /// The geometries share at least one point.
    Intersects,
    /// Left lies in right, and their interiors meet.
    Within,
    /// Right lies in left, and their interiors meet.
    Contains,
    /// No point of right lies outside left.
    Covers,
    /// No point of left lies outside right.
    CoveredBy,
    /// The geometries meet only on their boundaries.
    Touches,
    /// The interiors meet in a part of lower dimension than the larger input (a line through
    /// a polygon, two lines crossing at a point).
    Crosses,
    /// Same dimension, interiors meet, and neither covers the other.
    Overlaps,
    /// Topologically equal: the same set of points.
    Equals,
    /// The Euclidean distance is at most the given value (in CRS units).
    DWithin(f64),
}

impl Predicate {
    /// The answer, where it follows, for a clean left polygon whose every point lies in the interior of a
    /// clean right polygon.
    pub(crate) fn polygon_in_interior(self) -> Option<bool> {
        match self {
            Predicate::Intersects | Predicate::Within | Predicate::CoveredBy => Some(true),
            Predicate::DWithin(_) => None,
            _ => Some(false),
        }
    }

    /// The answer, where it follows, for two clean polygons whose boundaries cross
    /// properly: the interiors meet and neither covers the other.
    pub(crate) fn polygons_cross(self) -> Option<bool> {
        match self {
            Predicate::Intersects | Predicate::Overlaps => Some(true),
            Predicate::DWithin(_) => None,
            _ => Some(false),
        }
    }

    /// The answer, where it follows, for a left geometry wholly outside a right polygon.
    pub(crate) fn polygon_in_exterior(self) -> Option<bool> {
        match self {
            Predicate::DWithin(_) => None,
            _ => Some(false),
        }
    }

    /// The answer, where it follows, for a clean left polygon with points in the interior
    /// and points in the exterior of a clean right polygon: the interiors meet and the
    /// left one leaves the right one, which may still lie in it.
    pub(crate) fn polygon_partly_inside(self) -> Option<bool> {
        match self {
            Predicate::Intersects => Some(true),
            Predicate::Within
            | Predicate::CoveredBy
            | Predicate::Touches
            | Predicate::Equals
            | Predicate::Crosses => Some(false),
            Predicate::Contains
            | Predicate::Covers
            | Predicate::Overlaps
            | Predicate::DWithin(_) => None,
        }
    }
    /// The names [`Predicate::from_name`] takes, as the command line spells them.
    pub const NAMES: [&'static str; 10] = [
        "intersects",
        "within",
        "contains",
        "covers",
        "covered-by",
        "touches",
        "crosses",
        "overlaps",
        "equals",
        "dwithin",
    ];

    /// The predicate named `name` (GeoPandas' names; `covered_by` or `covered-by`), with
    /// `distance` for `dwithin` and only for it.
    ///
    /// ```
    /// use geoframe::join::Predicate;
    /// assert_eq!(Predicate::from_name("covered_by", None)?, Predicate::CoveredBy);
    /// assert_eq!(Predicate::from_name("dwithin", Some(2.0))?, Predicate::DWithin(2.0));
    /// assert!(Predicate::from_name("dwithin", None).is_err());
    /// # Ok::<(), geoframe::Error>(())
    /// ```
    pub fn from_name(name: &str, distance: Option<f64>) -> crate::Result<Predicate> {
        let predicate = match name.replace('_', "-").as_str() {
            "intersects" => Predicate::Intersects,
            "within" => Predicate::Within,
            "contains" => Predicate::Contains,
            "covers" => Predicate::Covers,
            "covered-by" => Predicate::CoveredBy,
            "touches" => Predicate::Touches,
            "crosses" => Predicate::Crosses,
            "overlaps" => Predicate::Overlaps,
            "equals" => Predicate::Equals,
            "dwithin" => {
                return Ok(Predicate::DWithin(distance.ok_or_else(|| {
                    crate::Error::InvalidArgument("predicate dwithin needs a distance".into())
                })?))
            }
            other => {
                return Err(crate::Error::InvalidArgument(format!(
                    "unknown predicate {other:?}; predicates are {:?}",
                    Predicate::NAMES
                )))
            }
        };
        match distance {
            Some(_) => Err(crate::Error::InvalidArgument(format!(
                "a distance goes with predicate dwithin, not {name}"
            ))),
            None => Ok(predicate),
        }
    }

    /// The predicate with sides swapped: `a P b` if and only if `b P.converse() a`.
    pub fn converse(self) -> Predicate {
        match self {
            Predicate::Within => Predicate::Contains,
            Predicate::Contains => Predicate::Within,
            Predicate::Covers => Predicate::CoveredBy,
            Predicate::CoveredBy => Predicate::Covers,
            other => other,
        }
    }

    /// Fails for a `DWithin` distance that is negative, NaN or infinite.
    pub(crate) fn check(self) -> crate::Result<()> {
        match self {
            Predicate::DWithin(d) if !(d >= 0.0 && d.is_finite()) => {
                Err(crate::Error::InvalidArgument(format!(
                    "dwithin distance must be finite and >= 0, not {d}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// How far a right geometry's box may lie from a left geometry's box and still match.
    pub(crate) fn reach(self) -> f64 {
        match self {
            Predicate::DWithin(d) => d.max(0.0),
            _ => 0.0,
        }
    }

    /// Whether `left <self> right`, exactly.
    ///
    /// Every predicate but `DWithin` holds only for geometries that intersect. On invalid
    /// polygons (a degenerate ring) GEOS' and geo's DE-9IM can report meeting interiors for
    /// geometries a positive distance apart; here `intersects` decides first, so such a
    /// pair satisfies no predicate, as its distance says.
    ///
    /// ```
    /// use geo::{point, polygon, Geometry};
    /// use geoframe::join::Predicate;
    /// let square: Geometry = polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 2., y: 2.), (x: 0., y: 2.)].into();
    /// let inside: Geometry = point!(x: 1., y: 1.).into();
    /// assert!(Predicate::Within.test(&inside, &square));
    /// assert!(!Predicate::Touches.test(&inside, &square));
    /// ```
    pub fn test(self, left: &Geometry, right: &Geometry) -> bool {
        match self {
            Predicate::Intersects => left.intersects(right),
            Predicate::DWithin(d) => Euclidean.distance(left, right) <= d,
            _ if !left.intersects(right) => false,
            _ => self.of_matrix(&left.relate(right)),
        }
    }

    /// Whether a pair with the DE-9IM matrix `m` satisfies the predicate (`DWithin` as
    /// `Intersects`: a matrix knows no distances).
    pub(crate) fn of_matrix(self, m: &IntersectionMatrix) -> bool {
        match self {
            Predicate::Intersects | Predicate::DWithin(_) => m.is_intersects(),
            Predicate::Within => m.is_within(),
            Predicate::Contains => m.is_contains(),
            Predicate::Covers => m.is_covers(),
            Predicate::CoveredBy => m.is_coveredby(),
            Predicate::Touches => m.is_touches(),
            Predicate::Crosses => m.is_crosses(),
            Predicate::Overlaps => m.is_overlaps(),
            Predicate::Equals => m.is_equal_topo(),
        }
    }

    /// `point <self> polygon`, from where the point lies relative to the polygon; `None`
    /// when the predicate needs more than that (`DWithin`).
    pub(crate) fn point_polygon(self, position: CoordPos) -> Option<bool> {
        Some(match self {
            Predicate::Intersects | Predicate::CoveredBy => position != CoordPos::Outside,
            Predicate::Within => position == CoordPos::Inside,
            Predicate::Touches => position == CoordPos::OnBoundary,
            // A point never contains, covers, crosses, overlaps or equals a polygon.
            Predicate::Contains
            | Predicate::Covers
            | Predicate::Crosses
            | Predicate::Overlaps
            | Predicate::Equals => false,
            Predicate::DWithin(_) => return None,
        })
    }

    /// `left <self> right` for a point on the left, using the right polygon's prepared
    /// edges when there are any.
    pub(crate) fn test_point(
        self,
        x: f64,
        y: f64,
        right: &Geometry,
        prepared: Option<&PreparedPolygon>,
    ) -> bool {
        if let Some(prepared) = prepared {
            if let Some(answer) = self.point_polygon(prepared.position(x, y)) {
                return answer;
            }
        }
        self.test(&Geometry::Point(geo::Point::new(x, y)), right)
    }
}

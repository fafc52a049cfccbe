//! Nearest city: for each Natural Earth city, the nearest other city
//! (`sjoin_nearest_exclusive` of the cities with themselves) and the geodesic distance to
//! it in km. The nearest is chosen in the layer's CRS (degrees, as GeoPandas would) and its
//! distance measured on the WGS84 ellipsoid. Prints the most and least isolated cities and
//! draws every city's link to its nearest neighbour to `examples/output/nearest_city.png`.
//!
//!     cargo run --release --example nearest_city

#[path = "support/map.rs"]
#[allow(dead_code)]
mod map;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use geo::{Distance, Geodesic, Geometry, Point, Rect};
use geoframe::io::ShapefileOptions;
use geoframe::join::How;
use geoframe::plan::scan_shapefile;
use geoframe::plan::ExecuteOptions;

fn main() -> Result<(), map::Error> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/output".into());
    std::fs::create_dir_all(&out)?;
    let cities = scan_shapefile(
        "data/naturalearth_cities/naturalearth_cities.shp",
        &ShapefileOptions {
            rows_per_partition: 50,
            ..Default::default()
        },
    )?;
    let options = ExecuteOptions {
        workers: 2,
        ..Default::default()
    };
    let pairs = cities
        .sjoin_nearest_exclusive(&cities, How::Inner, None, Some("distance_deg"))?
        .collect(&options)?
        .to_record_batch()?;
    let all = cities.collect(&options)?;
    let points: Vec<Point> = all
        .geometries()?
        .into_iter()
        .map(|g| match g {
            Some(Geometry::Point(p)) => Ok(p),
            _ => Err("cities are points"),
        })
        .collect::<Result<_, _>>()?;
    let names = all.column("name")?;
    let names = names.as_string::<i32>();
    let left = pairs
        .column_by_name("index_left")
        .ok_or("no index_left")?
        .as_primitive::<Int64Type>();
    let right = pairs
        .column_by_name("index_right")
        .ok_or("no index_right")?
        .as_primitive::<Int64Type>();

    // One nearest city per city (the first of any ties), with its geodesic distance.
    let mut nearest: Vec<Option<(usize, f64)>> = vec![None; points.len()];
    for k in 0..pairs.num_rows() {
        let (a, b) = (left.value(k) as usize, right.value(k) as usize);
        if nearest[a].is_none() {
            nearest[a] = Some((b, Geodesic.distance(points[a], points[b]) / 1000.0));
        }
    }
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| nearest[i].is_some())
        .collect();
    order.sort_by(|&a, &b| {
        let (da, db) = (
            nearest[a].map_or(0.0, |n| n.1),
            nearest[b].map_or(0.0, |n| n.1),
        );
        db.total_cmp(&da).then(a.cmp(&b))
    });
    let row = |i: usize| {
        let (j, km) = nearest[i].unwrap_or((i, 0.0));
        println!("{:<22} {:<22} {:>9.0}", names.value(i), names.value(j), km);
    };
    println!("{} cities; most isolated:", points.len());
    println!("{:<22} {:<22} {:>9}", "city", "nearest other city", "km");
    order.iter().take(6).for_each(|&i| row(i));
    println!("\nleast isolated:");
    order.iter().rev().take(4).for_each(|&i| row(i));
    let median = nearest[order[order.len() / 2]].map_or(0.0, |n| n.1);
    println!("\nmedian distance to the nearest other city: {median:.0} km");

    let countries = geoframe::io::read_shapefile(
        "data/naturalearth_lowres/naturalearth_lowres.shp",
        &ShapefileOptions::default(),
    )?;
    let shapes = countries.geometries()?;
    let values = vec![None; shapes.len()];
    let classes = map::Classes {
        breaks: vec![],
        labels: vec![],
        none: "country".into(),
    };
    let lines: Vec<[(f64, f64); 2]> = (0..points.len())
        .filter_map(|i| {
            let (j, _) = nearest[i]?;
            let (a, b) = (points[i], points[j]);
            // Links across the antimeridian would cross the whole map.
            ((a.x() - b.x()).abs() < 180.0).then_some([(a.x(), a.y()), (b.x(), b.y())])
        })
        .collect();
    let dots: Vec<(f64, f64)> = points.iter().map(|p| (p.x(), p.y())).collect();
    map::load_font()?;
    let path = format!("{out}/nearest_city.png");
    map::choropleth(
        &path,
        &format!("Each city linked to its nearest other city (median {median:.0} km)"),
        Rect::new((-180.0, -60.0), (180.0, 85.0)),
        ("longitude (°, EPSG:4326)", "latitude (°)"),
        &shapes,
        &values,
        &classes,
        "sjoin_nearest, exclusive",
        &dots,
        &lines,
    )?;
    println!("map written to {path}");
    Ok(())
}

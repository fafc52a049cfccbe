//! Cities per country: joins the Natural Earth cities with the countries (`within`), prints
//! the country of the first cities and the countries with the most cities, and draws a
//! choropleth of city counts to `examples/output/cities_per_country.png`.
//!
//!     cargo run --release --example cities_per_country

#[path = "support/map.rs"]
#[allow(dead_code)]
mod map;

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use geo::Rect;
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::sjoin;

fn main() -> Result<(), map::Error> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/output".into());
    std::fs::create_dir_all(&out)?;
    let options = ShapefileOptions::default();
    let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
    let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?;
    let joined = sjoin(&cities, &countries, How::Inner, Predicate::Within)?.to_record_batch()?;

    let city = joined
        .column_by_name("name_left")
        .ok_or("no name_left")?
        .as_string::<i32>();
    let country = joined
        .column_by_name("name_right")
        .ok_or("no name_right")?
        .as_string::<i32>();
    let right = joined
        .column_by_name("index_right")
        .ok_or("no index_right")?
        .as_primitive::<Int64Type>();
    println!(
        "{} of {} cities lie in a country polygon; the first five:",
        joined.num_rows(),
        cities.len()
    );
    println!("{:<24} country", "city");
    for i in 0..5.min(joined.num_rows()) {
        println!("{:<24} {}", city.value(i), country.value(i));
    }

    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for i in 0..joined.num_rows() {
        *counts.entry(right.value(i)).or_default() += 1;
    }
    let names = countries.column("name")?;
    let names = names.as_string::<i32>();
    let mut top: Vec<(usize, &str)> = counts
        .iter()
        .map(|(&k, &n)| (n, names.value(k as usize)))
        .collect();
    top.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    println!("\n{:<24} {:>6}", "country", "cities");
    for (n, name) in top.iter().take(8) {
        println!("{name:<24} {n:>6}");
    }

    let values: Vec<Option<f64>> = (0..countries.len() as i64)
        .map(|k| counts.get(&k).map(|&n| n as f64))
        .collect();
    let classes = map::Classes {
        breaks: vec![1.0, 2.0, 4.0],
        labels: vec!["1".into(), "2".into(), "3 – 4".into(), "5 or more".into()],
        none: "none".into(),
    };
    let points: Vec<(f64, f64)> = cities
        .geometries()?
        .into_iter()
        .flatten()
        .filter_map(|g| match g {
            geo::Geometry::Point(p) => Some((p.x(), p.y())),
            _ => None,
        })
        .collect();
    map::load_font()?;
    let path = format!("{out}/cities_per_country.png");
    map::choropleth(
        &path,
        "Natural Earth cities per country (sjoin, within)",
        Rect::new((-180.0, -90.0), (180.0, 90.0)),
        ("longitude (°, EPSG:4326)", "latitude (°)"),
        &countries.geometries()?,
        &values,
        &classes,
        "cities in the country",
        &points,
        &[],
    )?;
    println!("\nmap written to {path}");
    Ok(())
}

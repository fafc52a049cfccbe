//! Point density per US county: N generated points (the peers' splitmix64 layer over the
//! contiguous US; default 1e7) joined with the 3,231 counties, counted per county and
//! divided by the county's geodesic area. Prints timings and the densest counties, and
//! draws a choropleth to `examples/output/county_density.png`.
//!
//!     cargo run --release --example county_density -- 1e7

#[path = "support/map.rs"]
#[allow(dead_code)]
mod map;

use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use geo::Rect;
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn main() -> Result<(), map::Error> {
    let mut args = std::env::args().skip(1);
    let n = args.next().unwrap_or_else(|| "1e7".into()).parse::<f64>()? as u64;
    let out = args.next().unwrap_or_else(|| "examples/output".into());
    std::fs::create_dir_all(&out)?;
    let options = ExecuteOptions {
        workers: 2,
        progress: true,
        ..Default::default()
    };

    let t = Instant::now();
    let points = geoframe::datagen::uniform_points(n, geoframe::datagen::DEFAULT_SEED, 1_000_000)?;
    let generated = t.elapsed().as_secs_f64();
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let t = Instant::now();
    let shuffled = LazyFrame::from(points).spatial_shuffle(ShuffleMethod::Hilbert, 64, &options)?;
    let shuffle_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let joined = LazyFrame::from(shuffled)
        .select(&["geometry"])?
        .sjoin(
            &LazyFrame::from(counties.clone()),
            How::Inner,
            Predicate::Intersects,
        )?
        .collect(&options)?;
    let join_s = t.elapsed().as_secs_f64();

    let mut counts = vec![0u64; counties.len()];
    for batch in joined.batches() {
        let right = batch
            .column_by_name("index_right")
            .ok_or("no index_right")?
            .as_primitive::<Int64Type>();
        for r in right.values() {
            counts[*r as usize] += 1;
        }
    }
    let km2: Vec<f64> = counties
        .geodesic_area()?
        .values()
        .iter()
        .map(|m2| m2 / 1e6)
        .collect();
    let density: Vec<f64> = counts
        .iter()
        .zip(&km2)
        .map(|(&c, &a)| c as f64 / a * 1000.0)
        .collect();
    println!("{n} points: generated in {generated:.2} s, Hilbert shuffle {shuffle_s:.2} s, join {join_s:.2} s (2 workers); {} point-county pairs", joined.len());

    let geoid = counties.column("geoid")?;
    let geoid = geoid.as_string::<i32>();
    let name = counties.column("name")?;
    let name = name.as_string::<i32>();
    let mut order: Vec<usize> = (0..counties.len()).filter(|&i| counts[i] > 0).collect();
    order.sort_by(|&a, &b| density[b].total_cmp(&density[a]).then(a.cmp(&b)));
    println!(
        "\n{:<8} {:<22} {:>9} {:>10} {:>14}",
        "geoid", "county", "points", "km²", "per 1000 km²"
    );
    for &i in order.iter().take(8) {
        println!(
            "{:<8} {:<22} {:>9} {:>10.0} {:>14.1}",
            geoid.value(i),
            name.value(i),
            counts[i],
            km2[i],
            density[i]
        );
    }

    // Only counties inside the points' box get points; the rest have no value.
    let values: Vec<Option<f64>> = (0..counties.len())
        .map(|i| (counts[i] > 0).then_some(density[i]))
        .collect();
    let seen: Vec<f64> = values.iter().flatten().copied().collect();
    let mut classes = map::Classes::quantiles(&seen, 6, false, "");
    classes.none = "no points".into();
    map::load_font()?;
    let path = format!("{out}/county_density.png");
    map::choropleth(
        &path,
        &format!("{n} uniform points per 1000 km² of county (sjoin, intersects)"),
        Rect::new((-125.0, 24.0), (-66.0, 50.0)),
        ("longitude (°, EPSG:4326)", "latitude (°)"),
        &counties.geometries()?,
        &values,
        &classes,
        "points per 1000 km²",
        &[],
        &[],
    )?;
    println!("\nmap written to {path}");
    Ok(())
}

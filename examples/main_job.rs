//! The README's main job: spatial joins on the real data in `data/`.
//!
//! 1. Natural Earth cities within Natural Earth countries: cities per country.
//! 2. One million generated points (the peers' splitmix64 layer) in US counties.
//!
//! Prints a summary and writes the joined rows to `OUT/` as GeoParquet and GeoJSON.
//!
//!     cargo run --release --example main_job -- out

use std::collections::BTreeMap;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use geoframe::io::{read_shapefile, write_geojson, write_geoparquet, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::sjoin;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "out".into()));
    std::fs::create_dir_all(&out)?;
    let options = ShapefileOptions::default();

    let t = Instant::now();
    let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
    let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?;
    let joined = sjoin(&cities, &countries, How::Inner, Predicate::Within)?;
    let elapsed = t.elapsed();
    let mut per_country: BTreeMap<String, usize> = BTreeMap::new();
    let names = joined.column("name_right")?;
    for name in names.as_string::<i32>().iter().flatten() {
        *per_country.entry(name.to_string()).or_default() += 1;
    }
    let mut ranked: Vec<(String, usize)> = per_country.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!(
        "cities within countries: {} of {} cities matched {} countries ({:.1} ms)",
        joined.len(),
        cities.len(),
        ranked.len(),
        elapsed.as_secs_f64() * 1e3
    );
    println!("{:<28} {:>6}", "country", "cities");
    for (name, n) in ranked.iter().take(8) {
        println!("{name:<28} {n:>6}");
    }
    write_geoparquet(&joined, out.join("cities_in_countries.parquet"))?;
    write_geojson(&joined, out.join("cities_in_countries.geojson"))?;

    let t = Instant::now();
    let counties = read_shapefile("data/us_counties/us_counties.shp", &options)?;
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let points =
        geoframe::datagen::uniform_points(1_000_000, geoframe::datagen::DEFAULT_SEED, 100_000)?;
    let gen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let pairs = sjoin(&points, &counties, How::Inner, Predicate::Intersects)?;
    let join_s = t.elapsed().as_secs_f64();
    println!();
    println!(
        "1,000,000 points in {} US counties: {} pairs (GeoPandas, SedonaDB and DuckDB: 534836); read {:.3} s, generate {:.3} s, join {:.3} s on {} threads",
        counties.len(),
        pairs.len(),
        read_s,
        gen_s,
        join_s,
        rayon::current_num_threads()
    );
    let mut per_county: BTreeMap<i64, usize> = BTreeMap::new();
    for c in pairs
        .column("index_right")?
        .as_primitive::<Int64Type>()
        .values()
    {
        *per_county.entry(*c).or_default() += 1;
    }
    let county_names = counties.column("name")?;
    let mut busiest: Vec<(i64, usize)> = per_county.into_iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    println!("{:<28} {:>7}", "county (most points)", "points");
    for (c, n) in busiest.iter().take(5) {
        println!(
            "{:<28} {n:>7}",
            county_names.as_string::<i32>().value(*c as usize)
        );
    }
    let t = Instant::now();
    write_geoparquet(&pairs, out.join("points_in_counties.parquet"))?;
    println!(
        "wrote {} ({:.3} s) and {}",
        out.join("points_in_counties.parquet").display(),
        t.elapsed().as_secs_f64(),
        out.join("cities_in_countries.{parquet,geojson}").display()
    );
    Ok(())
}

//! Dissolve US counties into states: groups the 3,231 counties by the first two characters
//! of their FIPS `geoid`, unions each state's counties (the raw data, 40 invalid counties
//! included), prints the largest states with their county counts and geodesic areas, and
//! draws the states coloured by county count to `examples/output/dissolve_states.png`.
//!
//!     cargo run --release --example dissolve_states

#[path = "support/map.rs"]
#[allow(dead_code)]
mod map;

use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::StringArray;
use geo::Rect;
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::ops::Aggregate;

fn main() -> Result<(), map::Error> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/output".into());
    std::fs::create_dir_all(&out)?;
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions {
            rows_per_partition: 500,
            ..Default::default()
        },
    )?;
    let geoid = counties.column("geoid")?;
    let state: StringArray = geoid
        .as_string::<i32>()
        .iter()
        .map(|g| g.map(|g| &g[..2]))
        .collect();
    let counties = counties.with_column("state", Arc::new(state))?;
    let t = Instant::now();
    let states = counties.dissolve(&["state"], &[("geoid", Aggregate::Count)])?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} counties in {} partitions dissolved into {} states in {secs:.2} s; {} of them valid",
        counties.len(),
        counties.npartitions(),
        states.len(),
        states.is_valid()?.true_count()
    );
    let fips = states.column("state")?;
    let fips = fips.as_string::<i32>();
    let count = states.column("geoid")?;
    let count = count.as_primitive::<Int64Type>();
    let km2: Vec<f64> = states
        .geodesic_area()?
        .values()
        .iter()
        .map(|a| a / 1e6)
        .collect();
    let mut order: Vec<usize> = (0..states.len()).collect();
    order.sort_by(|&a, &b| km2[b].total_cmp(&km2[a]));
    println!("\n{:<6} {:>9} {:>12}", "state", "counties", "km²");
    for &i in order.iter().take(8) {
        println!(
            "{:<6} {:>9} {:>12.0}",
            fips.value(i),
            count.value(i),
            km2[i]
        );
    }

    let values: Vec<Option<f64>> = count.values().iter().map(|&c| Some(c as f64)).collect();
    let seen: Vec<f64> = values.iter().flatten().copied().collect();
    let classes = map::Classes::quantiles(&seen, 5, true, "counties");
    map::load_font()?;
    let path = format!("{out}/dissolve_states.png");
    map::choropleth(
        &path,
        "US counties dissolved into states, by number of counties",
        Rect::new((-125.0, 24.0), (-66.0, 50.0)),
        ("longitude (°, EPSG:4326)", "latitude (°)"),
        &states.geometries()?,
        &values,
        &classes,
        "counties in the state",
        &[],
        &[],
    )?;
    println!("\nmap written to {path}");
    Ok(())
}

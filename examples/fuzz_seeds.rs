//! Writes the fuzzers' seed inputs (`fuzz/seeds/<target>/`) from `data/`: the Natural Earth
//! cities and a few countries, as geoframe writes them in each format.
//!
//!     cargo run --release --example fuzz_seeds -- fuzz/seeds

use std::path::{Path, PathBuf};

use geoframe::io::{
    read_shapefile, write_geojson, write_geoparquet, write_shapefile, ShapefileOptions,
};

#[path = "../fuzz/harness.rs"]
mod harness;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds".into()),
    );
    let options = ShapefileOptions::default();
    let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?;
    let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?
        .head(6)
        .repartition(3)?;
    let scratch = tempfile::tempdir()?;
    for (name, frame) in [
        ("cities", cities.head(40).repartition(15)?),
        ("countries", countries),
    ] {
        let dir = |target: &str| -> std::io::Result<PathBuf> {
            let d = out.join(target);
            std::fs::create_dir_all(&d)?;
            Ok(d)
        };
        write_geoparquet(&frame, dir("geoparquet")?.join(format!("{name}.parquet")))?;
        write_geojson(&frame, dir("geojson")?.join(format!("{name}.geojson")))?;
        let shp = scratch.path().join(format!("{name}.shp"));
        write_shapefile(&frame, &shp)?;
        let read = |ext: &str| std::fs::read(shp.with_extension(ext));
        let packed = harness::pack_shapefile(&read("shp")?, &read("shx")?, &read("dbf")?);
        std::fs::write(dir("shapefile")?.join(format!("{name}.bin")), packed)?;
    }
    // The `.shp` and `.dbf` targets pair their input with the cities' other files.
    let cities = Path::new("data/naturalearth_cities/naturalearth_cities.shp");
    for target in ["shp", "dbf"] {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir)?;
        copy(&cities.with_extension(target), &dir, "cities")?;
    }
    println!("seeds written under {}", out.display());
    Ok(())
}

fn copy(from: &Path, dir: &Path, name: &str) -> std::io::Result<()> {
    let ext = from.extension().and_then(|e| e.to_str()).unwrap_or("bin");
    std::fs::copy(from, dir.join(format!("{name}.{ext}"))).map(|_| ())
}

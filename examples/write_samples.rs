//! Writes the data sets in `data/` (and 10,000 generated points) in every format geoframe
//! writes, for `tests/interop/check_geopandas.py` to open with GeoPandas.
//!
//!     cargo run --release --example write_samples -- OUTDIR

use geoframe::io::{
    read_shapefile, write_geojson, write_geoparquet, write_shapefile, ShapefileOptions,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: write_samples OUTDIR")?,
    );
    std::fs::create_dir_all(&out)?;
    let options = ShapefileOptions {
        rows_per_partition: 500,
        ..Default::default()
    };
    let mut layers = Vec::new();
    for name in [
        "us_counties",
        "naturalearth_lowres",
        "naturalearth_cities",
        "nybb",
    ] {
        let path = if name == "nybb" {
            "data/nybb/nybb.shp".to_string()
        } else {
            format!("data/{name}/{name}.shp")
        };
        layers.push((name.to_string(), read_shapefile(&path, &options)?));
    }
    layers.push((
        "points".to_string(),
        geoframe::datagen::uniform_points(10_000, 42, 3_000)?,
    ));
    for (name, frame) in &layers {
        write_shapefile(frame, out.join(format!("{name}.shp")))?;
        write_geoparquet(frame, out.join(format!("{name}.parquet")))?;
        write_geojson(frame, out.join(format!("{name}.geojson")))?;
    }
    println!("wrote {} layers to {}", layers.len(), out.display());
    Ok(())
}

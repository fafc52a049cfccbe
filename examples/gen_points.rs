//! Writes N uniform points over the contiguous US (the peers' splitmix64 layer, identical to
//! `../shared/peers/gen_points.py N OUTDIR`) as `points_N.shp` and `points_N.parquet`.
//! Partitions of a million points are generated in parallel and written as they are done,
//! so memory stays bounded whatever N (a shapefile stops at its format's 8 GiB, about 3e8
//! points: pass `parquet` to write only GeoParquet, or `dataset` for a directory
//! `points_N/` of one GeoParquet file per million points, without the covering column:
//! 25 GB at 1e9).
//!
//!     cargo run --release --example gen_points -- 1e7 /tmp/pts [shp|parquet|dataset]

use std::sync::Arc;
use std::time::Instant;

use geoframe::datagen::{PointSource, DEFAULT_SEED};
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: gen_points N OUTDIR [shp|parquet|dataset]";
    let label = args.next().ok_or(usage)?;
    let out = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let only = args.next();
    let n = label.parse::<f64>()? as u64;
    std::fs::create_dir_all(&out)?;
    let t = Instant::now();
    let points = LazyFrame::scan(Arc::new(PointSource::new(n, DEFAULT_SEED, 1_000_000)));
    let options = ExecuteOptions::default();
    if only.as_deref() == Some("dataset") {
        let write = geoframe::io::GeoParquetWriteOptions {
            covering: false,
            ..Default::default()
        };
        points.sink_dataset(out.join(format!("points_{label}")), &write, &options)?;
    } else if only.as_deref() != Some("parquet") {
        points.sink_shapefile(out.join(format!("points_{label}.shp")), &options)?;
    }
    if only.is_none() || only.as_deref() == Some("parquet") {
        points.sink_geoparquet(
            out.join(format!("points_{label}.parquet")),
            &Default::default(),
            &options,
        )?;
    }
    println!(
        "{n} points written to {} in {:.2} s",
        out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

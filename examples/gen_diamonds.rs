//! Writes N diamonds around the peers' splitmix64 points (identical to
//! `../shared/peers/gen_diamonds.py N OUTDIR [D]`) as `diamonds_N.parquet` and
//! `diamonds_N.shp`: the left side of the polygon-polygon join benchmarks.
//!
//!     cargo run --release --example gen_diamonds -- 1e6 /tmp/dia [D]

use std::sync::Arc;
use std::time::Instant;

use geoframe::datagen::{PointSource, DEFAULT_SEED};
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: gen_diamonds N OUTDIR [HALF_DIAGONAL]";
    let label = args.next().ok_or(usage)?;
    let out = std::path::PathBuf::from(args.next().ok_or(usage)?);
    let d: f64 = args.next().map_or(Ok(0.02), |a| a.parse())?;
    let n = label.parse::<f64>()? as u64;
    std::fs::create_dir_all(&out)?;
    let t = Instant::now();
    let source = PointSource::diamonds(n, DEFAULT_SEED, d, 1_000_000);
    let diamonds = LazyFrame::scan(Arc::new(source));
    let options = ExecuteOptions::default();
    diamonds.sink_geoparquet(
        out.join(format!("diamonds_{label}.parquet")),
        &Default::default(),
        &options,
    )?;
    diamonds.sink_shapefile(out.join(format!("diamonds_{label}.shp")), &options)?;
    eprintln!("{n} diamonds in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

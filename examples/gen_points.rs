//! Writes N uniform points over the contiguous US (the peers' splitmix64 layer, identical to
//! `../shared/peers/gen_points.py N OUTDIR`) as `points_N.shp` and `points_N.parquet`.
//!
//!     cargo run --release --example gen_points -- 1e7 /tmp/pts

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let label = args.next().ok_or("usage: gen_points N OUTDIR")?;
    let out = std::path::PathBuf::from(args.next().ok_or("usage: gen_points N OUTDIR")?);
    let n = label.parse::<f64>()? as u64;
    std::fs::create_dir_all(&out)?;
    let t = Instant::now();
    let points = geoframe::datagen::uniform_points(n, geoframe::datagen::DEFAULT_SEED, 1_000_000)?;
    geoframe::io::write_shapefile(&points, out.join(format!("points_{label}.shp")))?;
    geoframe::io::write_geoparquet(&points, out.join(format!("points_{label}.parquet")))?;
    println!(
        "{n} points written to {} in {:.2} s",
        out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

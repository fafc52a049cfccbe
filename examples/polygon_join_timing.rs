//! Times polygon-polygon joins of N diamonds (the peers' `gen_diamonds.py` layer) against
//! `data/us_counties` or `data/us_states`, data in memory, join only, in one run: the
//! plain single-core `geo` + `rstar` loop (R-tree of right boxes, then `Intersects` or
//! `Relate` per candidate) and geoframe with 2 workers (diamonds Hilbert-shuffled into 64
//! partitions beforehand, not timed), alternating, medians of 3. Pair counts must agree.
//!
//!     cargo run --release --example polygon_join_timing -- 1e6 states within intersects
//!
//! The layer may also be a GeoParquet file (`NO_PLAIN=1` skips the plain loop, which takes
//! hours against polygons of 10^5 vertices).
//!
//! With `LEFT=file.parquet` that layer takes the diamonds' place (N is then ignored).
//!
//! With `NO_PLAIN=1` the plain loop is left out (it takes minutes on large polygons);
//! `ROUNDS=N` times each side N times (default 3).

#[path = "support/baseline.rs"]
mod baseline;

use std::time::Instant;

use geo::Relate;
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use rstar::AABB;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n = args.next().unwrap_or_else(|| "1e6".into()).parse::<f64>()? as u64;
    let layer = args.next().unwrap_or_else(|| "states".into());
    let predicates: Vec<String> = args.collect();
    // A layer name (`states`, `counties`) or a GeoParquet file of right polygons.
    let right = if layer.ends_with(".parquet") {
        geoframe::io::read_geoparquet(&layer, &Default::default())?
    } else {
        read_shapefile(
            format!("data/us_{layer}/us_{layer}.shp"),
            &ShapefileOptions::default(),
        )?
    };
    let source = geoframe::datagen::PointSource::diamonds(
        n,
        geoframe::datagen::DEFAULT_SEED,
        0.02,
        1_000_000,
    );
    // `LEFT=file.parquet` joins that layer instead of the diamonds.
    let diamonds = match std::env::var("LEFT") {
        Ok(path) => geoframe::io::read_geoparquet(&path, &Default::default())?,
        Err(_) => geoframe::io::read_source(&source)?,
    };
    let shuffled = diamonds.spatial_shuffle(ShuffleMethod::Hilbert, 64)?;
    let left_geoms: Vec<geo::Geometry> = diamonds.geometries()?.into_iter().flatten().collect();
    let right_geoms: Vec<geo::Geometry> = right.geometries()?.into_iter().flatten().collect();
    let tree = baseline::boxes(&right_geoms);
    let options = ExecuteOptions {
        workers: 2,
        ..Default::default()
    };
    println!("| join ({n} diamonds x {layer}) | plain geo + rstar loop, 1 core | geoframe, 2 workers | ratio | pairs |");
    println!("|---|---|---|---|---|");
    for name in if predicates.is_empty() {
        vec!["within".to_string(), "intersects".to_string()]
    } else {
        predicates
    } {
        let predicate = Predicate::from_name(&name, None)?;
        let (mut plain, mut ours) = (Vec::new(), Vec::new());
        let (mut plain_pairs, mut our_pairs) = (0u64, 0u64);
        let skip_plain = std::env::var_os("NO_PLAIN").is_some();
        let rounds: usize = std::env::var("ROUNDS").map_or(Ok(3), |r| r.parse())?;
        for _ in 0..rounds {
            let t = Instant::now();
            let mut pairs = 0u64;
            let left_geoms: &[geo::Geometry] = if skip_plain { &[] } else { &left_geoms };
            for g in left_geoms {
                let Some(b) = geo::BoundingRect::bounding_rect(g) else {
                    continue;
                };
                let env = AABB::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]);
                for c in tree.locate_in_envelope_intersecting(&env) {
                    let r = &right_geoms[c.data];
                    let hit = match predicate {
                        Predicate::Intersects => geo::Intersects::intersects(g, r),
                        _ => {
                            let m = g.relate(r);
                            match predicate {
                                Predicate::Within => m.is_within(),
                                Predicate::Contains => m.is_contains(),
                                Predicate::Touches => m.is_touches(),
                                Predicate::Overlaps => m.is_overlaps(),
                                _ => predicate.test(g, r),
                            }
                        }
                    };
                    pairs += hit as u64;
                }
            }
            plain.push(t.elapsed().as_secs_f64());
            plain_pairs = pairs;

            let t = Instant::now();
            our_pairs = LazyFrame::from(shuffled.clone())
                .sjoin(&LazyFrame::from(right.clone()), How::Inner, predicate)?
                .count_rows(&options)?;
            ours.push(t.elapsed().as_secs_f64());
        }
        if !skip_plain {
            assert_eq!(plain_pairs, our_pairs, "{name}: pair counts differ");
        }
        let (p, o) = (median(plain), median(ours));
        println!(
            "| {name} | {p:.3} s | {o:.3} s | {:.1}x | {our_pairs} |",
            p / o
        );
    }
    Ok(())
}

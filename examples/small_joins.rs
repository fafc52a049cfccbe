//! Times the two small rows of BENCHMARKS.md against their plain single-core loops,
//! alternating (loop, geoframe 2 workers, loop, geoframe, ...), medians of `ROUNDS`
//! (default 7): counties against counties shifted by 0.01° (`intersects`, 3,231 × 3,231),
//! and N points (default 1e5) to the nearest of the 3,231 county centroids. geoframe builds
//! the joined frame (the last row only counts its rows); the loops only count.
//!
//!     cargo run --release --example small_joins -- 1e5 7

#[path = "support/baseline.rs"]
mod baseline;

use std::time::Instant;

use geo::{BoundingRect, Centroid, Intersects, Translate};
use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use geoframe::GeoFrame;
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(
    f: &mut dyn FnMut() -> Result<u64, Box<dyn std::error::Error>>,
) -> Result<(f64, u64), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let count = f()?;
    Ok((t.elapsed().as_secs_f64(), count))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n = args.next().unwrap_or_else(|| "1e5".into()).parse::<f64>()? as u64;
    let rounds: usize = args.next().unwrap_or_else(|| "7".into()).parse()?;
    let counties = read_shapefile(
        "data/us_counties/us_counties.shp",
        &ShapefileOptions::default(),
    )?;
    let polygons: Vec<geo::Geometry> = counties.geometries()?.into_iter().flatten().collect();
    let options = ExecuteOptions {
        workers: 2,
        ..Default::default()
    };

    // Counties against shifted counties.
    let shifted: Vec<geo::Geometry> = polygons.iter().map(|g| g.translate(0.01, 0.01)).collect();
    let shifted_tree = baseline::boxes(&shifted);
    let shifted_frame = GeoFrame::from_geometries(shifted.clone(), counties.crs().cloned())?;
    let poly_plan = LazyFrame::from(counties.spatial_shuffle(ShuffleMethod::Hilbert, 8)?).sjoin(
        &LazyFrame::from(shifted_frame.spatial_shuffle(ShuffleMethod::Hilbert, 8)?),
        How::Inner,
        Predicate::Intersects,
    )?;
    let mut polygon_loop = || -> Result<u64, Box<dyn std::error::Error>> {
        let mut pairs = 0u64;
        for a in &polygons {
            let Some(r) = a.bounding_rect() else { continue };
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            for c in shifted_tree.locate_in_envelope_intersecting(&env) {
                pairs += u64::from(a.intersects(&shifted[c.data]));
            }
        }
        Ok(pairs)
    };
    let mut polygon_ours = || -> Result<u64, Box<dyn std::error::Error>> {
        Ok(poly_plan.collect(&options)?.len() as u64)
    };

    // Points to the nearest county centroid.
    let few = geoframe::datagen::uniform_points(n, 7, 100_000)?;
    let centroids: Vec<geo::Point> = polygons.iter().filter_map(|g| g.centroid()).collect();
    let centroid_frame = GeoFrame::from_geometries(
        centroids.iter().map(|&p| p.into()).collect(),
        counties.crs().cloned(),
    )?;
    let coords: Vec<geo::Point> = few
        .geometries()?
        .into_iter()
        .flatten()
        .filter_map(|g| match g {
            geo::Geometry::Point(p) => Some(p),
            _ => None,
        })
        .collect();
    let point_tree = RTree::bulk_load(
        centroids
            .iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.x(), p.y()], i))
            .collect(),
    );
    let near_plan = LazyFrame::from(few.spatial_shuffle(ShuffleMethod::Hilbert, 16)?)
        .sjoin_nearest(
            &LazyFrame::from(centroid_frame.spatial_shuffle(ShuffleMethod::Hilbert, 4)?),
            How::Inner,
            None,
            None,
        )?;
    let mut nearest_loop = || -> Result<u64, Box<dyn std::error::Error>> {
        Ok(coords
            .iter()
            .filter(|p| point_tree.nearest_neighbor(&[p.x(), p.y()]).is_some())
            .count() as u64)
    };
    let mut nearest_ours = || -> Result<u64, Box<dyn std::error::Error>> {
        Ok(near_plan.collect(&options)?.len() as u64)
    };
    let mut nearest_loop_again = || -> Result<u64, Box<dyn std::error::Error>> {
        Ok(coords
            .iter()
            .filter(|p| point_tree.nearest_neighbor(&[p.x(), p.y()]).is_some())
            .count() as u64)
    };
    let mut nearest_counted =
        || -> Result<u64, Box<dyn std::error::Error>> { Ok(near_plan.count_rows(&options)?) };

    println!("| join | plain loop, 1 core | geoframe, 2 workers | loop / geoframe | rows |");
    println!("|---|---|---|---|---|");
    type Job<'a> = &'a mut dyn FnMut() -> Result<u64, Box<dyn std::error::Error>>;
    let jobs: [(&str, Job, Job); 3] = [
        (
            "counties x shifted counties, intersects",
            &mut polygon_loop,
            &mut polygon_ours,
        ),
        (
            "nearest county centroid",
            &mut nearest_loop,
            &mut nearest_ours,
        ),
        (
            "nearest county centroid, counted",
            &mut nearest_loop_again,
            &mut nearest_counted,
        ),
    ];
    let only = std::env::var("ONLY").ok();
    for (name, plain, ours) in jobs {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut rows = 0;
        for _ in 0..rounds {
            a.push(time(plain)?.0);
            let (t, r) = time(ours)?;
            b.push(t);
            rows = r;
        }
        let (a, b) = (median(a), median(b));
        println!(
            "| {name} ({n} points) | {a:.4} s | {b:.4} s | {:.2}x | {rows} |",
            a / b
        );
    }
    Ok(())
}

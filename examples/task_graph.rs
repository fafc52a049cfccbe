//! Draws the task graph of a spatial join: Natural Earth cities (4 Hilbert partitions)
//! within countries (4 Hilbert partitions). Writes `OUT/join_graph.dot` and, when Graphviz's `dot` is
//! installed, `OUT/join_graph.png`.
//!
//!     cargo run --release --example task_graph -- examples/output

use geoframe::io::{read_shapefile, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{ExecuteOptions, LazyFrame};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "examples/output".into()),
    );
    std::fs::create_dir_all(&out)?;
    let options = ShapefileOptions::default();
    let cities = read_shapefile("data/naturalearth_cities/naturalearth_cities.shp", &options)?
        .spatial_shuffle(ShuffleMethod::Hilbert, 4)?;
    let countries = read_shapefile("data/naturalearth_lowres/naturalearth_lowres.shp", &options)?
        .spatial_shuffle(ShuffleMethod::Hilbert, 4)?;
    let plan = LazyFrame::from(cities).sjoin(
        &LazyFrame::from(countries),
        How::Inner,
        Predicate::Within,
    )?;
    println!("{}", plan.explain());
    let graph = plan.graph();
    let dot_path = out.join("join_graph.dot");
    std::fs::write(&dot_path, graph.to_dot())?;
    println!(
        "{} tasks {:?}; {} of 16 partition pairs kept",
        graph.len(),
        graph.count_by_kind(),
        graph.count_by_kind()["join-pair"]
    );
    println!("wrote {}", dot_path.display());
    let png = out.join("join_graph.png");
    match std::process::Command::new("dot")
        .arg("-Tpng")
        .arg(&dot_path)
        .arg("-o")
        .arg(&png)
        .status()
    {
        Ok(s) if s.success() => println!("wrote {}", png.display()),
        _ => println!(
            "Graphviz `dot` not found: render with `dot -Tpng {}`",
            dot_path.display()
        ),
    }
    let (joined, stats) = plan.collect_with_stats(&ExecuteOptions {
        workers: 2,
        progress: true,
        ..Default::default()
    })?;
    println!(
        "{} cities lie within a country; tasks per worker {:?}",
        joined.len(),
        stats.tasks_per_worker
    );
    Ok(())
}

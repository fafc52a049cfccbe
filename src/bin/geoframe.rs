//! `geoframe`: spatial joins, nearest joins, dissolves and conversions of geospatial files
//! from the command line. Inputs and outputs are chosen by extension: `.shp` (ESRI
//! shapefile), `.parquet` / `.geoparquet` (GeoParquet), `.geojson` / `.json` (GeoJSON).
//!
//!     geoframe info data/us_counties/us_counties.shp
//!     geoframe sjoin points.shp data/us_counties/us_counties.shp -o joined.parquet
//!
//! Bad input (a missing or malformed file, an unknown column or format) prints the error on
//! stderr and exits with status 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand, ValueEnum};
use geoframe::io::{GeoParquetOptions, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::ops::Aggregate;
use geoframe::plan::{ExecuteOptions, LazyFrame};
use geoframe::{Crs, Error, GeoFrame};

#[derive(Parser)]
#[command(
    name = "geoframe",
    version,
    about = "Partitioned, parallel spatial joins and conversions of geospatial files"
)]
struct Cli {
    /// Worker threads (default: one per core).
    #[arg(long, global = true)]
    workers: Option<usize>,
    /// Rows per partition when reading.
    #[arg(long, global = true, default_value_t = 100_000)]
    partitions: usize,
    /// No progress bar on stderr.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rows, columns, CRS, bounds and partitions of a file.
    Info {
        /// The file to describe.
        file: PathBuf,
    },
    /// Spatial join: one output row per matching (left, right) pair.
    Sjoin {
        /// Left layer (its geometry is kept).
        left: PathBuf,
        /// Right layer.
        right: PathBuf,
        /// The relation a pair must satisfy.
        #[arg(long, default_value = "intersects", value_parser = PossibleValuesParser::new(Predicate::NAMES))]
        predicate: String,
        /// Distance for `--predicate dwithin`, in CRS units.
        #[arg(long)]
        distance: Option<f64>,
        /// Which rows to keep.
        #[arg(long, value_enum, default_value_t = HowArg::Inner)]
        how: HowArg,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Nearest join: each left row with its nearest right row(s).
    Nearest {
        /// Left layer.
        left: PathBuf,
        /// Right layer.
        right: PathBuf,
        /// Pairs farther apart than this never match (CRS units).
        #[arg(long)]
        max_distance: Option<f64>,
        /// Name of a column for the distance.
        #[arg(long)]
        distance_col: Option<String>,
        /// Keep left rows without a match (`left`) or not (`inner`).
        #[arg(long, value_enum, default_value_t = HowArg::Inner)]
        how: HowArg,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Union the geometries of rows that share the values of `--by` columns.
    Dissolve {
        /// Input layer (polygons).
        file: PathBuf,
        /// Columns to group by (comma-separated).
        #[arg(long, value_delimiter = ',', required = true)]
        by: Vec<String>,
        /// Aggregates as COLUMN:FUNC (first, sum, mean, count, min, max), repeatable.
        #[arg(long)]
        agg: Vec<String>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Convert between formats, optionally reprojecting.
    Convert {
        /// Input file.
        input: PathBuf,
        /// Reproject to this CRS (EPSG:code, PROJ string or WKT).
        #[arg(long)]
        to_crs: Option<String>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum HowArg {
    Inner,
    Left,
    Right,
}

impl From<HowArg> for How {
    fn from(h: HowArg) -> How {
        match h {
            HowArg::Inner => How::Inner,
            HowArg::Left => How::Left,
            HowArg::Right => How::Right,
        }
    }
}

enum Format {
    Shapefile,
    GeoParquet,
    GeoJson,
}

fn format_of(path: &Path) -> Result<Format, Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("shp") => Ok(Format::Shapefile),
        Some("parquet" | "geoparquet") => Ok(Format::GeoParquet),
        Some("geojson" | "json") => Ok(Format::GeoJson),
        _ => Err(Error::InvalidArgument(format!(
            "{}: unknown format; use .shp, .parquet or .geojson",
            path.display()
        ))),
    }
}

fn read(path: &Path, rows_per_partition: usize) -> Result<LazyFrame, Error> {
    Ok(match format_of(path)? {
        Format::Shapefile => geoframe::plan::scan_shapefile(
            path,
            &ShapefileOptions {
                rows_per_partition,
                ..Default::default()
            },
        )?,
        Format::GeoParquet => {
            geoframe::plan::scan_geoparquet(path, &GeoParquetOptions { rows_per_partition })?
        }
        Format::GeoJson => LazyFrame::from(geoframe::io::read_geojson(path, rows_per_partition)?),
    })
}

fn write(frame: &GeoFrame, path: &Path) -> Result<(), Error> {
    match format_of(path)? {
        Format::Shapefile => geoframe::io::write_shapefile(frame, path),
        Format::GeoParquet => geoframe::io::write_geoparquet(frame, path),
        Format::GeoJson => geoframe::io::write_geojson(frame, path),
    }
}

fn aggregate(spec: &str) -> Result<(String, Aggregate), Error> {
    let (column, func) = spec
        .rsplit_once(':')
        .ok_or_else(|| Error::InvalidArgument(format!("--agg {spec:?}: expected COLUMN:FUNC")))?;
    let agg = match func {
        "first" => Aggregate::First,
        "sum" => Aggregate::Sum,
        "mean" => Aggregate::Mean,
        "count" => Aggregate::Count,
        "min" => Aggregate::Min,
        "max" => Aggregate::Max,
        other => {
            return Err(Error::InvalidArgument(format!(
                "--agg {spec:?}: unknown function {other:?} (first, sum, mean, count, min, max)"
            )))
        }
    };
    Ok((column.to_string(), agg))
}

fn run(cli: Cli) -> Result<(), Error> {
    let options = ExecuteOptions {
        workers: cli
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        progress: !cli.quiet,
    };
    if options.workers == 0 {
        return Err(Error::InvalidArgument(
            "--workers must be at least 1".into(),
        ));
    }
    if cli.partitions == 0 {
        return Err(Error::InvalidArgument(
            "--partitions must be at least 1".into(),
        ));
    }
    let started = std::time::Instant::now();
    let rows = match cli.command {
        Command::Info { file } => {
            let frame = read(&file, cli.partitions)?.collect(&options)?;
            println!("file:       {}", file.display());
            println!("rows:       {}", frame.len());
            println!("partitions: {}", frame.npartitions());
            println!(
                "crs:        {}",
                frame.crs().map_or("none".to_string(), |c| c
                    .to_epsg()
                    .map_or_else(|| c.to_string(), |e| format!("EPSG:{e}")))
            );
            match frame.total_bounds() {
                Some(b) => println!(
                    "bounds:     {} {} {} {}",
                    b.min().x,
                    b.min().y,
                    b.max().x,
                    b.max().y
                ),
                None => println!("bounds:     none"),
            }
            println!("columns:");
            for f in frame.schema().fields() {
                let kind = if f.name() == frame.geometry_column() {
                    "geometry (WKB)".to_string()
                } else {
                    f.data_type().to_string()
                };
                println!("  {:<20} {kind}", f.name());
            }
            return Ok(());
        }
        Command::Sjoin {
            left,
            right,
            predicate: p,
            distance,
            how,
            output,
        } => {
            let p = Predicate::from_name(&p, distance)
                .map_err(|e| Error::InvalidArgument(format!("--predicate / --distance: {e}")))?;
            let (l, r) = (read(&left, cli.partitions)?, read(&right, cli.partitions)?);
            let joined = l.sjoin(&r, how.into(), p)?.collect(&options)?;
            write(&joined, &output)?;
            joined.len()
        }
        Command::Nearest {
            left,
            right,
            max_distance,
            distance_col,
            how,
            output,
        } => {
            let (l, r) = (read(&left, cli.partitions)?, read(&right, cli.partitions)?);
            let joined = l
                .sjoin_nearest(&r, how.into(), max_distance, distance_col.as_deref())?
                .collect(&options)?;
            write(&joined, &output)?;
            joined.len()
        }
        Command::Dissolve {
            file,
            by,
            agg,
            output,
        } => {
            let frame = read(&file, cli.partitions)?.collect(&options)?;
            let aggs = agg
                .iter()
                .map(|a| aggregate(a))
                .collect::<Result<Vec<_>, _>>()?;
            let by: Vec<&str> = by.iter().map(String::as_str).collect();
            let aggs: Vec<(&str, Aggregate)> = aggs.iter().map(|(c, a)| (c.as_str(), *a)).collect();
            let out = frame.dissolve(&by, &aggs)?;
            write(&out, &output)?;
            out.len()
        }
        Command::Convert {
            input,
            to_crs,
            output,
        } => {
            let mut lazy = read(&input, cli.partitions)?;
            if let Some(crs) = to_crs {
                lazy = lazy.to_crs(&Crs::from_user_input(&crs)?)?;
            }
            let frame = lazy.collect(&options)?;
            write(&frame, &output)?;
            frame.len()
        }
    };
    eprintln!(
        "{rows} rows written in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("geoframe: {}", e.into_root());
            ExitCode::from(2)
        }
    }
}

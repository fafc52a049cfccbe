//! `geoframe`: spatial joins, nearest joins, dissolves and conversions of geospatial files
//! from the command line. Inputs and outputs are chosen by extension: `.shp` (ESRI
//! shapefile), `.parquet` / `.geoparquet` (GeoParquet), `.geojson` / `.json` (GeoJSON),
//! `.fgb` (FlatGeobuf) and `.gpkg` (GeoPackage: its first feature layer is read; a written
//! file has one layer, named after the file).
//!
//!     geoframe info data/us_counties/us_counties.shp
//!     geoframe sjoin points.shp data/us_counties/us_counties.shp -o joined.parquet
//!
//! Bad input (a missing or malformed file, an unknown column or format) prints the error on
//! stderr and exits with status 2.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand, ValueEnum};
use geoframe::io::{GeometryEncoding, ParquetCompression};
use geoframe::join::{How, Predicate};
use geoframe::ops::Aggregate;
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{DissolveOptions, ExecuteOptions};
use geoframe::{Crs, Error};

#[path = "geoframe/files.rs"]
mod files;
use files::{parse_bytes, read, read_for, Output, Runner, Summary, SummarySink};

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
    /// Print nothing but errors (no progress bar, no summary).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Replace an output file that exists (by default it is an error, as with ogr2ogr).
    #[arg(long, global = true)]
    overwrite: bool,
    /// Compression of GeoParquet outputs: uncompressed, snappy, lz4, gzip[:LEVEL],
    /// brotli[:LEVEL] or zstd[:LEVEL].
    #[arg(long, global = true, default_value_t = ParquetCompression::DEFAULT)]
    compression: ParquetCompression,
    /// Write GeoParquet outputs without the `bbox` covering column (smaller files, most
    /// for points; readers then cannot skip row groups by box).
    #[arg(long, global = true)]
    no_covering: bool,
    /// Bytes that results held between tasks may take (suffixes K, M, G, T; powers of
    /// 1024): no new partition is read while they would pass it. Default: half of this
    /// machine's memory.
    #[arg(long, global = true, value_parser = parse_bytes)]
    memory_limit: Option<u64>,
    /// Write a performance report of the run to this HTML file: a lane per worker with
    /// each task as a bar over time, the bytes held over time, and the totals.
    #[arg(long, global = true)]
    report: Option<PathBuf>,
    /// Store GeoParquet geometries in a native GeoArrow encoding (point, linestring,
    /// polygon or their multi forms, chosen from the geometry types) instead of WKB.
    #[arg(long, global = true)]
    geoarrow: bool,
    /// Also mark GeoParquet's WKB geometry column with Parquet's GEOMETRY logical type
    /// (with its CRS and per-chunk geospatial statistics), for Parquet-native readers.
    #[arg(long, global = true)]
    parquet_geometry_type: bool,
    /// Run `sjoin`, `nearest`, `convert` and `shuffle` on a cluster: the scheduler started
    /// by `geoframe cluster scheduler`, as df://host:port. Inputs must be partitioned
    /// GeoParquet datasets (each file one partition) at paths every executor can read.
    #[cfg(feature = "distributed")]
    #[arg(long, global = true)]
    cluster: Option<String>,
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
        /// Reproject both layers to this CRS first (needed when their CRSs differ).
        #[arg(long)]
        to_crs: Option<String>,
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
        /// Reproject both layers to this CRS first (needed when their CRSs differ).
        #[arg(long)]
        to_crs: Option<String>,
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
        /// Number of key ranges dissolved one by one (as dask-geopandas' split_out);
        /// default: from the input's size and the memory limit. Rows are spilled beside
        /// the output.
        #[arg(long)]
        split_out: Option<usize>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Spatially shuffle a layer into a partitioned GeoParquet dataset (a directory, one
    /// file per partition), in bounded memory: rows go through spill files beside the
    /// output.
    Shuffle {
        /// Input layer.
        input: PathBuf,
        /// Output directory.
        output: PathBuf,
        /// The curve that orders rows.
        #[arg(long, value_enum, default_value_t = CurveArg::Hilbert)]
        by: CurveArg,
        /// Number of output partitions (each must fit in memory).
        #[arg(long)]
        npartitions: usize,
    },
    /// Convert between formats, optionally reprojecting.
    Convert {
        /// Input file.
        input: PathBuf,
        /// Reproject to this CRS (EPSG:code, PROJ string or WKT).
        #[arg(long)]
        to_crs: Option<String>,
        /// Keep only rows whose bounding box meets XMIN,YMIN,XMAX,YMAX (in the input's
        /// CRS); GeoParquet row groups outside it are not read.
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        bbox: Option<Vec<f64>>,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Run a cluster's processes: a scheduler, or an executor that joins one.
    #[cfg(feature = "distributed")]
    Cluster {
        #[command(subcommand)]
        role: ClusterRole,
    },
}

/// The processes of a cluster.
#[cfg(feature = "distributed")]
#[derive(Subcommand)]
enum ClusterRole {
    /// The scheduler: takes jobs from clients and hands their tasks to executors.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: String,
        /// Seconds without a heartbeat after which an executor is lost and its tasks run
        /// elsewhere.
        #[arg(long, default_value_t = 30)]
        executor_timeout: u64,
    },
    /// An executor: registers with the scheduler (also while jobs run) and runs tasks.
    Executor {
        /// The scheduler, host:port.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: String,
        /// Tasks run at once.
        #[arg(long, default_value_t = 1)]
        slots: usize,
        /// Host to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind_host: String,
        /// Host name other machines reach this executor by (default: --bind-host).
        #[arg(long)]
        external_host: Option<String>,
        /// Port of the data service (default: a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Port of the task service (default: a free one).
        #[arg(long, default_value_t = 0)]
        grpc_port: u16,
        /// Directory for task results until they are read (default: a temporary one).
        #[arg(long)]
        work_dir: Option<PathBuf>,
        /// Seconds between heartbeats.
        #[arg(long, default_value_t = 5)]
        heartbeat: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum CurveArg {
    Hilbert,
    Morton,
    Geohash,
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

/// An error of library operation `op` as the CLI command `command` that ran it.
fn named_as_command(e: Error, op: &str, command: &'static str) -> Error {
    match e {
        Error::CrsMismatch { left, right, .. } => Error::CrsMismatch {
            op: command,
            left,
            right,
        },
        Error::InvalidArgument(m) => match m.strip_prefix(op) {
            Some(rest) => Error::InvalidArgument(format!("{command}{rest}")),
            None => Error::InvalidArgument(m),
        },
        other => other,
    }
}

/// Prints to stdout; a reader that went away (`geoframe info ... | head`) is not an error.
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
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
        memory_limit: cli.memory_limit,
        report: cli.report.clone(),
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
    let out = Output {
        overwrite: cli.overwrite,
        compression: cli.compression,
        covering: !cli.no_covering,
        geoarrow: cli.geoarrow,
        geometry_logical_type: cli.parquet_geometry_type,
    };
    #[cfg(feature = "distributed")]
    let runner = match &cli.cluster {
        Some(url) => Runner::Cluster(geoframe::distributed::Cluster::connect(url)?),
        None => Runner::Local(options.clone()),
    };
    #[cfg(not(feature = "distributed"))]
    let runner = Runner::Local(options.clone());
    let whole_files = runner.is_cluster();
    let started = std::time::Instant::now();
    let rows = match cli.command {
        Command::Info { file } => {
            let lazy = read(&file, cli.partitions)?;
            let summary = std::sync::Arc::new(std::sync::Mutex::new(Summary::default()));
            lazy.sink(Box::new(SummarySink(summary.clone())), &options)?;
            let summary = summary.lock().unwrap_or_else(|p| p.into_inner());
            let mut report = String::new();
            let _ = writeln!(report, "file:       {}", file.display());
            let _ = writeln!(report, "rows:       {}", summary.rows);
            let _ = writeln!(report, "partitions: {}", summary.partitions);
            let _ = writeln!(
                report,
                "crs:        {}",
                lazy.crs().map_or("none".to_string(), |c| c
                    .to_epsg()
                    .map_or_else(|| c.to_string(), |e| format!("EPSG:{e}")))
            );
            let _ = match summary.bounds {
                Some(b) => writeln!(
                    report,
                    "bounds:     {} {} {} {}",
                    b.min().x,
                    b.min().y,
                    b.max().x,
                    b.max().y
                ),
                None => writeln!(report, "bounds:     none"),
            };
            let _ = writeln!(report, "columns:");
            let geometry = lazy.layout().geometry_column;
            for (i, f) in lazy.schema().fields().iter().enumerate() {
                let kind = if i == geometry {
                    "geometry (WKB)".to_string()
                } else {
                    f.data_type().to_string()
                };
                let _ = writeln!(report, "  {:<20} {kind}", f.name());
            }
            print_stdout(&report);
            return Ok(());
        }
        Command::Sjoin {
            left,
            right,
            predicate: p,
            distance,
            how,
            to_crs,
            output,
        } => {
            out.check(&output)?;
            let p = Predicate::from_name(&p, distance)
                .map_err(|e| Error::InvalidArgument(format!("--predicate / --distance: {e}")))?;
            let (mut l, mut r) = (
                read_for(&left, cli.partitions, whole_files)?,
                read_for(&right, cli.partitions, whole_files)?,
            );
            if let Some(crs) = to_crs {
                let crs = Crs::from_user_input(&crs)?;
                l = l.to_crs(&crs)?;
                r = r.to_crs(&crs)?;
            }
            out.stream(&l.sjoin(&r, how.into(), p)?, &output, &runner)?
        }
        Command::Nearest {
            left,
            right,
            max_distance,
            distance_col,
            how,
            to_crs,
            output,
        } => {
            out.check(&output)?;
            let (mut l, mut r) = (
                read_for(&left, cli.partitions, whole_files)?,
                read_for(&right, cli.partitions, whole_files)?,
            );
            if let Some(crs) = to_crs {
                let crs = Crs::from_user_input(&crs)?;
                l = l.to_crs(&crs)?;
                r = r.to_crs(&crs)?;
            }
            let joined = l
                .sjoin_nearest(&r, how.into(), max_distance, distance_col.as_deref())
                .map_err(|e| named_as_command(e, "sjoin_nearest", "nearest"))?;
            out.stream(&joined, &output, &runner)?
        }
        Command::Dissolve {
            file,
            by,
            agg,
            split_out,
            output,
        } => {
            out.check(&output)?;
            if whole_files {
                return Err(Error::NotImplemented {
                    op: "dissolve on a cluster",
                    roadmap: "cluster-operations",
                });
            }
            let aggs = agg
                .iter()
                .map(|a| aggregate(a))
                .collect::<Result<Vec<_>, _>>()?;
            let by: Vec<&str> = by.iter().map(String::as_str).collect();
            let aggs: Vec<(&str, Aggregate)> = aggs.iter().map(|(c, a)| (c.as_str(), *a)).collect();
            let spill_dir = match output.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let dissolve = DissolveOptions {
                split_out,
                spill_dir: Some(spill_dir),
            };
            let dissolved = read(&file, cli.partitions)?
                .dissolve_out_of_core(&by, &aggs, &dissolve, &options)?;
            out.stream(&dissolved, &output, &runner)?
        }
        Command::Shuffle {
            input,
            output,
            by,
            npartitions,
        } => {
            out.check(&output)?;
            let method = match by {
                CurveArg::Hilbert => ShuffleMethod::Hilbert,
                CurveArg::Morton => ShuffleMethod::Morton,
                CurveArg::Geohash => ShuffleMethod::Geohash,
            };
            if whole_files {
                // On a cluster the shuffle is one plan: each output partition is gathered
                // by one task, from the keys of every input partition.
                let shuffled = read_for(&input, cli.partitions, true)?
                    .spatial_shuffle_lazy(method, npartitions)?;
                out.stream(&shuffled, &output, &runner)?
            } else {
                read(&input, cli.partitions)?
                    .spatial_shuffle_to_dataset(
                        method,
                        npartitions,
                        &output,
                        &out.parquet_options(GeometryEncoding::Wkb),
                        &options,
                    )?
                    .rows_written
            }
        }
        Command::Convert {
            input,
            to_crs,
            bbox,
            output,
        } => {
            out.check(&output)?;
            let mut lazy = read_for(&input, cli.partitions, whole_files)?;
            if let Some(b) = bbox {
                let [x0, y0, x1, y1] = b[..] else {
                    return Err(Error::InvalidArgument(
                        "--bbox takes XMIN,YMIN,XMAX,YMAX".into(),
                    ));
                };
                if !(x0 <= x1 && y0 <= y1) {
                    return Err(Error::InvalidArgument(format!(
                        "--bbox {x0},{y0},{x1},{y1}: its minimum is above its maximum"
                    )));
                }
                lazy = lazy.filter_bbox(geo::Rect::new((x0, y0), (x1, y1)));
            }
            if let Some(crs) = to_crs {
                lazy = lazy.to_crs(&Crs::from_user_input(&crs)?)?;
            }
            out.stream(&lazy, &output, &runner)?
        }
        #[cfg(feature = "distributed")]
        Command::Cluster { role } => {
            return match role {
                ClusterRole::Scheduler {
                    bind,
                    executor_timeout,
                } => {
                    geoframe::distributed::run_scheduler(&geoframe::distributed::SchedulerOptions {
                        bind,
                        executor_timeout_seconds: executor_timeout,
                    })
                }
                ClusterRole::Executor {
                    scheduler,
                    slots,
                    bind_host,
                    external_host,
                    port,
                    grpc_port,
                    work_dir,
                    heartbeat,
                } => geoframe::distributed::run_executor(&geoframe::distributed::ExecutorOptions {
                    scheduler,
                    slots,
                    bind_host,
                    external_host,
                    port,
                    grpc_port,
                    work_dir,
                    heartbeat_seconds: heartbeat,
                }),
            };
        }
    };
    if !cli.quiet {
        eprintln!(
            "{rows} rows written in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Prints the library's warnings (such as temporary files of a killed run being removed)
/// on stderr.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("geoframe: warning: {}", record.args());
        }
    }
    fn flush(&self) {}
}

static STDERR_LOG: StderrLog = StderrLog;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !cli.quiet && log::set_logger(&STDERR_LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("geoframe: {}", e.into_root());
            ExitCode::from(2)
        }
    }
}

//! Running plans into sinks: the streamed output equals the collected one row for row,
//! memory stays under the run's budget, and a failed run leaves nothing behind.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use geoframe::io::{
    read_geojson, read_geoparquet, read_shapefile, write_geojson, write_geoparquet,
    write_shapefile, GeoParquetOptions, GeoParquetWriteOptions, PartitionSink, ShapefileOptions,
};
use geoframe::join::{How, Predicate};
use geoframe::partition::Partition;
use geoframe::plan::{scan_geoparquet, scan_shapefile, ExecuteOptions, LazyFrame};
use geoframe::{Error, GeoFrame};

const ROWS_PER_PARTITION: usize = 2_000;

/// 40,000 splitmix points as GeoParquet, 20 row groups.
fn points_file(dir: &Path) -> PathBuf {
    let path = dir.join("points.parquet");
    let points = geoframe::datagen::uniform_points(40_000, 42, ROWS_PER_PARTITION).unwrap();
    write_geoparquet(&points, &path).unwrap();
    path
}

fn points(path: &Path) -> LazyFrame {
    scan_geoparquet(
        path,
        &GeoParquetOptions {
            rows_per_partition: ROWS_PER_PARTITION,
        },
    )
    .unwrap()
}

/// Points joined with their counties: 20 output partitions.
fn points_in_counties(path: &Path) -> LazyFrame {
    let counties = scan_shapefile(
        common::data("us_counties/us_counties.shp"),
        &ShapefileOptions {
            rows_per_partition: 500,
            ..Default::default()
        },
    )
    .unwrap();
    points(path)
        .sjoin(&counties, How::Inner, Predicate::Intersects)
        .unwrap()
}

fn workers(workers: usize) -> ExecuteOptions {
    ExecuteOptions {
        workers,
        ..Default::default()
    }
}

/// Every row of two frames, as one batch each, compared.
fn assert_same_rows(a: &GeoFrame, b: &GeoFrame, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: rows");
    assert_eq!(
        a.to_record_batch().unwrap(),
        b.to_record_batch().unwrap(),
        "{what}: values"
    );
}

/// The values of a frame read back from a format that renames or retypes columns (a
/// `.dbf` cuts names to 10 bytes), column by column against the frame that was written.
fn assert_same_values(read: &GeoFrame, written: &GeoFrame, what: &str) {
    let (a, b) = (
        read.to_record_batch().unwrap(),
        written.to_record_batch().unwrap(),
    );
    assert_eq!(a.num_rows(), b.num_rows(), "{what}: rows");
    assert_eq!(a.num_columns(), b.num_columns(), "{what}: columns");
    // Attributes in order, then the geometry, wherever each format puts it.
    let order = |f: &GeoFrame| {
        let g = f.geometry_column_index();
        let mut columns: Vec<usize> = (0..f.schema().fields().len()).filter(|&i| i != g).collect();
        columns.push(g);
        columns
    };
    for (i, j) in order(read).into_iter().zip(order(written)) {
        let column = arrow_cast::cast(a.column(i), b.column(j).data_type()).unwrap();
        assert_eq!(
            &column,
            b.column(j),
            "{what}: column {}",
            b.schema().field(j).name()
        );
    }
}

#[test]
fn a_streamed_result_equals_the_collected_one_for_every_sink_and_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = points_file(dir.path());
    let plan = points_in_counties(&input);
    let collected = plan.collect(&workers(2)).unwrap();
    assert!(collected.len() > 10_000, "{} rows", collected.len());
    // The eager writers on the collected frame are the reference for each format.
    let eager = |ext: &str| dir.path().join(format!("eager.{ext}"));
    write_geoparquet(&collected, eager("parquet")).unwrap();
    write_shapefile(&collected, eager("shp")).unwrap();
    write_geojson(&collected, eager("geojson")).unwrap();
    let shp = ShapefileOptions::default();
    for n in [1, 2, 8] {
        let streamed = |ext: &str| dir.path().join(format!("streamed_{n}.{ext}"));
        let stats = plan
            .sink_geoparquet(
                streamed("parquet"),
                &GeoParquetWriteOptions::default(),
                &workers(n),
            )
            .unwrap();
        assert_eq!(stats.rows_written, collected.len() as u64);
        assert_eq!(stats.tasks_per_worker.len(), n);
        plan.sink_shapefile(streamed("shp"), &workers(n)).unwrap();
        plan.sink_geojson(streamed("geojson"), &workers(n)).unwrap();
        let gp = GeoParquetOptions::default();
        assert_same_rows(
            &read_geoparquet(streamed("parquet"), &gp).unwrap(),
            &read_geoparquet(eager("parquet"), &gp).unwrap(),
            &format!("GeoParquet, {n} workers"),
        );
        assert_same_rows(
            &read_geoparquet(streamed("parquet"), &gp).unwrap(),
            &collected,
            &format!("GeoParquet against the frame, {n} workers"),
        );
        assert_same_rows(
            &read_shapefile(streamed("shp"), &shp).unwrap(),
            &read_shapefile(eager("shp"), &shp).unwrap(),
            &format!("shapefile, {n} workers"),
        );
        assert_same_values(
            &read_shapefile(streamed("shp"), &shp).unwrap(),
            &collected,
            &format!("shapefile against the frame, {n} workers"),
        );
        assert_same_values(
            &read_geojson(streamed("geojson"), 10_000).unwrap(),
            &collected,
            &format!("GeoJSON against the frame, {n} workers"),
        );
        assert_same_rows(
            &read_geojson(streamed("geojson"), 10_000).unwrap(),
            &read_geojson(eager("geojson"), 10_000).unwrap(),
            &format!("GeoJSON, {n} workers"),
        );
    }
}

/// A sink that takes its time and keeps what it is given.
#[derive(Clone, Default)]
struct SlowSink {
    received: Arc<Mutex<Vec<Partition>>>,
    fail_at: Option<usize>,
}

impl PartitionSink for SlowSink {
    fn write(&mut self, partitions: &[Partition]) -> geoframe::Result<()> {
        std::thread::sleep(Duration::from_millis(15));
        let mut received = self.received.lock().unwrap();
        if self.fail_at.is_some_and(|at| received.len() >= at) {
            return Err(Error::InvalidArgument("the disk is full".into()));
        }
        received.extend_from_slice(partitions);
        Ok(())
    }
    fn finish(self: Box<Self>) -> geoframe::Result<()> {
        Ok(())
    }
}

fn received_frame(sink: &SlowSink, like: &GeoFrame) -> GeoFrame {
    let batches = sink
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.batch().clone())
        .collect();
    GeoFrame::from_record_batches(
        like.schema().clone(),
        batches,
        like.geometry_column(),
        like.crs().cloned(),
    )
    .unwrap()
}

/// The bytes of one partition of the points, as the budget counts them.
fn partition_bytes(path: &Path) -> u64 {
    let frame = points(path).collect(&workers(1)).unwrap();
    frame.partitions()[0].batch().get_array_memory_size() as u64
}

/// With a sink slower than the workers, results pile up unless the budget holds the scans
/// back. With a limit of a few partitions, the peak stays near it whatever the number of
/// workers (and with workers added mid-run); without one, it grows far past it.
#[test]
fn a_memory_limit_holds_back_reading_while_a_slow_sink_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let input = points_file(dir.path());
    let plan = points(&input)
        .with_measure("area", geoframe::ops::Measure::Area)
        .unwrap();
    let reference = plan.collect(&workers(2)).unwrap();
    let one = partition_bytes(&input);
    let limit = 3 * one;
    let run = |n: usize, limit: Option<u64>, added: usize| {
        let sink = SlowSink::default();
        let options = ExecuteOptions {
            workers: n,
            memory_limit: limit,
            ..Default::default()
        };
        let computation = plan.start(&options).unwrap();
        computation.add_workers(added).unwrap();
        let stats = computation.write_to(Box::new(sink.clone())).unwrap();
        assert_same_rows(&received_frame(&sink, &reference), &reference, "streamed");
        stats
    };
    for (n, added) in [(1, 0), (2, 0), (8, 0), (1, 7)] {
        let stats = run(n, Some(limit), added);
        assert_eq!(stats.memory_limit, limit);
        // A scan starts only while the held bytes plus the expected ones fit; each of the
        // workers may hold one more result (the scan's mapped copy) on top.
        let bound = limit + (n + added) as u64 * 2 * one;
        assert!(
            stats.peak_held_bytes <= bound,
            "{n}+{added} workers: peak {} > {bound} (one partition {one})",
            stats.peak_held_bytes
        );
        assert!(stats.peak_held_bytes > 0);
        eprintln!(
            "{n}+{added} workers: peak {} (one {one})",
            stats.peak_held_bytes
        );
    }
    let unlimited = run(8, None, 0);
    assert!(
        unlimited.peak_held_bytes > 12 * one,
        "without a limit the 8 workers outrun the sink: peak {} only",
        unlimited.peak_held_bytes
    );
}

#[test]
fn a_limit_smaller_than_one_partition_is_an_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = points_file(dir.path());
    let err = points(&input)
        .collect(&ExecuteOptions {
            workers: 2,
            memory_limit: Some(10_000),
            ..Default::default()
        })
        .unwrap_err();
    let message = err.to_string();
    match err.into_root() {
        Error::MemoryLimit { limit, bytes } => {
            assert_eq!(limit, 10_000);
            assert!(bytes > limit);
        }
        other => panic!("expected a memory limit error, got {other}"),
    }
    assert!(message.contains("memory limit"), "{message}");
}

#[test]
fn a_failing_sink_stops_the_run_with_its_error_and_no_output_appears() {
    let dir = tempfile::tempdir().unwrap();
    let input = points_file(dir.path());
    let plan = points_in_counties(&input);
    let sink = SlowSink {
        fail_at: Some(3),
        ..Default::default()
    };
    let err = plan.sink(Box::new(sink.clone()), &workers(2)).unwrap_err();
    assert!(err.to_string().contains("the disk is full"), "{err}");
    let written = sink.received.lock().unwrap().len();
    assert!((3..20).contains(&written), "{written} partitions written");

    // A task that fails while a file sink writes: no file, no temporary file.
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let plan = points(&input);
    let target = out.join("joined.parquet");
    // Cutting the input after planning makes the reads of later partitions fail.
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let err = plan
        .sink_geoparquet(&target, &Default::default(), &workers(2))
        .unwrap_err();
    assert!(!err.to_string().is_empty());
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A partitioned dataset: one file per output partition, read back with each partition's
/// bounds from its footer, so a join over it prunes pairs as the frame in memory does.
#[test]
fn a_dataset_round_trips_and_its_footers_give_the_partition_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let input = points_file(dir.path());
    // Spatially shuffled, so that each partition covers a part of the country.
    let counties = scan_shapefile(
        common::data("us_counties/us_counties.shp"),
        &Default::default(),
    )
    .unwrap();
    let plan = points(&input)
        .spatial_shuffle_lazy(geoframe::partition::ShuffleMethod::Hilbert, 16)
        .unwrap()
        .sjoin(&counties, How::Inner, Predicate::Intersects)
        .unwrap();
    let collected = plan.collect(&workers(2)).unwrap();
    let dataset = dir.path().join("joined");
    let stats = plan
        .sink_dataset(&dataset, &Default::default(), &workers(2))
        .unwrap();
    assert_eq!(stats.rows_written, collected.len() as u64);
    let files = std::fs::read_dir(&dataset).unwrap().count();
    assert_eq!(files, collected.npartitions());

    let scanned = scan_geoparquet(&dataset, &GeoParquetOptions::default()).unwrap();
    assert_eq!(scanned.npartitions(), collected.npartitions());
    let back = scanned.collect(&workers(2)).unwrap();
    assert_same_rows(&back, &collected, "dataset");
    assert_same_rows(
        &read_geoparquet(&dataset, &GeoParquetOptions::default()).unwrap(),
        &collected,
        "read_geoparquet on the directory",
    );
    // A pattern picks files.
    let some = scan_geoparquet(dataset.join("part-00000*.parquet"), &Default::default()).unwrap();
    assert_eq!(some.npartitions(), 10);

    // Pruning before any row is read: the dataset's join graph has exactly the pair tasks
    // of the frame in memory (whose bounds are exact), far fewer than all pairs.
    // (A self-join of the Hilbert partitions: only neighbours meet.)
    let pairs = |side: &LazyFrame| {
        side.sjoin(side, How::Inner, Predicate::Intersects)
            .unwrap()
            .graph()
            .count_by_kind()
            .get("join-pair")
            .copied()
            .unwrap_or(0)
    };
    let in_memory = LazyFrame::from(collected.clone());
    assert_eq!(pairs(&scanned), pairs(&in_memory));
    let n = scanned.npartitions();
    assert!(
        pairs(&in_memory) < n * n / 2,
        "{} of {n}^2 pairs",
        pairs(&in_memory)
    );
    let count = |side: &LazyFrame| {
        side.sjoin(side, How::Inner, Predicate::Intersects)
            .unwrap()
            .count_rows(&workers(2))
            .unwrap()
    };
    assert_eq!(count(&scanned), count(&in_memory));

    // Writing again replaces the dataset whole; nothing temporary is left beside it.
    let head = LazyFrame::from(collected.head(10));
    head.sink_dataset(&dataset, &Default::default(), &workers(1))
        .unwrap();
    assert_eq!(
        read_geoparquet(&dataset, &Default::default())
            .unwrap()
            .len(),
        10
    );
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");

    // A file that does not fit the others is named.
    write_geoparquet(&common::cities(), dataset.join("part-999999.parquet")).unwrap();
    let err = scan_geoparquet(&dataset, &Default::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("part-999999.parquet"), "{err}");
}

/// The out-of-core shuffle: every row once, partitions in curve order and about equal,
/// rows within each in key order, the same whatever the input's partitions and workers,
/// and no spill left behind.
#[test]
fn a_shuffle_through_spill_files_orders_every_row_once() {
    use geoframe::partition::ShuffleMethod;
    let dir = tempfile::tempdir().unwrap();
    let input = points_file(dir.path());
    let shuffle = |rows_per_partition: usize, n: usize, name: &str| {
        let out = dir.path().join(name);
        let plan = scan_geoparquet(&input, &GeoParquetOptions { rows_per_partition }).unwrap();
        plan.spatial_shuffle_to_dataset(
            ShuffleMethod::Hilbert,
            8,
            &out,
            &Default::default(),
            &workers(n),
        )
        .unwrap();
        out
    };
    let a = shuffle(2_000, 2, "a");
    let b = shuffle(7_000, 8, "b");
    let c = shuffle(40_000, 1, "c");
    let read = |d: &Path| read_geoparquet(d, &Default::default()).unwrap();
    assert_same_rows(
        &read(&a),
        &read(&b),
        "2,000-row input, 2 workers vs 7,000-row, 8 workers",
    );
    assert_same_rows(
        &read(&a),
        &read(&c),
        "against one input partition, 1 worker",
    );

    let parts: Vec<GeoFrame> = (0..8)
        .map(|k| read(&a.join(format!("part-{k:06}.parquet"))))
        .collect();
    let sizes: Vec<usize> = parts.iter().map(GeoFrame::len).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 40_000);
    assert!(
        sizes.iter().all(|&s| (4_000..=6_000).contains(&s)),
        "{sizes:?}"
    );
    let mut ids: Vec<i64> = parts
        .iter()
        .flat_map(|p| {
            let col = p.column("id").unwrap();
            let col = col
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .unwrap()
                .clone();
            col.values().to_vec()
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        (0..40_000).collect::<Vec<i64>>(),
        "every row exactly once"
    );

    // Keys on the input's grid: in order within and across partitions (the whole input
    // is one frame of the same rows, so its keys are those the shuffle used).
    let all = read(&a);
    let keys = all.hilbert_distance(16).unwrap();
    let extent_input = read_geoparquet(&input, &Default::default()).unwrap();
    assert_eq!(all.total_bounds(), extent_input.total_bounds());
    let keys = keys.values();
    assert!(
        keys.windows(2).all(|w| w[0] <= w[1]),
        "rows are not in Hilbert order"
    );
    // Compact: each partition covers a part of the extent.
    let area = |r: geo::Rect| r.width() * r.height();
    let total = area(all.total_bounds().unwrap());
    let covered: f64 = parts.iter().map(|p| area(p.total_bounds().unwrap())).sum();
    assert!(
        covered < 0.7 * 8.0 * total,
        "partitions overlap: {covered} of {total}"
    );

    // A shuffle that fails after spilling (each bucket, 5,000 rows, is more than the
    // memory limit, which the 2,000-row input partitions are not) leaves no spill; one
    // whose input is cut short after planning leaves no output.
    let one = partition_bytes(&input);
    let err = points(&input)
        .spatial_shuffle_to_dataset(
            ShuffleMethod::Hilbert,
            8,
            dir.path().join("too_big"),
            &Default::default(),
            &ExecuteOptions {
                workers: 2,
                memory_limit: Some(one * 3 / 2),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err.into_root(), Error::MemoryLimit { .. }));
    assert!(!dir.path().join("too_big").exists());
    let plan = points(&input);
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let failed = dir.path().join("failed");
    assert!(plan
        .spatial_shuffle_to_dataset(
            ShuffleMethod::Hilbert,
            8,
            &failed,
            &Default::default(),
            &workers(2)
        )
        .is_err());
    assert!(!failed.exists());

    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "left behind: {beside:?}");
}

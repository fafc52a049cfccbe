//! Plans on a Ballista cluster (feature `distributed`): a scheduler and executors started
//! as separate `geoframe cluster` processes on loopback. Every answer is checked row for
//! row against the same plan run locally, and the oracle cases against a brute-force loop
//! over geo's DE-9IM relate; executors join and die mid-job.
#![cfg(feature = "distributed")]

mod common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use geo::{polygon, Geometry, Relate};
use geoframe::distributed::Cluster;
use geoframe::io::{GeoParquetOptions, GeoParquetWriteOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{scan_geoparquet, ExecuteOptions, LazyFrame};
use geoframe::GeoFrame;

/// A `geoframe cluster` process, killed when dropped.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn spawn(args: &[String], log: PathBuf) -> Process {
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_geoframe"))
        .args(args)
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap();
    Process { child, log }
}

/// A scheduler on a free port, and a directory for its executors' logs and work.
struct TestCluster {
    scheduler: Process,
    port: u16,
    dir: tempfile::TempDir,
    executors: Vec<Process>,
}

impl TestCluster {
    fn start(executors: usize) -> TestCluster {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let scheduler = spawn(
            &[
                "cluster".into(),
                "scheduler".into(),
                "--bind".into(),
                format!("127.0.0.1:{port}"),
                "--executor-timeout".into(),
                "6".into(),
            ],
            dir.path().join("scheduler.log"),
        );
        wait_for_port(port, "the scheduler");
        let mut cluster = TestCluster {
            scheduler,
            port,
            dir,
            executors: Vec::new(),
        };
        for _ in 0..executors {
            cluster.add_executor();
        }
        cluster
    }

    /// Starts an executor with one slot; returns its process id once it listens.
    fn add_executor(&mut self) -> u32 {
        let k = self.executors.len();
        let (port, grpc) = (free_port(), free_port());
        let work = self.dir.path().join(format!("work-{k}"));
        std::fs::create_dir_all(&work).unwrap();
        let process = spawn(
            &[
                "cluster".into(),
                "executor".into(),
                "--scheduler".into(),
                format!("127.0.0.1:{}", self.port),
                "--slots".into(),
                "1".into(),
                "--port".into(),
                port.to_string(),
                "--grpc-port".into(),
                grpc.to_string(),
                "--heartbeat".into(),
                "1".into(),
                "--work-dir".into(),
                work.to_string_lossy().into_owned(),
            ],
            self.dir.path().join(format!("executor-{k}.log")),
        );
        wait_for_port(grpc, "an executor");
        let pid = process.child.id();
        self.executors.push(process);
        pid
    }

    fn client(&self) -> Cluster {
        Cluster::connect(&format!("df://127.0.0.1:{}", self.port)).unwrap()
    }

    fn logs(&self) -> String {
        let mut all = String::new();
        for p in std::iter::once(&self.scheduler).chain(&self.executors) {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(30).collect();
            all += &format!("--- {}\n", p.log.display());
            for l in tail.into_iter().rev() {
                all += l;
                all.push('\n');
            }
        }
        all
    }
}

fn local() -> ExecuteOptions {
    ExecuteOptions {
        workers: 2,
        ..Default::default()
    }
}

/// Writes `frame` as a dataset of spatially compact partitions and scans it whole-file.
fn dataset(frame: &GeoFrame, npartitions: usize, dir: &Path, name: &str) -> LazyFrame {
    let path = dir.join(name);
    LazyFrame::from(frame.clone())
        .spatial_shuffle(ShuffleMethod::Hilbert, npartitions, &local())
        .unwrap()
        .write_dataset(&path);
    scan_geoparquet(
        &path,
        &GeoParquetOptions {
            rows_per_partition: usize::MAX,
        },
    )
    .unwrap()
}

trait WriteDataset {
    fn write_dataset(&self, path: &Path);
}

impl WriteDataset for GeoFrame {
    fn write_dataset(&self, path: &Path) {
        LazyFrame::from(self.clone())
            .sink_dataset(path, &GeoParquetWriteOptions::default(), &local())
            .unwrap();
    }
}

/// The frame's rows as one batch, for row-for-row comparison.
fn rows(frame: &GeoFrame) -> arrow_array::RecordBatch {
    let batches: Vec<_> = frame
        .partitions()
        .iter()
        .map(|p| p.batch().clone())
        .collect();
    arrow_select::concat::concat_batches(frame.schema(), &batches).unwrap()
}

fn assert_same(cluster: &TestCluster, client: &Cluster, plan: &LazyFrame, label: &str) -> GeoFrame {
    let expected = plan.collect(&local()).unwrap();
    let got = match client.collect(plan) {
        Ok(g) => g,
        Err(e) => panic!("{label}: {e}\n{}", cluster.logs()),
    };
    assert_eq!(got.len(), expected.len(), "{label}: rows");
    assert_eq!(rows(&got), rows(&expected), "{label}: rows differ");
    assert_eq!(
        got.partitions().len(),
        expected.partitions().len(),
        "{label}: partitions"
    );
    let count = client.count_rows(plan).unwrap();
    assert_eq!(count, expected.len() as u64, "{label}: count_rows");
    expected
}

fn rect(x: i32, y: i32, w: i32, h: i32) -> geo::Polygon {
    let (x0, y0, x1, y1) = (x as f64, y as f64, (x + w) as f64, (y + h) as f64);
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
}

/// Deterministic small layers on an integer grid: rectangles, squares with holes,
/// points and multipolygons, so shared edges and touching corners are common.
fn grid_layer(seed: u64, n: usize) -> GeoFrame {
    let mut state = seed;
    let mut next = |m: i32| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % m as u64) as i32
    };
    let geometries: Vec<Geometry> = (0..n)
        .map(|_| match next(4) {
            0 => Geometry::Point(geo::point!(x: next(20) as f64, y: next(20) as f64)),
            1 => Geometry::Polygon(rect(next(18), next(18), 1 + next(3), 1 + next(3))),
            2 => {
                let (x, y) = (next(16), next(16));
                Geometry::Polygon(geo::Polygon::new(
                    rect(x, y, 4, 4).exterior().clone(),
                    vec![rect(x + 1, y + 1, 2, 2).exterior().clone()],
                ))
            }
            _ => Geometry::MultiPolygon(geo::MultiPolygon(vec![
                rect(next(18), next(18), 1, 1),
                rect(next(18), next(18), 2, 1),
            ])),
        })
        .collect();
    GeoFrame::from_geometries(geometries, None).unwrap()
}

fn oracle(p: Predicate, a: &Geometry, b: &Geometry) -> bool {
    let m = a.relate(b);
    match p {
        Predicate::Intersects => m.is_intersects(),
        Predicate::Within => m.is_within(),
        Predicate::Contains => m.is_contains(),
        Predicate::Covers => m.is_covers(),
        Predicate::CoveredBy => m.is_coveredby(),
        Predicate::Touches => m.is_touches(),
        Predicate::Crosses => m.is_crosses(),
        Predicate::Overlaps => m.is_overlaps(),
        Predicate::Equals => m.is_equal_topo(),
        Predicate::DWithin(d) => geo::Distance::distance(&geo::Euclidean, a, b) <= d,
    }
}

/// (left index, right index) of each output row, from the join's index columns.
fn pairs(frame: &GeoFrame) -> Vec<(i64, i64)> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    let batch = rows(frame);
    let schema = batch.schema();
    let left = schema.index_of("index_left").unwrap();
    let right = schema.index_of("index_right").unwrap();
    let l = batch.column(left).as_primitive::<Int64Type>();
    let r = batch.column(right).as_primitive::<Int64Type>();
    (0..batch.num_rows())
        .map(|i| (l.value(i), r.value(i)))
        .collect()
}

#[test]
fn cluster_answers_equal_the_local_run_and_the_oracle() {
    let cluster = TestCluster::start(2);
    let client = cluster.client();
    let data = tempfile::tempdir().unwrap();

    // Oracle cases: every predicate against a brute-force loop over geo's relate.
    for seed in [1u64, 2] {
        let a = grid_layer(seed, 120);
        let b = grid_layer(seed + 100, 90);
        let (la, lb) = (
            dataset(&a, 6, data.path(), &format!("a{seed}")),
            dataset(&b, 4, data.path(), &format!("b{seed}")),
        );
        let a_geoms: Vec<Geometry> = la
            .collect(&local())
            .unwrap()
            .geometries()
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect();
        let b_geoms: Vec<Geometry> = lb
            .collect(&local())
            .unwrap()
            .geometries()
            .unwrap()
            .into_iter()
            .map(Option::unwrap)
            .collect();
        for predicate in [
            Predicate::Intersects,
            Predicate::Within,
            Predicate::Contains,
            Predicate::Covers,
            Predicate::CoveredBy,
            Predicate::Touches,
            Predicate::Crosses,
            Predicate::Overlaps,
            Predicate::Equals,
            Predicate::DWithin(1.5),
        ] {
            let plan = la.sjoin(&lb, How::Inner, predicate).unwrap();
            let got = assert_same(
                &cluster,
                &client,
                &plan,
                &format!("seed {seed} {predicate:?}"),
            );
            let mut expected = Vec::new();
            for (i, g) in a_geoms.iter().enumerate() {
                for (j, h) in b_geoms.iter().enumerate() {
                    if oracle(predicate, g, h) {
                        expected.push((i as i64, j as i64));
                    }
                }
            }
            assert_eq!(pairs(&got), expected, "seed {seed} {predicate:?}: oracle");
        }
        for how in [How::Left, How::Right] {
            let plan = la.sjoin(&lb, how, Predicate::Intersects).unwrap();
            assert_same(&cluster, &client, &plan, &format!("seed {seed} {how:?}"));
        }
    }

    // Real data: 1e6 splitmix points in the counties (GeoPandas: 534,836 pairs).
    let points = geoframe::datagen::uniform_points(1_000_000, 42, 100_000).unwrap();
    let points = dataset(&points, 16, data.path(), "points");
    let counties = dataset(&common::counties(1000), 4, data.path(), "counties");
    let joined = points
        .sjoin(&counties, How::Inner, Predicate::Intersects)
        .unwrap();
    let (count, stats) = client.count_rows_with_stats(&joined).unwrap();
    assert_eq!(count, 534_836);
    // One task per candidate partition pair, as the local graph has one pair task each.
    let local_pairs = joined.graph().count_by_kind()["join-pair"];
    assert_eq!(stats.tasks, local_pairs);
    assert_eq!(stats.pairs_tested, local_pairs);
    assert_eq!(stats.pairs_tested + stats.pairs_pruned, 16 * 4);
    assert!(stats.pairs_pruned > 0, "{stats:?}");
    let explained = Cluster::explain(&joined).unwrap();
    assert!(explained.contains("GeoframeExec"), "{explained}");
    assert_eq!(
        explained.matches("DataSourceExec").count(),
        2,
        "{explained}"
    );
    let frame = assert_same(&cluster, &client, &joined, "points in counties");
    assert_eq!(frame.len(), 534_836);

    // Counties against shifted counties.
    use geo::Translate;
    let raw = common::counties(1000);
    let shifted: Vec<Geometry> = raw
        .geometries()
        .unwrap()
        .into_iter()
        .map(|g| g.unwrap().translate(0.01, 0.01))
        .collect();
    let shifted = GeoFrame::from_geometries(shifted, raw.crs().cloned()).unwrap();
    let shifted = dataset(&shifted, 5, data.path(), "shifted");
    let plan = counties
        .sjoin(&shifted, How::Inner, Predicate::Intersects)
        .unwrap();
    assert_same(&cluster, &client, &plan, "counties x shifted counties");

    // Cities within countries, a left join, a nearest join, per-row operations.
    let cities = dataset(&common::cities(), 3, data.path(), "cities");
    let countries = dataset(&common::countries(), 3, data.path(), "countries");
    let within = cities
        .sjoin(&countries, How::Inner, Predicate::Within)
        .unwrap();
    assert_eq!(
        assert_same(&cluster, &client, &within, "cities within countries").len(),
        213
    );
    let left = cities
        .sjoin(&countries, How::Left, Predicate::Intersects)
        .unwrap();
    assert_same(&cluster, &client, &left, "cities left join countries");
    let nearest = cities
        .sjoin_nearest(&countries, How::Inner, None, Some("distance"))
        .unwrap();
    assert_same(&cluster, &client, &nearest, "cities nearest countries");
    let mercator = geoframe::Crs::from_user_input("EPSG:3857").unwrap();
    let ops = countries
        .select(&["name", "geometry"])
        .unwrap()
        .to_crs(&mercator)
        .unwrap();
    assert_same(&cluster, &client, &ops, "select + to_crs");
    let mask = Geometry::Polygon(polygon![
        (x: -20.0, y: -10.0), (x: 60.0, y: -10.0), (x: 60.0, y: 60.0), (x: -20.0, y: 60.0), (x: -20.0, y: -10.0)
    ]);
    let clipped = countries.clip(&mask).unwrap();
    assert_same(&cluster, &client, &clipped, "clip");
}

#[test]
fn sources_that_are_not_datasets_are_refused_before_any_task() {
    let client = Cluster::connect("df://127.0.0.1:1").unwrap();
    let frame = LazyFrame::from(common::cities());
    let err = client.collect(&frame).unwrap_err().to_string();
    assert!(err.contains("ROADMAP.md#cluster-sources"), "{err}");
    assert!(Cluster::connect("http://127.0.0.1:1").is_err());
}

/// A job long enough to outlast an executor's start: 1e6 points in 160 partitions
/// within the counties, one task per candidate pair.
fn long_job(dir: &Path) -> LazyFrame {
    let points = geoframe::datagen::uniform_points(1_000_000, 7, 100_000).unwrap();
    let points = dataset(&points, 160, dir, "points");
    let counties = dataset(&common::counties(1000), 4, dir, "counties");
    points
        .sjoin(&counties, How::Inner, Predicate::Within)
        .unwrap()
}

#[test]
fn an_executor_started_mid_job_takes_tasks_of_that_job() {
    let data = tempfile::tempdir().unwrap();
    let plan = long_job(data.path());
    let expected = plan.collect(&local()).unwrap();
    let mut cluster = TestCluster::start(2);
    let client = cluster.client();
    let first = cluster.executors[0].child.id();
    let job = {
        let plan = plan.clone();
        let client = cluster.client();
        std::thread::spawn(move || client.collect_with_stats(&plan))
    };
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !job.is_finished(),
        "the job ended before a second executor could join"
    );
    let third = cluster.add_executor();
    let (got, stats) = match job.join().unwrap() {
        Ok(r) => r,
        Err(e) => panic!("{e}\n{}", cluster.logs()),
    };
    assert_eq!(rows(&got), rows(&expected));
    eprintln!("tasks by executor: {:?}", stats.tasks_by_worker);
    assert!(
        stats.tasks_by_worker.get(&first).copied().unwrap_or(0) > 0,
        "{stats:?}"
    );
    assert!(
        stats.tasks_by_worker.get(&third).copied().unwrap_or(0) > 0,
        "the executor started mid-job ran no task: {stats:?}"
    );
    drop(client);
}

#[test]
fn an_executor_killed_mid_job_gives_the_same_answer_or_a_named_error() {
    let data = tempfile::tempdir().unwrap();
    let plan = long_job(data.path());
    let expected = plan.collect(&local()).unwrap();
    let mut cluster = TestCluster::start(2);
    let job = {
        let plan = plan.clone();
        let client = cluster.client();
        std::thread::spawn(move || client.collect_with_stats(&plan))
    };
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !job.is_finished(),
        "the job ended before an executor could be killed"
    );
    cluster.executors[0].child.kill().unwrap();
    match job.join().unwrap() {
        Ok((got, stats)) => {
            eprintln!(
                "the job survived; tasks by executor: {:?}",
                stats.tasks_by_worker
            );
            assert_eq!(
                rows(&got),
                rows(&expected),
                "a wrong answer after a lost executor"
            );
        }
        Err(e) => {
            let message = e.to_string();
            eprintln!("the job failed: {message}");
            assert!(matches!(e, geoframe::Error::Cluster { .. }), "{message}");
            assert!(
                message.to_lowercase().contains("executor"),
                "{message}\n{}",
                cluster.logs()
            );
        }
    }
}

//! The task graph: spatial shuffle properties, identical results whatever the workers and
//! partitions, workers added mid-run, lazy scans, errors naming their task, DOT output.

mod common;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use geo::polygon;
use geo::{BoundingRect, Geometry};
use geoframe::io::{write_geoparquet, GeoParquetOptions, ShapefileOptions};
use geoframe::join::{How, Predicate};
use geoframe::partition::ShuffleMethod;
use geoframe::plan::{scan_geoparquet, scan_shapefile, ExecuteOptions, LazyFrame};
use geoframe::{geometry, Crs, Error, GeoFrame};
use proptest::prelude::*;

const METHODS: [ShuffleMethod; 4] = [
    ShuffleMethod::Hilbert,
    ShuffleMethod::Morton,
    ShuffleMethod::Geohash,
    ShuffleMethod::SortTileRecursive,
];

/// A frame with an `id` column numbering its geometries, `rows` rows per partition.
fn frame_with_ids(geometries: &[Option<Geometry>], rows: usize) -> GeoFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        geometry::geometry_field("geometry"),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..geometries.len() as i64)),
        Arc::new(geometry::encode_array(
            geometries.iter().map(Option::as_ref),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    GeoFrame::from_record_batches(schema, vec![batch], "geometry", Some(Crs::epsg(4326)))
        .unwrap()
        .repartition(rows.max(1))
        .unwrap()
}

fn ids(frame: &GeoFrame) -> Vec<i64> {
    frame
        .column("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

fn bounds_area(frame: &GeoFrame) -> f64 {
    frame
        .partition_bounds()
        .iter()
        .flatten()
        .map(|r| r.width() * r.height())
        .sum()
}

/// Points around a few random centres, plus small polygons and some null geometries.
fn clustered_layer() -> impl Strategy<Value = Vec<Option<Geometry>>> {
    let centre = (-120.0..-70.0f64, 25.0..48.0f64);
    (proptest::collection::vec(centre, 2..6), proptest::collection::vec((0usize..6, -1.0..1.0f64, -1.0..1.0f64, 0u8..10), 20..300)).prop_map(
        |(centres, rows)| {
            rows.into_iter()
                .map(|(c, dx, dy, kind)| {
                    let (cx, cy) = centres[c % centres.len()];
                    let (x, y) = (cx + dx, cy + dy);
                    match kind {
                        0 => None,
                        1 | 2 => Some(polygon![(x: x, y: y), (x: x + 0.1, y: y), (x: x + 0.1, y: y + 0.1), (x: x, y: y)].into()),
                        _ => Some(geo::point!(x: x, y: y).into()),
                    }
                })
                .collect()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn shuffle_keeps_every_row_once_and_bounds_hold(layer in clustered_layer(), npartitions in 1usize..64, input_rows in 1usize..80, method in 0usize..4) {
        let frame = frame_with_ids(&layer, input_rows);
        let shuffled = frame.spatial_shuffle(METHODS[method], npartitions).unwrap();
        let mut got = ids(&shuffled);
        got.sort();
        prop_assert_eq!(got, (0..layer.len() as i64).collect::<Vec<_>>());
        prop_assert_eq!(shuffled.npartitions(), npartitions.min(layer.len()));
        let sizes: Vec<usize> = shuffled.partitions().iter().map(|p| p.len()).collect();
        prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "{:?}", sizes);
        let offsets = shuffled.partition_offsets();
        for (k, p) in shuffled.partitions().iter().enumerate() {
            for g in p.geometries(offsets[k]).unwrap().into_iter().flatten() {
                let (b, pb) = (g.bounding_rect().unwrap(), p.bounds().unwrap());
                prop_assert!(pb.min().x <= b.min().x && pb.min().y <= b.min().y && pb.max().x >= b.max().x && pb.max().y >= b.max().y);
            }
        }
    }

    #[test]
    fn hilbert_partitions_are_more_compact_than_the_input(
        clusters in 2usize..5,
        npartitions in 8usize..32,
        offsets in proptest::collection::vec((-0.5..0.5f64, -0.5..0.5f64), 640..1200),
        origin in (-120.0..-100.0f64, 25.0..35.0f64),
    ) {
        // Clusters 10 degrees apart, rows dealt to them in turn: every input partition
        // spans all clusters, while a Hilbert partition stays within one or two.
        let layer: Vec<Option<Geometry>> = offsets
            .iter()
            .enumerate()
            .map(|(i, (dx, dy))| {
                let c = (i % clusters) as f64;
                Some(geo::point!(x: origin.0 + 10.0 * c + dx, y: origin.1 + 7.0 * (c % 2.0) + dy).into())
            })
            .collect();
        let input = frame_with_ids(&layer, layer.len().div_ceil(npartitions));
        let shuffled = input.spatial_shuffle(ShuffleMethod::Hilbert, npartitions).unwrap();
        prop_assert!(bounds_area(&shuffled) < bounds_area(&input), "{} vs {}", bounds_area(&shuffled), bounds_area(&input));
    }
}

#[test]
fn same_output_whatever_the_workers_and_partitions() {
    let counties = common::counties(500);
    let points = geoframe::datagen::uniform_points(20_000, 3, 20_000).unwrap();
    let mut reference: Option<RecordBatch> = None;
    let mut shuffled_reference: Option<RecordBatch> = None;
    for workers in [1, 2, 8] {
        for rows in [20_000, 20_000usize.div_ceil(7), 20_000usize.div_ceil(64)] {
            let input = points.repartition(rows).unwrap();
            let options = ExecuteOptions {
                workers,
                ..Default::default()
            };
            let shuffled = LazyFrame::from(input)
                .spatial_shuffle(ShuffleMethod::Hilbert, 16, &options)
                .unwrap();
            let batch = shuffled.to_record_batch().unwrap();
            match &shuffled_reference {
                None => shuffled_reference = Some(batch),
                Some(r) => assert_eq!(
                    r, &batch,
                    "shuffle with {workers} workers, {rows} rows per partition"
                ),
            }
            let joined = LazyFrame::from(shuffled)
                .sjoin(
                    &LazyFrame::from(counties.clone()),
                    How::Inner,
                    Predicate::Intersects,
                )
                .unwrap()
                .collect(&options)
                .unwrap();
            // Sorted by the points' id: the pairs themselves, independent of partitioning.
            let batch = joined
                .select(&["id", "geoid"])
                .unwrap()
                .to_record_batch()
                .unwrap();
            let mut pairs: Vec<(i64, String)> = batch
                .column(0)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .copied()
                .zip(
                    batch
                        .column(1)
                        .as_string::<i32>()
                        .iter()
                        .map(|s| s.unwrap().to_string()),
                )
                .collect();
            pairs.sort();
            let sorted = RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("id", DataType::Int64, false),
                    Field::new("geoid", DataType::Utf8, true),
                ])),
                vec![
                    Arc::new(Int64Array::from_iter_values(pairs.iter().map(|p| p.0))),
                    Arc::new(arrow_array::StringArray::from_iter_values(
                        pairs.iter().map(|p| p.1.as_str()),
                    )),
                ],
            )
            .unwrap();
            match &reference {
                None => reference = Some(sorted),
                Some(r) => assert_eq!(
                    r, &sorted,
                    "join with {workers} workers, {rows} rows per partition"
                ),
            }
        }
    }
    assert!(reference.unwrap().num_rows() > 10_000);
}

#[test]
fn workers_added_mid_run_take_tasks() {
    // 48 reprojection tasks of 10,000 points each: long enough that the run is still under
    // way when the extra workers arrive.
    let points = geoframe::datagen::uniform_points(480_000, 9, 10_000).unwrap();
    let plan = LazyFrame::from(points).to_crs(&Crs::epsg(3857)).unwrap();
    let run = plan
        .start(&ExecuteOptions {
            workers: 1,
            ..Default::default()
        })
        .unwrap();
    run.add_workers(2).unwrap();
    let (frame, stats) = run.finish().unwrap();
    assert_eq!(frame.len(), 480_000);
    assert_eq!(stats.tasks_per_worker.len(), 3);
    assert_eq!(stats.tasks_per_worker.iter().sum::<usize>(), 96); // 48 scans + 48 reprojections
    assert!(
        stats.tasks_per_worker[1] > 0 && stats.tasks_per_worker[2] > 0,
        "{stats:?}"
    );
}

#[test]
fn lazy_scans_read_only_when_run_and_equal_eager_reads() {
    let options = ShapefileOptions {
        rows_per_partition: 700,
        ..Default::default()
    };
    let lazy = scan_shapefile(common::data("us_counties/us_counties.shp"), &options).unwrap();
    assert_eq!(lazy.npartitions(), 5);
    assert_eq!(lazy.count_rows(&ExecuteOptions::default()).unwrap(), 3231);
    let eager = common::counties(700);
    assert_eq!(
        lazy.collect(&ExecuteOptions::default())
            .unwrap()
            .to_record_batch()
            .unwrap(),
        eager.to_record_batch().unwrap()
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counties.parquet");
    write_geoparquet(&eager, &path).unwrap();
    let lazy = scan_geoparquet(
        &path,
        &GeoParquetOptions {
            rows_per_partition: 300,
        },
    )
    .unwrap();
    // Row groups of 700, 700, 700, 700 and 431 rows, cut into slices of at most 300.
    assert_eq!(lazy.npartitions(), 3 + 3 + 3 + 3 + 2);
    let selected = lazy
        .select(&["geoid"])
        .unwrap()
        .collect(&ExecuteOptions::default())
        .unwrap();
    assert_eq!(
        selected.to_record_batch().unwrap(),
        eager.select(&["geoid"]).unwrap().to_record_batch().unwrap()
    );
}

#[test]
fn a_failing_task_names_itself_and_its_partition() {
    let dir = tempfile::tempdir().unwrap();
    let src = common::data("naturalearth_cities/naturalearth_cities.shp");
    for ext in ["shp", "shx", "dbf", "prj"] {
        std::fs::copy(
            src.with_extension(ext),
            dir.path().join("c").with_extension(ext),
        )
        .unwrap();
    }
    let shp = dir.path().join("c.shp");
    // Record 130 (partition 2 of 50-row partitions) gets a NaN x.
    let shx = std::fs::read(shp.with_extension("shx")).unwrap();
    let offset =
        u32::from_be_bytes(shx[100 + 8 * 130..104 + 8 * 130].try_into().unwrap()) as usize * 2;
    let mut data = std::fs::read(&shp).unwrap();
    data[offset + 12..offset + 20].copy_from_slice(&f64::NAN.to_le_bytes());
    std::fs::write(&shp, data).unwrap();
    let lazy = scan_shapefile(
        &shp,
        &ShapefileOptions {
            rows_per_partition: 50,
            ..Default::default()
        },
    )
    .unwrap();
    match lazy
        .collect(&ExecuteOptions {
            workers: 2,
            ..Default::default()
        })
        .unwrap_err()
    {
        Error::TaskFailed {
            task,
            partition,
            source,
            ..
        } => {
            assert_eq!((task, partition), ("scan", Some(2)));
            assert!(
                matches!(*source, Error::InvalidGeometry { record: 130, .. }),
                "{source}"
            );
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn join_graph_prunes_pairs_and_draws_as_dot() {
    let counties = common::counties(3231)
        .spatial_shuffle(ShuffleMethod::Hilbert, 8)
        .unwrap();
    let states = common::read("us_states/us_states.shp", 56)
        .spatial_shuffle(ShuffleMethod::Hilbert, 4)
        .unwrap();
    let plan = LazyFrame::from(counties.clone())
        .sjoin(
            &LazyFrame::from(states.clone()),
            How::Inner,
            Predicate::Intersects,
        )
        .unwrap();
    let graph = plan.graph();
    let kinds = graph.count_by_kind();
    let candidate_pairs = counties
        .partition_index()
        .intersecting_pairs(states.partition_index())
        .len();
    assert_eq!(kinds["join-pair"], candidate_pairs);
    assert!(candidate_pairs < 8 * 4, "nothing was pruned");
    assert_eq!(kinds["scan"], 8 + 4);
    assert!(kinds["index"] <= 4);
    let dot = graph.to_dot();
    assert!(dot.starts_with("digraph geoframe {"));
    assert_eq!(
        dot.matches(" -> ").count(),
        graph.tasks.iter().map(|t| t.deps.len()).sum::<usize>()
    );
    assert!(dot.contains("join-output"));
    // The plan is plain data: it survives a JSON round trip.
    let json = serde_json::to_string(&graph).unwrap();
    assert_eq!(
        serde_json::from_str::<geoframe::plan::Graph>(&json).unwrap(),
        graph
    );
    // And the pruned join equals the eager one.
    let joined = plan.collect(&ExecuteOptions::default()).unwrap();
    assert_eq!(
        joined.len(),
        geoframe::sjoin(&counties, &states, How::Inner, Predicate::Intersects)
            .unwrap()
            .len()
    );
}

#[test]
fn key_columns_match_hand_computed_values() {
    let geoms: Vec<Option<Geometry>> = vec![
        Some(geo::point!(x: 0.0, y: 0.0).into()),
        Some(geo::point!(x: 10.0, y: 10.0).into()),
        Some(geo::point!(x: 10.0, y: 0.0).into()),
        None,
    ];
    let frame = frame_with_ids(&geoms, 2);
    // Level 1: a 2x2 grid; the Hilbert curve visits (0,0), (0,1), (1,1), (1,0).
    assert_eq!(
        frame
            .hilbert_distance(1)
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        vec![Some(0), Some(2), Some(3), Some(u64::MAX)]
    );
    // Morton: x in the even bits.
    assert_eq!(
        frame.morton_distance(1).unwrap().iter().collect::<Vec<_>>(),
        vec![Some(0), Some(3), Some(1), Some(u64::MAX)]
    );
    // Expected values from pygeohash 3 (`encode(lat, lon, 5)`).
    let hashes = frame.geohash(5).unwrap();
    assert_eq!(
        hashes.iter().collect::<Vec<_>>(),
        vec![Some("s0000"), Some("s1z0g"), Some("s0p05"), None]
    );
    let hulls = frame.calculate_spatial_partitions().unwrap();
    assert_eq!(hulls.len(), 2);
    assert_eq!(geo::Area::unsigned_area(hulls[0].as_ref().unwrap()), 0.0); // two points: a degenerate hull
}

/// The logical plan of a right join over a scanned file and a frame in memory prints each
/// operation once, inputs below it (left before right), with the user's predicate and the
/// pruning counted from the partition R-trees.
#[test]
fn explain_prints_the_logical_plan_of_a_join() {
    let counties = common::counties(3231)
        .spatial_shuffle(ShuffleMethod::Hilbert, 8)
        .unwrap();
    let options = ShapefileOptions {
        rows_per_partition: 20,
        ..Default::default()
    };
    let states = scan_shapefile(common::data("us_states/us_states.shp"), &options).unwrap();
    // Until read, the states' partitions are bounded by the file's box.
    let source =
        geoframe::io::ShapefileSource::open(common::data("us_states/us_states.shp"), &options)
            .unwrap();
    let bounds: Vec<_> = geoframe::io::PartitionSource::partitions(&source)
        .iter()
        .map(|p| p.bounds)
        .collect();
    let joined = LazyFrame::from(counties.clone())
        .select(&["geoid"])
        .unwrap()
        .sjoin(&states, How::Right, Predicate::Within)
        .unwrap();
    let pairs = counties
        .partition_index()
        .intersecting_pairs(&geoframe::partition::PartitionIndex::new(&bounds))
        .len();
    let expected = format!(
        "SpatialJoin how=Right predicate=Within: {pairs} of 24 partition pairs kept\n\
         \x20 Select [geoid, geometry]\n\
         \x20   Scan memory (3231 rows): 8 partitions, 3231 rows\n\
         \x20 Scan shapefile {}: 3 partitions, 56 rows\n",
        common::data("us_states/us_states.shp").display()
    );
    assert_eq!(joined.explain(), expected);
}

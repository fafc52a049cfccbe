//! The three settings that silently give wrong answers on Ballista (ballista.md), and what
//! a task does when a scan hands it rows that are not exactly its own.

use std::sync::Arc;

use arrow_array::{RecordBatch, UInt64Array};
use datafusion::prelude::SessionConfig;

use super::planner::{aligned, physical_plan};
use super::spec::{Job, Spec};
use crate::io::{GeoParquetOptions, GeoParquetWriteOptions, ShapefileOptions};
use crate::join::{How, Predicate};
use crate::plan::{scan_geoparquet, ExecuteOptions, LazyFrame};

fn dataset(dir: &std::path::Path, name: &str, shapefile: &str, rows: usize) -> LazyFrame {
    let path = dir.join(name);
    let frame = crate::io::read_shapefile(
        format!("{}/data/{shapefile}", env!("CARGO_MANIFEST_DIR")),
        &ShapefileOptions {
            rows_per_partition: rows,
            ..Default::default()
        },
    )
    .unwrap();
    LazyFrame::from(frame)
        .sink_dataset(
            &path,
            &GeoParquetWriteOptions::default(),
            &ExecuteOptions::default(),
        )
        .unwrap();
    scan_geoparquet(
        &path,
        &GeoParquetOptions {
            rows_per_partition: usize::MAX,
        },
    )
    .unwrap()
}

/// A job joining cities (3 files) within countries (2 files), and its tasks' scan input as
/// the cluster would read it: each file's rows with the task and partition columns.
fn job_and_inputs() -> (tempfile::TempDir, Job, Vec<Vec<Vec<RecordBatch>>>) {
    let dir = tempfile::tempdir().unwrap();
    let cities = dataset(
        dir.path(),
        "cities",
        "naturalearth_cities/naturalearth_cities.shp",
        100,
    );
    let countries = dataset(
        dir.path(),
        "countries",
        "naturalearth_lowres/naturalearth_lowres.shp",
        100,
    );
    let plan = cities
        .sjoin(&countries, How::Inner, Predicate::Within)
        .unwrap();
    let job = Job::new(Spec::of(&plan, false).unwrap()).unwrap();
    let sources = [
        cities.collect(&ExecuteOptions::default()).unwrap(),
        countries.collect(&ExecuteOptions::default()).unwrap(),
    ];
    let inputs = job
        .spec
        .tasks
        .iter()
        .enumerate()
        .map(|(t, task)| {
            let mut per_source = vec![Vec::new(), Vec::new()];
            for &scan in &task.scans {
                let (s, p) = job.scan_of(scan).unwrap();
                let batch = sources[s].partitions()[p].batch();
                let n = batch.num_rows();
                let mut columns = batch.columns().to_vec();
                columns.push(Arc::new(UInt64Array::from(vec![t as u64; n])));
                columns.push(Arc::new(UInt64Array::from(vec![p as u64; n])));
                per_source[s].push(
                    RecordBatch::try_from_iter(
                        batch
                            .schema()
                            .fields()
                            .iter()
                            .map(|f| f.name().clone())
                            .chain(["t".into(), "p".into()])
                            .zip(columns),
                    )
                    .unwrap(),
                );
            }
            per_source
        })
        .collect();
    (dir, job, inputs)
}

#[test]
fn aligned_sessions_neither_steal_files_nor_regroup_them() {
    let config = aligned(SessionConfig::new());
    assert!(!config.options().execution.enable_file_stream_work_stealing);
    assert!(!config.options().optimizer.repartition_file_scans);
    // DataFusion's defaults are the dangerous ones.
    let default = SessionConfig::new();
    assert!(default.options().execution.enable_file_stream_work_stealing);
    assert!(default.options().optimizer.repartition_file_scans);
}

#[test]
fn each_task_is_one_file_group_of_a_data_source_scan() {
    let (_dir, job, _) = job_and_inputs();
    let tasks = job.spec.tasks.len();
    assert!(tasks >= 2, "{tasks}");
    let plan = physical_plan(Arc::new(job)).unwrap();
    let text = datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string();
    assert_eq!(text.matches("DataSourceExec").count(), 2, "{text}");
    assert_eq!(
        text.matches(&format!("file_groups={{{tasks} groups"))
            .count(),
        2,
        "{text}"
    );
}

#[test]
fn every_task_answers_from_exactly_its_own_rows() {
    let (_dir, job, inputs) = job_and_inputs();
    let mut total = 0;
    for input in &inputs {
        total += job.run(input.clone()).unwrap().map_or(0, |b| b.num_rows());
    }
    assert_eq!(total, 213);
    // Rows of another task in the same partition (files moved or regrouped): an error.
    let mut mixed = inputs[0].clone();
    mixed[0].extend(inputs[1][0].iter().cloned());
    let err = job.run(mixed).unwrap_err().to_string();
    assert!(err.contains("regrouped"), "{err}");
    // A file that lost rows on the way (stolen by another partition, or read short).
    let mut short = inputs[0].clone();
    let first = short[0][0].clone();
    short[0][0] = first.slice(0, first.num_rows() - 1);
    let err = job.run(short).unwrap_err().to_string();
    assert!(err.contains("footer says"), "{err}");
}

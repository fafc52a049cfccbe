//! What a cluster job carries: the stage tasks of a plan, the files they read and the
//! schemas, encoded once on the client and decoded by the scheduler and every executor.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::partition::Partition;
use crate::plan::stage::{self, StageTask};
use crate::plan::{Context, Graph, LazyFrame, TaskId, TaskKind};

/// Column the scans add to every row: the stage task whose file group holds its file.
pub(crate) const TASK_COLUMN: &str = "__geoframe_task";
/// Column the scans add to every row: the source partition its file holds.
pub(crate) const PARTITION_COLUMN: &str = "__geoframe_partition";
/// Column of the output: the process that ran the task.
pub(crate) const WORKER_COLUMN: &str = "__geoframe_worker";
/// Columns of the output that put rows in the order of a local run.
pub(crate) const KEY_COLUMNS: [&str; 2] = ["__geoframe_key1", "__geoframe_key2"];
/// Column of a count's output.
pub(crate) const COUNT_COLUMN: &str = "__geoframe_count";

/// One source of the plan, as files.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SourceFiles {
    /// For plans and errors.
    pub describe: String,
    /// (absolute path, size in bytes) of each partition's file.
    pub files: Vec<(String, u64)>,
    /// The first row of each partition.
    pub first_rows: Vec<u64>,
    /// The rows of each partition, from the footers.
    pub rows: Vec<u64>,
    /// The schema of the partitions, Arrow IPC.
    pub schema: Vec<u8>,
    pub geometry_column: usize,
}

/// A plan's stage, as data.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Spec {
    pub graph: Graph,
    /// The schemas join tasks refer to, Arrow IPC.
    pub schemas: Vec<Vec<u8>>,
    pub sources: Vec<SourceFiles>,
    pub tasks: Vec<StageTask>,
    /// Whether the job counts rows rather than returning them.
    pub count: bool,
    /// The frame's schema, Arrow IPC.
    pub frame_schema: Vec<u8>,
    /// Partition pairs the plan's joins test, and pairs the partition R-trees pruned.
    pub pairs_tested: usize,
    pub pairs_pruned: usize,
    /// Drawn for each job, so that indexes kept by an executor serve only tasks of the
    /// job that built them (files may change between two jobs of the same plan).
    pub nonce: u64,
}

/// The partition indexes an executor process keeps, by (job nonce, index task): each
/// pair task of a job probing an index another of its tasks built on this executor reuses
/// it. The oldest go first past [`KEPT_INDEXES`].
static INDEXES: std::sync::Mutex<Vec<KeptIndex>> = std::sync::Mutex::new(Vec::new());

/// An index kept by [`INDEXES`]: (job nonce, index task) and what the task built.
type KeptIndex = ((u64, TaskId), Arc<crate::plan::stage::Value>);

/// Indexes an executor keeps at most.
const KEPT_INDEXES: usize = 16;

struct ProcessIndexes(u64);

impl stage::SharedIndexes for ProcessIndexes {
    fn get(&self, task: TaskId) -> Option<Arc<crate::plan::stage::Value>> {
        let kept = INDEXES.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter()
            .find(|(key, _)| *key == (self.0, task))
            .map(|(_, v)| v.clone())
    }
    fn put(&self, task: TaskId, value: Arc<crate::plan::stage::Value>) {
        let mut kept = INDEXES.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|(key, _)| *key != (self.0, task));
        if kept.len() >= KEPT_INDEXES {
            kept.remove(0);
        }
        kept.push(((self.0, task), value));
    }
}

/// A decoded [`Spec`], with its encoding (which identifies it) and what running it needs.
#[derive(Debug)]
pub(crate) struct Job {
    pub spec: Spec,
    pub bytes: Vec<u8>,
    pub context: Context,
    pub source_schemas: Vec<SchemaRef>,
    /// What the job's operator returns: the frame's columns (or a count), the task, the
    /// worker, the order keys.
    pub output_schema: SchemaRef,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Context({} schemas)", self.schemas.len())
    }
}

fn schema_bytes(schema: &Schema) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut buf, schema)?;
    writer.finish()?;
    drop(writer);
    Ok(buf)
}

fn schema_from_bytes(bytes: &[u8]) -> Result<SchemaRef> {
    Ok(arrow_ipc::reader::StreamReader::try_new(Cursor::new(bytes), None)?.schema())
}

/// Where the roadmap lists sources a cluster cannot read yet.
const SOURCES_ROADMAP: &str = "ROADMAP.md#cluster-sources";

impl Spec {
    /// The stage of `frame` (its rows, or with `count` its number of rows). Every source
    /// must be a partitioned GeoParquet dataset: one WKB file per partition.
    pub fn of(frame: &LazyFrame, count: bool) -> Result<Spec> {
        let stage = stage::stage(frame, count);
        let sources = stage
            .context
            .sources
            .iter()
            .map(|source| {
                let files = source.partition_files().ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "{}: a cluster reads partitioned GeoParquet datasets (one file with WKB \
                         geometries per partition, as sink_dataset and `geoframe shuffle` write \
                         them, opened with rows_per_partition at least the largest file's rows); \
                         other sources are on the roadmap ({SOURCES_ROADMAP})",
                        source.describe()
                    ))
                })?;
                let files = files
                    .iter()
                    .map(|f| {
                        let path = std::fs::canonicalize(f).map_err(|e| Error::io(f, e))?;
                        let size = std::fs::metadata(&path).map_err(|e| Error::io(f, e))?.len();
                        Ok((path.to_string_lossy().into_owned(), size))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let metas = source.partitions();
                let first_rows = crate::plan::compile::first_rows(&metas);
                Ok(SourceFiles {
                    describe: source.describe(),
                    files,
                    first_rows,
                    rows: metas.iter().map(|p| p.rows).collect(),
                    schema: schema_bytes(source.schema())?,
                    geometry_column: source.geometry_column(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let (pairs_tested, pairs_pruned) = stage::join_pairs(frame);
        Ok(Spec {
            schemas: stage
                .context
                .schemas
                .iter()
                .map(|s| schema_bytes(s))
                .collect::<Result<_>>()?,
            graph: stage.graph,
            sources,
            tasks: stage.tasks,
            count,
            frame_schema: schema_bytes(&frame.schema)?,
            pairs_tested,
            pairs_pruned,
            nonce: job_nonce(),
        })
    }
}

/// A number no other job of this client process draws, and unlikely in any other.
fn job_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u32(std::process::id());
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(t.as_nanos());
    }
    h.finish()
}

/// The two columns the scans add, after the file's own.
pub(crate) fn scan_columns() -> Vec<Arc<Field>> {
    vec![
        Arc::new(Field::new(TASK_COLUMN, DataType::UInt64, false)),
        Arc::new(Field::new(PARTITION_COLUMN, DataType::UInt64, false)),
    ]
}

impl Job {
    pub fn new(spec: Spec) -> Result<Job> {
        let bytes = serde_json::to_vec(&spec)
            .map_err(|e| Error::Internal(format!("cannot encode a cluster job: {e}")))?;
        Job::build(spec, bytes)
    }

    pub fn decode(bytes: &[u8]) -> Result<Job> {
        let spec: Spec = serde_json::from_slice(bytes)
            .map_err(|e| Error::Internal(format!("cannot decode a cluster job: {e}")))?;
        Job::build(spec, bytes.to_vec())
    }

    fn build(spec: Spec, bytes: Vec<u8>) -> Result<Job> {
        let schemas = spec
            .schemas
            .iter()
            .map(|b| schema_from_bytes(b))
            .collect::<Result<Vec<_>>>()?;
        let source_schemas = spec
            .sources
            .iter()
            .map(|s| schema_from_bytes(&s.schema))
            .collect::<Result<Vec<_>>>()?;
        let frame_schema = schema_from_bytes(&spec.frame_schema)?;
        let mut fields: Vec<Arc<Field>> = if spec.count {
            vec![Arc::new(Field::new(COUNT_COLUMN, DataType::UInt64, false))]
        } else {
            frame_schema.fields().iter().cloned().collect()
        };
        fields.push(Arc::new(Field::new(TASK_COLUMN, DataType::UInt64, false)));
        fields.push(Arc::new(Field::new(WORKER_COLUMN, DataType::UInt32, false)));
        for key in KEY_COLUMNS {
            fields.push(Arc::new(Field::new(key, DataType::UInt64, false)));
        }
        Ok(Job {
            context: Context {
                sources: Vec::new(),
                schemas,
            },
            source_schemas,
            output_schema: Arc::new(Schema::new(fields)),
            spec,
            bytes,
        })
    }

    /// A short description for plans: tasks, pairs, sources.
    pub fn describe(&self) -> String {
        let spec = &self.spec;
        let sources: Vec<&str> = spec.sources.iter().map(|s| s.describe.as_str()).collect();
        format!(
            "{} {} task(s); join partition pairs: {} tested, {} pruned; sources: {}",
            spec.tasks.len(),
            if spec.count { "count" } else { "row" },
            spec.pairs_tested,
            spec.pairs_pruned,
            sources.join(", ")
        )
    }

    /// The source partitions scan task `scan` reads: (source, partition).
    pub fn scan_of(&self, scan: TaskId) -> Option<(usize, usize)> {
        match self.spec.graph.tasks.get(scan)?.kind {
            TaskKind::Scan { source, partition } => Some((source, partition)),
            _ => None,
        }
    }

    /// Runs one stage task on the rows its scans read (`inputs`: the batches of each
    /// source, with the two scan columns) and returns its output batch.
    pub fn run(&self, inputs: Vec<Vec<RecordBatch>>) -> Result<Option<RecordBatch>> {
        let Some(task) = task_of(&inputs)? else {
            // Every file of the task is empty: so is its result.
            return Ok(None);
        };
        let stage_task = self
            .spec
            .tasks
            .get(task as usize)
            .ok_or_else(|| Error::Internal(format!("no stage task {task}")))?;
        let mut scans = HashMap::new();
        for &scan in &stage_task.scans {
            let (source, partition) = self
                .scan_of(scan)
                .ok_or_else(|| Error::Internal(format!("task {scan} is not a scan")))?;
            let batches = inputs
                .get(source)
                .ok_or_else(|| Error::Internal(format!("no input for source {source}")))?;
            scans.insert(scan, self.partition(source, partition, batches)?);
        }
        let shared = ProcessIndexes(self.spec.nonce);
        let result =
            stage::run_stage_task(&self.spec.graph, &self.context, stage_task, scans, &shared)?;
        let worker = std::process::id();
        let (mut columns, keys): (Vec<arrow_array::ArrayRef>, Vec<(u64, u64)>) = match result {
            stage::StageResult::Count(n) => {
                (vec![Arc::new(UInt64Array::from(vec![n]))], vec![(0, 0)])
            }
            stage::StageResult::Rows(p, pairs) => {
                let keys = match pairs {
                    Some(pairs) => pairs,
                    None => (0..p.len() as u64).map(|r| (r, 0)).collect(),
                };
                (p.batch().columns().to_vec(), keys)
            }
        };
        if keys.is_empty() {
            return Ok(None);
        }
        let n = keys.len();
        columns.push(Arc::new(UInt64Array::from(vec![task; n])));
        columns.push(Arc::new(arrow_array::UInt32Array::from(vec![worker; n])));
        columns.push(Arc::new(UInt64Array::from_iter_values(
            keys.iter().map(|k| k.0),
        )));
        columns.push(Arc::new(UInt64Array::from_iter_values(
            keys.iter().map(|k| k.1),
        )));
        Ok(Some(RecordBatch::try_new(
            self.output_schema.clone(),
            columns,
        )?))
    }

    /// Partition `partition` of source `source` from the rows the scan read: those whose
    /// partition column says so, in order, without the scan columns.
    fn partition(
        &self,
        source: usize,
        partition: usize,
        batches: &[RecordBatch],
    ) -> Result<Partition> {
        let schema = &self.source_schemas[source];
        let files = &self.spec.sources[source];
        let width = schema.fields().len();
        let mut pieces = Vec::new();
        for batch in batches {
            if batch.num_columns() != width + 2 {
                return Err(Error::Internal(format!(
                    "{}: the scan returned {} columns, not {}",
                    files.describe,
                    batch.num_columns(),
                    width + 2
                )));
            }
            let parts = batch
                .column(width + 1)
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(|| Error::Internal("the partition column is not UInt64".into()))?;
            let rows: Vec<u32> = (0..parts.len() as u32)
                .filter(|&i| parts.value(i as usize) == partition as u64)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let indices = arrow_array::UInt32Array::from(rows);
            let columns = batch.columns()[..width]
                .iter()
                .zip(schema.fields())
                .map(|(c, field)| {
                    let c = arrow_select::take::take(c.as_ref(), &indices, None)?;
                    if c.data_type() == field.data_type() {
                        Ok(c)
                    } else {
                        arrow_cast::cast(&c, field.data_type())
                    }
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            pieces.push(RecordBatch::try_new(schema.clone(), columns)?);
        }
        let batch = arrow_select::concat::concat_batches(schema, &pieces)?;
        let file = || -> std::path::PathBuf {
            files
                .files
                .get(partition)
                .map(|f| f.0.clone())
                .unwrap_or_default()
                .into()
        };
        // A file read short, or rows that went to another task, must not pass as a result.
        let expected = files.rows.get(partition).copied().unwrap_or(0);
        if batch.num_rows() as u64 != expected {
            return Err(Error::format(
                file(),
                None,
                format!(
                    "the cluster's scan gave {} rows of this partition, its footer says {expected}",
                    batch.num_rows()
                ),
            ));
        }
        let first_row = files.first_rows.get(partition).copied().unwrap_or(0);
        Partition::new(batch, files.geometry_column, first_row)
    }
}

/// The stage task whose files the rows came from (every row of one output partition
/// comes from the same task's file groups); `None` when there are no rows.
fn task_of(inputs: &[Vec<RecordBatch>]) -> Result<Option<u64>> {
    let mut found = None;
    for batch in inputs.iter().flatten() {
        if batch.num_rows() == 0 {
            continue;
        }
        let tasks = batch
            .column(batch.num_columns() - 2)
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(|| Error::Internal("the task column is not UInt64".into()))?;
        for t in tasks.values().iter() {
            match found {
                None => found = Some(*t),
                Some(f) if f != *t => {
                    return Err(Error::Internal(format!(
                        "rows of tasks {f} and {t} reached one partition: the cluster \
                         regrouped the files (is datafusion.optimizer.repartition_file_scans on?)"
                    )))
                }
                _ => {}
            }
        }
    }
    Ok(found)
}

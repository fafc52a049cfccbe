//! Runs a [`Graph`] on a pool of workers.
//!
//! Workers are loops on `rayon` thread pools that take the deepest ready task from a shared
//! queue. A result is kept while a later task still needs it and dropped after its last
//! reader finishes. More workers can join while a run is under way
//! ([`RunHandle::add_workers`]): they start on ready tasks at once.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::graph::{Graph, TaskId};
use super::progress::Progress;
use super::tasks::{run_task, Context, Value};
use crate::error::{panic_message, Error, Result};

/// How to run a graph.
#[derive(Debug, Clone, Default)]
pub struct ExecuteOptions {
    /// Number of workers; 0 means one per core (rayon's default).
    pub workers: usize,
    /// Show a progress bar of tasks done / total on stderr (with the `progress` feature).
    pub progress: bool,
}

struct State {
    /// Ready tasks, deepest first, then lowest id.
    ready: BinaryHeap<(u32, Reverse<TaskId>)>,
    waiting_on: Vec<usize>,
    readers_left: Vec<usize>,
    results: Vec<Option<Arc<Value>>>,
    done: usize,
    error: Option<Error>,
    /// Tasks run by each worker, by worker number.
    per_worker: BTreeMap<usize, usize>,
    /// Time spent in tasks of each kind.
    seconds_per_kind: BTreeMap<&'static str, f64>,
    next_worker: usize,
}

struct Shared {
    graph: Arc<Graph>,
    context: Arc<Context>,
    levels: Vec<u32>,
    consumers: Vec<Vec<TaskId>>,
    is_output: Vec<bool>,
    state: Mutex<State>,
    changed: Condvar,
    progress: Option<Progress>,
}

/// A run in progress.
pub struct RunHandle {
    shared: Arc<Shared>,
    pools: Mutex<Vec<rayon::ThreadPool>>,
}

/// Counts of a finished (or running) computation.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    /// Tasks run by each worker, in the order workers joined.
    pub tasks_per_worker: Vec<usize>,
    /// Seconds spent in tasks of each kind, summed over workers.
    pub seconds_per_kind: BTreeMap<&'static str, f64>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A worker never panics while holding the lock (task panics are caught outside it).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RunHandle {
    /// Starts running `graph` with `options.workers` workers.
    pub(crate) fn start(
        graph: Arc<Graph>,
        context: Arc<Context>,
        options: &ExecuteOptions,
    ) -> Result<RunHandle> {
        let n = graph.tasks.len();
        let mut consumers = vec![Vec::new(); n];
        let mut waiting_on = vec![0usize; n];
        for (id, t) in graph.tasks.iter().enumerate() {
            for &d in &t.deps {
                if d >= id {
                    return Err(Error::Internal(format!(
                        "task {id} depends on later task {d}"
                    )));
                }
                consumers[d].push(id);
            }
            waiting_on[id] = t.deps.len();
        }
        let mut is_output = vec![false; n];
        for &o in &graph.outputs {
            is_output[o] = true;
        }
        let levels = graph.levels();
        let ready = (0..n)
            .filter(|&id| waiting_on[id] == 0)
            .map(|id| (levels[id], Reverse(id)))
            .collect();
        let readers_left = graph.tasks.iter().map(|_| 0).collect::<Vec<_>>();
        let mut readers_left = readers_left;
        for t in &graph.tasks {
            for &d in &t.deps {
                readers_left[d] += 1;
            }
        }
        let progress = options.progress.then(|| Progress::new(n));
        let shared = Arc::new(Shared {
            graph,
            context,
            levels,
            consumers,
            is_output,
            state: Mutex::new(State {
                ready,
                waiting_on,
                readers_left,
                results: vec![None; n],
                done: 0,
                error: None,
                per_worker: BTreeMap::new(),
                seconds_per_kind: BTreeMap::new(),
                next_worker: 0,
            }),
            changed: Condvar::new(),
            progress,
        });
        let handle = RunHandle {
            shared,
            pools: Mutex::new(Vec::new()),
        };
        let workers = if options.workers == 0 {
            rayon::current_num_threads()
        } else {
            options.workers
        };
        handle.add_workers(workers)?;
        Ok(handle)
    }

    /// Adds `count` workers to the run; they take ready tasks at once.
    pub fn add_workers(&self, count: usize) -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(count)
            .thread_name(|i| format!("geoframe-worker-{i}"))
            .build()
            .map_err(|e| Error::InvalidArgument(format!("cannot start {count} workers: {e}")))?;
        for _ in 0..count {
            let shared = self.shared.clone();
            let worker = {
                let mut state = lock(&shared.state);
                let id = state.next_worker;
                state.next_worker += 1;
                state.per_worker.insert(id, 0);
                id
            };
            pool.spawn(move || work(&shared, worker));
        }
        self.pools
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(pool);
        Ok(())
    }

    /// Tasks finished so far, and the total.
    pub fn progress(&self) -> (usize, usize) {
        (lock(&self.shared.state).done, self.shared.graph.tasks.len())
    }

    /// Tasks run by each worker so far.
    pub fn stats(&self) -> RunStats {
        let state = lock(&self.shared.state);
        RunStats {
            tasks_per_worker: state.per_worker.values().copied().collect(),
            seconds_per_kind: state.seconds_per_kind.clone(),
        }
    }

    /// Waits for the run to end; the output tasks' results, in order, or the first error.
    pub(crate) fn wait(self) -> Result<(Vec<Arc<Value>>, RunStats)> {
        let shared = self.shared.clone();
        let total = shared.graph.tasks.len();
        let mut state = lock(&shared.state);
        while state.done < total && state.error.is_none() {
            state = shared
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        if let Some(bar) = &shared.progress {
            bar.finish();
        }
        let stats = RunStats {
            tasks_per_worker: state.per_worker.values().copied().collect(),
            seconds_per_kind: state.seconds_per_kind.clone(),
        };
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        let outputs = shared
            .graph
            .outputs
            .iter()
            .map(|&o| {
                state.results[o]
                    .clone()
                    .ok_or_else(|| Error::Internal(format!("output task {o} has no result")))
            })
            .collect::<Result<Vec<_>>>()?;
        drop(state);
        Ok((outputs, stats))
    }
}

fn work(shared: &Shared, worker: usize) {
    loop {
        let (id, inputs) = {
            let mut state = lock(&shared.state);
            loop {
                if state.error.is_some() || state.done == shared.graph.tasks.len() {
                    return;
                }
                if let Some((_, Reverse(id))) = state.ready.pop() {
                    let inputs: Vec<Arc<Value>> = shared.graph.tasks[id]
                        .deps
                        .iter()
                        .filter_map(|&d| state.results[d].clone())
                        .collect();
                    if let Some(n) = state.per_worker.get_mut(&worker) {
                        *n += 1;
                    }
                    break (id, inputs);
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
        };
        let task = &shared.graph.tasks[id];
        let started = std::time::Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            run_task(task, &inputs, &shared.context)
        }))
        .unwrap_or_else(|panic| {
            let message = panic_message(panic.as_ref());
            Err(Error::TaskPanicked {
                task: task.kind.name(),
                id,
                partition: task.partition,
                message,
            })
        });
        drop(inputs);
        let mut state = lock(&shared.state);
        *state.seconds_per_kind.entry(task.kind.name()).or_default() +=
            started.elapsed().as_secs_f64();
        match outcome {
            Err(e) => {
                if state.error.is_none() {
                    state.error = Some(match e {
                        already @ Error::TaskPanicked { .. } => already,
                        other => Error::TaskFailed {
                            task: task.kind.name(),
                            id,
                            partition: task.partition,
                            source: Box::new(other),
                        },
                    });
                }
                shared.changed.notify_all();
                return;
            }
            Ok(value) => {
                if !shared.consumers[id].is_empty() || shared.is_output[id] {
                    state.results[id] = Some(Arc::new(value));
                }
                for &d in &task.deps {
                    state.readers_left[d] -= 1;
                    if state.readers_left[d] == 0 && !shared.is_output[d] {
                        state.results[d] = None; // its last reader is done: free it
                    }
                }
                for &c in &shared.consumers[id] {
                    state.waiting_on[c] -= 1;
                    if state.waiting_on[c] == 0 {
                        state.ready.push((shared.levels[c], Reverse(c)));
                    }
                }
                state.done += 1;
                if let Some(bar) = &shared.progress {
                    bar.task_done();
                }
                shared.changed.notify_all();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};

    use crate::partition::{Partition, ShuffleMethod};
    use crate::plan::{ExecuteOptions, LazyFrame};
    use crate::{Error, GeoFrame};

    /// A panic inside a task (here: a geometry column that is not WKB, which the public
    /// constructors refuse) stops the run and comes back as an error naming the task.
    #[test]
    fn a_panicking_task_becomes_an_error() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "geometry",
            DataType::Float64,
            true,
        )]));
        let column: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
        let partitions = vec![
            Partition::with_bounds(batch.clone(), 0, None),
            Partition::with_bounds(batch, 0, None),
        ];
        let frame = GeoFrame::from_parts(schema, 0, None, partitions);
        let err = LazyFrame::from(frame)
            .spatial_shuffle(
                ShuffleMethod::Hilbert,
                2,
                &ExecuteOptions {
                    workers: 2,
                    progress: false,
                },
            )
            .unwrap_err();
        match err {
            Error::TaskPanicked {
                task,
                partition,
                message,
                ..
            } => {
                assert_eq!(task, "shuffle-keys");
                assert!(partition.is_some());
                assert!(message.contains("Binary"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }
}

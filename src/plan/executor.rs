//! Runs a [`Graph`] on a pool of workers.
//!
//! Workers are loops on threads of their own that take ready tasks from a shared queue:
//! those the earliest output needs first, then the deepest (finishing work under way
//! before starting more), so outputs come out roughly in order and a sink can write them
//! as they come. A result is kept while a later task still needs it and dropped after its last
//! reader finishes. More workers can join while a run is under way
//! ([`RunHandle::add_workers`]): they start on ready tasks at once. Dropping the handle
//! stops the run and waits for its workers, so nothing of the run outlives it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::graph::{Graph, TaskId};
use super::memory::{self, Budget};
use super::progress::Progress;
use super::report::{self, Span, Trace};

mod stream;
use super::tasks::{run_task, Context, Value};
use crate::error::{panic_message, Error, Result};

/// How to run a graph.
#[derive(Debug, Clone, Default)]
pub struct ExecuteOptions {
    /// Number of workers; 0 means one per core (rayon's default).
    pub workers: usize,
    /// Show a progress bar of tasks done / total on stderr (with the `progress` feature).
    pub progress: bool,
    /// Bytes that results held between tasks may take: no new partition is read while
    /// they would pass it. `None`: half of this machine's memory. A single result larger
    /// than the limit stops the run with [`Error::MemoryLimit`].
    pub memory_limit: Option<u64>,
    /// Write a performance report of the run to this HTML file when it ends: a lane per
    /// worker with each task as a bar over time, the bytes held over time, the totals.
    pub report: Option<std::path::PathBuf>,
}

/// Order of ready tasks (greatest first): the first output needing the task, its depth,
/// its id.
type Priority = (Reverse<usize>, u32, Reverse<TaskId>);

struct State {
    /// Ready tasks, deepest first, then lowest id.
    ready: BinaryHeap<Priority>,
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
    /// Bytes of each stored result, as counted in `budget`.
    sizes: Vec<u64>,
    budget: Budget,
    /// Tasks under way.
    running: usize,
    /// Whether output results are handed to a writer as they come (and count against the
    /// budget until written) rather than kept for the caller.
    streaming: bool,
    /// The next output (by position in the graph's outputs) the writer waits for.
    next_output: usize,
    /// Whether the writer holds an output it is writing.
    writer_busy: bool,
    /// Outputs done and not yet taken by the writer.
    outputs_waiting: usize,
    /// Spans and memory over time, when a report is asked for.
    trace: Option<Trace>,
    /// Rows of the outputs handed to the writer.
    rows_written: u64,
    /// The run's handle is gone: workers take no more tasks.
    stopped: bool,
    /// The caller has begun collecting or streaming the outputs.
    claimed: bool,
}

impl State {
    /// Whether a streaming run has as many finished outputs waiting for the writer as
    /// its reorder window holds (two per worker, and two more): no new partition is read
    /// until the writer catches up, whatever the memory budget allows.
    fn reorder_full(&self) -> bool {
        self.streaming && self.outputs_waiting >= 2 * self.next_worker + 2
    }

    fn stats(&self) -> RunStats {
        RunStats {
            tasks_per_worker: self.per_worker.values().copied().collect(),
            seconds_per_kind: self.seconds_per_kind.clone(),
            peak_held_bytes: self.budget.peak,
            memory_limit: self.budget.limit,
            scans_over_limit: self.budget.forced_scans,
            rows_written: self.rows_written,
        }
    }

    /// Whether nothing running and nothing being written can free memory, so that a
    /// scan must start over the limit for the run to go on.
    fn stalled(&self, graph: &Graph) -> bool {
        // Until the caller collects or streams, nothing takes outputs: waiting is right.
        if !self.claimed {
            return false;
        }
        let output_waiting = self.streaming
            && graph
                .outputs
                .get(self.next_output)
                .is_some_and(|&o| self.results[o].is_some());
        self.running == 0 && !self.writer_busy && !output_waiting
    }
}

struct Shared {
    graph: Arc<Graph>,
    context: Arc<Context>,
    priority: Vec<Priority>,
    consumers: Vec<Vec<TaskId>>,
    is_output: Vec<bool>,
    state: Mutex<State>,
    changed: Condvar,
    progress: Option<Progress>,
    report: Option<std::path::PathBuf>,
}

impl Shared {
    /// Waits until every task is done or one failed; then the run's error, or its counts
    /// (and its report written, when one was asked for).
    fn end<'a>(
        &'a self,
        mut state: MutexGuard<'a, State>,
    ) -> Result<(MutexGuard<'a, State>, RunStats)> {
        while state.done < self.graph.tasks.len() && state.error.is_none() {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if let Some(bar) = &self.progress {
            bar.finish();
        }
        if let Some(e) = state.error.take() {
            return Err(e);
        }
        let stats = state.stats();
        if let (Some(path), Some(trace)) = (&self.report, &state.trace) {
            report::write(trace, &stats, path)?;
        }
        Ok((state, stats))
    }
}

/// A run in progress.
pub struct RunHandle {
    shared: Arc<Shared>,
    /// The workers' threads. Each is a thread of its own, not a job on a `rayon` pool:
    /// a task that runs a parallel iterator on a pool's thread could steal a worker loop
    /// not yet started and wait inside it for itself.
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Drop for RunHandle {
    /// Stops the run (workers finish the task in hand and take no more) and waits for
    /// every worker to let go of it: a run's sources, and what they own (spill files),
    /// are gone when its handle is.
    fn drop(&mut self) {
        lock(&self.shared.state).stopped = true;
        self.shared.changed.notify_all();
        for thread in std::mem::take(&mut *lock(&self.threads)) {
            // A worker catches its tasks' panics; there is nothing more to report.
            let _ = thread.join();
        }
    }
}

/// Counts of a finished (or running) computation.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    /// Tasks run by each worker, in the order workers joined.
    pub tasks_per_worker: Vec<usize>,
    /// Seconds spent in tasks of each kind, summed over workers.
    pub seconds_per_kind: BTreeMap<&'static str, f64>,
    /// The most bytes that results held between tasks took at once (outputs included
    /// while they wait to be written by a sink; a collected frame's partitions excluded).
    pub peak_held_bytes: u64,
    /// The memory limit the run kept to.
    pub memory_limit: u64,
    /// Partitions read while over the limit because the plan needed them all at once.
    pub scans_over_limit: u64,
    /// Rows a sink was given ([`super::Computation::write_to`]); 0 when collected.
    pub rows_written: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
        // The first output (by position) that needs each task, from the outputs backwards.
        let mut first_output = vec![usize::MAX; n];
        for (position, &o) in graph.outputs.iter().enumerate() {
            first_output[o] = first_output[o].min(position);
        }
        for id in (0..n).rev() {
            for &d in &graph.tasks[id].deps {
                first_output[d] = first_output[d].min(first_output[id]);
            }
        }
        let priority: Vec<Priority> = (0..n)
            .map(|id| (Reverse(first_output[id]), levels[id], Reverse(id)))
            .collect();
        let ready = (0..n)
            .filter(|&id| waiting_on[id] == 0)
            .map(|id| priority[id])
            .collect();
        let mut readers_left = vec![0usize; n];
        for t in &graph.tasks {
            for &d in &t.deps {
                readers_left[d] += 1;
            }
        }
        let scanned_rows: u64 = graph
            .tasks
            .iter()
            .filter(|t| t.deps.is_empty())
            .filter_map(|t| t.rows)
            .sum();
        let progress = options.progress.then(|| Progress::new(n, scanned_rows));
        let shared = Arc::new(Shared {
            graph,
            context,
            priority,
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
                sizes: vec![0; n],
                budget: Budget::new(options.memory_limit.unwrap_or_else(memory::default_limit)),
                running: 0,
                streaming: false,
                next_output: 0,
                writer_busy: false,
                outputs_waiting: 0,
                trace: options.report.as_ref().map(|_| Trace::new()),
                rows_written: 0,
                stopped: false,
                claimed: false,
            }),
            changed: Condvar::new(),
            progress,
            report: options.report.clone(),
        });
        let handle = RunHandle {
            shared,
            threads: Mutex::new(Vec::new()),
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
        for _ in 0..count {
            let shared = self.shared.clone();
            let worker = {
                let mut state = lock(&shared.state);
                let id = state.next_worker;
                state.next_worker += 1;
                state.per_worker.insert(id, 0);
                id
            };
            let thread = std::thread::Builder::new()
                .name(format!("geoframe-worker-{worker}"))
                .spawn(move || work(&shared, worker))
                .map_err(|e| Error::InvalidArgument(format!("cannot start a worker: {e}")))?;
            lock(&self.threads).push(thread);
        }
        Ok(())
    }

    /// Tasks finished so far, and the total.
    pub fn progress(&self) -> (usize, usize) {
        (lock(&self.shared.state).done, self.shared.graph.tasks.len())
    }

    /// Tasks run by each worker so far.
    pub fn stats(&self) -> RunStats {
        lock(&self.shared.state).stats()
    }

    /// Waits for the run to end; the output tasks' results, in order, or the first error.
    pub(crate) fn wait(self) -> Result<(Vec<Arc<Value>>, RunStats)> {
        let shared = self.shared.clone();
        lock(&shared.state).claimed = true;
        shared.changed.notify_all();
        let (state, stats) = shared.end(lock(&shared.state))?;
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
                if state.error.is_some() || state.stopped || state.done == shared.graph.tasks.len()
                {
                    return;
                }
                if let Some(&(_, _, Reverse(id))) = state.ready.peek() {
                    // Only scans bring new data in; they wait while the budget is spent.
                    let is_scan = shared.graph.tasks[id].deps.is_empty();
                    if is_scan {
                        if state.budget.scan_fits() && !state.reorder_full() {
                            state.budget.scan_started(false);
                        } else if state.stalled(&shared.graph) {
                            state.budget.scan_started(true);
                        } else {
                            state = shared
                                .changed
                                .wait(state)
                                .unwrap_or_else(|p| p.into_inner());
                            continue;
                        }
                    }
                    state.ready.pop();
                    state.running += 1;
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
        let bytes = outcome.as_ref().map_or(0, memory::value_bytes);
        let mut state = lock(&shared.state);
        *state.seconds_per_kind.entry(task.kind.name()).or_default() +=
            started.elapsed().as_secs_f64();
        state.running -= 1;
        if task.deps.is_empty() {
            state.budget.scan_ended(bytes);
        }
        if let Some(trace) = &mut state.trace {
            let start = started.duration_since(trace.started).as_secs_f64();
            let end = trace.now();
            trace.spans.push(Span {
                worker,
                kind: task.kind.name(),
                task: id,
                partition: task.partition,
                start,
                end,
            });
        }
        let outcome = match outcome {
            Ok(_) if bytes > state.budget.limit => Err(Error::MemoryLimit {
                limit: state.budget.limit,
                bytes,
            }),
            other => other,
        };
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
                    // Outputs count too: a run may be handed to a sink only after some
                    // are done, and a collected frame's partitions take memory all the same.
                    state.sizes[id] = bytes;
                    state.budget.hold(bytes);
                    if shared.is_output[id] {
                        state.outputs_waiting += 1;
                    }
                }
                for &d in &task.deps {
                    state.readers_left[d] -= 1;
                    if state.readers_left[d] == 0 && !shared.is_output[d] {
                        state.results[d] = None; // its last reader is done: free it
                        let freed = std::mem::take(&mut state.sizes[d]);
                        state.budget.release(freed);
                    }
                }
                for &c in &shared.consumers[id] {
                    state.waiting_on[c] -= 1;
                    if state.waiting_on[c] == 0 {
                        state.ready.push(shared.priority[c]);
                    }
                }
                state.done += 1;
                let held = state.budget.held;
                if let Some(trace) = &mut state.trace {
                    trace.held(held);
                }
                if let Some(bar) = &shared.progress {
                    let rows = if task.deps.is_empty() {
                        task.rows.unwrap_or(0)
                    } else {
                        0
                    };
                    bar.task_done(rows);
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
                    ..Default::default()
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

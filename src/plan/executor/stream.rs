//! Streaming a run's outputs to a writer, in order, as they are done: the other way to end a
//! run than waiting for all of them ([`RunHandle::wait`]).

use std::sync::Arc;

use super::super::graph::TaskId;
use super::super::tasks::Value;
use super::{lock, RunHandle, RunStats};
use crate::error::{Error, Result};

impl RunHandle {
    /// Hands output results to `write` in order, as soon as each and every output before
    /// it are done (all that are ready at once, in one call), and frees them once written; outputs that finish early wait
    /// (counted against the memory budget, so no new partition is read while too many
    /// wait). Returns when every task is done, or with the first error, a task's or
    /// `write`'s.
    pub(crate) fn stream(
        self,
        mut write: impl FnMut(Vec<Arc<Value>>) -> Result<()>,
    ) -> Result<RunStats> {
        let shared = self.shared.clone();
        let graph = &shared.graph;
        let mut state = lock(&shared.state);
        state.streaming = true;
        state.claimed = true;
        shared.changed.notify_all();
        let mut position = 0;
        while position < graph.outputs.len() {
            state.next_output = position;
            // Wait for the next output, then take it and every output after it that is
            // ready too: the sink encodes one call's partitions in parallel.
            let mut taken: Vec<(TaskId, Arc<Value>)> = Vec::new();
            loop {
                if let Some(e) = state.error.take() {
                    return Err(e);
                }
                while let Some(&o) = graph.outputs.get(position + taken.len()) {
                    let value = if state.readers_left[o] > 0 {
                        // Another task still reads it: write a shared copy.
                        state.results[o].clone()
                    } else {
                        state.results[o].take()
                    };
                    match value {
                        Some(v) => taken.push((o, v)),
                        None => break,
                    }
                }
                if !taken.is_empty() {
                    break;
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner());
            }
            position += taken.len();
            state.next_output = position;
            state.writer_busy = true;
            state.outputs_waiting = state.outputs_waiting.saturating_sub(taken.len());
            for (_, value) in &taken {
                if let Value::Partition(p) = value.as_ref() {
                    state.rows_written += p.len() as u64;
                }
            }
            drop(state);
            let ids: Vec<TaskId> = taken.iter().map(|(o, _)| *o).collect();
            let written = write(taken.into_iter().map(|(_, v)| v).collect());
            state = lock(&shared.state);
            state.writer_busy = false;
            for o in ids {
                let freed = std::mem::take(&mut state.sizes[o]);
                state.budget.release(freed);
            }
            let held = state.budget.held;
            if let Some(trace) = &mut state.trace {
                trace.held(held);
            }
            shared.changed.notify_all();
            if let Err(e) = written {
                // Stop the workers; the writer's error is the run's.
                state
                    .error
                    .get_or_insert(Error::Internal("the sink failed".into()));
                return Err(e);
            }
        }
        let (state, stats) = shared.end(state)?;
        drop(state);
        Ok(stats)
    }
}

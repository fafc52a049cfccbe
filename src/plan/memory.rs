//! The memory budget of a run: how many bytes the results held between tasks take, and
//! whether a new partition may be read.
//!
//! Only scans bring new data into a run; every other task turns results already held into
//! others, and its inputs are freed once their last reader is done. So the executor keeps
//! memory bounded by starting a scan only while the held bytes, plus what the scans under
//! way are expected to add, stay under the limit (backpressure). When no task runs and
//! nothing can be freed, a scan starts anyway: the plan needs more than the limit at once
//! (a shuffle holds every input), and refusing would stall the run for ever.

use geo::CoordsIter;

use super::tasks::Value;
use crate::partition::shuffle::{Keys, ShufflePlan};

/// Bytes held by results, against a limit.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub limit: u64,
    pub held: u64,
    pub peak: u64,
    scans_running: u64,
    scanned_bytes: u64,
    scans_done: u64,
    /// Scans started while over the limit, because the run could not go on otherwise.
    pub forced_scans: u64,
}

impl Budget {
    pub(crate) fn new(limit: u64) -> Budget {
        Budget {
            limit,
            held: 0,
            peak: 0,
            scans_running: 0,
            scanned_bytes: 0,
            scans_done: 0,
            forced_scans: 0,
        }
    }

    /// Whether one more scan fits: what is held, plus what the running scans and this one
    /// are expected to add (the mean size of the partitions read so far). Until a first
    /// scan has ended there is no estimate, so scans start one at a time: otherwise every
    /// worker (and every worker added early) would start one blind.
    pub(crate) fn scan_fits(&self) -> bool {
        let Some(expected) = self.scanned_bytes.checked_div(self.scans_done) else {
            return self.scans_running == 0;
        };
        self.held + (self.scans_running + 1) * expected <= self.limit
    }

    pub(crate) fn scan_started(&mut self, forced: bool) {
        self.scans_running += 1;
        self.forced_scans += u64::from(forced);
    }

    pub(crate) fn scan_ended(&mut self, bytes: u64) {
        self.scans_running -= 1;
        self.scanned_bytes += bytes;
        self.scans_done += 1;
    }

    pub(crate) fn hold(&mut self, bytes: u64) {
        self.held += bytes;
        self.peak = self.peak.max(self.held);
    }

    pub(crate) fn release(&mut self, bytes: u64) {
        self.held = self.held.saturating_sub(bytes);
    }
}

/// The default limit: half of this machine's memory (4 GiB where it cannot be read).
pub(crate) fn default_limit() -> u64 {
    const FALLBACK: u64 = 4 << 30;
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return FALLBACK;
    };
    meminfo
        .lines()
        .find_map(|line| {
            let kib = line.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?;
            kib.trim().parse::<u64>().ok()
        })
        .map_or(FALLBACK, |kib| kib * 1024 / 2)
}

/// Bytes a result takes, near enough to budget with: Arrow buffers as allocated, decoded
/// geometries by their coordinates, vectors by their elements.
pub(crate) fn value_bytes(value: &Value) -> u64 {
    let bytes = match value {
        Value::Partition(p) => p.batch().get_array_memory_size(),
        Value::Count(_) => 8,
        Value::Keys(Keys::Sorted(v)) => v.len() * 8,
        Value::Keys(Keys::Centres(v)) => v.len() * 24,
        Value::Plan(ShufflePlan::Cuts(cuts)) => cuts.iter().map(|c| c.len() * 8).sum(),
        Value::Plan(ShufflePlan::Order(order)) => order.iter().map(|o| o.len() * 8).sum(),
        Value::Index(index) => {
            let coords: usize = index
                .geometries
                .iter()
                .flatten()
                .map(|g| g.coords_count())
                .sum();
            // Each geometry: its enum and boxes in the tree (about 64 bytes); each
            // coordinate 16 bytes, twice over where a polygon is prepared.
            index.geometries.len() * 64
                + coords * 16 * if index.prepared.is_empty() { 1 } else { 2 }
        }
        Value::Pairs(pairs) => pairs.len() * 16,
        Value::NearestPairs(pairs) => pairs.len() * 24,
    };
    bytes as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_waits_while_the_expected_bytes_pass_the_limit() {
        let mut budget = Budget::new(100);
        assert!(budget.scan_fits(), "nothing read yet: no estimate");
        budget.scan_started(false);
        assert!(
            !budget.scan_fits(),
            "one scan at a time until one has ended"
        );
        budget.scan_ended(40);
        budget.hold(40);
        assert!(budget.scan_fits(), "40 held + 40 expected <= 100");
        budget.scan_started(false);
        assert!(!budget.scan_fits(), "40 held + 2 x 40 expected > 100");
        budget.scan_ended(40);
        budget.hold(40);
        budget.release(40);
        assert!(budget.scan_fits());
        assert_eq!(budget.peak, 80);
    }

    #[test]
    fn the_default_limit_is_some_memory() {
        assert!(default_limit() >= 1 << 20);
    }
}

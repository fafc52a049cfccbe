//! A run's performance report: a self-contained HTML page, like dask's, with one lane per
//! worker holding each task as a bar over time (coloured by kind), the bytes held by
//! results over time against the memory limit, and the totals.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::executor::RunStats;
use crate::error::{Error, Result};

/// One task as run: by which worker, when (seconds from the run's start).
pub(crate) struct Span {
    pub worker: usize,
    pub kind: &'static str,
    pub task: usize,
    pub partition: Option<usize>,
    pub start: f64,
    pub end: f64,
}

/// What a run records for its report.
pub(crate) struct Trace {
    pub started: Instant,
    pub spans: Vec<Span>,
    /// (seconds from the start, bytes held) after each change.
    pub memory: Vec<(f64, u64)>,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            started: Instant::now(),
            spans: Vec::new(),
            memory: vec![(0.0, 0)],
        }
    }

    pub(crate) fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub(crate) fn held(&mut self, bytes: u64) {
        let t = self.now();
        self.memory.push((t, bytes));
    }
}

/// Colours of task kinds, in the order kinds first appear.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The background of a worker's lane: a colour nothing else on the page has, so that a
/// screenshot shows where the lanes are.
pub(crate) const LANE_BACKGROUND: &str = "#e8eef6";

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 90.0;
const LANE: f64 = 30.0;
const MEMORY_HEIGHT: f64 = 160.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// The report of a run as HTML.
pub(crate) fn html(trace: &Trace, stats: &RunStats, title: &str) -> String {
    let wall = trace
        .spans
        .iter()
        .map(|s| s.end)
        .fold(trace.now(), f64::max)
        .max(1e-6);
    let workers = stats.tasks_per_worker.len().max(1);
    let x = |t: f64| LEFT + (t / wall) * (WIDTH - LEFT - 10.0);
    let mut colours: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &trace.spans {
        let next = PALETTE[colours.len() % PALETTE.len()];
        colours.entry(s.kind).or_insert(next);
    }
    let lanes_height = workers as f64 * LANE + 30.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg id="lanes" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{lanes_height}">"##
    );
    for w in 0..workers {
        let y = 10.0 + w as f64 * LANE;
        let _ = write!(
            svg,
            r##"<g class="lane" data-worker="{w}"><rect x="{LEFT}" y="{y}" width="{}" height="{}" fill="{LANE_BACKGROUND}"/><text x="4" y="{}" font-size="13">worker {w}</text>"##,
            WIDTH - LEFT - 10.0,
            LANE - 4.0,
            y + LANE / 2.0 + 4.0
        );
        for s in trace.spans.iter().filter(|s| s.worker == w) {
            let left = x(s.start);
            let width = (x(s.end) - left).max(0.5);
            let partition = s
                .partition
                .map(|p| format!(", partition {p}"))
                .unwrap_or_default();
            let _ = write!(
                svg,
                r##"<rect class="task" x="{left:.2}" y="{y}" width="{width:.2}" height="{}" fill="{}"><title>{} (task {}{partition}): {:.3} s</title></rect>"##,
                LANE - 4.0,
                colours[s.kind],
                escape(s.kind),
                s.task,
                s.end - s.start
            );
        }
        svg.push_str("</g>");
    }
    let axis_y = 10.0 + workers as f64 * LANE + 14.0;
    for i in 0..=5 {
        let t = wall * f64::from(i) / 5.0;
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{axis_y}" font-size="11" text-anchor="middle">{t:.2} s</text>"##,
            x(t)
        );
    }
    svg.push_str("</svg>");

    // Bytes held over time, as steps, with the limit as a dashed line when it fits.
    let top = stats
        .peak_held_bytes
        .max(trace.memory.iter().map(|m| m.1).max().unwrap_or(0))
        .max(1);
    let scale_top = if stats.memory_limit <= 2 * top {
        stats.memory_limit.max(top)
    } else {
        top
    };
    let y = |b: u64| 10.0 + MEMORY_HEIGHT * (1.0 - b as f64 / scale_top as f64);
    let mut points = String::new();
    let mut last = 0u64;
    for &(t, b) in &trace.memory {
        let _ = write!(
            points,
            "{:.2},{:.2} {:.2},{:.2} ",
            x(t),
            y(last),
            x(t),
            y(b)
        );
        last = b;
    }
    let _ = write!(points, "{:.2},{:.2}", x(wall), y(last));
    let mut memory = format!(
        r##"<svg id="memory" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{}"><rect x="{LEFT}" y="10" width="{}" height="{MEMORY_HEIGHT}" fill="#f6f3ec"/><polyline fill="none" stroke="#4e79a7" stroke-width="2" points="{points}"/><text x="4" y="20" font-size="12">{}</text><text x="4" y="{}" font-size="12">0</text>"##,
        MEMORY_HEIGHT + 30.0,
        WIDTH - LEFT - 10.0,
        mib(scale_top),
        MEMORY_HEIGHT + 10.0
    );
    if stats.memory_limit <= scale_top {
        let limit_y = y(stats.memory_limit);
        let _ = write!(
            memory,
            r##"<line x1="{LEFT}" x2="{}" y1="{limit_y:.2}" y2="{limit_y:.2}" stroke="#e15759" stroke-dasharray="6 4"/><text x="{}" y="{:.2}" font-size="11" fill="#e15759" text-anchor="end">limit {}</text>"##,
            WIDTH - 10.0,
            WIDTH - 12.0,
            limit_y - 4.0,
            mib(stats.memory_limit)
        );
    }
    memory.push_str("</svg>");

    let mut legend = String::new();
    let mut totals = String::new();
    for (kind, colour) in &colours {
        let _ = write!(
            legend,
            r##"<span class="key"><span class="swatch" style="background:{colour}"></span>{}</span>"##,
            escape(kind)
        );
        let spans: Vec<&Span> = trace.spans.iter().filter(|s| s.kind == *kind).collect();
        let seconds: f64 = spans.iter().map(|s| s.end - s.start).sum();
        let _ = write!(
            totals,
            "<tr><td>{}</td><td>{}</td><td>{seconds:.3}</td></tr>",
            escape(kind),
            spans.len()
        );
    }
    let busy: f64 = trace.spans.iter().map(|s| s.end - s.start).sum();
    format!(
        r##"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:20px;color:#222}} h1{{font-size:20px}} h2{{font-size:16px;margin-top:24px}}
.key{{margin-right:14px;font-size:13px}} .swatch{{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}</style></head>
<body><h1>{title}</h1>
<p id="summary">{tasks} tasks on {workers} workers in {wall:.3} s; workers busy {occupancy:.0}% of the time; peak held {peak} (limit {limit}); {rows} rows written.</p>
<h2>Tasks per worker</h2><div>{legend}</div>{svg}
<h2>Bytes held by results</h2>{memory}
<h2>Totals</h2><table><tr><th>kind</th><th>tasks</th><th>seconds</th></tr>{totals}</table>
</body></html>
"##,
        title = escape(title),
        tasks = trace.spans.len(),
        occupancy = 100.0 * busy / (wall * workers as f64),
        peak = mib(stats.peak_held_bytes),
        limit = mib(stats.memory_limit),
        rows = stats.rows_written,
    )
}

/// Writes the report of a run to `path` (through a temporary file).
pub(crate) fn write(trace: &Trace, stats: &RunStats, path: &Path) -> Result<()> {
    let title = format!(
        "geoframe run, {}",
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    let mut file = crate::io::atomic::AtomicFile::create(path)?;
    file.write_all(html(trace, stats, &title).as_bytes())?;
    file.commit().map_err(|e| match e {
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    })
}

//! Drawing maps for the examples with plotters: filled polygons by class (a choropleth),
//! points, axes in the layer's CRS and a legend. Text uses DejaVu Sans (Debian's
//! `fonts-dejavu-core`, installed by `scripts/setup.sh`).

use geo::{Geometry, Polygon, Rect};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// Sequential palette (light yellow to dark red), one colour per class.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(255, 255, 178),
    RGBColor(254, 217, 118),
    RGBColor(254, 178, 76),
    RGBColor(253, 141, 60),
    RGBColor(240, 59, 32),
    RGBColor(189, 0, 38),
];
/// Polygons without a value.
pub const NO_DATA: RGBColor = RGBColor(215, 215, 215);

pub type Error = Box<dyn std::error::Error>;

/// Registers DejaVu Sans as plotters' "sans-serif" font.
pub fn load_font() -> Result<(), Error> {
    let candidates = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    ];
    let path = candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .ok_or("DejaVuSans.ttf not found: apt-get install fonts-dejavu-core")?;
    let bytes: &'static [u8] = Box::leak(std::fs::read(path)?.into_boxed_slice());
    register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| "cannot load DejaVuSans.ttf")?;
    Ok(())
}

/// Class breaks: `value` falls in the first class whose upper bound is >= it.
pub struct Classes {
    /// Upper bound of each class but the last (ascending).
    pub breaks: Vec<f64>,
    /// Label of each class, one more than `breaks`.
    pub labels: Vec<String>,
    /// Label of the polygons without a value.
    pub none: String,
}

impl Classes {
    pub fn color(&self, value: Option<f64>) -> RGBColor {
        match value {
            None => NO_DATA,
            Some(v) => self.class_color(self.breaks.iter().take_while(|&&b| v > b).count()),
        }
    }

    /// The colour of class `k`: the classes spread over the palette.
    fn class_color(&self, k: usize) -> RGBColor {
        let n = self.labels.len();
        PALETTE[(k * (PALETTE.len() - 1)) / (n.max(2) - 1)]
    }

    /// Classes at the given quantiles of `values` (rounded to integers where `integer`).
    pub fn quantiles(values: &[f64], k: usize, integer: bool, unit: &str) -> Classes {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let mut breaks: Vec<f64> = (1..k)
            .map(|i| v.get(i * v.len() / k).copied().unwrap_or(0.0))
            .map(|b| if integer { b.round() } else { b })
            .collect();
        breaks.dedup();
        let fmt = |x: f64| {
            if integer || x.abs() >= 100.0 {
                format!("{x:.0}")
            } else {
                format!("{x:.2}")
            }
        };
        let mut labels = Vec::new();
        let mut lo = v.first().copied().unwrap_or(0.0);
        for &b in &breaks {
            labels.push(format!("{} – {} {unit}", fmt(lo), fmt(b)));
            lo = if integer { b + 1.0 } else { b };
        }
        labels.push(format!(
            "{} – {} {unit}",
            fmt(lo),
            fmt(v.last().copied().unwrap_or(0.0))
        ));
        Classes {
            breaks,
            labels,
            none: "no data".into(),
        }
    }
}

fn polygons(g: &Geometry) -> Vec<&Polygon> {
    match g {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(m) => m.0.iter().collect(),
        _ => vec![],
    }
}

/// A choropleth of `shapes` coloured by `values` through `classes`, with optional points
/// and line segments on top, axes labelled `x_label` / `y_label` over `extent`, written as a PNG.
#[allow(clippy::too_many_arguments)]
pub fn choropleth(
    path: &str,
    title: &str,
    extent: Rect,
    (x_label, y_label): (&str, &str),
    shapes: &[Option<Geometry>],
    values: &[Option<f64>],
    classes: &Classes,
    legend_title: &str,
    points: &[(f64, f64)],
    lines: &[[(f64, f64); 2]],
) -> Result<(), Error> {
    let width = 1400u32;
    let map_width = 1100.0;
    let height = ((map_width * extent.height() / extent.width()) as u32 + 140).clamp(400, 1200);
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (map, legend) = root.split_horizontally(map_width as u32 + 80);
    let mut chart = ChartBuilder::on(&map)
        .caption(title, ("sans-serif", 26))
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(
            extent.min().x..extent.max().x,
            extent.min().y..extent.max().y,
        )?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;
    let ring =
        |r: &geo::LineString| -> Vec<(f64, f64)> { r.0.iter().map(|c| (c.x, c.y)).collect() };
    for (g, v) in shapes.iter().zip(values) {
        let Some(g) = g else { continue };
        let color = classes.color(*v);
        for p in polygons(g) {
            chart.draw_series(std::iter::once(plotters::element::Polygon::new(
                ring(p.exterior()),
                color.filled(),
            )))?;
            for hole in p.interiors() {
                chart.draw_series(std::iter::once(plotters::element::Polygon::new(
                    ring(hole),
                    WHITE.filled(),
                )))?;
            }
        }
    }
    let outline = RGBColor(90, 90, 90).stroke_width(1);
    for g in shapes.iter().flatten() {
        for p in polygons(g) {
            chart.draw_series(std::iter::once(PathElement::new(
                ring(p.exterior()),
                outline,
            )))?;
        }
    }
    chart.draw_series(
        lines
            .iter()
            .map(|l| PathElement::new(l.to_vec(), RGBColor(200, 30, 30).stroke_width(2))),
    )?;
    chart.draw_series(
        points
            .iter()
            .map(|&(x, y)| Circle::new((x, y), 3, RGBColor(30, 60, 160).filled())),
    )?;

    legend.draw(&Text::new(
        legend_title.to_string(),
        (10, 60),
        ("sans-serif", 18),
    ))?;
    let mut rows: Vec<(String, RGBColor)> = classes
        .labels
        .iter()
        .enumerate()
        .map(|(k, l)| (l.clone(), classes.class_color(k)))
        .collect();
    rows.push((classes.none.clone(), NO_DATA));
    for (k, (label, color)) in rows.iter().enumerate() {
        let y = 90 + 32 * k as i32;
        legend.draw(&Rectangle::new([(10, y), (40, y + 22)], color.filled()))?;
        legend.draw(&Rectangle::new(
            [(10, y), (40, y + 22)],
            BLACK.stroke_width(1),
        ))?;
        legend.draw(&Text::new(label.clone(), (50, y + 3), ("sans-serif", 16)))?;
    }
    if !points.is_empty() {
        let y = 90 + 32 * rows.len() as i32 + 10;
        legend.draw(&Circle::new(
            (25, y + 11),
            4,
            RGBColor(30, 60, 160).filled(),
        ))?;
        legend.draw(&Text::new(
            "point".to_string(),
            (50, y + 3),
            ("sans-serif", 16),
        ))?;
    }
    root.present()?;
    Ok(())
}

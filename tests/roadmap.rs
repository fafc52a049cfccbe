//! ROADMAP.md and the code stay in step: every `NotImplemented` the code can return names an
//! entry of ROADMAP.md, and the one reachable today is reached by a test.

use std::collections::BTreeSet;
use std::path::Path;

fn roadmap_anchors() -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ROADMAP.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|a| a.trim().to_string())
        .collect()
}

fn anchors_in_code(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            anchors_in_code(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("roadmap: \"").skip(1) {
                found.insert(part.split('"').next().unwrap().to_string());
            }
        }
    }
}

#[test]
fn every_not_implemented_names_a_roadmap_entry() {
    let anchors = roadmap_anchors();
    assert!(anchors.len() >= 10, "{anchors:?}");
    for a in &anchors {
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "anchor {a:?} is not a stable slug"
        );
    }
    let mut used = BTreeSet::new();
    anchors_in_code(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut used,
    );
    assert!(!used.is_empty());
    let missing: Vec<_> = used.difference(&anchors).collect();
    assert!(
        missing.is_empty(),
        "NotImplemented without a ROADMAP.md entry: {missing:?}"
    );
}

#[test]
fn a_right_nearest_join_reports_its_roadmap_entry() {
    let points = geoframe::GeoFrame::from_geometries(
        vec![geo::Geometry::Point(geo::Point::new(0.0, 0.0))],
        None,
    )
    .unwrap();
    let err = geoframe::sjoin_nearest(&points, &points, geoframe::join::How::Right, None, None)
        .unwrap_err();
    match err {
        geoframe::Error::NotImplemented { roadmap, .. } => {
            assert_eq!(roadmap, "sjoin-nearest-right");
            assert!(roadmap_anchors().contains(roadmap))
        }
        other => panic!("expected NotImplemented, got {other}"),
    }
}

#[test]
fn no_roadmap_entry_names_a_built_operation() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ROADMAP.md")).unwrap();
    let built: BTreeSet<&str> = geoframe::ops::IMPLEMENTED.iter().copied().collect();
    assert!(built.contains("dissolve") && built.len() >= 40);
    let mut anchor = None;
    let mut checked = 0;
    for line in text.lines() {
        if let Some(a) = line.strip_prefix("### ") {
            anchor = Some(a.trim().to_string());
            continue;
        }
        if line.starts_with("## ") {
            anchor = None; // section prose, such as the list of what is built
            continue;
        }
        let Some(anchor) = &anchor else { continue };
        for (k, name) in line.split('`').enumerate() {
            if k % 2 == 1 {
                checked += 1;
                assert!(
                    !built.contains(name),
                    "ROADMAP.md#{anchor} lists `{name}`, which is built"
                );
            }
        }
    }
    assert!(
        checked > 30,
        "only {checked} names found in roadmap entries"
    );
}

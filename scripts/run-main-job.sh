#!/usr/bin/env bash
# The main job: spatial joins on the real data in data/, with a summary on stdout and the
# joined rows written to out/ (GeoParquet and GeoJSON).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --release --quiet --example main_job -- "${@:-out}"

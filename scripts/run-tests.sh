#!/usr/bin/env bash
# The whole test suite: formatting, lints, the library without default features, files
# written by geoframe read back by GeoPandas, then every Rust test and doc example.
set -euo pipefail
cd "$(dirname "$0")/.."
export GEOFRAME_NEED_PYTHON=1
export GEOFRAME_NEED_CHROMIUM=1
source scripts/setup.sh

cargo fmt --check
cargo clippy --release --all-targets -- -D warnings
# With the cluster (Ballista) feature too: the tests below are built with it.
cargo clippy --release --all-targets --features distributed -- -D warnings
# The library alone, without the CLI, progress bars or the point generator.
cargo build --release --quiet --lib --no-default-features

# Interoperability: GeoPandas (pyogrio, pyarrow), dask-geopandas, and for partitioned
# datasets DuckDB spatial and SedonaDB, open what geoframe writes.
venv=target/interop-venv
if ! "$venv/bin/python" -c "import geopandas, dask_geopandas, duckdb, duckdb_extension_spatial, sedonadb" >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check geopandas pyogrio pyarrow pyproj dask-geopandas \
        duckdb==1.5.5 duckdb-extension-spatial==1.5.5 sedonadb geoarrow-pyarrow
fi
samples=target/interop-samples
rm -rf "$samples"
cargo run --release --quiet --features distributed --example write_samples -- "$samples"
"$venv/bin/python" tests/interop/check_geopandas.py "$samples"

# Every test, the cluster's too (tests/cluster.rs starts a scheduler and executors).
cargo test --release --features distributed

# Every example analysis runs, at small sizes, drawing its maps outside the repository.
maps=target/example-maps
cargo run --release --quiet --features distributed --example cities_per_country -- "$maps"
cargo run --release --quiet --features distributed --example county_density -- 1e5 "$maps"
cargo run --release --quiet --features distributed --example nearest_city -- "$maps"
cargo run --release --quiet --features distributed --example dissolve_states -- "$maps"
cargo run --release --quiet --features distributed --example task_graph -- "$maps"

#!/usr/bin/env bash
# One benchmark run on this machine: the peers (GeoPandas, dask-geopandas, SedonaDB, DuckDB,
# from ../shared/peers/bench_peers.py in a venv made from PyPI) and geoframe, on the same
# generated files; then one table, benchmarks/results.csv and benchmarks/join.png.
#
#     scripts/run-benchmarks.sh [N=1e7] [DATADIR=/tmp/pts]
set -euo pipefail
cd "$(dirname "$0")/.."
GEOFRAME_NEED_PYTHON=1 source scripts/setup.sh
n="${1:-1e7}"
dir="${2:-/tmp/pts}"
peers_dir="../shared/peers"
mkdir -p "$dir" benchmarks

cargo build --release --quiet --examples
# The points, from geoframe's copy of the peers' splitmix64 generator (same bytes for all).
[ -f "$dir/points_$n.parquet" ] || target/release/examples/gen_points "$n" "$dir"

peers_out=""
if [ -f "$peers_dir/bench_peers.py" ]; then
    venv=target/peers-venv
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check geopandas shapely pyogrio \
            pyproj pyarrow dask-geopandas "dask[distributed]" sedonadb geoarrow-pyarrow \
            geoarrow-types duckdb duckdb-extension-spatial
    fi
    # The counties as GeoPandas writes them, as the harness's README does.
    [ -f "$dir/us_counties.parquet" ] || "$venv/bin/python" -c \
        "import geopandas as g; g.read_file('data/us_counties/us_counties.shp').to_parquet('$dir/us_counties.parquet')"
    peers_out=benchmarks/peers.txt
    : > "$peers_out"
    # One process per engine, so each peak RSS is that engine's own.
    for engine in geopandas-read-shp geopandas dask-geopandas sedonadb duckdb; do
        "$venv/bin/python" "$peers_dir/bench_peers.py" "$dir/points_$n.parquet" \
            "$dir/us_counties.parquet" "$engine" | tee -a "$peers_out"
    done
    # SedonaDB end to end (GeoParquet in, join, GeoParquet out), from this repository.
    "$venv/bin/python" benchmarks/sedona_end_to_end.py "$dir/points_$n.parquet" \
        "$dir/us_counties.parquet" "$dir/sedona_end_to_end.parquet" | tee -a "$peers_out"
    rm -f "$dir/sedona_end_to_end.parquet"
else
    echo "run-benchmarks: $peers_dir not found; geoframe rows only" >&2
fi
target/release/examples/benchmark "$n" "$dir" "$peers_out" benchmarks | tee benchmarks/table.md

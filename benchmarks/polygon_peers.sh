#!/usr/bin/env bash
# Polygon-polygon joins, geoframe against GeoPandas, DuckDB and SedonaDB, alternating
# (geoframe, peers, geoframe, peers, ...) so that a slow moment of the machine hits both.
# Data: the peers' 1e6 diamonds and the counties / states as GeoParquet.
#
#   benchmarks/polygon_peers.sh DIAMONDS.parquet COUNTIES.parquet STATES.parquet [ROUNDS]
set -euo pipefail
diamonds=$1 counties=$2 states=$3 rounds=${4:-3}
py=${PYTHON:-python3}
peers=$(dirname "$0")/../../shared/peers/bench_peers.py
cargo build --release --example polygon_join_timing >/dev/null 2>&1
for round in $(seq "$rounds"); do
  for layer in states counties; do
    right=$counties; [ "$layer" = states ] && right=$states
    echo "== round $round, $layer: geoframe (join only, medians of 3)"
    NO_PLAIN=1 ./target/release/examples/polygon_join_timing 1e6 "$layer" within intersects | tail -2
    for predicate in within intersects; do
      echo "== round $round, $layer, $predicate: peers (best of 3)"
      PREDICATE=$predicate "$py" "$peers" "$diamonds" "$right" geopandas duckdb sedonadb 2>&1 | grep -v Warning || true
    done
  done
done

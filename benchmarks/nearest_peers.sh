#!/usr/bin/env bash
# Nearest joins, geoframe against GeoPandas' sjoin_nearest and SedonaDB's ST_KNN (k = 1),
# alternating (geoframe, peers, geoframe, peers, ...). Data: the peers' 1e6 points and
# the counties, both GeoParquet.
#
#   benchmarks/nearest_peers.sh POINTS.parquet COUNTIES.parquet [ROUNDS]
set -euo pipefail
points=$1 counties=$2 rounds=${3:-3}
py=${PYTHON:-python3}
peers=$(dirname "$0")/../../shared/peers/bench_peers.py
cargo build --release --example nearest_timing >/dev/null 2>&1
for round in $(seq "$rounds"); do
  echo "== round $round: geoframe (join only, median of 3)"
  ./target/release/examples/nearest_timing "$points" "$counties"
  echo "== round $round: peers (one run each)"
  "$py" "$peers" "$points" "$counties" geopandas-nearest sedonadb-knn 2>&1 | grep -v Warning || true
done

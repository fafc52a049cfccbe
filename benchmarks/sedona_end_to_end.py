"""SedonaDB end to end, for the same-run comparison in BENCHMARKS.md: read the points and the
polygons from GeoParquet, join them (inner, ST_Intersects) and write the joined rows (the
points' columns and the polygons' attributes) to GeoParquet. Best of 3.

usage: python sedona_end_to_end.py POINTS.parquet POLYGONS.parquet OUT.parquet
"""
import sys, time, resource
import pyarrow.parquet as pq
import sedonadb

points_path, polys_path, out_path = sys.argv[1:4]
attrs = [f.name for f in pq.read_schema(polys_path) if f.name != "geometry"]
select = ", ".join(["pts.*"] + [f"polys.{a}" for a in attrs])
query = f"SELECT {select} FROM pts JOIN polys ON ST_Intersects(pts.geometry, polys.geometry)"


def once():
    sd = sedonadb.connect()
    sd.read_parquet(points_path).to_view("pts")
    sd.read_parquet(polys_path).to_view("polys")
    sd.sql(query).to_parquet(out_path)
    return pq.ParquetFile(out_path).metadata.num_rows


best, rows = float("inf"), 0
for _ in range(3):
    t = time.perf_counter()
    rows = once()
    best = min(best, time.perf_counter() - t)
print(f"{'sedonadb-e2e':15s} join_s={best:.3f} pairs={rows} "
      f"maxrss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", flush=True)

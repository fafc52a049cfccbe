"""The GeoPandas side of tests/join.rs: pair count and FNV-1a 64 checksum of the sorted
(point id, county geoid) pairs for gen_points.py 1e6 x data/us_counties, and the
polygon-polygon pair counts of counties against themselves shifted by (0.01, 0.01).

Run once: python tests/oracle/join_expected.py > tests/oracle/join_expected.txt
(GeoPandas 1.2.0, shapely 2.2.0, pyogrio 0.13.0; ../shared/peers/gen_points.py).
"""
import os, sys, time
import geopandas as gpd, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "peers"))
import gen_points
x, y, v = gen_points.points(1_000_000)
pts = gpd.GeoDataFrame({"id": np.arange(1_000_000, dtype=np.int64), "value": v}, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
counties = gpd.read_file(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "us_counties", "us_counties.shp"), engine="pyogrio")
j = gpd.sjoin(pts, counties, predicate="intersects", how="inner")
pairs = sorted(zip(j["id"].tolist(), j["geoid"].tolist()))
h = 0xcbf29ce484222325
for a, b in pairs:
    for byte in f"{a},{b}\n".encode():
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
print(len(pairs), hex(h))
# polygon-polygon acceptance counts
import shapely
shifted = counties.copy(); shifted["geometry"] = counties.geometry.translate(0.01, 0.01)
for p in ["intersects", "overlaps", "within", "contains", "touches"]:
    print(p, len(gpd.sjoin(counties, shifted, predicate=p)))
print("touches-unshifted", len(gpd.sjoin(counties, counties, predicate="touches")))

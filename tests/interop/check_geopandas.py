"""Checks that GeoPandas opens every file geoframe wrote and reads the same data.

usage: python check_geopandas.py SAMPLES_DIR   (written by `cargo run --example write_samples`)

The oracle is GeoPandas itself reading the original files in data/ (GDAL via pyogrio), and
the documented splitmix64 generator for the synthetic points: for each layer and format,
row count, column names and values, CRS and geometries must match.
"""
import os, sys
import numpy as np
import geopandas as gpd
import shapely
import warnings

warnings.filterwarnings("ignore", message=".*winding order.*")
warnings.filterwarnings("ignore", message=".*geographic CRS.*")
samples = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what, flush=True)


def splitmix64_points(n, seed=42):
    idx = np.arange(1, 3 * n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = ((z >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape(n, 3)
    return gpd.GeoDataFrame({"id": np.arange(n, dtype=np.int64), "value": u[:, 2]},
                            geometry=shapely.points(-125.0 + 59.0 * u[:, 0], 24.0 + 26.0 * u[:, 1]), crs="EPSG:4326")


originals = {
    "us_counties": gpd.read_file(os.path.join(root, "us_counties", "us_counties.shp"), engine="pyogrio"),
    "naturalearth_lowres": gpd.read_file(os.path.join(root, "naturalearth_lowres", "naturalearth_lowres.shp"), engine="pyogrio"),
    "naturalearth_cities": gpd.read_file(os.path.join(root, "naturalearth_cities", "naturalearth_cities.shp"), engine="pyogrio"),
    "nybb": gpd.read_file(os.path.join(root, "nybb", "nybb.shp"), engine="pyogrio"),
    "points": splitmix64_points(10_000),
}

for name, expected in originals.items():
    for ext in ["shp", "parquet", "geojson", "fgb", "gpkg"]:
        path = os.path.join(samples, f"{name}.{ext}")
        what = f"{name}.{ext}"
        try:
            got = gpd.read_parquet(path) if ext == "parquet" else gpd.read_file(path, engine="pyogrio")
        except Exception as e:
            check(False, f"{what}: GeoPandas cannot open it: {e}")
            continue
        check(len(got) == len(expected), f"{what}: {len(got)} rows, expected {len(expected)}")
        check(list(got.columns) == list(expected.columns), f"{what}: columns {list(got.columns)} vs {list(expected.columns)}")
        check(got.crs is not None and got.crs.to_epsg() == expected.crs.to_epsg(), f"{what}: CRS {got.crs} vs {expected.crs}")
        for col in expected.columns:
            if col == "geometry" or col not in got.columns:
                continue
            a, b = got[col].to_numpy(), expected[col].to_numpy()
            same = all((x == y) or (x is None and y is None) or (isinstance(x, float) and np.isnan(x) and np.isnan(y)) for x, y in zip(a, b))
            check(same, f"{what}: column {col} differs")
        # Geometries: same shape (ring orientation may differ: shapefiles re-orient rings).
        norm_a = shapely.normalize(got.geometry.values)
        norm_b = shapely.normalize(expected.geometry.values)
        equal = shapely.equals_exact(norm_a, norm_b, tolerance=0)
        valid = shapely.is_valid(expected.geometry.values)
        check(bool(np.all(equal | ~valid)), f"{what}: {int(np.sum(~equal & valid))} valid geometries differ")
        areas_equal = np.allclose(got.geometry.area.values, expected.geometry.area.values, rtol=1e-12, atol=0)
        check(areas_equal, f"{what}: areas differ")

# GeoParquet 1.1: GeoPandas filters by box through the covering column, and dask-geopandas
# (which looks for `geo` in the Arrow schema) reads the file with its spatial partitions.
import dask_geopandas
for name, expected in originals.items():
    path = os.path.join(samples, f"{name}.parquet")
    what = f"{name}.parquet"
    x0, y0, x1, y1 = expected.total_bounds
    box = (x0 + (x1 - x0) / 4, y0 + (y1 - y0) / 4, x0 + (x1 - x0) / 2, y0 + (y1 - y0) / 2)
    try:
        got = gpd.read_parquet(path, bbox=box)
    except Exception as e:
        check(False, f"{what}: read_parquet(bbox=...) fails: {e}")
    else:
        b = expected.geometry.bounds
        inside = (b.minx <= box[2]) & (b.maxx >= box[0]) & (b.miny <= box[3]) & (b.maxy >= box[1])
        check(len(got) == int(inside.sum()), f"{what}: bbox read {len(got)} rows, expected {int(inside.sum())}")
    try:
        ddf = dask_geopandas.read_parquet(path)
    except Exception as e:
        check(False, f"{what}: dask-geopandas cannot open it: {e}")
        continue
    check(ddf.spatial_partitions is not None and len(ddf.spatial_partitions) == ddf.npartitions,
          f"{what}: dask-geopandas spatial_partitions {ddf.spatial_partitions}")
    check(len(ddf.compute()) == len(expected), f"{what}: dask-geopandas rows")

# A partitioned dataset (a directory of one GeoParquet file per partition): GeoPandas
# reads it whole, dask-geopandas one partition per file with each file's extent.
what = "us_counties_dataset/"
expected = originals["us_counties"]
path = os.path.join(samples, "us_counties_dataset")
files = sorted(f for f in os.listdir(path) if f.endswith(".parquet"))
check(len(files) == 7, f"{what}: {len(files)} files, expected 7")
try:
    got = gpd.read_parquet(path)
except Exception as e:
    check(False, f"{what}: GeoPandas cannot open it: {e}")
else:
    check(len(got) == len(expected), f"{what}: {len(got)} rows")
    check(list(got["geoid"]) == list(expected["geoid"]), f"{what}: rows out of order")
    check(got.crs is not None and got.crs.to_epsg() == 4326, f"{what}: CRS {got.crs}")
    same = shapely.equals_exact(shapely.normalize(got.geometry.values), shapely.normalize(expected.geometry.values), tolerance=0)
    valid = shapely.is_valid(expected.geometry.values)
    check(bool(np.all(same | ~valid)), f"{what}: {int(np.sum(~same & valid))} valid geometries differ")
try:
    ddf = dask_geopandas.read_parquet(path)
except Exception as e:
    check(False, f"{what}: dask-geopandas cannot open it: {e}")
else:
    check(ddf.npartitions == 7, f"{what}: dask-geopandas has {ddf.npartitions} partitions")
    parts = ddf.spatial_partitions
    check(parts is not None and len(parts) == 7, f"{what}: dask-geopandas spatial_partitions {parts}")
    if parts is not None:
        for k, f in enumerate(files):
            box = shapely.box(*gpd.read_parquet(os.path.join(path, f)).total_bounds)
            check(parts.iloc[k].equals(box), f"{what}: partition {k} extent {parts.iloc[k]} is not {f}'s {box}")
    check(len(ddf.compute()) == len(expected), f"{what}: dask-geopandas rows")

# The same directory in the SQL engines: DuckDB spatial (the extension loaded from its
# wheel's file) and SedonaDB read every file, with GeoPandas' areas.
import glob
area = float(expected.geometry.area.sum())
try:
    import duckdb, duckdb_extension_spatial
    con = duckdb.connect()
    ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "**", "*.duckdb_extension"), recursive=True)
    con.execute(f"LOAD '{ext[0]}'")
    n, a = con.execute(f"SELECT count(*), sum(ST_Area(geometry)) FROM read_parquet('{path}/*.parquet')").fetchone()
    check(n == len(expected) and abs(a - area) <= 1e-9 * area, f"{what}: DuckDB reads {n} rows, area {a} vs {area}")
except Exception as e:
    check(False, f"{what}: DuckDB cannot read it: {e}")
try:
    import sedonadb
    sd = sedonadb.connect()
    sd.read_parquet(path + "/").to_view("dataset")
    row = sd.sql("SELECT count(*) AS n, sum(ST_Area(geometry)) AS a FROM dataset").to_pandas().iloc[0]
    check(int(row["n"]) == len(expected) and abs(float(row["a"]) - area) <= 1e-9 * area, f"{what}: SedonaDB reads {row['n']} rows, area {row['a']} vs {area}")
except Exception as e:
    check(False, f"{what}: SedonaDB cannot read it: {e}")

# Native GeoArrow encodings written by geoframe: points, and countries as multipolygons
# (GeoPandas reads single polygons back as one-part multipolygons).
for name in ["naturalearth_cities", "naturalearth_lowres"]:
    what = f"{name}_geoarrow.parquet"
    expected = originals[name]
    try:
        got = gpd.read_parquet(os.path.join(samples, what))
    except Exception as e:
        check(False, f"{what}: GeoPandas cannot open it: {e}")
        continue
    check(len(got) == len(expected), f"{what}: {len(got)} rows")
    check(list(got["name"]) == list(expected["name"]), f"{what}: names differ")
    check(got.crs is not None and got.crs.to_epsg() == 4326, f"{what}: CRS {got.crs}")
    same = shapely.equals(got.geometry.values, expected.geometry.values) | ~shapely.is_valid(expected.geometry.values)
    check(bool(np.all(same)), f"{what}: {int(np.sum(~same))} geometries differ")
    check(np.allclose(got.geometry.area.values, expected.geometry.area.values, rtol=1e-12, atol=0), f"{what}: areas differ")

# Every attribute type, with nulls, on a line layer with a null geometry (values set by
# examples/write_samples.rs, written out here by hand).
import datetime
for ext in ["shp", "parquet", "geojson", "fgb", "gpkg"]:
    what = f"types.{ext}"
    path = os.path.join(samples, what)
    got = gpd.read_parquet(path) if ext == "parquet" else gpd.read_file(path, engine="pyogrio")
    check(len(got) == 3, f"{what}: {len(got)} rows")
    def cell(col, i):
        v = got[col].iloc[i]
        try:
            import pandas as pd
            if pd.isna(v):
                return None
        except (TypeError, ValueError):
            pass
        return v
    check([cell("flag", i) for i in range(3)] == [True, False, None], f"{what}: flag {list(got['flag'])}")
    days = [cell("day", i) for i in range(3)]
    days = [None if d is None else str(d)[:10] for d in days]
    check(days == ["2024-02-29", "1970-01-01", None], f"{what}: day {days}")
    check([cell("count", i) for i in range(3)] == [1, -9007199254740993, None], f"{what}: count {list(got['count'])}")
    check([cell("ratio", i) for i in range(3)] == [0.1, -1.5e300, None], f"{what}: ratio {list(got['ratio'])}")
    check([cell("label", i) for i in range(3)] == ["Zürich", None, "São Paulo"], f"{what}: label {list(got['label'])}")
    wkt = [None if g is None else g.wkt for g in got.geometry]
    # FlatGeobuf features always carry a geometry: geoframe writes a null one as an empty
    # line string (documented on FlatGeobufSink).
    null = "LINESTRING EMPTY" if ext == "fgb" else None
    check(wkt == ["LINESTRING (0 0, 1 1)", null, "MULTILINESTRING ((0 0, 1 0.5), (2 2, 3 1))"], f"{what}: geometry {wkt}")

# FlatGeobuf with its spatial index: GDAL reads the rows (in the index's order) and uses
# the index for a box filter.
what = "us_counties_indexed.fgb"
expected = originals["us_counties"].sort_values("geoid").reset_index(drop=True)
path = os.path.join(samples, what)
got = gpd.read_file(path, engine="pyogrio").sort_values("geoid").reset_index(drop=True)
check(list(got["geoid"]) == list(expected["geoid"]) and list(got["name"]) == list(expected["name"]), f"{what}: rows differ")
same = shapely.equals_exact(shapely.normalize(got.geometry.values), shapely.normalize(expected.geometry.values), tolerance=0)
check(bool(np.all(same | ~shapely.is_valid(expected.geometry.values))), f"{what}: geometries differ")
box = (-100.0, 35.0, -95.0, 40.0)
boxed = gpd.read_file(path, engine="pyogrio", bbox=box)
# GDAL keeps the features whose geometry meets the box (not only their boxes).
inside = expected.geometry.intersects(shapely.box(*box))
check(sorted(boxed["geoid"]) == sorted(expected["geoid"][inside]), f"{what}: bbox read {len(boxed)} rows, expected {int(inside.sum())}")

# Parquet's GEOMETRY logical type: DuckDB sees a GEOMETRY column with its CRS, GeoPandas
# reads the same rows and geometries.
import glob, duckdb, duckdb_extension_spatial
ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "extensions", "*", "spatial.duckdb_extension"))[0]
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{ext}'")
for name, column_type in [("us_counties", "GEOMETRY"), ("nybb", "GEOMETRY('EPSG:2263')")]:
    what = f"{name}_typed.parquet"
    path = os.path.join(samples, what)
    expected = originals[name]
    types = {r[0]: r[1] for r in con.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}
    check(types.get("geometry") == column_type, f"{what}: DuckDB sees {types.get('geometry')}, expected {column_type}")
    n, a = con.sql(f"SELECT count(*), sum(ST_Area(geometry)) FROM '{path}'").fetchone()
    area = float(expected.geometry.area.sum())
    check(n == len(expected) and abs(a - area) <= 1e-9 * area, f"{what}: DuckDB reads {n} rows, area {a} vs {area}")
    got = gpd.read_parquet(path)
    check(got.crs is not None and got.crs.to_epsg() == expected.crs.to_epsg(), f"{what}: CRS {got.crs}")
    same = shapely.equals_exact(shapely.normalize(got.geometry.values), shapely.normalize(expected.geometry.values), tolerance=0)
    check(len(got) == len(expected) and bool(np.all(same | ~shapely.is_valid(expected.geometry.values))), f"{what}: geometries differ")

import duckdb, sedonadb
print(f"interop with GeoPandas {gpd.__version__}, dask-geopandas {dask_geopandas.__version__}, DuckDB {duckdb.__version__}, SedonaDB {sedonadb.__version__}: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

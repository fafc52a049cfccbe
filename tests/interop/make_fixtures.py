"""Writes the peer-made files under tests/data/peers/ that tests/peer_files.rs reads:
GeoParquet from GeoPandas and DuckDB, FlatGeobuf and GeoPackage from GDAL (through pyogrio).

usage: python make_fixtures.py OUT_DIR   (run once with GeoPandas, DuckDB installed; the
files are committed, so the Rust tests need no Python)

Source: data/naturalearth_cities (243 points) and data/naturalearth_lowres (177 countries),
read by GeoPandas through pyogrio.
"""
import os, sys
import geopandas as gpd

out = sys.argv[1]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data")
cities = gpd.read_file(os.path.join(root, "naturalearth_cities", "naturalearth_cities.shp"), engine="pyogrio")
countries = gpd.read_file(os.path.join(root, "naturalearth_lowres", "naturalearth_lowres.shp"), engine="pyogrio")
os.makedirs(out, exist_ok=True)

for compression in ["snappy", "zstd", "gzip", "brotli", "lz4", "none"]:
    cities.to_parquet(os.path.join(out, f"cities_geopandas_covering_{compression}.parquet"),
                      compression=compression, write_covering_bbox=True, row_group_size=100)
countries.to_parquet(os.path.join(out, "countries_geopandas_covering.parquet"), write_covering_bbox=True, row_group_size=50)
cities.to_parquet(os.path.join(out, "cities_geopandas_geoarrow.parquet"), geometry_encoding="geoarrow")
countries.to_parquet(os.path.join(out, "countries_geopandas_geoarrow.parquet"), geometry_encoding="geoarrow")

# GDAL's FlatGeobuf (with its spatial index, and without) and GeoPackage drivers.
countries.to_file(os.path.join(out, "countries_gdal.fgb"), driver="FlatGeobuf", engine="pyogrio")
cities.to_file(os.path.join(out, "cities_gdal_noindex.fgb"), driver="FlatGeobuf", engine="pyogrio",
               layer_options={"SPATIAL_INDEX": "NO"})
countries.to_file(os.path.join(out, "countries_gdal.gpkg"), driver="GPKG", engine="pyogrio", layer="countries")
cities.to_file(os.path.join(out, "countries_gdal.gpkg"), driver="GPKG", engine="pyogrio", layer="cities", append=False)

import glob, duckdb, duckdb_extension_spatial
# The spatial extension comes from its PyPI wheel (pip install duckdb-extension-spatial).
ext = glob.glob(os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), "extensions", "*", "spatial.duckdb_extension"))[0]
con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
con.execute(f"LOAD '{ext}'")
path = os.path.join(root, "naturalearth_cities", "naturalearth_cities.shp")
con.execute(f"COPY (SELECT * FROM ST_Read('{path}')) TO '{os.path.join(out, 'cities_duckdb.parquet')}' (FORMAT parquet)")
import sedonadb
sd = sedonadb.connect()
sd.read_parquet(os.path.join(out, "cities_geopandas_covering_none.parquet")).to_view("cities", overwrite=True)
sd.sql("SELECT name, geometry FROM cities").to_parquet(os.path.join(out, "cities_sedonadb.parquet"))
print("wrote", sorted(os.listdir(out)))

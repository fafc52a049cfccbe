"""Computes the expected values the Rust tests compare against, with GeoPandas.

Run once (values are committed under tests/oracle/):
    python -m venv /tmp/oracle && /tmp/oracle/bin/pip install geopandas pyogrio pyproj
    /tmp/oracle/bin/python tests/oracle/make_expected.py
Versions used are printed into each file's first line.
"""
import os, sys
import geopandas as gpd, shapely, pyproj, pyogrio

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "..", "data")
versions = f"# geopandas {gpd.__version__}, shapely {shapely.__version__}, pyogrio {pyogrio.__version__}, pyproj {pyproj.__version__}"

# 1. Per-county area in degrees^2 (planar, as GeoPandas computes it), in file order.
counties = gpd.read_file(os.path.join(data, "us_counties", "us_counties.shp"), engine="pyogrio")
with open(os.path.join(here, "us_counties_area.csv"), "w") as f:
    f.write(versions + "\n# row,geoid,area,geom_type,num_coords\n")
    for i, (geoid, g) in enumerate(zip(counties["geoid"], counties.geometry)):
        f.write(f"{i},{geoid},{g.area!r},{g.geom_type},{shapely.get_num_coordinates(g)}\n")

# 2. Countries: area, type and attribute checks.
countries = gpd.read_file(os.path.join(data, "naturalearth_lowres", "naturalearth_lowres.shp"), engine="pyogrio")
with open(os.path.join(here, "countries.csv"), "w") as f:
    f.write(versions + "\n# row,iso_a3,pop_est,area,geom_type\n")
    for i, r in countries.iterrows():
        f.write(f"{i},{r.iso_a3},{r.pop_est!r},{r.geometry.area!r},{r.geometry.geom_type}\n")

# 3. Reprojection: first vertex of each NYC borough, EPSG:2263 -> EPSG:4326 (lon, lat).
nybb = gpd.read_file(os.path.join(data, "nybb", "nybb.shp"), engine="pyogrio")
wgs = nybb.to_crs(4326)
with open(os.path.join(here, "nybb_to_4326.csv"), "w") as f:
    f.write(versions + f"\n# source crs {nybb.crs.to_epsg()}; row,BoroName,x2263,y2263,lon,lat (first exterior vertex)\n")
    for i in range(len(nybb)):
        g, h = nybb.geometry.iloc[i], wgs.geometry.iloc[i]
        p = list(g.geoms)[0].exterior.coords[0] if g.geom_type == "MultiPolygon" else g.exterior.coords[0]
        q = list(h.geoms)[0].exterior.coords[0] if h.geom_type == "MultiPolygon" else h.exterior.coords[0]
        f.write(f"{i},{nybb.BoroName.iloc[i]},{p[0]!r},{p[1]!r},{q[0]!r},{q[1]!r}\n")

# 4. Cities within countries (the README's join).
cities = gpd.read_file(os.path.join(data, "naturalearth_cities", "naturalearth_cities.shp"), engine="pyogrio")
j = gpd.sjoin(cities, countries, predicate="within", how="inner")
with open(os.path.join(here, "cities_within_countries.csv"), "w") as f:
    f.write(versions + "\n# city_row,country_row\n")
    for a, b in sorted(zip(j.index, j.index_right)):
        f.write(f"{a},{b}\n")
print("ok", len(counties), len(countries), len(nybb), len(j))

# 5. The peers' point generator (../shared/peers/gen_points.py), a few points by index.
def splitmix64_uniform(count, seed=42):
    import numpy as np
    idx = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
u = splitmix64_uniform(3 * 1_000_000).reshape(-1, 3)
with open(os.path.join(here, "gen_points_first3.csv"), "w") as f:
    f.write("# numpy copy of gen_points.py's recipe; i,x,y,value\n")
    for i in [0, 1, 2, 999, 123456, 999999]:
        f.write(f"{i},{float(-125.0 + 59.0 * u[i, 0])!r},{float(24.0 + 26.0 * u[i, 1])!r},{float(u[i, 2])!r}\n")

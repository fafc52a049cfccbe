"""Expected values for the geometry operations (tests/ops.rs), computed once with GeoPandas,
shapely and pyproj and committed as tests/oracle/ops_*.csv.

    python -m venv /tmp/oracle && /tmp/oracle/bin/pip install geopandas pyogrio pyproj
    /tmp/oracle/bin/python tests/oracle/make_ops_expected.py
"""
import os
import geopandas as gpd, shapely, pyproj, pyogrio
from shapely.geometry import box

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, "..", "..", "data")
versions = f"# geopandas {gpd.__version__}, shapely {shapely.__version__}, pyproj {pyproj.__version__}"
read = lambda name: gpd.read_file(os.path.join(data, name, name + ".shp"), engine="pyogrio")
countries, cities, counties, nybb = read("naturalearth_lowres"), read("naturalearth_cities"), read("us_counties"), read("nybb")
geod = pyproj.Geod(ellps="WGS84")


def largest_shell_coords(g):
    """Coordinates in the shell of the largest polygon of g (0 when empty)."""
    polys = list(g.geoms) if g.geom_type == "MultiPolygon" else [g] if not g.is_empty else []
    return len(max(polys, key=lambda p: p.area).exterior.coords) if polys else 0


# 1. Per country: planar measures and constructive results (GeoPandas' own methods), and
#    Karney geodesic area (pyproj.Geod.geometry_area_perimeter, m^2) and ring length (m).
with open(os.path.join(here, "ops_countries.csv"), "w") as f:
    f.write(versions + "\n# row,area,length,minx,miny,maxx,maxy,centroid_x,centroid_y,"
            "hull_area,envelope_area,boundary_length,simplify_0.5_largest_shell_coords,geodesic_area,geodesic_perimeter,is_valid\n")
    c = countries.centroid
    hull = countries.convex_hull.area
    env = countries.envelope.area
    bl = countries.boundary.length
    simp = countries.simplify(0.5, preserve_topology=False)
    b = countries.bounds
    for i, g in enumerate(countries.geometry):
        area, _ = geod.geometry_area_perimeter(g)
        # pyproj's perimeter counts shells only; geoframe's geodesic_length, like the
        # planar length, counts every ring: sum the rings' geodesic lengths.
        polys = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
        perim = sum(geod.geometry_length(shapely.LineString(r.coords))
                    for p in polys for r in [p.exterior, *p.interiors])
        f.write(f"{i}," + ",".join(repr(float(v)) for v in [
            g.area, g.length, b.minx[i], b.miny[i], b.maxx[i], b.maxy[i], c.x[i], c.y[i],
            hull[i], env[i], bl[i], largest_shell_coords(simp.iloc[i]), abs(area), perim,
        ]) + f",{bool(g.is_valid)}\n")

# 2. Counties: validity (GEOS), and per state (first two characters of geoid) the number
#    of counties and the sum of their planar areas.
with open(os.path.join(here, "ops_counties_valid.csv"), "w") as f:
    f.write(versions + "\n# row,geoid,is_valid,area,area after shapely.make_valid\n")
    for i, (geoid, g) in enumerate(zip(counties.geoid, counties.geometry)):
        f.write(f"{i},{geoid},{bool(g.is_valid)},{g.area!r},{shapely.make_valid(g).area!r}\n")

# 3. Cities: x, y; reprojected to EPSG:3857; distance (degrees) to Paris's point.
paris = cities[cities.name == "Paris"].geometry.iloc[0]
merc = cities.to_crs(3857)
with open(os.path.join(here, "ops_cities.csv"), "w") as f:
    f.write(versions + f"\n# row,name,x,y,x3857,y3857,distance_to_paris (Paris at {paris.x!r} {paris.y!r}),geodesic_m_to_paris (pyproj Geod WGS84 inv)\n")
    for i, g in enumerate(cities.geometry):
        h = merc.geometry.iloc[i]
        d = geod.inv(g.x, g.y, paris.x, paris.y)[2]
        f.write(f"{i},{cities.name.iloc[i]!r},{g.x!r},{g.y!r},{h.x!r},{h.y!r},{g.distance(paris)!r},{d!r}\n")

# 4. Predicates of every country against one box over Europe, and of every city against
#    France's polygon.
europe = box(-10.0, 35.0, 30.0, 60.0)
france = countries[countries.iso_a3 == "FRA"].geometry.iloc[0]
with open(os.path.join(here, "ops_predicates.csv"), "w") as f:
    f.write(versions + "\n# layer,row,intersects,within,contains,overlaps,touches,disjoint,dwithin_2 "
            "(countries against box(-10, 35, 30, 60); cities against France)\n")
    for layer, frame, other in [("countries", countries, europe), ("cities", cities, france)]:
        s = frame.geometry
        cols = [s.intersects(other), s.within(other), s.contains(other), s.overlaps(other),
                s.touches(other), s.disjoint(other), s.dwithin(other, 2.0)]
        for i in range(len(frame)):
            f.write(f"{layer},{i}," + ",".join(str(bool(c.iloc[i])) for c in cols) + "\n")

# 5. NYC boroughs: estimate_utm_crs from EPSG:4326, and the first exterior vertex of each
#    borough in that UTM zone.
wgs = nybb.to_crs(4326)
utm = wgs.estimate_utm_crs()
in_utm = wgs.to_crs(utm)
with open(os.path.join(here, "ops_nybb_utm.csv"), "w") as f:
    f.write(versions + f"\n# estimate_utm_crs EPSG:{utm.to_epsg()}; row,x_utm,y_utm (first exterior vertex), area_utm\n")
    for i, g in enumerate(in_utm.geometry):
        p = list(g.geoms)[0].exterior.coords[0]
        f.write(f"{i},{p[0]!r},{p[1]!r},{g.area!r}\n")
print("ok", utm.to_epsg())

# 6. Affine transforms and buffers of each country: bounds after rotate(30) and
#    skew(10, 5) (about the box centre), area after scale(2, 3) and after buffer(0.5)
#    (GEOS's buffer, 16 segments per quarter circle).
rot, skw = countries.rotate(30).bounds, countries.skew(10, 5).bounds
sc, buf = countries.scale(2, 3).area, countries.buffer(0.5).area
with open(os.path.join(here, "ops_affine.csv"), "w") as f:
    f.write(versions + "\n# row,rot30_minx,rot30_miny,rot30_maxx,rot30_maxy,skew_minx,skew_miny,skew_maxx,skew_maxy,scale23_area,buffer05_area\n")
    for i in range(len(countries)):
        vals = [*rot.iloc[i], *skw.iloc[i], sc.iloc[i], buf.iloc[i]]
        f.write(f"{i}," + ",".join(repr(float(v)) for v in vals) + "\n")

# 7. Overlay: countries intersected with two boxes; one row per (country, box) with area.
boxes = gpd.GeoDataFrame({"box": ["europe", "africa"]},
                         geometry=[box(-10.0, 35.0, 30.0, 60.0), box(-20.0, -35.0, 50.0, 35.0)], crs=4326)
ov = gpd.overlay(countries.assign(row=range(len(countries))), boxes.assign(box_row=[0, 1]), how="intersection")
with open(os.path.join(here, "ops_overlay.csv"), "w") as f:
    f.write(versions + "\n# gpd.overlay(countries, boxes [(-10 35 30 60), (-20 -35 50 35)], how='intersection'); country_row,box_row,area\n")
    for r, b, a in sorted(zip(ov.row, ov.box_row, ov.area)):
        f.write(f"{r},{b},{a!r}\n")

# 8. Dissolve: counties by state (first two characters of geoid): number of counties and
#    the sum of their planar areas per state; GeoPandas needs make_valid first here.
counties["state"] = counties.geoid.str[:2]
with open(os.path.join(here, "ops_dissolve.csv"), "w") as f:
    f.write(versions + "\n# state,counties,sum of county areas,area of dissolve after make_valid\n")
    sums = counties.groupby("state").agg(n=("geoid", "size"))
    sums["area"] = counties.area.groupby(counties.state).sum()
    fixed = counties.assign(geometry=counties.make_valid()).dissolve("state")
    for s, r in sums.iterrows():
        f.write(f"{s},{int(r.n)},{float(r.area)!r},{float(fixed.loc[s].geometry.area)!r}\n")
print("ok", len(ov), len(sums))

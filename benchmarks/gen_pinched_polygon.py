"""A large polygon whose shell touches itself at one point, as national borders do.

    python gen_pinched_polygon.py N OUT.parquet

N vertices on a wavy ellipse over the continental US (the extent of gen_diamonds' data),
radius 20 degrees with two ripples, and at vertex 0 the ring leaves into the interior round
a small triangle and comes back (an inverted hole): GEOS calls it "Ring Self-intersection",
make_valid turns it into a hole touching the shell. Written as GeoParquet in EPSG:4326.
"""
import math
import sys

import geopandas as gpd
import numpy as np
import shapely

n = int(float(sys.argv[1]))
cx, cy, r = -98.0, 38.0, 20.0
t = np.linspace(0, 2 * math.pi, n, endpoint=False)
rad = r * (1 + 0.05 * np.sin(t * 97) + 0.02 * np.sin(t * 1013))
pts = list(zip(cx + rad * np.cos(t), cy + 0.6 * rad * np.sin(t)))
x0, y0 = pts[0]
# The interior wedge at vertex 0 runs counterclockwise from the edge out to the edge in.
a_out = math.atan2(pts[1][1] - y0, pts[1][0] - x0)
a_in = math.atan2(pts[-1][1] - y0, pts[-1][0] - x0)
sweep = (a_in - a_out) % (2 * math.pi)
mid = a_out + sweep / 2
d = 0.05
tri = [(x0 + d * math.cos(mid - sweep / 6), y0 + d * math.sin(mid - sweep / 6)),
       (x0 + d * math.cos(mid + sweep / 6), y0 + d * math.sin(mid + sweep / 6))]
ring = [pts[0], tri[1], tri[0], pts[0]] + pts[1:] + [pts[0]]
poly = shapely.Polygon(ring)
print("valid:", shapely.is_valid_reason(poly), "vertices:", len(ring))
gpd.GeoDataFrame({"name": ["pinched"]}, geometry=[poly], crs="EPSG:4326").to_parquet(sys.argv[2])

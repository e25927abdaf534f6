"""GeoJSON validation and point -> grid lookup.

The lookup keeps one shapely STRtree of all grid boundaries per process. It is rebuilt when the
``geo`` version counter in the database changes (bumped by every service that saves a boundary), so
all gunicorn/Celery processes notice a change on their next lookup at the cost of one indexed read.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.affinity
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely.geometry import Point, mapping, shape
from shapely.strtree import STRtree

# GEOS's reasons for an invalid geometry (shapely.is_valid_reason: the reason, then the place in
# brackets, "Self-intersection[117.05 31.05]"), in the catalogue: a Chinese report said
# "几何图形无效：Self-intersection[…]". GEOS names no other (TopologyValidationError::errMsg).
INVALID_REASONS = {
    "Topology Validation Error": gettext_lazy("the boundary is not a valid polygon"),
    "Repeated Point": gettext_lazy("a position is repeated"),
    "Hole lies outside shell": gettext_lazy("a hole lies outside its polygon"),
    "Holes are nested": gettext_lazy("a hole lies inside another hole"),
    "Interior is disconnected": gettext_lazy("the holes cut the polygon into separate pieces"),
    "Self-intersection": gettext_lazy("the boundary crosses itself"),
    "Ring Self-intersection": gettext_lazy("a ring of the boundary touches itself"),
    "Nested shells": gettext_lazy("one polygon lies inside another"),
    "Duplicate Rings": gettext_lazy("a ring is given twice"),
    "Too few points in geometry component": gettext_lazy("a ring has too few distinct positions"),
    "Invalid Coordinate": gettext_lazy("a position is not a valid number"),
    "Ring is not closed": gettext_lazy("a ring must be closed (first position equals last)"),
}


def invalid_reason(geom) -> str:
    """Why ``geom`` is not valid, in the active language, with the place GEOS names as numbers
    ("the boundary crosses itself near 117.05, 31.05"); a reason GEOS might add later reads as the
    first one, never as GEOS's English."""
    found = re.fullmatch(r"\s*(.*?)\s*(?:\[([-0-9.eE+ ]+)\])?\s*", shapely.is_valid_reason(geom))
    reason, place = (found.group(1), found.group(2)) if found else ("", None)
    text = str(INVALID_REASONS.get(reason, INVALID_REASONS["Topology Validation Error"]))
    if place:
        return _("%(reason)s near %(position)s") % {"reason": text, "position": ", ".join(place.split())}
    return text


class GeometryError(ValueError):
    """A boundary that cannot be used; the message is translated into the active language (shown in
    the admin, the importer's report and API errors)."""


def validate_boundary(geojson: Any) -> dict:
    """Return a normalised GeoJSON geometry dict or raise GeometryError naming the problem."""
    if isinstance(geojson, str):
        try:
            geojson = json.loads(geojson)
        except json.JSONDecodeError as exc:
            # Where it breaks, not the decoder's English ("Expecting ',' delimiter").
            raise GeometryError(
                _("not valid JSON (line %(line)d, column %(column)d)")
                % {"line": exc.lineno, "column": exc.colno}
            ) from exc
    if not isinstance(geojson, dict):
        raise GeometryError(_("geometry must be a GeoJSON object"))
    if geojson.get("type") not in {"Polygon", "MultiPolygon"}:
        raise GeometryError(
            _("geometry type must be Polygon or MultiPolygon, not %(type)s")
            % {"type": repr(geojson.get("type"))}
        )
    coords = geojson.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise GeometryError(_("geometry has no coordinates"))
    polygons = coords if geojson["type"] == "MultiPolygon" else [coords]
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise GeometryError(_("a polygon has no rings"))
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise GeometryError(_("a ring needs at least 4 positions"))
            for pos in ring:
                if not (
                    isinstance(pos, list | tuple)
                    and len(pos) >= 2
                    and all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos[:2])
                ):
                    raise GeometryError(_("a position must be [longitude, latitude]"))
                lng, lat = pos[0], pos[1]
                if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                    raise GeometryError(
                        _("position %(lng)s,%(lat)s is outside WGS84 longitude/latitude ranges")
                        % {"lng": lng, "lat": lat}
                    )
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise GeometryError(_("a ring must be closed (first position equals last)"))
    try:
        geom = shape(geojson)
    except Exception as exc:  # shapely raises several types for malformed input
        # After the checks above, positions of two and of three values mixed in one ring; shapely's
        # own words were numpy's English ("inhomogeneous shape after 1 dimensions").
        raise GeometryError(
            _("geometry cannot be read: give every position as [longitude, latitude], all alike")
        ) from exc
    if not geom.is_valid:
        raise GeometryError(_("geometry is not valid: %(reason)s") % {"reason": invalid_reason(geom)})
    if geom.area == 0:
        raise GeometryError(_("geometry has no area"))
    return mapping(geom) | {"coordinates": json.loads(json.dumps(mapping(geom)["coordinates"]))}


def distance_m(geojson: dict, lat: float, lng: float) -> float:
    """Roughly how many metres the point lies from the geometry (0 on or inside it): degrees of
    longitude scaled to the point's latitude, one degree of latitude 111.32 km. Good to a few per
    cent over the few hundred metres it is used to judge."""
    k = math.cos(math.radians(lat))
    geometry = shapely.affinity.scale(shape(geojson), xfact=k, yfact=1, origin=(0, 0))
    return float(geometry.distance(Point(lng * k, lat))) * 111_320


def centroid_of(geojson: dict) -> tuple[float, float]:
    """(lat, lng) of a point guaranteed inside the boundary (representative point, not the centroid,
    so that a concave grid still gets a pin that lies in it)."""
    p = shape(geojson).representative_point()
    return round(p.y, 7), round(p.x, 7)


def simplified(geojson: dict, tolerance: float) -> dict:
    geom = shape(geojson).simplify(tolerance, preserve_topology=True)
    return mapping(geom)


@dataclass
class _Index:
    version: int
    tree: STRtree | None
    codes: list[str]
    geoms: list


class GridLocator:
    """Process-wide point-in-polygon index of grid boundaries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: _Index | None = None

    def _current(self) -> _Index:
        from governance.models import Area, SequenceCounter

        version = SequenceCounter.current("geo", 0)
        index = self._index
        if index is not None and index.version == version:
            return index
        with self._lock:
            if self._index is not None and self._index.version == version:
                return self._index
            rows = (
                Area.objects.filter(level=Area.Level.GRID)
                .exclude(boundary=None)
                .order_by("code")
                .values_list("code", "boundary")
            )
            codes, geoms = [], []
            for code, boundary in rows:
                codes.append(code)
                geoms.append(shape(boundary))
            tree = STRtree(geoms) if geoms else None
            self._index = _Index(version, tree, codes, geoms)
            return self._index

    def locate(self, lat: float, lng: float) -> str | None:
        """The code of the grid containing the point, or None outside every grid.

        A point on a border shared by several grids belongs to the one with the smallest code, so
        the answer is deterministic whatever order the tree returns candidates in. Callers that
        know who asks use ``locate_all``: the border of a worker's own grid is theirs too."""
        codes = self.locate_all(lat, lng)
        return codes[0] if codes else None

    def locate_all(self, lat: float, lng: float) -> list[str]:
        """The codes of every grid covering the point, in code order: one inside a grid, two or
        more on a shared border, none outside every grid."""
        index = self._current()
        if index.tree is None:
            return []
        hits = index.tree.query(Point(lng, lat), predicate="covered_by")
        return sorted(index.codes[i] for i in hits)

    def reset(self) -> None:
        with self._lock:
            self._index = None


locator = GridLocator()

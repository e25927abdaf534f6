import io
import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from governance.geo import locator
from governance.models import Area
from tests.base import rect


def feature(code, level, parent, box, name="区域", **props):
    return {
        "type": "Feature",
        "properties": {
            "code": code,
            "name": name,
            "level": level,
            "parent": parent,
            "population": 1000,
            **props,
        },
        "geometry": rect(*box),
    }


def write(tmp_path, features):
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    return path


GOOD = [
    feature("340100000000", "city", None, (116.0, 31.0, 118.0, 32.0), "示例市"),
    feature("340102000000", "district", "340100000000", (117.0, 31.8, 117.1, 31.9)),
    feature("340102001000", "street", "340102000000", (117.0, 31.8, 117.1, 31.9)),
    feature("340102001001", "community", "340102001000", (117.0, 31.8, 117.1, 31.9)),
    feature("340102001001001", "grid", "340102001001", (117.0, 31.8, 117.05, 31.9)),
    feature("340102001001002", "grid", "340102001001", (117.05, 31.8, 117.1, 31.9)),
]


def assert_reported(report: str, index: int, fragment: str) -> None:
    """The report has a line for feature ``index`` saying ``fragment``."""
    assert any(line.startswith(f"feature {index}:") and fragment in line for line in report.splitlines()), (
        index,
        fragment,
        report,
    )


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_areas", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_dry_run_validates_and_writes_nothing(tmp_path):
    out, _ = run(str(write(tmp_path, GOOD)))
    assert "6 features are valid" in out
    assert Area.objects.count() == 0


@pytest.mark.django_db
def test_commit_imports_a_good_file_and_the_locator_sees_it(tmp_path):
    out, _ = run(str(write(tmp_path, GOOD)), "--commit")
    assert "6 created" in out
    grid = Area.objects.get(code="340102001001002")
    assert grid.path.startswith("340100000000/340102000000/")
    assert locator.locate(31.85, 117.07) == "340102001001002"


@pytest.mark.django_db
def test_a_second_import_updates_in_place(tmp_path):
    run(str(write(tmp_path, GOOD)), "--commit")
    out, _ = run(str(write(tmp_path, GOOD)), "--commit")
    assert "0 created, 6 updated" in out


@pytest.mark.django_db
def test_redrawn_boundaries_without_census_columns_keep_the_areas_figures(tmp_path):
    # Boundaries re-imported without population columns set every area's population and households
    # to 0: the per-10,000 rates of each year without a figure of its own moved on nothing.
    run(str(write(tmp_path, GOOD)), "--commit")
    Area.objects.filter(code="340102001001001").update(households=400)
    redrawn = []
    for f in GOOD:
        props = {k: v for k, v in f["properties"].items() if k not in {"population", "households"}}
        redrawn.append({**f, "properties": props})
    redrawn.append(feature("340102001001003", "grid", "340102001001", (117.1, 31.8, 117.15, 31.9)))
    del redrawn[-1]["properties"]["population"]
    out, _ = run(str(write(tmp_path, redrawn)), "--commit")
    assert "1 created, 6 updated" in out
    grid = Area.objects.get(code="340102001001001")
    assert (grid.population, grid.households) == (1000, 400)
    assert Area.objects.get(code="340102001001003").population == 0  # new: nothing to keep
    # A figure the file does carry replaces the stored one, 0 included.
    zero = [feature("340102001001001", "grid", "340102001001", (117.0, 31.8, 117.05, 31.9), population=0)]
    run(str(write(tmp_path, zero)), "--commit")
    assert Area.objects.get(code="340102001001001").population == 0


@pytest.mark.django_db
def test_every_bad_feature_is_reported_by_its_number_from_1_and_nothing_is_written(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[117, 31], [117.1, 31.1], [117.1, 31], [117, 31.1], [117, 31]]],
    }
    bad = [
        *GOOD,
        feature(
            "340102001001003", "grid", "340102001000", (117, 31.8, 117.1, 31.9)
        ),  # 7: grid under a street
        {**feature("340102001001004", "grid", "340102001001", (0, 0, 1, 1)), "geometry": bowtie},  # 8
        feature("340102001001005", "grid", "340102001001", (117, 31.8, 200, 31.9)),  # 9: longitude range
        {
            **feature("340102001001006", "grid", "340102001001", (0, 0, 1, 1)),
            "geometry": {"type": "Point", "coordinates": [117, 31]},
        },  # 10
        feature("340102001001007", "province", "340102001001", (117, 31.8, 117.1, 31.9)),  # 11
        feature("340102009001", "community", "340102009000", (117, 31.8, 117.1, 31.9)),  # 12: unknown parent
        feature("340102001001001", "grid", "340102001001", (117, 31.8, 117.1, 31.9)),  # 13: duplicate
        feature("340102001001008", "grid", "340102001001", (117, 31.8, 117.1, 31.9), population="many"),  # 14
        feature("340102001001009", "grid", "340102001001", (117, 31.8, 117.1, 31.9), name=""),  # 15
        # 16-19 passed the dry run: 12.7 and true were stored as 12 and 1, and a population or a
        # name too big for its column stopped --commit with a traceback naming no feature.
        feature("340102001001010", "grid", "340102001001", (117, 31.8, 117.1, 31.9), population=12.7),
        feature("340102001001011", "grid", "340102001001", (117, 31.8, 117.1, 31.9), population=True),
        feature("340102001001012", "grid", "340102001001", (117, 31.8, 117.1, 31.9), population=10**10),
        feature("340102001001013", "grid", "340102001001", (117, 31.8, 117.1, 31.9), name="长" * 101),
        # 20: full-width digits in a code ("００３"): \d took them, a near-duplicate of an ASCII code.
        feature("340102001001００３", "grid", "340102001001", (117, 31.8, 117.1, 31.9)),
    ]
    with pytest.raises(CommandError, match="nothing was written"):
        out = StringIO()
        err = StringIO()
        try:
            call_command("import_areas", str(write(tmp_path, bad)), "--commit", stdout=out, stderr=err)
        finally:
            report = err.getvalue()
    for index, fragment in [
        (7, "belongs to a community"),
        (8, "not valid"),
        (9, "WGS84"),
        (10, "Polygon or MultiPolygon"),
        (11, "level must be one of"),
        (12, "neither in the file nor in the database"),
        (13, "appears twice"),
        (14, "population"),
        (15, "name is missing"),
        (16, "population must be a whole number"),
        (17, "population must be a whole number"),
        (18, "population must be a whole number from 0 to 2147483647"),
        (19, "name is longer than 100 characters"),
        (20, "digits only"),
    ]:
        assert_reported(report, index, fragment)
    assert Area.objects.count() == 0


@pytest.mark.django_db
def test_a_file_that_is_not_geojson_is_refused(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("not json")
    with pytest.raises(CommandError, match="not valid GeoJSON"):
        run(str(path))


def test_a_missing_path_is_refused_naming_it(tmp_path):
    missing = tmp_path / "areas-2026.geojson"
    with pytest.raises(CommandError, match=f"^{re.escape(str(missing))}: no such file$"):
        run(str(missing))


def test_a_folder_is_refused_naming_it_rather_than_a_traceback(tmp_path):
    # Read as a file it raised IsADirectoryError from deep inside pathlib.
    with pytest.raises(CommandError, match=f"^{re.escape(str(tmp_path))}: not a file"):
        run(str(tmp_path))


def test_an_unreadable_file_is_refused_naming_it(tmp_path, monkeypatch):
    from pathlib import Path

    path = write(tmp_path, GOOD)

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)  # chmod does not stop root, who runs the tests in CI
    with pytest.raises(CommandError, match=f"^{re.escape(str(path))}: cannot be read: Permission denied$"):
        run(str(path))


def _import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_areas", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["a\x00b", "\ud800", "a\x07b"])
def test_a_name_the_database_cannot_store_is_reported_by_index_not_a_traceback(tmp_path, name):
    # Passed the dry run, then --commit stopped with "A string literal cannot contain NUL".
    city = feature("340100000000", "city", None, (116.0, 31.0, 118.0, 32.0), name)
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [city]}))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_areas", str(path), "--commit", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == "feature 1: name contains a control character\n"
    assert not Area.objects.exists()


@pytest.mark.django_db
def test_a_tab_or_line_break_around_a_name_or_code_is_trimmed_not_refused(tmp_path):
    features = [dict(f, properties=dict(f["properties"])) for f in GOOD]
    features[0]["properties"]["name"] = "示例市\r\n"
    features[1]["properties"]["code"] = "340102000000\t"
    assert "6 features are valid" in _import(str(write(tmp_path, features)))[0]


@pytest.mark.django_db
def test_values_of_the_wrong_json_type_are_reported(tmp_path):
    city = feature("340100000000", "city", None, (116.0, 31.0, 118.0, 32.0), {"zh": "合肥"})
    district = feature("340102000000", "district", "340100000000", (0, 0, 1, 1))
    district["geometry"] = {  # booleans are no coordinates (True is an int to Python)
        "type": "Polygon",
        "coordinates": [[[False, False], [True, False], [True, True], [False, True], [False, False]]],
    }
    street = feature("340102001000", "street", "340102000000", (117.0, 31.8, 117.1, 31.9))
    street["type"] = "Point"
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("import_areas", str(write(tmp_path, [city, district, street])), stderr=err)
    assert err.getvalue().splitlines() == [
        "feature 1: name must be text, got {'zh': '合肥'}",
        "feature 2: geometry: a position must be [longitude, latitude]",
        "feature 3: not a Feature with properties",
    ]


@pytest.mark.django_db
def test_a_parent_in_the_file_with_a_wrong_level_is_not_said_to_be_missing(tmp_path):
    city = feature("340100000000", "", None, (116.0, 31.0, 118.0, 32.0), "市")
    district = feature("340102000000", "district", "340100000000", (117.0, 31.8, 117.1, 31.9))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_areas", str(write(tmp_path, [city, district])), stderr=err)
    assert err.getvalue() == "feature 1: level is missing\n"


@pytest.mark.django_db
def test_a_file_with_a_byte_order_mark_is_read_and_the_report_speaks_the_site_language(tmp_path):
    from django.utils import translation

    path = tmp_path / "areas.geojson"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"type": "FeatureCollection", "features": GOOD}).encode())
    assert "6 features are valid" in _import(str(path))[0]
    bad = feature("340102000000", "district", "340199000000", (117.0, 31.8, 117.1, 31.9), "")
    err = io.StringIO()
    with translation.override("zh-hans"), pytest.raises(CommandError):
        call_command("import_areas", str(write(tmp_path, [bad])), stdout=io.StringIO(), stderr=err)
    assert "name is missing" not in err.getvalue() and "neither in the file" not in err.getvalue()


@pytest.mark.django_db
def test_service_dates_are_optional_columns_kept_when_left_out_and_each_bad_one_is_reported(tmp_path):
    dated = [*GOOD[:4], {**GOOD[4]}, {**GOOD[5]}]
    dated[4] = feature(
        "340102001001001", "grid", "340102001001", (117.0, 31.8, 117.05, 31.9), in_service_until="2026-09-20"
    )
    dated[5] = feature(
        "340102001001002", "grid", "340102001001", (117.05, 31.8, 117.1, 31.9), in_service_from="2026-06-15"
    )
    run(str(write(tmp_path, dated)), "--commit")
    retired, drawn = Area.objects.get(code="340102001001001"), Area.objects.get(code="340102001001002")
    assert (str(retired.in_service_from), str(retired.in_service_until)) == ("None", "2026-09-20")
    assert str(drawn.in_service_from) == "2026-06-15" and drawn.in_service_until is None
    run(str(write(tmp_path, GOOD)), "--commit")  # boundaries redrawn without the date columns
    assert str(Area.objects.get(code="340102001001001").in_service_until) == "2026-09-20"

    bad = [*GOOD[:4]]
    bad.append(feature("340102001001001", "grid", "340102001001", (117.0, 31.8, 117.05, 31.9), in_service_from="2026-10-01"))  # fmt: skip
    bad.append(feature("340102001001002", "grid", "340102001001", (117.05, 31.8, 117.1, 31.9), in_service_until="15/06/2026"))  # fmt: skip
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_areas", str(write(tmp_path, bad)), "--commit", stdout=StringIO(), stderr=err)
    # (the first against the end of service stored, 2026-09-20)
    assert "feature 5: in_service_until (2026-09-20) is before in_service_from (2026-10-01)" in err.getvalue()
    assert "feature 6: in_service_until must be a date as YYYY-MM-DD, got '15/06/2026'" in err.getvalue()
    assert str(Area.objects.get(code="340102001001001").in_service_from) == "None"  # nothing saved


@pytest.mark.django_db
def test_a_missing_required_property_is_named_and_features_are_numbered_from_1(tmp_path):
    # A feature without a code was told "代码只能包含数字" (digits only), and "要素 1" was the second
    # feature: the report counted from 0.
    from django.utils import translation

    features = [dict(f, properties=dict(f["properties"])) for f in GOOD]
    del features[0]["properties"]["code"]  # 1: the city, no code at all
    features[1]["properties"]["code"] = " "  # 2: blank
    features[2]["properties"]["level"] = ""  # 3
    del features[3]["properties"]["name"]  # 4
    del features[4]["properties"]["parent"]  # 5: a grid with no parent
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command(
            "import_areas", str(write(tmp_path, features)), "--commit", stdout=StringIO(), stderr=err
        )
    lines = err.getvalue().splitlines()
    assert "feature 1: code is missing" in lines and "feature 2: code is missing" in lines
    assert "feature 3: level is missing" in lines
    assert "feature 4: name is missing" in lines
    assert "feature 5: a grid needs a parent community / village" in lines
    assert not any("digits only" in line for line in lines), lines
    assert not any(line.startswith(("feature 0:", "feature 6:")) for line in lines), lines
    assert Area.objects.count() == 0

    err = StringIO()
    with translation.override("zh-hans"), pytest.raises(CommandError):
        call_command("import_areas", str(write(tmp_path, features)), stdout=StringIO(), stderr=err)
    zh = err.getvalue().splitlines()
    assert "要素 1：缺少代码" in zh and "要素 3：缺少层级" in zh and "要素 4：缺少名称" in zh, zh
    assert not any("只能包含数字" in line for line in zh), zh


def _geometry_bad(tmp_path):
    """A file whose every feature's boundary is refused for a different reason."""
    box = (117.0, 31.8, 117.1, 31.9)
    geometries = [
        # 1: a bow-tie, its edges crossing (GEOS: "Self-intersection[117.05 31.05]")
        {"type": "Polygon", "coordinates": [[[117, 31], [117.1, 31.1], [117.1, 31], [117, 31.1], [117, 31]]]},
        # 2: a hole outside its shell
        {
            "type": "Polygon",
            "coordinates": [
                [[117, 31], [117.1, 31], [117.1, 31.1], [117, 31.1], [117, 31]],
                [[118, 32], [118.1, 32], [118.1, 32.1], [118, 32.1], [118, 32]],
            ],
        },
        # 3: a ring that goes out and back along one line: no area
        {"type": "Polygon", "coordinates": [[[117, 31], [117.1, 31], [117.2, 31], [117, 31]]]},
        '{"type": "Polygon", "coordinates": [[[117, 31]',  # 4: a geometry as text, broken JSON
        {"type": "Point", "coordinates": [117, 31]},  # 5
        {"type": "Polygon", "coordinates": [[[117, 31], [117.1, 31], [117, 31]]]},  # 6: too short
        {"type": "Polygon", "coordinates": [[[117, 31], [117.1, 31], [117.1, 31.1], [117, 31.2]]]},  # 7
        {"type": "Polygon", "coordinates": [[[117, 31, 5], [117.1, 31], [117.1, 31.1], [117, 31]]]},  # 8
    ]
    features = []
    for i, geometry in enumerate(geometries, start=1):
        f = feature(f"34010200100100{i}", "grid", "340102001001", box)
        features.append({**f, "geometry": geometry})
    return write(tmp_path, [*GOOD[:4], *features])


@pytest.mark.django_db
def test_every_geometry_error_is_reported_in_the_sites_language(tmp_path):
    """A boundary refused said "几何图形无效：Self-intersection[117.05 31.05]" in a Chinese run: the
    reason itself was shapely's English. Every reason is now the catalogue's, with a position as
    numbers only."""
    from django.utils import translation

    path = _geometry_bad(tmp_path)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_areas", str(path), stdout=StringIO(), stderr=err)
    english = err.getvalue().splitlines()
    assert [line.split(":")[0] for line in english] == [f"feature {n}" for n in range(5, 13)], english
    assert (
        "feature 5: geometry: geometry is not valid: the boundary crosses itself near 117.05, 31.05"
        in english
    )
    assert (
        "feature 6: geometry: geometry is not valid: a hole lies outside its polygon near 118, 32" in english
    )
    assert "feature 8: geometry: not valid JSON (line 1, column 47)" in english, english
    assert "feature 12: geometry: geometry cannot be read: give every position as [longitude, latitude], all alike" in english  # fmt: skip
    err = StringIO()
    with translation.override("zh-hans"), pytest.raises(CommandError):
        call_command("import_areas", str(path), stdout=StringIO(), stderr=err)
    zh = err.getvalue().splitlines()
    assert len(zh) == len(english), zh
    for line in zh:
        # Nothing English but names: GeoJSON's types, JSON, WGS84.
        assert not re.search(r"[A-Za-z]{2,}", re.sub(r"'Point'|(Multi)?Polygon|JSON|WGS84", "", line)), line
    assert "要素 5：几何图形：几何图形无效：边界自相交，位置约 117.05, 31.05" in zh, zh


@pytest.mark.django_db
def test_a_bad_count_or_date_is_named_by_the_property_as_the_file_names_it(tmp_path):
    # With --population-field 人口 the report said "population must be a whole number": no such column.
    bad = feature(
        "340102001001001", "grid", "340102001001", (117.0, 31.8, 117.05, 31.9), 人口="many", 启用="x"
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_areas",
            str(write(tmp_path, [*GOOD[:4], bad])),
            "--population-field",
            "人口",
            "--in-service-from-field",
            "启用",
            stdout=StringIO(),
            stderr=err,
        )
    assert "feature 5: 人口 must be a whole number from 0 to 2147483647, got 'many'" in err.getvalue()
    assert "feature 5: 启用 must be a date as YYYY-MM-DD, got 'x'" in err.getvalue()


@pytest.mark.django_db
def test_the_division_code_edges_are_refused_by_the_import_each_by_its_number(tmp_path):
    """DOMAIN.md "Areas and codes" at its edges, through the command that loads real files: digits 7-9
    end at 399 (townships), a community carries its street's nine digits, a grid only sits under a
    community, higher levels pad with zeros; the last street (399) and a town (100-199) are good."""
    box = (117, 31.8, 117.1, 31.9)
    edges = [
        *GOOD,
        feature("340102399000", "street", "340102000000", box),  # 7: the last township: good
        feature("340102101000", "street", "340102000000", box),  # 8: a town: good
        feature("340102400000", "street", "340102000000", box),  # 9: beyond the townships
        feature("340102101002", "community", "340102001000", box),  # 10: another street's digits
        feature("340102001001003", "grid", "340102000000", box),  # 11: a grid under a district
        feature("340102001005", "street", "340102000000", box),  # 12: a street not padded
        feature("3401020010010011", "grid", "340102001001", box),  # 13: 16 digits
    ]
    with pytest.raises(CommandError, match="nothing was written"):
        err = StringIO()
        try:
            call_command("import_areas", str(write(tmp_path, edges)), stdout=StringIO(), stderr=err)
        finally:
            report = err.getvalue()
    bad = {int(m.group(1)) for m in re.finditer(r"^feature (\d+):", report, re.M)}
    assert bad == {9, 10, 11, 12, 13}, report
    for index, fragment in [
        (9, "between 001 and 399"),
        (10, "does not start with its parent's prefix 340102001"),
        (11, "belongs to a community / village, not a district / county"),
        (12, "must be zeros"),
        (13, "15 digits"),
    ]:
        assert_reported(report, index, fragment)
    assert Area.objects.count() == 0

import pytest
from django.core.exceptions import ValidationError

from governance.codes import code_errors
from governance.models import Area
from tests.base import make_area


@pytest.mark.parametrize(
    ("code", "level", "parent_code", "parent_level"),
    [
        ("340100000000", "city", None, None),
        ("340102000000", "district", "340100000000", "city"),
        ("340102001000", "street", "340102000000", "district"),
        ("340102101000", "street", "340102000000", "district"),  # a town (100-199)
        ("340102399000", "street", "340102000000", "district"),  # the last township (200-399)
        ("340102201001", "community", "340102201000", "street"),  # a village of a township
        ("340102001001", "community", "340102001000", "street"),
        ("340102001001001", "grid", "340102001001", "community"),
    ],
)
def test_it_accepts_real_format_codes(code, level, parent_code, parent_level):
    assert code_errors(code, level, parent_code, parent_level) == []


@pytest.mark.parametrize(
    ("code", "level", "parent_code", "parent_level", "fragment"),
    [
        ("34010200000", "district", "340100000000", "city", "12 digits"),
        ("34010200000a", "district", "340100000000", "city", "digits only"),
        ("340102000001", "district", "340100000000", "city", "must be zeros"),
        ("340202000000", "district", "340100000000", "city", "prefix"),
        ("340102001001001", "grid", "340102001000", "street", "belongs to a community"),
        ("340102001001", "grid", "340102001001", "community", "15 digits"),
        ("340102001001000", "grid", "340102001001", "community", "must not be zero"),
        ("340102001000", "street", None, None, "needs a parent"),
        ("340102400000", "street", "340102000000", "district", "between 001 and 399"),
        ("340102999000", "street", "340102000000", "district", "between 001 and 399"),
        ("340102400001", "community", "340102400000", "street", "between 001 and 399"),
        ("340102400001001", "grid", "340102400001", "community", "between 001 and 399"),
        ("000100000000", "city", None, None, "province part"),
        ("000102000000", "district", "000100000000", "city", "province part"),
        # Other scripts' digits, which int() reads: near-duplicates of an ASCII code.
        ("340102001001００３", "grid", "340102001001", "community", "digits only"),
        ("340102001001٠٠٣", "grid", "340102001001", "community", "digits only"),
    ],
)
def test_it_rejects_codes_that_break_the_rules(code, level, parent_code, parent_level, fragment):
    errors = code_errors(code, level, parent_code, parent_level)
    assert errors and any(fragment in e for e in errors), errors


def test_a_grid_under_a_street_is_refused_by_model_validation(cast):
    grid = Area(code="340102001001009", name="x", level="grid", parent=cast.street_a1)
    with pytest.raises(ValidationError) as exc:
        grid.full_clean()
    # Named on the parent, which is what is wrong (the code fits the grid's own community).
    assert exc.value.message_dict == {
        "parent": ["a grid belongs to a community / village, not a street / township"]
    }


def test_it_rejects_an_invalid_boundary(cast):
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[117, 31], [117.1, 31.1], [117.1, 31], [117, 31.1], [117, 31]]],
    }
    area = Area(code="340102001001009", name="x", level="grid", parent=cast.community_a1a, boundary=bowtie)
    with pytest.raises(ValidationError) as exc:
        area.full_clean()
    assert "boundary" in exc.value.message_dict


def test_subtree_is_one_prefix_query(cast, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = set(cast.street_a1.subtree().values_list("code", flat=True))
    assert codes == {
        "340102001000",
        "340102001001",
        "340102001001001",
        "340102001001002",
        "340102001002",
        "340102001002001",
    }


def test_path_and_ancestors_follow_the_hierarchy(cast):
    assert cast.grid_a.path == "340100000000/340102000000/340102001000/340102001001/340102001001001/"
    assert [a.code for a in cast.grid_a.ancestors()] == [
        "340100000000",
        "340102000000",
        "340102001000",
        "340102001001",
    ]


def test_centroid_lies_inside_the_boundary(cast):
    assert 117.0 < cast.grid_a.centroid_lng < 117.01
    assert 31.8 < cast.grid_a.centroid_lat < 31.81


def test_make_area_refuses_a_district_with_a_foreign_prefix(cast):
    with pytest.raises(ValidationError):
        make_area("350102000000", "外省区", "district", cast.city, (117, 31, 117.1, 31.1))


def _admin_form_data(client, area: Area) -> dict:
    import json

    form = client.get(f"/admin/governance/area/{area.pk}/change/").context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data["boundary"] = json.dumps(area.boundary)
    return data


def test_the_admin_fixes_the_code_and_parent_of_an_area_with_sub_areas(cast):
    from django.test import Client

    client = Client()
    client.force_login(cast.admin)
    community = cast.community_a1b  # has grid C
    fields = client.get(f"/admin/governance/area/{community.pk}/change/").context["adminform"].form.fields
    assert "code" not in fields and "parent" not in fields and "name" in fields
    data = {**_admin_form_data(client, community), "code": "340102001003", "name": "园丁社区（新）"}
    response = client.post(f"/admin/governance/area/{community.pk}/change/", data)
    assert response.status_code == 302
    community.refresh_from_db()
    cast.grid_c.refresh_from_db()
    assert (community.code, community.name) == ("340102001002", "园丁社区（新）")  # code ignored
    assert cast.grid_c.path == community.path + "340102001002001/"
    assert community.subtree().filter(pk=cast.grid_c.pk).exists()


def test_the_admin_still_edits_the_code_of_an_area_without_sub_areas(cast):
    from django.test import Client

    client = Client()
    client.force_login(cast.admin)
    grid = cast.grid_c
    data = {**_admin_form_data(client, grid), "code": "340102001002009"}
    assert client.post(f"/admin/governance/area/{grid.pk}/change/", data).status_code == 302
    grid.refresh_from_db()
    assert grid.path.endswith("/340102001002/340102001002009/")


def test_model_validation_refuses_a_new_code_or_parent_for_an_area_with_sub_areas(cast):
    community = Area.objects.get(pk=cast.community_a1b.pk)
    community.code = "340102001003"
    with pytest.raises(ValidationError) as exc:
        community.full_clean()
    assert exc.value.message_dict == {"code": ["An area with sub-areas cannot change its code or parent."]}
    street = Area.objects.get(pk=cast.street_a1.pk)
    street.parent = cast.district_b
    with pytest.raises(ValidationError) as exc:
        street.full_clean()
    assert "An area with sub-areas cannot change its code or parent." in exc.value.message_dict["parent"]
    community = Area.objects.get(pk=cast.community_a1b.pk)
    community.name = "园丁社区（新）"
    community.full_clean()  # other fields stay editable


@pytest.mark.django_db
def test_the_city_scale_demo_tree_has_only_valid_codes():
    from governance.demo import build_city

    build_city("city")
    parents = dict(Area.objects.values_list("pk", "code"))
    levels = dict(Area.objects.values_list("code", "level"))
    rows = list(Area.objects.values_list("code", "level", "parent_id"))
    assert len(rows) > 8000
    bad = {
        code: errors
        for code, level, parent_id in rows
        if (
            errors := code_errors(
                code, level, parents.get(parent_id), levels.get(parents.get(parent_id)) if parent_id else None
            )
        )
    }
    assert bad == {}
    assert max(int(code[6:9]) for code, level, _p in rows if level == "street") <= 399


def test_code_messages_name_the_level_in_the_users_language():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert code_errors("3401020010", "street", "340102000000", "district") == ["街道/乡镇代码应为 12 位"]
        errors = code_errors("340102001001001", "grid", "340102001000", "street")
        assert errors == ["网格应隶属于社区/村，而不是街道/乡镇"]
    assert code_errors("3401020010", "street", "340102000000", "district") == [
        "a street / township code has 12 digits"
    ]


def test_boundary_messages_are_translated(monkeypatch):
    from governance import geo

    monkeypatch.setattr(geo, "_", lambda message: "译:" + message)
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[117, 31], [117.1, 31.1], [117.1, 31], [117, 31.1], [117, 31]]],
    }
    for bad, start in (
        ("{", "译:not valid JSON (line 1, column 2)"),
        (
            {"type": "Point", "coordinates": [1, 2]},
            "译:geometry type must be Polygon or MultiPolygon, not 'Point'",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]},
            "译:a ring must be closed",
        ),
        (
            {"type": "Polygon", "coordinates": [[[200, 0], [1, 0], [1, 1], [200, 0]]]},
            "译:position 200,0 is outside",
        ),
        (bowtie, "译:geometry is not valid: 译:the boundary crosses itself near 117.05, 31.05"),
    ):
        with pytest.raises(geo.GeometryError) as exc:
            geo.validate_boundary(bad)
        assert str(exc.value).startswith(start), str(exc.value)


def test_the_admin_sets_service_dates_and_refuses_an_end_before_the_start_naming_it(cast):
    from django.test import Client

    from tests.base import post_area_change

    client = Client()
    client.force_login(cast.admin)
    response, form = post_area_change(
        client, cast.grid_c, in_service_from="2026-06-15", in_service_until="2026-06-14"
    )
    assert response.status_code == 200
    assert list(form.errors) == ["in_service_until"]
    assert "before the first" in form.errors["in_service_until"][0]
    cast.grid_c.refresh_from_db()
    assert (cast.grid_c.in_service_from, cast.grid_c.in_service_until) == (None, None)  # nothing saved
    response, _form = post_area_change(
        client, cast.grid_c, in_service_from="2026-06-15", in_service_until="2026-06-15"
    )
    assert response.status_code == 302  # one day in service is a period
    cast.grid_c.refresh_from_db()
    assert str(cast.grid_c.in_service_from) == str(cast.grid_c.in_service_until) == "2026-06-15"


def test_model_validation_names_the_end_of_service_when_it_is_before_the_start(cast):
    import datetime as dt

    grid = Area.objects.get(pk=cast.grid_c.pk)
    grid.in_service_from, grid.in_service_until = dt.date(2026, 6, 15), dt.date(2025, 1, 1)
    with pytest.raises(ValidationError) as caught:
        grid.full_clean()
    assert list(caught.value.message_dict) == ["in_service_until"]


def test_a_community_must_carry_its_streets_nine_digits_named_on_the_code(cast):
    # Under 乙一街道 (340102001000) a community coded as another street's (…002…) is refused on the code.
    community = Area(code="340102002009", name="x", level="community", parent=cast.street_a1)
    with pytest.raises(ValidationError) as exc:
        community.full_clean()
    assert exc.value.message_dict == {
        "code": ["code 340102002009 does not start with its parent's prefix 340102001"]
    }
    community.code = "340102001009"
    community.full_clean()  # the same community under its own street's digits


def test_a_grid_directly_under_a_district_is_refused_on_the_parent(cast):
    grid = Area(code="340102001001009", name="x", level="grid", parent=cast.street_a1.parent)
    with pytest.raises(ValidationError) as exc:
        grid.full_clean()
    assert exc.value.message_dict["parent"] == [
        "a grid belongs to a community / village, not a district / county"
    ]


@pytest.mark.parametrize(
    ("level", "zh"),
    [
        ("city", "市"),
        ("district", "区/县"),
        ("street", "街道/乡镇"),
        ("community", "社区/村"),
        ("grid", "网格"),
    ],
)
def test_the_levels_are_named_as_in_domain_md_in_chinese(level, zh):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(Area.Level(level).label) == zh

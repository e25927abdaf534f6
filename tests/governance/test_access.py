from governance.access import can_act, scope_paths
from governance.models import Area, Department
from tests.base import api_client


def test_a_street_handler_sees_its_whole_subtree_and_nothing_else(cast):
    codes = set(Area.objects.visible_to(cast.street_handler).values_list("code", flat=True))
    assert cast.grid_c.code in codes and cast.grid_a.code in codes
    assert cast.district_a.code not in codes and cast.grid_d.code not in codes


def test_a_grid_worker_sees_only_their_grid(cast):
    assert list(Area.objects.visible_to(cast.worker_a).values_list("code", flat=True)) == [cast.grid_a.code]


def test_nested_memberships_collapse_to_one_root(cast):
    from governance.models import Membership

    Membership.objects.create(user=cast.street_handler, role="handler", area=cast.community_a1a)
    cast.street_handler._memberships_cache = None
    assert scope_paths(cast.street_handler) == [cast.street_a1.path]


def test_a_user_without_memberships_sees_nothing(cast):
    from governance.models import User

    nobody = User.objects.create_user("nobody", password="x")
    assert not Area.objects.visible_to(nobody).exists()
    assert not Department.objects.visible_to(nobody).exists()


def test_can_act_needs_the_role_at_or_above_the_area(cast):
    assert can_act(cast.street_handler, {"handler"}, cast.grid_a)
    assert not can_act(cast.street_handler, {"mediator"}, cast.grid_a)
    assert not can_act(cast.community_handler, {"handler"}, cast.grid_c)
    assert can_act(cast.admin, {"handler"}, cast.grid_d)


def test_the_areas_api_lists_only_the_users_subtree(cast, django_assert_max_num_queries):
    client = api_client(cast.community_handler)
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/areas/")
    assert response.status_code == 200
    assert {a["code"] for a in response.json()["results"]} == {
        cast.community_a1a.code,
        cast.grid_a.code,
        cast.grid_b.code,
    }


def test_the_areas_api_gives_the_service_dates_read_only_in_the_same_queries(cast, django_assert_num_queries):
    import datetime as dt

    Area.objects.filter(pk=cast.grid_b.pk).update(
        in_service_from=dt.date(2026, 6, 15), in_service_until=dt.date(2027, 3, 31)
    )
    client = api_client(cast.community_handler)
    with django_assert_num_queries(3):  # as without the dates: user, count, rows (its own columns)
        rows = {a["code"]: a for a in client.get("/api/v1/areas/").json()["results"]}
    assert (rows[cast.grid_b.code]["in_service_from"], rows[cast.grid_b.code]["in_service_until"]) == (
        "2026-06-15",
        "2027-03-31",
    )
    assert (rows[cast.grid_a.code]["in_service_from"], rows[cast.grid_a.code]["in_service_until"]) == (
        None,
        None,
    )
    detail = client.get(f"/api/v1/areas/{cast.grid_b.code}/").json()
    assert detail["in_service_until"] == "2027-03-31"
    schema = client.get("/api/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["Area"]["properties"]
    for name in ("in_service_from", "in_service_until"):
        assert {k: fields[name].get(k) for k in ("type", "format", "nullable", "readOnly")} == {
            "type": "string",
            "format": "date",
            "nullable": True,
            "readOnly": True,
        }


def test_areas_api_filters_by_level_parent_and_within(cast):
    client = api_client(cast.district_officer)
    by_level = client.get("/api/v1/areas/", {"level": "grid"}).json()
    assert {a["code"] for a in by_level["results"]} == {cast.grid_a.code, cast.grid_b.code, cast.grid_c.code}
    by_parent = client.get("/api/v1/areas/", {"parent": cast.community_a1a.code}).json()
    assert {a["code"] for a in by_parent["results"]} == {cast.grid_a.code, cast.grid_b.code}
    within = client.get("/api/v1/areas/", {"within": cast.community_a1b.code}).json()
    assert {a["code"] for a in within["results"]} == {cast.community_a1b.code, cast.grid_c.code}


def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400_naming_it(cast):
    # It fell back to 50 rows without a word: a client asking for 0 or "all" got a page it did not ask for.
    client = api_client(cast.district_officer)
    for size in ("abc", "0", "-5", "2.5", "all"):
        response = client.get("/api/v1/areas/", {"page_size": size})
        assert response.status_code == 400, size
        assert list(response.json()["errors"]) == ["page_size"], size
    assert len(client.get("/api/v1/areas/", {"page_size": "2"}).json()["results"]) == 2
    assert client.get("/api/v1/areas/", {"page_size": "100000"}).status_code == 200  # at most 500 a page
    assert client.get("/api/v1/areas/", {"page_size": ""}).status_code == 200


def test_a_page_size_the_check_reads_as_a_whole_number_is_the_size_of_the_page(cast):
    # "2.0" passed the check as 2, and DRF, which reads only digits, then gave the default 50 rows.
    client = api_client(cast.district_officer)
    for size in ("2.0", " 2", "+2", "02"):
        response = client.get("/api/v1/areas/", {"page_size": size})
        assert response.status_code == 200 and len(response.json()["results"]) == 2, size
        assert response.json()["next"] is not None, size


def test_areas_api_names_a_bad_filter(cast):
    response = api_client(cast.district_officer).get("/api/v1/areas/", {"within": "999", "level": "planet"})
    assert response.status_code == 400
    assert "level" in response.json()["errors"] or "within" in response.json()["errors"]


def test_a_bad_page_number_is_a_400_naming_page(cast):
    client = api_client(cast.district_officer)
    count = client.get("/api/v1/areas/").json()["count"]
    for page in ("abc", "0", "-1", "99"):
        response = client.get("/api/v1/areas/", {"page": page, "page_size": 2})
        assert response.status_code == 400, page
        assert response.json()["errors"] == {
            "page": [f"There is no page {page}: pages run from 1 to {(count + 1) // 2}."]
        }
    assert client.get("/api/v1/areas/", {"page": "last", "page_size": 2}).status_code == 200


def test_within_an_area_outside_the_scope_is_the_same_400_as_a_missing_code(cast):
    client = api_client(cast.community_handler)
    for url in ("/api/v1/areas/", "/api/v1/areas/geojson/"):
        out_of_scope = client.get(url, {"within": cast.community_a1b.code})  # exists, not theirs
        missing = client.get(url, {"within": "340102001009"})
        assert (out_of_scope.status_code, missing.status_code) == (400, 400)
        assert out_of_scope.json()["errors"] == {"within": ["Unknown area code 340102001002."]}
        assert missing.json()["errors"] == {"within": ["Unknown area code 340102001009."]}
    own = client.get("/api/v1/areas/", {"within": cast.community_a1a.code})
    assert own.status_code == 200 and own.json()["count"] == 3


def test_within_an_area_above_the_scope_lists_the_part_of_its_subtree_in_scope(
    cast, django_assert_max_num_queries
):
    # The community handler's street and district are named by their own rows (``parent``) and
    # ``?parent=`` of the street answered; ``?within=`` of it was a 400 "Unknown area code".
    client = api_client(cast.community_handler)
    mine = {cast.community_a1a.code, cast.grid_a.code, cast.grid_b.code}
    for above in (cast.street_a1, cast.district_a):
        for url in ("/api/v1/areas/", "/api/v1/areas/geojson/"):
            with django_assert_max_num_queries(5):
                response = client.get(url, {"within": above.code})
            assert response.status_code == 200, (url, above.code)
            rows = response.json().get("results") or response.json()["features"]
            codes = {row.get("code") or row["properties"]["code"] for row in rows}
            assert codes == mine, (url, above.code)
    # A district above nobody's scope stays unknown to them, exactly like a missing code.
    other = client.get("/api/v1/areas/", {"within": cast.street_b1.code})
    assert other.status_code == 400
    assert other.json()["errors"] == {"within": [f"Unknown area code {cast.street_b1.code}."]}


def test_an_outsider_gets_404_for_an_area_outside_their_scope(cast):
    client = api_client(cast.outsider)
    assert client.get(f"/api/v1/areas/{cast.grid_a.code}/").status_code == 404
    assert client.get(f"/api/v1/areas/{cast.grid_d.code}/").status_code == 200
    missing = client.get("/api/v1/areas/340199999999/")
    assert missing.status_code == 404
    assert missing.json()["detail"] == client.get(f"/api/v1/areas/{cast.grid_a.code}/").json()["detail"]


def test_geojson_is_a_feature_collection_of_visible_areas(cast, django_assert_max_num_queries):
    client = api_client(cast.community_handler)
    with django_assert_max_num_queries(4):
        body = client.get("/api/v1/areas/geojson/", {"level": "grid"}).json()
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in body["features"]} == {cast.grid_a.code, cast.grid_b.code}
    assert body["features"][0]["geometry"]["type"] == "Polygon"


def test_geojson_rejects_a_bad_tolerance(cast):
    response = api_client(cast.community_handler).get("/api/v1/areas/geojson/", {"tolerance": "x"})
    assert response.status_code == 400 and "tolerance" in response.json()["errors"]


def test_the_schema_documents_the_filters_of_geojson_as_of_the_list(cast):
    # DESIGN.md section 7: geojson takes the filters of areas/; the schema listed only tolerance, so
    # a client (and the /api/docs/ form) could not know level, parent, within or code.
    paths = api_client(cast.admin).get("/api/schema/", {"format": "json"}).json()["paths"]

    def parameters(path):
        return {p["name"]: p["schema"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    geojson, areas = parameters("/api/v1/areas/geojson/"), parameters("/api/v1/areas/")
    assert {"level", "parent", "within", "code", "tolerance"} <= set(geojson)
    assert (
        geojson["level"]["enum"]
        == areas["level"]["enum"]
        == ["city", "community", "district", "grid", "street"]
    )
    assert "page" not in geojson  # one FeatureCollection, not paginated


def test_a_path_under_api_that_matches_no_endpoint_is_a_json_404(cast, client):
    # It was the HTML page of the site: a client parsing the error as JSON choked on "<!DOCTYPE".
    api = api_client(cast.district_officer)
    for url in ("/api/v1/incident/", "/api/v1/assessments/abc/results/", "/api/v2/areas/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url
        assert response.json() == {"detail": "No such record, or it is outside your area."}
    client.force_login(cast.district_officer)
    page = client.get("/grids/nowhere/")  # pages keep their HTML page
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_anonymous_requests_are_refused(cast):
    assert api_client().get("/api/v1/areas/").status_code in (401, 403)


def test_the_admin_refuses_a_role_at_the_wrong_level_a_department_of_another_area_or_a_headless_head(
    client, cast
):
    from governance.models import Membership

    client.force_login(cast.admin)
    before = Membership.objects.count()
    refused = [
        ({"role": "grid_worker", "area": cast.community_a1a.pk}, "area", "A grid worker works in a grid"),
        ({"role": "handler", "area": cast.grid_a.pk}, "area", "A handler works at a community"),
        (
            {"role": "handler", "area": cast.district_b.pk, "department": cast.police.pk},
            "department",
            "belongs to",
        ),
        (
            {"role": "handler", "area": cast.district_a.pk, "is_head": "on"},
            "is_head",
            "member of a department",
        ),
    ]
    for data, field, message in refused:
        response = client.post("/admin/governance/membership/add/", {"user": cast.analyst.pk, **data})
        assert response.status_code == 200, data
        assert message in str(response.context["adminform"].form.errors[field]), data
    assert Membership.objects.count() == before
    good = {
        "user": cast.analyst.pk,
        "role": "handler",
        "area": cast.district_a.pk,
        "department": cast.police.pk,
        "is_head": "on",
    }
    assert client.post("/admin/governance/membership/add/", good).status_code == 302
    assert Membership.objects.count() == before + 1
    assert Membership.objects.get(user=cast.analyst, department=cast.police).is_head

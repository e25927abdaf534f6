"""The incident list filters that name a record (``?grid=``, ``?department=``, ``?area=``): a value
naming nothing the user may see is a 400 naming the filter, the same for a missing record and one
outside the scope; a known value with no rows is an empty 200 (grids/filters.py)."""

from __future__ import annotations

import pytest

from tests.base import api_client, listed_codes, queries_of, refused_filter, unknown_body
from tests.grids.conftest import IN_GRID_B

URL = "/api/v1/incidents/"


def codes(client, **query) -> set[str]:
    return listed_codes(client, URL, **query)


@pytest.mark.django_db
def test_an_unknown_grid_is_a_400_naming_the_filter(cast, report):
    report()
    body = refused_filter(api_client(cast.street_handler), URL, "grid", "NOPE")
    assert body == unknown_body("grid", "Unknown grid NOPE.")


@pytest.mark.django_db
def test_a_grid_outside_the_scope_answers_like_an_unknown_one(cast, report):
    report()
    client = api_client(cast.street_handler)
    outside = refused_filter(client, URL, "grid", cast.grid_d.code)  # exists, in district B
    assert outside == unknown_body("grid", f"Unknown grid {cast.grid_d.code}.")
    # The outsider learns nothing of grid A either, which has an incident.
    theirs = refused_filter(api_client(cast.outsider), URL, "grid", cast.grid_a.code)
    assert theirs == unknown_body("grid", f"Unknown grid {cast.grid_a.code}.")


@pytest.mark.django_db
def test_a_code_in_scope_that_is_not_a_grid_is_unknown_as_a_grid(cast, report):
    report()
    body = refused_filter(api_client(cast.street_handler), URL, "grid", cast.community_a1a.code)
    assert body == unknown_body("grid", f"Unknown grid {cast.community_a1a.code}.")


@pytest.mark.django_db
def test_a_grid_in_scope_lists_its_incidents_or_none(cast, report):
    in_a = report()
    in_b = report(actor=cast.worker_b, lat=IN_GRID_B[0], lng=IN_GRID_B[1])
    client = api_client(cast.street_handler)
    assert codes(client, grid=cast.grid_a.code) == {in_a.code}
    assert codes(client, grid=cast.grid_b.code) == {in_b.code}
    assert codes(client, grid=cast.grid_c.code) == set()  # in scope, nothing reported there
    assert codes(api_client(cast.admin), grid=cast.grid_d.code) == set()


@pytest.mark.django_db
def test_an_unknown_department_is_a_400_naming_the_filter(cast, report):
    report()
    body = refused_filter(api_client(cast.street_handler), URL, "department", 999999)
    assert body == unknown_body("department", "Unknown department 999999.")


@pytest.mark.django_db
def test_a_department_outside_the_scope_answers_like_an_unknown_one(cast, report):
    report()
    body = refused_filter(api_client(cast.street_handler), URL, "department", cast.police_b.pk)
    assert body == unknown_body("department", f"Unknown department {cast.police_b.pk}.")


@pytest.mark.django_db
def test_a_department_in_or_above_the_scope_lists_what_was_dispatched_to_it(cast, incident_in):
    dispatched = incident_in("dispatched")  # to the police of district A, above the street
    client = api_client(cast.street_handler)
    assert codes(client, department=cast.police.pk) == {dispatched.code}
    assert codes(client, department=cast.urban.pk) == set()  # district A: a dispatch target
    assert codes(client, department=cast.street_team.pk) == set()  # the street's own team


@pytest.mark.django_db
def test_a_department_a_visible_incident_names_is_known_wherever_it_is(cast, incident_in):
    # Dispatched (by the admin) to district B's police: the grid worker's own incident says so.
    incident = incident_in("accepted")
    type(incident).objects.filter(pk=incident.pk).update(department=cast.police_b)
    assert codes(api_client(cast.worker_a), department=cast.police_b.pk) == {incident.code}


@pytest.mark.django_db
def test_an_area_outside_the_scope_answers_like_an_unknown_one(cast, report):
    report()
    client = api_client(cast.community_handler)
    assert refused_filter(client, URL, "area", "000") == unknown_body("area", "Unknown area code 000.")
    body = refused_filter(client, URL, "area", cast.grid_c.code)  # exists, in the other community
    assert body == unknown_body("area", f"Unknown area code {cast.grid_c.code}.")


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["grid", "department", "area"])
def test_a_filter_naming_a_record_costs_one_query_whatever_the_rows(cast, incident_in, param):
    value = {"grid": cast.grid_a.code, "department": cast.police.pk, "area": cast.street_a1.code}[param]
    client = api_client(cast.street_handler)
    incident_in("dispatched")

    def queries(**query) -> int:
        return queries_of(client, URL, **query)

    queries()  # the user's memberships, cached on the (forced) user from then on
    unfiltered = queries()
    filtered = queries(**{param: value})
    assert filtered == unfiltered + 1  # the one lookup of the named record
    for _ in range(4):
        incident_in("dispatched")
    assert queries(**{param: value}) == filtered


@pytest.mark.django_db
def test_the_inbox_refuses_an_unknown_grid_with_a_400_naming_the_filter(cast, client, report):
    report()
    client.force_login(cast.street_handler)
    for value in ("NOPE", cast.grid_d.code):  # missing, and outside the scope: the same answer
        response = client.get("/grids/inbox/", {"grid": value})
        html = response.content.decode()
        assert response.status_code == 400
        assert f"<li>Grid: Unknown grid {value}.</li>" in html  # the form's label, not the API's
        assert 'id="row-INC-' not in html
    response = client.get("/grids/inbox/", {"grid": cast.grid_c.code})
    assert response.status_code == 200 and "Unknown grid" not in response.content.decode()
    response = client.get("/grids/inbox/", {"grid": cast.grid_a.code})
    assert response.status_code == 200 and response.content.decode().count('id="row-INC-') == 1


@pytest.mark.django_db
def test_the_inbox_refuses_a_department_outside_the_scope(cast, client, report):
    report()
    client.force_login(cast.street_handler)
    response = client.get("/grids/inbox/", {"department": cast.police_b.pk})
    assert response.status_code == 400
    assert f"Unknown department {cast.police_b.pk}." in response.content.decode()
    assert client.get("/grids/inbox/", {"department": cast.police.pk}).status_code == 200


@pytest.mark.django_db
def test_two_unknown_records_are_both_named_in_one_answer(cast, report, client):
    # The first refused filter stopped the list: the second was named only on the next try.
    report()
    response = api_client(cast.street_handler).get(
        URL, {"grid": "NOPE", "department": 999999, "area": "NONE"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "area": ["Unknown area code NONE."],
        "grid": ["Unknown grid NOPE."],
        "department": ["Unknown department 999999."],
    }
    client.force_login(cast.street_handler)
    page = client.get("/grids/inbox/", {"grid": "NOPE", "department": 999999})
    html = page.content.decode()
    assert page.status_code == 400 and "Unknown grid NOPE." in html and "Unknown department 999999." in html

"""The case list filters that name a record (``?organisation=``, ``?mediator=``): a value naming
nothing the user may see is a 400 naming the filter, the same for a missing record and one outside
the scope; a known value with no rows is an empty 200 (mediation/filters.py)."""

from __future__ import annotations

import pytest

from mediation.models import DisputeCase
from tests.base import (
    api_client,
    assert_filters_fold,
    assert_linked_filters,
    assert_records_named_safely,
    listed_codes,
    queries_of,
    refused_filter,
    unknown_body,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/disputes/"


def codes(client, **query) -> set[str]:
    return listed_codes(client, URL, **query)


def test_an_unknown_organisation_is_a_400_naming_the_filter(med):
    med.register()
    body = refused_filter(api_client(med.cast.district_officer), URL, "organisation", 999999)
    assert body == unknown_body("organisation", "Unknown mediation organisation 999999.")


def test_an_organisation_outside_the_scope_answers_like_an_unknown_one(med):
    med.register(org=med.org_b, area=med.cast.grid_d)  # district B has a case
    expected = unknown_body("organisation", f"Unknown mediation organisation {med.org_b.pk}.")
    for user in (med.cast.district_officer, med.head_x):
        assert refused_filter(api_client(user), URL, "organisation", med.org_b.pk) == expected


def test_an_organisation_in_scope_lists_its_cases_or_none(med):
    case = med.register()
    client = api_client(med.cast.district_officer)
    assert codes(client, organisation=med.org_x.pk) == {case.code}
    assert codes(client, organisation=med.org_y.pk) == set()  # in district A, no case yet
    assert codes(api_client(med.mediator_y), organisation=med.org_y.pk) == set()  # their own


def test_an_unknown_mediator_is_a_400_naming_the_filter(med):
    med.accepted()
    body = refused_filter(api_client(med.cast.district_officer), URL, "mediator", "nobody")
    assert body == unknown_body("mediator", "Unknown mediator nobody.")


def test_a_mediator_outside_the_scope_answers_like_an_unknown_one(med):
    med.accepted(org=med.org_b, area=med.cast.grid_d)
    for user in (med.cast.district_officer, med.head_x):
        body = refused_filter(api_client(user), URL, "mediator", "mediator_b")
        assert body == unknown_body("mediator", "Unknown mediator mediator_b.")
    # A user in scope who mediates nowhere is no mediator either.
    body = refused_filter(api_client(med.cast.district_officer), URL, "mediator", "worker_a")
    assert body == unknown_body("mediator", "Unknown mediator worker_a.")


def test_a_mediator_in_scope_lists_their_cases_or_none(med):
    case = med.accepted()
    client = api_client(med.head_x)
    assert codes(client, mediator="mediator") == {case.code}
    assert codes(client, mediator="mediator_x2") == set()  # a colleague with no case yet
    assert codes(api_client(med.cast.district_officer), mediator="mediator_y") == set()


def test_a_case_naming_an_organisation_makes_it_known_to_its_reader(med):
    # A case of district A now with district B's centre and its mediator (as after a transfer):
    # the district officer reads the case, which names both.
    case = med.accepted()
    DisputeCase.objects.filter(pk=case.pk).update(organisation=med.org_b, mediator=med.mediator_b)
    client = api_client(med.cast.district_officer)
    assert codes(client, organisation=med.org_b.pk) == {case.code}
    assert codes(client, mediator="mediator_b") == {case.code}


@pytest.mark.parametrize("param", ["organisation", "mediator"])
def test_a_filter_naming_a_record_costs_one_query_whatever_the_rows(med, param):
    client = api_client(med.cast.district_officer)
    value = {"organisation": med.org_x.pk, "mediator": "mediator"}[param]
    med.accepted()

    def queries(**query) -> int:
        return queries_of(client, URL, **query)

    queries()  # the user's memberships, cached on the (forced) user from then on
    unfiltered = queries()
    filtered = queries(**{param: value})
    assert filtered == unfiltered + 1
    for _ in range(4):
        med.accepted()
    assert queries(**{param: value}) == filtered


def test_the_case_list_refuses_an_unknown_mediator_with_a_400_naming_the_filter(med, client):
    med.accepted()
    client.force_login(med.cast.district_officer)
    for value in ("nobody", "mediator_b"):  # missing, and outside the scope: the same answer
        response = client.get("/mediation/cases/", {"mediator": value})
        html = response.content.decode()
        assert response.status_code == 400
        assert f"Mediator: Unknown mediator {value}." in html  # as its "From the link" row names it
    response = client.get("/mediation/cases/", {"organisation": med.org_b.pk})
    assert response.status_code == 400
    assert f"Unknown mediation organisation {med.org_b.pk}." in response.content.decode()
    assert client.get("/mediation/cases/", {"mediator": "mediator"}).status_code == 200


def test_the_organisation_page_refuses_an_unknown_mediator_instead_of_an_empty_list(med, client):
    med.accepted()
    client.force_login(med.head_x)
    url = f"/mediation/organisations/{med.org_x.pk}/"
    response = client.get(url, {"mediator": "nobody"})
    assert response.status_code == 400
    assert "Unknown mediator nobody." in response.content.decode()
    response = client.get(url, {"mediator": "mediator"})
    assert response.status_code == 200 and "Unknown mediator" not in response.content.decode()


def test_the_case_list_filters_fold_under_a_summary_that_names_the_filters_in_force(med, client):
    """The nine filters ran before the first row on a phone, as the incident inbox's did: they fold
    the same way, closed, and open when a filter is refused."""
    case = med.accepted()
    client.force_login(med.cast.district_officer)
    assert_filters_fold(
        client,
        "/mediation/cases/",
        ("", 200, "Filters: none"),
        # The values in force, named from the form's choices (a flag names itself).
        (
            f"overdue=true&received_from=2026-01-01&status=accepted&area={case.area.parent.code}",
            200,
            f"Filters: Status: Accepted, Area: {case.area.parent.name}, Received from: 2026-01-01, Overdue",
        ),
        ("received_to=2026-13-45", 400, "Filters: Received to: 2026-13-45"),
    )


def test_the_case_list_summary_names_the_organisation_mediator_and_area_in_force(med, client):
    """``?organisation=`` and ``?mediator=`` (the API's, which the page takes too) filtered the list
    while its summary read "none". They are named, by the names their filters read with the records
    (no query of their own); one outside the user's area is refused (a 400) and never named."""
    from governance.models import User

    User.objects.filter(pk=med.cast.mediator.pk).update(display_name="王调解")
    User.objects.filter(pk=med.mediator_b.pk).update(display_name="李外区")
    med.accepted()
    med.accepted(org=med.org_b, area=med.cast.grid_d)
    client.force_login(med.cast.district_officer)
    assert_records_named_safely(
        client,
        "/mediation/cases/",
        (
            f"organisation={med.org_x.pk}&mediator=mediator&area={med.cast.street_a1.code}",
            "Filters: Area: 甲一街道, Organisation: 甲一街道调解中心, Mediator: 王调解",
        ),
        (
            f"organisation={med.org_b.pk}&mediator=mediator_b",
            "Filters: Organisation, Mediator",
            ("乙一街道调解中心", "李外区"),
        ),
        # One more names the area so that a namesake of the user's scope is told apart (the rows'
        # areas are named by the same query, here none: nothing is closed).
        lookups=4,
    )
    flags = "open=false&overdue=false&concluded_from=2026-01-01"
    summary = "Filters: Completion: Finished, Concluded from: 2026-01-01, Overdue: No"
    assert_filters_fold(client, "/mediation/cases/", (flags, 200, summary))


def test_the_case_list_form_keeps_the_filters_from_the_link_and_clears_each_alone(med, client):
    """``?organisation=`` (the organisation's page links here), ``?mediator=``, ``?open=`` and the
    concluded dates (a dashboard's links) have no field in the form: sending it with another filter
    dropped them, and only a plain link cleared one. They are kept as hidden inputs, named as the
    summary names them, each beside a link that removes just it. One outside the user's area is
    kept too (the 400 says so) with its link, and never named; the names cost no query
    (test_the_case_list_summary_names_the_organisation_mediator_and_area_in_force counts them)."""
    from governance.models import User

    User.objects.filter(pk=med.cast.mediator.pk).update(display_name="王调解")
    med.accepted()
    client.force_login(med.cast.district_officer)
    assert_linked_filters(
        client,
        "/mediation/cases/",
        f"status=accepted&open=true&organisation={med.org_x.pk}&mediator=mediator"
        "&concluded_from=2026-01-01&concluded_to=2026-12-31&page=1",
        {
            "open": "Completion: Open",
            "organisation": "Organisation: 甲一街道调解中心",
            "mediator": "Mediator: 王调解",
            "concluded_from": "Concluded from: 2026-01-01",
            "concluded_to": "Concluded to: 2026-12-31",
        },
        own="status=accepted&overdue=true",
        outside=(
            f"organisation={med.org_b.pk}&status=accepted",
            "organisation",
            "Organisation",
            "乙一街道调解中心",
        ),
    )

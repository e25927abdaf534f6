"""``?department=`` on the petition list names a department: one that names nothing the user may
see is a 400 naming the filter, the same for a missing department and one outside the scope; a
known one with no petitions is an empty 200 (petitions/filters.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

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

URL = "/api/v1/petitions/"


def codes(client, **query) -> set[str]:
    return listed_codes(client, URL, **query)


def test_an_unknown_department_is_a_400_naming_the_filter(pet):
    pet.routed()
    body = refused_filter(api_client(pet.cast.petition_officer), URL, "department", 999999)
    assert body == unknown_body("department", "Unknown department 999999.")


def test_a_department_outside_the_scope_answers_like_an_unknown_one(pet):
    pet.routed()
    body = refused_filter(api_client(pet.cast.petition_officer), URL, "department", pet.cast.police_b.pk)
    assert body == unknown_body("department", f"Unknown department {pet.cast.police_b.pk}.")


def test_a_department_in_scope_lists_what_was_routed_to_it_or_nothing(pet):
    routed = pet.routed()
    pet.register()
    client = api_client(pet.cast.petition_officer)
    assert codes(client, department=pet.cast.police.pk) == {routed.code}
    assert codes(client, department=pet.cast.urban.pk) == set()
    assert codes(api_client(pet.cast.department_user), department=pet.cast.police.pk) == {routed.code}


def test_a_department_filter_costs_one_query_whatever_the_rows(pet):
    client = api_client(pet.cast.petition_officer)
    pet.routed()

    def queries(**query) -> int:
        return queries_of(client, URL, **query)

    queries()  # the user's memberships, cached on the (forced) user from then on
    unfiltered = queries()
    filtered = queries(department=pet.cast.police.pk)
    assert filtered == unfiltered + 1
    for _ in range(4):
        pet.routed()
    assert queries(department=pet.cast.police.pk) == filtered


def test_the_registry_refuses_a_department_outside_the_scope_with_a_400(pet, client):
    pet.routed()
    client.force_login(pet.cast.petition_officer)
    for value in (999999, pet.cast.police_b.pk):  # missing, and outside the scope: the same answer
        response = client.get("/petitions/", {"department": value})
        assert response.status_code == 400
        assert f"Unknown department {value}." in response.content.decode()
    assert client.get("/petitions/", {"department": pet.cast.urban.pk}).status_code == 200


def test_due_soon_false_lists_the_petitions_not_due_within_three_days(pet):
    # As overdue=false leaves the overdue ones out, due_soon=false leaves out those due within
    # 3 days; it listed everything, the due-soon ones included.
    from django.utils import timezone

    from petitions.models import Petition

    soon, later, ended = pet.register(), pet.register(), pet.register()
    Petition.objects.filter(pk=soon.pk).update(due_at=timezone.now() + timedelta(days=2))
    ended.transition(action="redirect", actor=pet.cast.petition_officer, route="litigation")
    client = api_client(pet.cast.petition_officer)
    assert codes(client, due_soon="true") == {soon.code}
    assert codes(client, due_soon="false") == {later.code, ended.code}  # no deadline: not due soon


def test_the_registry_filters_fold_under_a_summary_that_names_the_filters_in_force(pet, client):
    """The eight filters ran before the first row on a phone, as the incident inbox's did: they fold
    the same way, closed, and open when a filter is refused."""
    pet.routed()
    client.force_login(pet.cast.petition_officer)
    assert_filters_fold(
        client,
        "/petitions/",
        ("", 200, "Filters: none"),
        # "Deadline" alone did not say which: the form's own choice does ("期限：仅逾期").
        (
            "overdue=true&group=true&channel=",
            200,
            "Filters: Deadline: Overdue only, Group: Group petitions only",
        ),
        # The values in force, named from the form's choices; one it does not list is named alone.
        (
            "repeat=false&status=routed",
            200,
            "Filters: Status: Routed to a department, Repeat: New matters only",
        ),
        ("channel=pigeon", 400, "Filters: Channel"),
    )
    client.cookies["django_language"] = "zh-hans"
    assert_filters_fold(client, "/petitions/", ("overdue=true", 200, "筛选： 期限：仅逾期"))


@pytest.fixture
def elsewhere(pet, client):
    """A petition routed to the police, the petition officer signed in, and a department of another
    district (outside the officer's area), which this returns."""
    from governance.models import Department

    pet.routed()
    client.force_login(pet.cast.petition_officer)
    return Department.objects.create(name="乙区住建局", area=pet.cast.district_b)


def test_the_registry_summary_names_the_department_and_area_in_force(pet, client, elsewhere):
    """``?department=`` (the API's, which the page takes too) filtered the registry while its summary
    read "none". It is named, as the area is, by the name its filter read with the record (no query
    of its own); one outside the user's area is refused (a 400) and never named."""
    assert_records_named_safely(
        client,
        "/petitions/",
        (
            f"department={pet.cast.police.pk}&area={pet.cast.community_a1a.code}",
            "Filters: Area: 春晖社区, Routed to: 公安分局",
        ),
        (
            f"department={elsewhere.pk}&area={pet.cast.grid_d.code}",
            "Filters: Area, Routed to",
            ("乙区住建局", pet.cast.grid_d.name),
        ),
        # One more names the area so that a namesake of the user's scope is told apart (the rows'
        # areas are named by the same query, here none: nothing is closed).
        lookups=3,
    )
    flags = "open=false&due_soon=false&received_from=2026-01-01"
    summary = "Filters: Completion: Finished, Due within 3 days: No, Received from: 2026-01-01"
    assert_filters_fold(client, "/petitions/", (flags, 200, summary))


def test_the_registry_summary_shows_a_refused_date_as_typed(pet, client):
    """A date the filter refused is named as it was typed: the summary said "Received from: Abc"
    for "abc", a value nobody sent, beside the 400 naming the field. Nothing is listed for it."""
    petition = pet.routed()
    client.force_login(pet.cast.petition_officer)
    assert petition.code in client.get("/petitions/").content.decode()
    assert_filters_fold(
        client,
        "/petitions/",
        ("received_from=abc", 400, "Filters: Received from: abc"),
        ("received_to=2026-01-01x", 400, "Filters: Received to: 2026-01-01x"),
    )
    html = client.get("/petitions/?received_from=abc").content.decode()
    assert "Received from: Enter a valid date." in html and petition.code not in html


def test_the_registry_form_keeps_the_filters_from_the_link_and_clears_each_alone(pet, client, elsewhere):
    """``?department=`` (the API's, a department's link), ``?open=``, ``?due_soon=`` and the received
    dates (a dashboard's links) have no field in the form: sending it with another filter dropped
    them, and only a plain link cleared one. They are kept as hidden inputs, named as the summary
    names them, each beside a link that removes just it. One outside the user's area is kept too
    (the 400 says so) with its link, and never named; the names cost no query
    (test_the_registry_summary_names_the_department_and_area_in_force counts them)."""
    assert_linked_filters(
        client,
        "/petitions/",
        f"channel=visit&open=true&department={pet.cast.police.pk}&due_soon=false"
        "&received_from=2026-01-01&received_to=2026-12-31&status=accepted&status=routed&page=1",
        {
            "open": "Completion: Open",
            "department": "Routed to: 公安分局",
            "due_soon": "Due within 3 days: No",
            "received_from": "Received from: 2026-01-01",
            "received_to": "Received to: 2026-12-31",
        },
        own="channel=visit&repeat=false",
        outside=(f"department={elsewhere.pk}&channel=visit", "department", "Routed to", "乙区住建局"),
    )

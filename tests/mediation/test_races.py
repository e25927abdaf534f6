"""Two people acting on one case at the same moment, over HTTP against real PostgreSQL (the pages and
the API in threads released together, ``tests.base.race``): one step wins, the other is a clear 4xx
naming why, and one event is written."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client

from governance.models import Role
from mediation.models import DisputeCase, DisputeEvent, OrganisationMember
from tests.base import (
    api_client,
    drawn_state,
    make_user,
    one_taken_one_refused,
    race,
    stale_state_over_the_api,
)


@pytest.fixture(autouse=True)
def _categories(transactional_db):
    """Transactional tests truncate tables at teardown, data migrations' rows included: re-seed them."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    importlib.import_module("mediation.migrations.0002_default_categories").seed(apps, None)


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
def test_a_mediator_concluding_while_the_head_reassigns_one_step_wins(postgres, med):
    case = med.in_mediation()
    url = f"/mediation/cases/{case.code}/act/"
    results = race(
        lambda: _page(med.cast.mediator).post(
            url, {"action": "conclude", "outcome": "withdrawn", "state": "in_mediation"}
        ),
        lambda: _page(med.head_x).post(
            url, {"action": "reassign", "mediator": med.mediator_x2.pk, "state": "in_mediation"}
        ),
    )
    statuses = [getattr(r, "status_code", r) for r in results]
    assert 302 in statuses and any(s in (403, 409) for s in statuses), statuses
    events = DisputeEvent.objects.filter(case=case, action__in=("conclude", "reassign"))
    assert events.count() == 1
    refused = next(r for r in results if r.status_code != 302)
    assert refused.context["error"]


@pytest.mark.django_db(transaction=True)
def test_a_transfer_and_an_acceptance_at_once_one_wins_and_nothing_breaks(postgres, med):
    """The transfer moves the case to another organisation; the acceptance that waited for its lock
    read the case's new organisation id with the old organisation's row (a 500)."""
    case = med.register()
    url = f"/api/v1/disputes/{case.code}/transition/"
    results = race(
        lambda: api_client(med.head_x).post(
            url,
            {"action": "transfer", "organisation": med.org_y.pk, "note": "属园丁社区", "state": "registered"},
            format="json",
        ),
        lambda: api_client(med.cast.mediator).post(
            url, {"action": "accept", "mediator": med.cast.mediator.pk, "state": "registered"}, format="json"
        ),
    )
    transfer, accept = (getattr(r, "status_code", repr(r)) for r in results)
    assert sorted([transfer, accept])[0] == 200, [getattr(r, "content", r) for r in results]
    # A loser that waited for the lock is refused (403/409). If the transfer had committed before
    # the mediator's request looked the case up, the case was already another organisation's: the
    # mediator gets the 404 of any case outside their area, the same as a moment later.
    assert accept in (200, 403, 404, 409) and transfer in (200, 403, 409), [transfer, accept]
    assert accept != 404 or transfer == 200
    assert DisputeEvent.objects.filter(case=case, action__in=("transfer", "accept")).count() == 1
    case = DisputeCase.objects.get(pk=case.pk)
    assert (case.organisation_id, case.status) in {(med.org_y.pk, "registered"), (med.org_x.pk, "accepted")}


@pytest.mark.django_db
def test_a_transfer_drawn_before_a_member_accepted_the_case_is_refused(med, client):
    # The head's page showed the case still waiting; a member accepted it meanwhile. The transfer
    # went through and took the case from the mediator who had just accepted it.
    case = med.register()
    url = f"/mediation/cases/{case.code}/act/"
    client.force_login(med.cast.mediator)
    accept = {"action": "accept", "mediator": med.cast.mediator.pk, "state": "registered"}
    assert client.post(url, accept).status_code == 302
    client.force_login(med.head_x)
    transfer = {
        "action": "transfer",
        "organisation": med.org_y.pk,
        "note": "属园丁社区",
        "state": "registered",
    }
    stale = client.post(url, transfer)
    assert stale.status_code == 409
    assert stale.context["error"] == (
        "This record has changed since your page was drawn (latest step: accept); it is now accepted. "
        "Look at it again, then act if still needed."
    )
    case = DisputeCase.objects.get(pk=case.pk)
    assert case.organisation == med.org_x and case.status == "accepted"
    assert not DisputeEvent.objects.filter(case=case, action="transfer").exists()
    # Drawn now, in the state the case is in, the transfer is taken.
    assert client.post(url, {**transfer, "state": "accepted"}).status_code == 302
    assert DisputeCase.objects.get(pk=case.pk).organisation == med.org_y


@pytest.mark.django_db(transaction=True)
def test_registrations_sent_at_the_same_instant_in_one_area_get_distinct_numbers(postgres, med):
    import uuid

    from governance.models import SequenceCounter
    from tests.mediation.test_api import _payload

    def register(user):
        body = _payload(med.cast, submission=str(uuid.uuid4()))
        return api_client(user).post("/api/v1/disputes/", body, format="json")

    results = race(
        *(lambda user=user: register(user) for user in (med.cast.mediator, med.head_x, med.mediator_x2))
    )
    assert [getattr(r, "status_code", r) for r in results] == [201] * 3, [
        getattr(r, "content", r) for r in results
    ]
    assert len({r.json()["code"] for r in results}) == 3
    assert DisputeCase.objects.count() == 3 and SequenceCounter.objects.get(key="DSP").value == 3


def _second_head(med):
    head = make_user("head_x2", Role.MEDIATOR, med.cast.street_a1)
    OrganisationMember.objects.create(organisation=med.org_x, user=head, is_head=True)
    return head


@pytest.mark.django_db(transaction=True)
def test_two_heads_reassigning_one_case_at_once_one_wins_the_other_gets_409(postgres, med):
    """Reassignment leaves the status as it was: before, both went through and the last one won."""
    case = med.accepted()
    other_head = _second_head(med)
    clients = _page(med.head_x), _page(other_head)
    state = drawn_state(clients[0], f"/mediation/cases/{case.code}/")
    assert state == drawn_state(clients[1], f"/mediation/cases/{case.code}/") and state.startswith(
        "accepted@"
    )
    url = f"/mediation/cases/{case.code}/act/"

    def reassign(client, mediator):
        return client.post(url, {"action": "reassign", "mediator": mediator.pk, "state": state})

    results = race(lambda: reassign(clients[0], med.mediator_x2), lambda: reassign(clients[1], med.head_x))
    refused = one_taken_one_refused(results)
    assert DisputeEvent.objects.filter(case=case, action="reassign").count() == 1
    assert "(latest step: reassign); it is now accepted" in refused.context["error"]


@pytest.mark.django_db
def test_a_reassignment_drawn_before_another_head_s_reassignment_is_refused(med, client):
    case = med.accepted()
    other_head = _second_head(med)
    page, url = f"/mediation/cases/{case.code}/", f"/mediation/cases/{case.code}/act/"
    client.force_login(other_head)
    drawn = {"action": "reassign", "state": drawn_state(client, page)}
    first = _page(med.head_x)
    sent = {"action": "reassign", "mediator": med.mediator_x2.pk, "state": drawn_state(first, page)}
    assert first.post(url, sent).status_code == 302
    assert first.post(url, sent).status_code == 302  # sent twice: the first one, answered as done
    assert case.events.filter(action="reassign").count() == 1
    stale = client.post(url, {**drawn, "mediator": med.head_x.pk})
    assert stale.status_code == 409
    assert stale.context["error"] == (
        "This record has changed since your page was drawn (latest step: reassign); it is now accepted. "
        "Look at it again, then act if still needed."
    )
    case.refresh_from_db()
    assert case.mediator == med.mediator_x2 and case.events.filter(action="reassign").count() == 1
    # The organisation page's reassignment forms carry the same state, read in its list's query.
    assert drawn_state(client, f"/mediation/organisations/{med.org_x.pk}/") == drawn_state(client, page)
    # The API gives the value to send back; stale it is the same 409, malformed a 400, a bare
    # status today's step.
    api_user = api_client(other_head)
    page_state = drawn_state(client, page)
    path = f"/api/v1/disputes/{case.code}/"
    stale_state_over_the_api(
        api_user,
        api_client(med.mediator_b),
        path,
        {**drawn, "mediator": med.head_x.pk},
        page_state,
        "accepted@",
    )
    case.refresh_from_db()
    assert case.mediator == med.head_x

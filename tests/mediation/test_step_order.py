"""Once a case is accepted, its page offers "start mediation" (开始调解), the usual next step, before
"transfer" (移交), an occasional one: the transfer came first, above the step the mediator was there for."""

from __future__ import annotations

import re

from mediation.models import DisputeCase, allowed_actions
from tests.base import api_client


def test_an_accepted_case_offers_start_before_transfer(client, med):
    case = med.accepted()
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    steps = re.findall(r'data-action-form="([a-z_]+)"', html)
    assert steps.index("start") < steps.index("transfer")
    actions = allowed_actions(med.cast.mediator, case)
    assert actions.index("start") < actions.index("transfer")
    # The API's list of the actions one may take is in the same order.
    response = api_client(med.cast.mediator).get(f"/api/v1/disputes/{case.code}/")
    assert response.status_code == 200 and response.json()["actions"] == actions


def test_starting_from_the_page_still_works_and_a_bad_step_or_an_outsider_is_refused(client, med):
    case = med.accepted()
    client.force_login(med.cast.mediator)
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "nope"})
    assert response.status_code == 400 and "action" in response.content.decode()
    assert DisputeCase.objects.get(pk=case.pk).status == DisputeCase.Status.ACCEPTED
    client.force_login(med.cast.outsider)
    assert client.post(f"/mediation/cases/{case.code}/act/", {"action": "start"}).status_code == 404
    assert DisputeCase.objects.get(pk=case.pk).status == DisputeCase.Status.ACCEPTED
    client.force_login(med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/", {"action": "start", "state": case.form_step_state()}
    )
    assert response.status_code == 302
    assert DisputeCase.objects.get(pk=case.pk).status == DisputeCase.Status.IN_MEDIATION

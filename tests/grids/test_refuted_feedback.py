"""After an on-site check fails, the incident's page no longer shows the department's feedback as the
item's resolution (docs/incidents.md "Pages"): walking the loop, the page of an item back in handling
read "处置结果：已清理楼道杂物，消防通道畅通" under a line saying the check found the rubbish still there.
The text stays (the department answers to it), labelled as the feedback the check refuted."""

from __future__ import annotations

import pytest

from grids import services
from grids.models import Incident

REFUTED = "<dt>Last feedback (the on-site check failed)</dt>"


def page(client, incident: Incident) -> str:
    response = client.get(f"/grids/incidents/{incident.code}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_failed_check_labels_the_feedback_as_refuted_until_the_next_one(cast, client, incident_in):
    incident = incident_in("fed_back")
    client.force_login(cast.community_handler)
    html = page(client, incident)
    assert "<dt>Resolution</dt><dd>fixed it</dd>" in html and REFUTED not in html
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", note="still there", result="fail"
    )
    html = page(client, incident)
    assert f"{REFUTED}<dd>fixed it</dd>" in html and "<dt>Resolution</dt>" not in html
    client.cookies["django_language"] = "zh-hans"
    assert "<dt>上次反馈（现场核查未通过）</dt>" in page(client, incident)
    client.cookies["django_language"] = "en"
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared the corner too"
    )
    html = page(client, incident)
    assert "<dt>Resolution</dt><dd>cleared the corner too</dd>" in html and REFUTED not in html


@pytest.mark.django_db
def test_a_failed_check_without_a_note_is_refused_and_the_feedback_stands(cast, client, incident_in):
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    state = page(client, incident).split('name="state" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        f"/grids/incidents/{incident.code}/act/",
        {"action": "verify", "result": "fail", "note": "", "state": state},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="note-verify"' in html and 'aria-invalid="true"' in html
    incident.refresh_from_db()
    assert incident.status == Incident.Status.FED_BACK
    assert "<dt>Resolution</dt>" in page(client, incident)


@pytest.mark.django_db
def test_an_outsider_gets_a_404(cast, client, incident_in):
    incident = incident_in("fed_back")
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", note="still there", result="fail"
    )
    client.force_login(cast.outsider)
    assert client.get(f"/grids/incidents/{incident.code}/").status_code == 404

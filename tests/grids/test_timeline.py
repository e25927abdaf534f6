"""The incident page's timeline: each row names the step as its button did, and a department only
beside a step the department took (docs/incidents.md "Timeline")."""

from __future__ import annotations

import pytest

from governance.models import Role
from grids import services
from tests.base import api_client, make_user


def timeline_rows(html: str) -> list[str]:
    """The timeline's rows, in order."""
    timeline = html[html.index('class="timeline"') :].split("</ol>")[0]
    return [row.split("</li>")[0] for row in timeline.split("<li>")[1:]]


def row_of(rows: list[str], label: str) -> str:
    found = [row for row in rows if row.startswith(f"<strong>{label}</strong>")]
    assert len(found) == 1, (label, rows)
    return found[0]


def step(incident, actor, action, **fields) -> None:
    services.incident_transition(incident=incident, actor=actor, action=action, **fields)


@pytest.mark.django_db
def test_a_re_dispatch_is_named_dispatch_again_as_its_button_was(cast, client, settings, report):
    """The button said "重新派遣"; the timeline said "派遣", as if it were the first dispatch."""
    incident = report()
    step(incident, cast.community_handler, "accept")
    step(incident, cast.community_handler, "dispatch", department=cast.police.pk)
    client.force_login(cast.community_handler)
    posted = client.post(
        f"/grids/incidents/{incident.code}/act/",
        {
            "action": "dispatch",
            "state": "dispatched/community",
            "department": cast.urban.pk,
            "note": "属城管",
        },
        follow=True,
    )
    assert "Dispatch again: done" in posted.content.decode()  # as the button said, not "Dispatch: done"
    for language, first, again in [("zh-hans", "派遣", "重新派遣"), ("en", "Dispatch", "Dispatch again")]:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        rows = timeline_rows(client.get(f"/grids/incidents/{incident.code}/").content.decode())
        assert cast.police.name in row_of(rows, first) and cast.urban.name in row_of(rows, again), language
    api = api_client()
    api.force_authenticate(cast.community_handler)
    events = api.get(f"/api/v1/incidents/{incident.code}/events/").json()
    events = events.get("results", events)
    labels = [(e["action"], e["action_label"]) for e in events if e["action"] == "dispatch"]
    assert labels == [("dispatch", "dispatch"), ("dispatch", "dispatch again")]


@pytest.mark.django_db
def test_the_timeline_names_a_department_only_beside_the_steps_it_took(cast, client, settings, report):
    """A passed check, a close and an evaluation read "· 公安分局", the department the item was
    dispatched to, as if the police had done them."""
    incident = report()
    step(incident, cast.community_handler, "accept")
    step(incident, cast.community_handler, "dispatch", department=cast.police.pk)
    step(incident, cast.department_user, "handle")
    step(incident, cast.department_user, "feedback", resolution="清理完毕")
    step(incident, cast.worker_a, "verify", result="pass")
    step(incident, cast.street_handler, "close")  # not the dispatcher: separate duties
    step(incident, cast.worker_a, "evaluate", evaluation="satisfied")
    client.force_login(cast.community_handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = timeline_rows(client.get(f"/grids/incidents/{incident.code}/").content.decode())
    police = cast.police.name
    assert police in row_of(rows, "Dispatch")  # where it was sent
    assert police in row_of(rows, "Start handling") and police in row_of(rows, "Feed back")  # its people
    for label in ("Report", "Accept", "Verify", "Close", "Evaluate"):
        assert police not in row_of(rows, label), label


@pytest.mark.django_db
def test_a_centre_standing_in_for_the_department_or_escalating_is_not_shown_as_the_department(
    cast, client, settings, incident_in
):
    # A centre's handler may start handling for the department; an escalation takes the item from it.
    handled = incident_in("dispatched")  # to the police
    step(handled, cast.street_handler, "handle")
    escalated = incident_in("dispatched")
    step(escalated, cast.community_handler, "escalate", note="需街道协调")
    client.force_login(cast.street_handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = timeline_rows(client.get(f"/grids/incidents/{handled.code}/").content.decode())
    assert cast.police.name not in row_of(rows, "Start handling")
    rows = timeline_rows(client.get(f"/grids/incidents/{escalated.code}/").content.decode())
    assert cast.police.name not in row_of(rows, "Escalate") and cast.police.name in row_of(rows, "Dispatch")


@pytest.mark.django_db
def test_a_departments_return_and_a_supporters_part_name_the_department_that_took_them(
    cast, client, settings, incident_in
):
    urban_user = make_user("urban_user", Role.HANDLER, cast.district_a, cast.urban)
    returned = incident_in("dispatched")
    step(returned, cast.department_user, "return", note="非本部门职责")
    assisted = incident_in("dispatched", kind="coordination")
    step(assisted, urban_user, "assist", note="已派员配合")
    client.force_login(cast.community_handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = timeline_rows(client.get(f"/grids/incidents/{returned.code}/").content.decode())
    assert cast.police.name in row_of(rows, "Return to the centre")
    rows = timeline_rows(client.get(f"/grids/incidents/{assisted.code}/").content.decode())
    assert cast.urban.name in row_of(rows, "Assist")

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


def events_by_action(client, incident) -> dict[str, dict]:
    events = client.get(f"/api/v1/incidents/{incident.code}/events/").json()["results"]
    return {e["action"]: e for e in events}


@pytest.mark.django_db
def test_a_handler_who_moved_department_keeps_the_department_of_their_old_steps(
    cast, client, settings, report
):
    """The timeline read the actor's memberships as they are now: after the police's handler moved to
    the urban management bureau, their steps for the police read "· 城市管理局"."""
    incident = report()
    step(incident, cast.community_handler, "accept")
    step(incident, cast.community_handler, "dispatch", department=cast.police.pk)
    step(incident, cast.department_user, "handle")
    step(incident, cast.department_user, "feedback", resolution="清理完毕")
    cast.department_user.memberships.update(department=cast.urban)  # moved to the other bureau
    client.force_login(cast.community_handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = timeline_rows(client.get(f"/grids/incidents/{incident.code}/").content.decode())
    for label in ("Start handling", "Feed back"):
        assert cast.police.name in row_of(rows, label) and cast.urban.name not in row_of(rows, label), label
    events = events_by_action(api_client(cast.community_handler), incident)
    assert (
        events["handle"]["acting_department"] == events["feedback"]["acting_department"] == cast.police.name
    )
    # The dispatcher sent it to the police and did not act for them; the event's department is unchanged.
    assert (
        events["dispatch"]["acting_department"] is None
        and events["dispatch"]["department"] == cast.police.name
    )
    assert api_client(cast.outsider).get(f"/api/v1/incidents/{incident.code}/events/").status_code == 404


@pytest.mark.django_db
def test_a_centre_handler_acting_for_the_department_is_not_named_as_it_after_joining_it(
    cast, client, settings, incident_in
):
    """A centre's handler who started the handling for the police, and later joined the police, read
    as the police's own people on that step."""
    handled = incident_in("dispatched")  # to the police
    step(handled, cast.street_handler, "handle")
    make_membership = cast.street_handler.memberships.create
    make_membership(role=Role.HANDLER, area=cast.district_a, department=cast.police)
    client.force_login(cast.street_handler)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    rows = timeline_rows(client.get(f"/grids/incidents/{handled.code}/").content.decode())
    assert cast.police.name not in row_of(rows, "Start handling")
    assert events_by_action(api_client(cast.street_handler), handled)["handle"]["acting_department"] is None


@pytest.mark.django_db
def test_the_timeline_reads_no_memberships(cast, client, incident_in, django_assert_max_num_queries):
    """Each step's department is on the event: the page no longer reads its actors' memberships, nor
    the API's events list (7). The page's 14 include one for the namesakes of its grid and area."""
    incident = incident_in("evaluated")
    events = incident.events.filter(action__in=["handle", "feedback"])
    events.update(actor=cast.department_user, acting_department=cast.police)  # the police's own steps
    client.force_login(cast.community_handler)
    client.get(f"/grids/incidents/{incident.code}/")  # warm up
    with django_assert_max_num_queries(14) as page:
        response = client.get(f"/grids/incidents/{incident.code}/")
    assert response.status_code == 200
    memberships = [q for q in page.captured_queries if '"governance_membership"' in q["sql"]]
    assert len(memberships) == 1  # the reader's own
    assert response.content.decode().count(f"· {cast.police.name}") >= 3  # dispatch, handle, feedback
    api = api_client(cast.community_handler)
    api.get(f"/api/v1/incidents/{incident.code}/events/")
    with django_assert_max_num_queries(7):
        assert len(api.get(f"/api/v1/incidents/{incident.code}/events/").json()["results"]) == 8


@pytest.mark.django_db
def test_the_migration_fills_older_events_from_the_memberships_at_the_time(cast, incident_in):
    """Events written before the column existed are filled in one UPDATE from the memberships as they
    are when the migration runs: the department's own people's steps, not a centre's."""
    import importlib

    from django.apps import apps

    from grids.models import IncidentEvent

    own = incident_in("handling")
    own.events.filter(action="handle").update(actor=cast.department_user)
    centre = incident_in("dispatched")
    step(centre, cast.street_handler, "handle")
    IncidentEvent.objects.update(acting_department=None)  # as before the migration
    migration = importlib.import_module("grids.migrations.0023_incidentevent_acting_department")
    migration.acting_departments_from_memberships(apps, None)
    filled = dict(IncidentEvent.objects.exclude(acting_department=None).values_list("incident", "action"))
    assert filled == {own.pk: "handle"}
    assert own.events.get(action="handle").acting_department == cast.police

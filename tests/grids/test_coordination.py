"""Coordination items (协调件, docs/incidents.md "Coordination items"): a lead department and one or
more supporting departments named at dispatch, each supporter recording its part (``assist``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Department, Notification, Role
from governance.workflow import ActionForbidden, ActionInvalid
from grids import selectors, services
from grids.models import Incident, IncidentEvent, allowed_actions
from tests.base import api_client, make_user, queries_of
from tests.grids.conftest import IN_GRID_A, IN_GRID_B

URL = "/api/v1/incidents/"


@pytest.fixture
def urban_user(cast):
    """A liaison of the district's urban management bureau (a supporting department below)."""
    return make_user("urban_user", Role.HANDLER, cast.district_a, cast.urban)


@pytest.fixture
def accepted(cast, report):
    """A coordination item accepted by the community centre, waiting for dispatch."""
    incident = report(kind="coordination")
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    return incident


def dispatch(cast, incident, supporting, department=None, actor=None, note=""):
    return services.incident_transition(
        incident=incident,
        actor=actor or cast.community_handler,
        action="dispatch",
        note=note,
        department=(department or cast.police).pk,
        supporting_departments=[d.pk for d in supporting],
    )


def transition(user, incident, **data):
    return api_client(user).post(f"{URL}{incident.code}/transition/", data, format="json")


def nothing_dispatched(incident: Incident) -> bool:
    incident.refresh_from_db()
    return (
        incident.status == "accepted"
        and incident.department is None
        and not incident.supporting_departments.exists()
        and not incident.events.filter(action="dispatch").exists()
    )


# --- dispatch -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_coordination_item_goes_to_a_lead_and_its_supporting_departments(cast, accepted):
    event = dispatch(cast, accepted, [cast.urban, cast.street_team])
    accepted.refresh_from_db()
    assert accepted.status == "dispatched" and accepted.department == cast.police
    assert set(accepted.supporting_departments.all()) == {cast.urban, cast.street_team}
    assert event.department == cast.police
    assert set(event.supporting_departments.all()) == {cast.urban, cast.street_team}


@pytest.mark.django_db
def test_the_api_dispatches_and_shows_the_lead_and_the_supporters(cast, accepted):
    response = transition(
        cast.community_handler,
        accepted,
        action="dispatch",
        department=cast.police.pk,
        supporting_departments=[cast.urban.pk, cast.street_team.pk],
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["department"] == cast.police.pk and body["department_name"] == cast.police.name
    assert body["supporting_departments"] == sorted(
        [
            {"id": cast.urban.pk, "name": cast.urban.name},
            {"id": cast.street_team.pk, "name": cast.street_team.name},
        ],
        key=lambda d: d["name"],
    )
    listed = api_client(cast.street_handler).get(URL).json()["results"]
    assert [r["supporting_departments"] for r in listed if r["code"] == accepted.code] == [
        body["supporting_departments"]
    ]
    events = api_client(cast.worker_a).get(f"{URL}{accepted.code}/events/").json()["results"]
    (dispatched,) = [e for e in events if e["action"] == "dispatch"]
    assert dispatched["department"] == cast.police.name
    assert sorted(dispatched["supporting_departments"]) == sorted([cast.urban.name, cast.street_team.name])


def _bad_supporters(cast) -> dict[str, tuple[list, str]]:
    inactive = Department.objects.create(name="已撤销的科室", area=cast.district_a, is_active=False)
    return {
        "missing": ([], "at least one supporting department"),
        "unknown": ([987654321], "Department 987654321 cannot support"),
        "inactive": ([inactive.pk], f"Department {inactive.pk} cannot support"),
        "out of area": ([cast.urban.pk, cast.police_b.pk], f"Department {cast.police_b.pk} cannot support"),
        "duplicate": ([cast.urban.pk, cast.urban.pk], "once"),
        "the lead": ([cast.urban.pk, cast.police.pk], "lead department cannot also"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["missing", "unknown", "inactive", "out of area", "duplicate", "the lead"])
def test_bad_supporting_departments_are_a_400_naming_the_field_and_save_nothing(cast, accepted, case):
    supporting, message = _bad_supporters(cast)[case]
    response = transition(
        cast.community_handler,
        accepted,
        action="dispatch",
        department=cast.police.pk,
        supporting_departments=supporting,
    )
    assert response.status_code == 400, response.json()
    assert list(response.json()["errors"]) == ["supporting_departments"]
    assert message in response.json()["errors"]["supporting_departments"][0]
    assert nothing_dispatched(accepted)


@pytest.mark.django_db
def test_supporting_departments_that_are_not_ids_are_a_400_naming_the_field(cast, accepted):
    response = transition(
        cast.community_handler,
        accepted,
        action="dispatch",
        department=cast.police.pk,
        supporting_departments=["x"],
    )
    # DRF names the item: supporting_departments[0]
    assert response.status_code == 400 and list(response.json()["errors"]) == ["supporting_departments[0]"]
    assert nothing_dispatched(accepted)


@pytest.mark.django_db
def test_a_promised_time_item_takes_no_supporting_departments(cast, incident_in):
    promised = incident_in("accepted")
    response = transition(
        cast.community_handler,
        promised,
        action="dispatch",
        department=cast.police.pk,
        supporting_departments=[cast.urban.pk],
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["supporting_departments"]
    assert "promised time" in response.json()["errors"]["supporting_departments"][0]
    assert nothing_dispatched(promised)
    # Without them it is dispatched as before.
    response = transition(cast.community_handler, promised, action="dispatch", department=cast.police.pk)
    assert response.status_code == 200


@pytest.mark.django_db
def test_escalation_clears_the_supporters_and_a_new_dispatch_replaces_them(cast, accepted):
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    services.incident_transition(
        incident=accepted, actor=cast.community_handler, action="escalate", note="needs the street"
    )
    accepted.refresh_from_db()
    assert accepted.department is None and not accepted.supporting_departments.exists()
    services.incident_transition(incident=accepted, actor=cast.street_handler, action="accept")
    dispatch(cast, accepted, [cast.petition_office], department=cast.urban, actor=cast.street_handler)
    accepted.refresh_from_db()
    assert accepted.department == cast.urban
    assert list(accepted.supporting_departments.all()) == [cast.petition_office]
    # Each dispatch event keeps whom it named: the timeline stays true.
    first, second = accepted.events.filter(action="dispatch").order_by("id")
    assert set(first.supporting_departments.all()) == {cast.urban, cast.street_team}
    assert list(second.supporting_departments.all()) == [cast.petition_office]


@pytest.mark.django_db
def test_changing_only_the_supporters_leaves_the_lead_its_step_deadline_and_record(
    cast, accepted, urban_user
):
    # The lead's deadline passes; the centre then adds a supporter. The re-dispatch gave the late
    # lead a fresh deadline and, its step ended by a dispatch event, wiped the late step off its record.
    first = dispatch(cast, accepted, [cast.urban])
    services.incident_notify_dispatched(accepted.pk, first.pk)  # the first notice went out
    late = timezone.now() - dt.timedelta(hours=1)
    Incident.objects.filter(pk=accepted.pk).update(due_at=late)
    accepted.refresh_from_db()
    event = dispatch(cast, accepted, [cast.urban, cast.street_team], note="需街道城管中队配合")
    accepted.refresh_from_db()
    assert (accepted.department, accepted.due_at) == (cast.police, late)
    assert set(accepted.supporting_departments.all()) == {cast.urban, cast.street_team}
    assert (event.step_due_at, event.on_time, event.area_id) == (None, None, None)  # no step ended
    month = timezone.localtime(late).date().replace(day=1)
    police = selectors.department_record(
        next(d for d in selectors.department_accountability(cast.admin, month) if d.pk == cast.police.pk)
    )
    assert (police.steps_due, police.steps_late, police.overdue_now) == (1, 1, 1)
    # Only the department it adds is told: the lead and the supporter kept were told before.
    team_user = make_user("team_user", Role.HANDLER, cast.street_a1, cast.street_team)
    assert services.incident_notify_dispatched(accepted.pk, event.pk) == 1
    assert team_user.notifications.count() == 1
    assert cast.department_user.notifications.count() == urban_user.notifications.count() == 1  # the first


@pytest.mark.django_db
def test_a_new_lead_is_charged_to_the_centre_and_told_and_the_old_lead_as_supporter_too(cast, accepted):
    dispatch(cast, accepted, [cast.urban])
    accepted.refresh_from_db()
    due = accepted.due_at
    event = dispatch(cast, accepted, [cast.police], department=cast.urban, note="城管牵头")
    # The step ends, charged to the community centre that dispatched wrongly, not to a department.
    assert (event.step_due_at, event.on_time, event.area_id) == (due, True, cast.community_a1a.pk)
    urban_user = make_user("urban_user", Role.HANDLER, cast.district_a, cast.urban)
    services.incident_notify_dispatched(accepted.pk, event.pk)
    assert urban_user.notifications.get().message.endswith("was dispatched to your department.")
    assert "needs your department's help" in cast.department_user.notifications.get().message


@pytest.mark.django_db
def test_a_lead_whose_first_notice_waited_in_the_outbox_is_still_told(cast, accepted, urban_user):
    # The broker was down: the first dispatch's notice was still queued when the centre added a
    # supporter. Delivered in order, the first found a later dispatch and sent nothing, the second
    # skipped the lead and the kept supporter as told before: they never heard of the item.
    first = dispatch(cast, accepted, [cast.urban])
    Notification.objects.all().delete()  # as if the first notice had not gone out yet
    second = dispatch(cast, accepted, [cast.urban, cast.street_team], note="需街道城管中队配合")
    Notification.objects.all().delete()
    assert services.incident_notify_dispatched(accepted.pk, first.pk) == 0  # stale: a later dispatch
    services.incident_notify_dispatched(accepted.pk, second.pk)
    assert cast.department_user.notifications.count() == 1 and urban_user.notifications.count() == 1


@pytest.mark.django_db
def test_adding_a_supporter_leaves_the_lead_with_its_dispatcher_for_separate_duties(cast, accepted):
    # Another handler only added a supporter: the re-dispatch made them the dispatcher, and the one
    # who chose the lead could then sign off the item.
    from grids.models import WORKFLOW, may_perform

    dispatch(cast, accepted, [cast.urban])
    dispatch(cast, accepted, [cast.urban, cast.street_team], actor=cast.street_handler, note="加街道中队")
    accepted.refresh_from_db()
    assert (accepted.department, accepted.dispatched_by) == (cast.police, cast.community_handler)
    services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    services.incident_transition(
        incident=accepted, actor=cast.department_user, action="feedback", resolution="ok"
    )
    services.incident_transition(incident=accepted, actor=cast.worker_a, action="verify", result="pass")
    accepted.refresh_from_db()
    assert not may_perform(cast.community_handler, accepted, WORKFLOW.get("close"))
    # Nor does the one who changed the supporters: that re-dispatch is a command step of this
    # round too (they could close the item they had dispatched to the street team).
    assert accepted.supporters_by == cast.street_handler
    assert not may_perform(cast.street_handler, accepted, WORKFLOW.get("close"))
    assert may_perform(cast.district_officer, accepted, WORKFLOW.get("close"))


@pytest.mark.django_db
def test_a_stale_dispatch_form_naming_other_supporters_is_not_answered_done(cast, accepted):
    from governance.workflow import TransitionNotAllowed

    def send(supporting):
        return services.incident_transition(
            incident=accepted, actor=cast.community_handler, action="dispatch", department=cast.police.pk,
            supporting_departments=[d.pk for d in supporting], state="accepted/community",
        )  # fmt: skip

    first = send([cast.urban])
    assert send([cast.urban]).pk == first.pk  # the same form twice: the first
    with pytest.raises(TransitionNotAllowed):  # drawn before, asking for more: not done
        send([cast.urban, cast.street_team])
    assert list(accepted.supporting_departments.all()) == [cast.urban]


# --- assist ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["dispatched", "handling"])
def test_a_supporting_departments_handler_records_its_part_without_changing_the_item(
    cast, accepted, urban_user, state
):
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    if state == "handling":
        services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    accepted.refresh_from_db()
    due_before = accepted.due_at
    assert "assist" in allowed_actions(urban_user, accepted)
    response = transition(urban_user, accepted, action="assist", note="封闭了施工路段")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == state
    accepted.refresh_from_db()
    assert (accepted.status, accepted.due_at, accepted.department) == (state, due_before, cast.police)
    event = accepted.events.get(action="assist")
    assert (event.actor, event.department, event.note) == (urban_user, cast.urban, "封闭了施工路段")
    assert (event.from_status, event.to_status) == (state, state)
    # No deadline of its own: the on-time statistics never see it.
    assert (event.step_due_at, event.on_time, event.area_id) == (None, None, None)


@pytest.mark.django_db
def test_an_assist_without_a_note_is_a_400_naming_note_and_records_nothing(cast, accepted, urban_user):
    dispatch(cast, accepted, [cast.urban])
    response = transition(urban_user, accepted, action="assist", note="  ")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["note"]
    assert not accepted.events.filter(action="assist").exists()
    with pytest.raises(ActionInvalid) as refused:
        services.incident_transition(incident=accepted, actor=urban_user, action="assist")
    assert refused.value.field == "note"


@pytest.mark.django_db
def test_assist_is_refused_to_others_and_out_of_its_states(cast, accepted, urban_user):
    dispatch(cast, accepted, [cast.urban])
    office_user = make_user("office_user", Role.HANDLER, cast.district_a, cast.petition_office)
    # An unrelated department, the lead's own people and a centre: 403, nothing recorded.
    for user in (office_user, cast.department_user, cast.community_handler):
        assert "assist" not in allowed_actions(user, accepted)
        response = transition(user, accepted, action="assist", note="我们也来了")
        assert response.status_code == 403, (user, response.json())
    # A department (and a centre) of another district: the item is outside their area, 404.
    police_b_user = make_user("police_b_user", Role.HANDLER, cast.district_b, cast.police_b)
    for user in (police_b_user, cast.outsider):
        assert transition(user, accepted, action="assist", note="?").status_code == 404
    # Once fed back, the supporters' part is over: 409 naming the state.
    services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    services.incident_transition(
        incident=accepted, actor=cast.department_user, action="feedback", resolution="done"
    )
    response = transition(urban_user, accepted, action="assist", note="late word")
    assert response.status_code == 409 and "awaiting verification" in response.json()["detail"]
    assert not accepted.events.filter(action="assist").exists()


@pytest.mark.django_db
def test_a_promised_item_offers_no_assist_even_to_an_administrator(cast, incident_in, urban_user):
    promised = incident_in("dispatched")
    assert "assist" not in allowed_actions(cast.admin, promised)
    with pytest.raises(ActionForbidden):
        services.incident_transition(incident=promised, actor=urban_user, action="assist", note="x")


@pytest.mark.django_db
def test_an_administrator_names_the_supporting_department_an_assist_is_for(cast, accepted):
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    missing = transition(cast.admin, accepted, action="assist", note="x")
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["department"]
    wrong = transition(cast.admin, accepted, action="assist", note="x", department=cast.police.pk)
    assert wrong.status_code == 400 and list(wrong.json()["errors"]) == ["department"]
    response = transition(cast.admin, accepted, action="assist", note="x", department=cast.street_team.pk)
    assert response.status_code == 200
    assert accepted.events.get(action="assist").department == cast.street_team


@pytest.mark.django_db
def test_the_lead_handles_and_feeds_back_whether_or_not_the_supporters_assisted(cast, accepted, urban_user):
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    with pytest.raises(ActionForbidden):  # a supporter does not take the lead's steps
        services.incident_transition(incident=accepted, actor=urban_user, action="handle")
    services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    with pytest.raises(ActionForbidden):
        services.incident_transition(incident=accepted, actor=urban_user, action="feedback", resolution="x")
    services.incident_transition(incident=accepted, actor=urban_user, action="assist", note="断水两小时")
    services.incident_transition(
        incident=accepted, actor=cast.department_user, action="feedback", resolution="修好了"
    )
    actions = list(accepted.events.values_list("action", "department__name"))
    assert actions[-3:] == [("handle", "公安分局"), ("assist", "城市管理局"), ("feedback", "公安分局")]


@pytest.mark.django_db
def test_an_assist_sent_twice_is_recorded_once(cast, client, accepted, urban_user):
    """A second tap on a slow phone, or an API client retrying after a lost answer: the same
    department's same words since the last step are already on the timeline, not written again."""
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    client.force_login(urban_user)
    url = f"/grids/incidents/{accepted.code}/act/"
    form = {"action": "assist", "state": "dispatched/community", "note": "封闭了施工路段"}
    first, second = client.post(url, form), client.post(url, form)
    assert (first.status_code, second.status_code) == (302, 302)
    assert list(accepted.events.filter(action="assist").values_list("note", flat=True)) == ["封闭了施工路段"]
    # The API alike: 200, the item as it is, nothing written again.
    response = transition(urban_user, accepted, action="assist", note="封闭了施工路段")
    assert response.status_code == 200 and response.json()["status"] == "dispatched"
    assert accepted.events.filter(action="assist").count() == 1
    # What the department did next is a new part; so is another supporter's same words.
    transition(urban_user, accepted, action="assist", note="恢复了通行")
    transition(cast.admin, accepted, action="assist", note="封闭了施工路段", department=cast.street_team.pk)
    assert accepted.events.filter(action="assist").count() == 3
    # The lead starting to handle is the same round: still the same part.
    services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    transition(urban_user, accepted, action="assist", note="封闭了施工路段")
    assert accepted.events.filter(action="assist").count() == 3
    # A failed on-site check sends the item back for a new round: the same words are a new part.
    services.incident_transition(
        incident=accepted, actor=cast.department_user, action="feedback", resolution="修好了"
    )
    services.incident_transition(
        incident=accepted, actor=cast.worker_a, action="verify", result="fail", note="路面未恢复"
    )
    assert transition(urban_user, accepted, action="assist", note="封闭了施工路段").status_code == 200
    assert accepted.events.filter(action="assist", department=cast.urban).count() == 3


# --- lists, pages, record ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_supporting_departments_inbox_home_and_filter_list_what_it_supports(
    cast, client, accepted, incident_in, urban_user
):
    dispatch(cast, accepted, [cast.urban])
    other = incident_in("dispatched")  # the police's alone
    client.force_login(urban_user)
    html = client.get("/grids/inbox/").content.decode()
    assert f'id="row-{accepted.code}"' in html and f'id="row-{other.code}"' not in html
    home = client.get("/").content.decode()
    assert accepted.code in home and other.code not in home
    codes = {
        r["code"] for r in api_client(urban_user).get(URL, {"department": cast.urban.pk}).json()["results"]
    }
    assert codes == {accepted.code}
    # The lead's list has both, each once.
    rows = api_client(cast.district_officer).get(URL, {"department": cast.police.pk}).json()["results"]
    assert sorted(r["code"] for r in rows) == sorted([accepted.code, other.code])


@pytest.mark.django_db
def test_the_department_filter_lists_led_and_supported_items_of_the_scope_only(
    cast, client, accepted, incident_in
):
    # ``Incident.involving_q`` (lead OR supporter, an array of the supported ids since the Inventory
    # of docs/benchmarks.md): both kinds of item, each once, on the page and the API, and nothing
    # outside the user's area, even an item the department leads or supports.
    dispatch(cast, accepted, [cast.urban])  # the police leads, urban supports (grid A)
    led = incident_in("dispatched")  # the police's alone (grid A)
    supported = incident_in("dispatched", lat=IN_GRID_B[0], lng=IN_GRID_B[1], actor=cast.worker_b)
    supported.supporting_departments.add(cast.police)  # led by urban below, supported by the police
    Incident.objects.filter(pk=supported.pk).update(department=cast.urban)
    in_grid_c = incident_in("dispatched")  # the police's, outside the community centre's area
    Incident.objects.filter(pk=in_grid_c.pk).update(grid=cast.grid_c)
    elsewhere = incident_in("dispatched")  # district B's, supported by the police
    Incident.objects.filter(pk=elsewhere.pk).update(grid=cast.grid_d, department=cast.police_b)
    elsewhere.supporting_departments.add(cast.police)
    neither = incident_in("dispatched", lat=IN_GRID_B[0], lng=IN_GRID_B[1], actor=cast.worker_b)
    Incident.objects.filter(pk=neither.pk).update(department=cast.urban)
    neither.supporting_departments.add(cast.street_team)  # neither led nor supported by the police
    police = {"department": cast.police.pk}
    for user, expected in [
        (cast.district_officer, {accepted, led, supported, in_grid_c}),
        (cast.community_handler, {accepted, led, supported}),
    ]:
        rows = api_client(user).get(URL, police).json()["results"]
        assert sorted(r["code"] for r in rows) == sorted(i.code for i in expected), user
        client.force_login(user)
        html = client.get("/grids/inbox/", police).content.decode()
        shown = {i.code for i in Incident.objects.all() if f'id="row-{i.code}"' in html}
        assert shown == {i.code for i in expected}, user
    # Out of the area: 404 on the page and the API, as a missing item.
    assert client.get(f"/grids/incidents/{in_grid_c.code}/").status_code == 404
    assert api_client(cast.community_handler).get(f"{URL}{in_grid_c.code}/").status_code == 404
    assert api_client(cast.district_officer).get(f"{URL}{elsewhere.code}/").status_code == 404


@pytest.mark.django_db
def test_the_inbox_costs_the_same_queries_with_supporters(cast, client, report, accepted):
    dispatch(cast, accepted, [cast.urban])
    client.force_login(cast.street_handler)
    few = queries_of(client, "/grids/inbox/")
    for i in range(6):
        where = IN_GRID_B if i % 2 else IN_GRID_A
        item = report(
            kind="coordination", lat=where[0], lng=where[1], actor=cast.worker_b if i % 2 else cast.worker_a
        )
        services.incident_transition(incident=item, actor=cast.admin, action="accept")
        if i % 3:  # some wait for dispatch (the form's checkboxes), the others have supporters
            dispatch(cast, item, [cast.urban, cast.street_team][: 1 + i % 2], actor=cast.admin)
    assert queries_of(client, "/grids/inbox/") == few


@pytest.mark.django_db
def test_the_incident_page_dispatches_with_checkboxes_and_shows_lead_and_supporters(cast, client, accepted):
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{accepted.code}/").content.decode()
    assert html.count('type="checkbox" name="supporting_departments"') == len(
        selectors.dispatch_departments(accepted)
    )
    url = f"/grids/incidents/{accepted.code}/act/"
    # Refused (the lead ticked as a supporter): 400, the form keeps what was ticked, nothing saved.
    refused = client.post(
        url,
        {
            "action": "dispatch",
            "department": cast.police.pk,
            "supporting_departments": [cast.police.pk, cast.urban.pk],
        },
    )
    body = refused.content.decode()
    assert refused.status_code == 400 and "lead department cannot also" in body
    assert f'value="{cast.urban.pk}" checked' in body
    assert nothing_dispatched(accepted)
    response = client.post(
        url,
        {
            "action": "dispatch",
            "department": cast.police.pk,
            "supporting_departments": [cast.urban.pk, cast.street_team.pk],
        },
    )
    assert response.status_code == 302
    html = client.get(f"/grids/incidents/{accepted.code}/").content.decode()
    assert 'id="lead-department">公安分局<' in html
    assert "城市管理局" in html[html.index('id="supporting-departments"') :].split("</dd>")[0]
    timeline = html[html.index('class="timeline"') :]
    assert "lead 公安分局 · supporting " in timeline


@pytest.mark.django_db
def test_a_supporter_records_its_part_on_the_incident_page(cast, client, accepted, urban_user):
    dispatch(cast, accepted, [cast.urban])
    client.force_login(urban_user)
    html = client.get(f"/grids/incidents/{accepted.code}/").content.decode()
    assert 'data-action-form="assist"' in html and 'data-action="handle"' not in html
    url = f"/grids/incidents/{accepted.code}/act/"
    empty = client.post(url, {"action": "assist", "note": "", "department": cast.urban.pk})
    assert empty.status_code == 400 and "Say what your department did" in empty.content.decode()
    assert client.post(url, {"action": "assist", "note": "清运了建筑垃圾"}).status_code == 302
    html = client.get(f"/grids/incidents/{accepted.code}/").content.decode()
    assert "清运了建筑垃圾" in html[html.index('class="timeline"') :]
    # Another department's handler in the district sees the page but has no assist form.
    client.force_login(make_user("office_user", Role.HANDLER, cast.district_a, cast.petition_office))
    assert (
        'data-action-form="assist"' not in client.get(f"/grids/incidents/{accepted.code}/").content.decode()
    )
    client.force_login(cast.outsider)
    assert client.get(f"/grids/incidents/{accepted.code}/").status_code == 404


@pytest.mark.django_db
def test_the_inbox_dispatch_form_offers_supporters_for_coordination_items_only(
    cast, client, accepted, incident_in
):
    promised = incident_in("accepted")
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    row = html[html.index(f'id="row-{accepted.code}"') :].split("</tr>")[0]
    plain = html[html.index(f'id="row-{promised.code}"') :].split("</tr>")[0]
    assert 'name="supporting_departments"' in row and 'name="supporting_departments"' not in plain
    response = client.post(
        f"/grids/incidents/{accepted.code}/act/",
        {
            "from": "inbox",
            "action": "dispatch",
            "department": cast.police.pk,
            "supporting_departments": [cast.urban.pk],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "公安分局 + 城市管理局" in response.content.decode()


@pytest.mark.django_db
def test_the_departments_record_counts_what_each_supports_now_in_one_query(
    cast, accepted, report, django_assert_num_queries
):
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    done = report(kind="coordination")
    services.incident_transition(incident=done, actor=cast.admin, action="accept")
    dispatch(cast, done, [cast.urban], actor=cast.admin)
    services.incident_transition(incident=done, actor=cast.admin, action="handle")
    services.incident_transition(incident=done, actor=cast.admin, action="feedback", resolution="ok")
    month = timezone.localdate().replace(day=1)
    cast.district_officer.memberships_cached()
    with django_assert_num_queries(1):
        rows = {
            d.name: selectors.department_record(d)
            for d in selectors.department_accountability(cast.district_officer, month)
        }
    # The fed-back item is no longer with anyone's department: only the open one counts.
    assert {n: r.supporting_now for n, r in rows.items()} == {
        "公安分局": 0,
        "城市管理局": 1,
        "信访局": 0,
        "城管中队": 1,
    }
    assert rows["公安分局"].open_now == 1 and rows["城市管理局"].open_now == 0
    body = api_client(cast.district_officer).get("/api/v1/incidents/departments/").json()
    assert {r["name"]: r["supporting_now"] for r in body["results"]}["城市管理局"] == 1


@pytest.mark.django_db
def test_an_assist_is_on_the_timeline_not_in_the_departments_steps(cast, accepted, urban_user):
    dispatch(cast, accepted, [cast.urban])
    services.incident_transition(incident=accepted, actor=urban_user, action="assist", note="帮忙")
    timed = IncidentEvent.objects.filter(incident=accepted, on_time__isnull=False)
    assert not timed.filter(action="assist").exists()


@pytest.mark.django_db
def test_a_dispatch_refused_in_the_inbox_keeps_the_lead_and_the_ticks_in_its_row(
    cast, client, accepted, report
):
    """A refused step swapped its inbox row back with the form emptied: the handler chose the lead
    again (and opened the reason again) to fix one thing."""
    client.force_login(cast.community_handler)
    url = f"/grids/incidents/{accepted.code}/act/"
    lead_only = {"from": "inbox", "action": "dispatch", "department": cast.police.pk}
    row = client.post(url, lead_only, HTTP_HX_REQUEST="true").content.decode()
    assert "Choose at least one supporting department" in row
    assert f'<option value="{cast.police.pk}" selected>' in row
    both = {**lead_only, "supporting_departments": [cast.police.pk, cast.urban.pk]}
    row = client.post(url, both, HTTP_HX_REQUEST="true").content.decode()
    assert "cannot also be a supporting department" in row
    assert f'value="{cast.urban.pk}" checked' in row and f'value="{cast.police.pk}" checked' in row
    fresh = report()
    row = client.post(
        f"/grids/incidents/{fresh.code}/act/",
        {"from": "inbox", "action": "reject", "note": "   "},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Give the reason for rejecting" in row and '<details class="grids-details" open>' in row
    accepted.refresh_from_db()
    fresh.refresh_from_db()
    assert accepted.status == "accepted" and not accepted.department_id and fresh.status == "reported"


@pytest.mark.django_db
def test_a_coordination_item_with_no_other_department_to_support_it_goes_to_the_lead_alone(cast, accepted):
    # Every other department of the grid closed: dispatch asked for a supporter there was none of,
    # and the item, whose kind is chosen at acceptance, had no step left.
    from governance.models import Department

    Department.objects.exclude(pk=cast.police.pk).update(is_active=False)
    services.incident_transition(
        incident=accepted, actor=cast.community_handler, action="dispatch", department=cast.police.pk
    )
    accepted.refresh_from_db()
    assert (accepted.status, accepted.department, list(accepted.supporting_departments.all())) == (
        "dispatched",
        cast.police,
        [],
    )


@pytest.mark.django_db
def test_the_supporting_departments_are_listed_with_the_readers_list_separator(
    cast, client, settings, accepted
):
    # A Chinese page listed them "公安分局 + 城市管理局, 街道综治中心": an English comma in Chinese text.
    dispatch(cast, accepted, [cast.urban, cast.street_team])
    names = sorted(d.name for d in accepted.supporting_departments.all())
    client.force_login(cast.community_handler)
    for language, separator in [("zh-hans", "、"), ("en", ", ")]:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        joined = separator.join(names)
        html = client.get(f"/grids/incidents/{accepted.code}/").content.decode()
        assert joined in html[html.index('id="supporting-departments"') :].split("</dd>")[0], language
        assert joined in html[html.index('class="timeline"') :], language
        row = client.get("/grids/inbox/").content.decode()
        row = row[row.index(f'id="row-{accepted.code}"') :].split("</tr>")[0]
        assert f"+ {joined}<" in row, language


@pytest.mark.django_db
def test_an_assist_reads_the_status_once_on_the_timeline_not_handling_to_handling(
    cast, client, accepted, urban_user
):
    """An assist leaves the item where it is: its timeline line read '处置中 → 处置中', as if it moved."""
    dispatch(cast, accepted, [cast.urban])
    services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    assert transition(urban_user, accepted, action="assist", note="封闭了施工路段").status_code == 200
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{accepted.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "处置中 → 处置中" not in html
    assist = html[: html.index("封闭了施工路段")].rsplit("<li>", 1)[1]
    assert '<span class="muted">处置中</span>' in assist, assist
    assert "已派遣 → 处置中" in html  # a step that moves the item still shows where from and where to


@pytest.mark.django_db
def test_the_admins_timeline_names_the_status_once_for_an_assist(cast, client, accepted, urban_user):
    """The admin's timeline had a 'status before' and a 'status after' column, 处置中 and 处置中 for an
    assist; one status column reads as the pages' timelines do."""
    dispatch(cast, accepted, [cast.urban])
    services.incident_transition(incident=accepted, actor=cast.department_user, action="handle")
    assert transition(urban_user, accepted, action="assist", note="封闭了施工路段").status_code == 200
    client.force_login(cast.admin)
    html = client.get(
        f"/admin/grids/incident/{accepted.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "原状态" not in html and "新状态" not in html
    assert "<p>处置中</p>" in html and "<p>已派遣 → 处置中</p>" in html and "<p>已上报</p>" in html

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.utils import timezone

from governance.models import Notification
from governance.workflow import ActionForbidden, ActionInvalid, TransitionNotAllowed
from grids import services
from grids.models import WORKFLOW, Incident, IncidentEvent, allowed_actions
from tests.base import api_client
from tests.grids.conftest import PATHS, action_fields


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(PATHS))
def test_every_action_from_every_state_is_allowed_or_409_and_changes_nothing(cast, incident_in, state):
    client = api_client(cast.admin)
    for action in WORKFLOW.actions:
        # Only a coordination item has supporting departments to record an assistance for.
        incident = incident_in(state, kind="coordination" if action == "assist" else "promised")
        events_before = incident.events.count()
        fields = action_fields(action, cast)
        if action == "dispatch" and state == "dispatched":
            # A re-dispatch names another department, with its reason (the same again is the first
            # one sent twice; see test_a_re_dispatch_...).
            fields = {"department": cast.urban.pk, "note": "not the police's"}
        response = client.post(
            f"/api/v1/incidents/{incident.code}/transition/", {"action": action, **fields}, format="json"
        )
        incident.refresh_from_db()
        if state in WORKFLOW.get(action).sources:
            assert response.status_code == 200, (state, action, response.json())
            assert incident.events.count() == events_before + 1
        else:
            assert response.status_code == 409, (state, action, response.json())
            assert str(Incident.Status(state).label) in response.json()["detail"]
            assert incident.status == state
            assert incident.events.count() == events_before


@pytest.mark.django_db
def test_an_unknown_action_is_a_400(cast, incident_in):
    incident = incident_in("reported")
    response = api_client(cast.admin).post(
        f"/api/v1/incidents/{incident.code}/transition/", {"action": "explode"}, format="json"
    )
    assert response.status_code == 400 and "action" in response.json()["errors"]
    incident.refresh_from_db()
    assert incident.status == "reported" and incident.events.count() == 1  # the report only


@pytest.mark.django_db
def test_the_full_loop_with_the_real_roles_records_every_step(cast, report):
    incident = report()
    assert incident.status == "reported" and incident.level == "community"
    assert incident.level_area == cast.community_a1a
    assert incident.code.startswith("INC-") and len(incident.code) == 15
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="dispatch", department=cast.police.pk
    )
    services.incident_transition(incident=incident, actor=cast.department_user, action="handle")
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared"
    )
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", result="fail", note="still dirty"
    )
    assert incident.status == "handling"
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared again"
    )
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")
    # The community centre dispatched it, so another handler signs it off (separate duties).
    services.incident_transition(incident=incident, actor=cast.street_handler, action="close")
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="evaluate", evaluation="satisfied"
    )
    incident.refresh_from_db()
    assert incident.status == "evaluated"
    assert incident.resolved_level == "community" and incident.closed_at is not None
    actions = list(incident.events.values_list("action", flat=True))
    assert actions == [
        "report", "accept", "dispatch", "handle", "feedback", "verify", "feedback", "verify", "close", "evaluate"
    ]  # fmt: skip
    assert IncidentEvent.objects.filter(incident=incident, actor=cast.department_user).count() == 3


@pytest.mark.django_db
def test_a_community_handler_cannot_accept_a_street_level_item_but_the_street_can(cast, report):
    incident = report(category="work_safety")  # default level: street
    assert incident.level == "street"
    with pytest.raises(ActionForbidden):
        services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    assert Incident.objects.get(pk=incident.pk).status == "reported"
    services.incident_transition(incident=incident, actor=cast.street_handler, action="accept")
    assert incident.status == "accepted"


@pytest.mark.django_db
def test_only_a_grid_worker_of_that_grid_verifies(cast, incident_in):
    incident = incident_in("fed_back")
    for outsider in (cast.worker_b, cast.community_handler, cast.department_user):
        with pytest.raises(ActionForbidden):
            services.incident_transition(incident=incident, actor=outsider, action="verify", result="pass")
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")
    assert incident.status == "verified"


@pytest.mark.django_db
def test_a_department_handles_only_what_was_dispatched_to_it(cast, incident_in):
    incident = incident_in("dispatched")  # dispatched to the police
    from tests.base import make_user

    urban_user = make_user("urban_user", "handler", cast.district_a, cast.urban)
    with pytest.raises(ActionForbidden):
        services.incident_transition(incident=incident, actor=urban_user, action="handle")
    services.incident_transition(incident=incident, actor=cast.department_user, action="handle")


@pytest.mark.django_db
def test_the_api_answers_403_to_a_role_that_may_not_act_and_404_out_of_scope(cast, incident_in):
    incident = incident_in("reported")
    url = f"/api/v1/incidents/{incident.code}/transition/"
    assert api_client(cast.analyst).post(url, {"action": "accept"}, format="json").status_code == 403
    assert api_client(cast.worker_a).post(url, {"action": "accept"}, format="json").status_code == 403
    assert api_client(cast.outsider).post(url, {"action": "accept"}, format="json").status_code == 404
    assert api_client(cast.worker_b).post(url, {"action": "accept"}, format="json").status_code == 404
    incident.refresh_from_db()
    assert incident.status == "reported" and incident.events.count() == 1


def _to_verified(cast, report, *, dispatcher, doer):
    incident = report()
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    services.incident_transition(
        incident=incident, actor=dispatcher, action="dispatch", department=cast.police.pk
    )
    services.incident_transition(incident=incident, actor=doer, action="handle")
    services.incident_transition(incident=incident, actor=doer, action="feedback", resolution="done")
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")
    return incident


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["dispatcher", "doer"])
def test_whoever_dispatched_or_fed_back_an_incident_does_not_close_it(cast, report, who):
    # DOMAIN.md: supervision (accept, verify, close) and command (dispatch, feedback) are different
    # roles. The street centre dispatches (or itself handles) a community item; it may not sign it off.
    if who == "dispatcher":
        incident = _to_verified(cast, report, dispatcher=cast.street_handler, doer=cast.department_user)
    else:
        incident = _to_verified(cast, report, dispatcher=cast.community_handler, doer=cast.street_handler)
    assert (incident.dispatched_by, incident.fed_back_by) == (
        (cast.street_handler, cast.department_user)
        if who == "dispatcher"
        else (cast.community_handler, cast.street_handler)
    )
    assert "close" not in allowed_actions(cast.street_handler, incident)
    url = f"/api/v1/incidents/{incident.code}/transition/"
    response = api_client(cast.street_handler).post(url, {"action": "close"}, format="json")
    assert response.status_code == 403
    assert "separate duties" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == "verified" and incident.closed_at is None
    assert not incident.events.filter(action="close").exists()
    # Another handler with the same reach closes it; so may an administrator.
    other = cast.community_handler if who == "dispatcher" else cast.district_officer
    assert "close" in allowed_actions(other, incident)
    assert api_client(other).post(url, {"action": "close"}, format="json").status_code == 200
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert incident.events.get(action="close").actor == other


@pytest.mark.django_db
def test_an_administrator_and_a_deployment_without_separate_duties_close_what_they_dispatched(
    cast, report, settings
):
    incident = _to_verified(cast, report, dispatcher=cast.admin, doer=cast.admin)
    services.incident_transition(incident=incident, actor=cast.admin, action="close")
    assert incident.status == "closed"
    settings.INCIDENT_SEPARATE_DUTIES = False
    incident = _to_verified(cast, report, dispatcher=cast.community_handler, doer=cast.department_user)
    assert "close" in allowed_actions(cast.community_handler, incident)
    services.incident_transition(incident=incident, actor=cast.community_handler, action="close")
    assert incident.status == "closed"


@pytest.mark.django_db
def test_escalation_forgets_the_lower_levels_dispatcher(cast, incident_in):
    incident = incident_in("dispatched")
    assert incident.dispatched_by == cast.admin
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="escalate", note="too big for us"
    )
    incident.refresh_from_db()
    assert incident.dispatched_by is None and incident.fed_back_by is None


@pytest.mark.django_db
def test_escalation_moves_one_level_up_with_a_reason_and_the_new_level_accepts(cast, incident_in):
    incident = incident_in("accepted")
    with pytest.raises(ActionInvalid) as missing:
        services.incident_transition(incident=incident, actor=cast.community_handler, action="escalate")
    assert missing.value.field == "note"
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="escalate", note="too big for us"
    )
    assert (incident.status, incident.level, incident.level_area) == ("reported", "street", cast.street_a1)
    with pytest.raises(ActionForbidden):
        services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    services.incident_transition(
        incident=incident, actor=cast.street_handler, action="escalate", note="district"
    )
    assert incident.level == "district"
    # The top of the ladder offers no "Escalate" (it was offered and always refused), to anyone.
    assert "escalate" in allowed_actions(cast.street_handler, incident_in("accepted"))
    assert "escalate" not in allowed_actions(cast.district_officer, incident)
    assert "escalate" not in allowed_actions(cast.admin, incident)
    with pytest.raises(TransitionNotAllowed):
        services.incident_transition(
            incident=incident, actor=cast.district_officer, action="escalate", note="more"
        )
    event = incident.events.filter(action="escalate").first()
    assert (event.from_level, event.level, event.note) == ("community", "street", "too big for us")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "fields", "field"),
    [
        ("reject", {}, "note"),
        ("dispatch", {}, "department"),
        ("verify", {}, "result"),
        ("evaluate", {"evaluation": "great"}, "evaluation"),
    ],
)
def test_an_action_without_its_fields_is_a_400_naming_the_field(cast, incident_in, action, fields, field):
    state = {"reject": "reported", "dispatch": "accepted", "verify": "fed_back", "evaluate": "closed"}[action]
    incident = incident_in(state)
    response = api_client(cast.admin).post(
        f"/api/v1/incidents/{incident.code}/transition/", {"action": action, **fields}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    incident.refresh_from_db()
    assert incident.status == state


@pytest.mark.django_db
def test_dispatch_to_a_department_of_another_district_is_refused(cast, incident_in):
    incident = incident_in("accepted")
    with pytest.raises(ActionInvalid) as exc:
        services.incident_transition(
            incident=incident, actor=cast.community_handler, action="dispatch", department=cast.police_b.pk
        )
    assert exc.value.field == "department"


@pytest.mark.django_db
def test_due_times_follow_the_category_limits(cast, report, categories):
    incident = report(category="fire_hazard")
    from governance import periods

    assert incident.due_at == periods.add_working_hours(incident.reported_at, 2)
    services.incident_transition(incident=incident, actor=cast.admin, action="accept")
    accept_event = incident.events.get(action="accept")
    assert incident.due_at == periods.add_working_hours(accept_event.at, 1)
    assert accept_event.on_time is True
    services.incident_transition(
        incident=incident, actor=cast.admin, action="dispatch", department=cast.police.pk
    )
    dispatch_event = incident.events.get(action="dispatch")
    assert incident.due_at == dispatch_event.at + dt.timedelta(hours=24)  # fire hazard: handle within 24 h


def _at(monkeypatch, when: dt.datetime) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: when)


@pytest.mark.django_db
def test_starting_to_handle_keeps_the_deadline_set_at_dispatch(cast, incident_in, monkeypatch):
    incident = incident_in("dispatched")
    dispatched_at = incident.events.get(action="dispatch").at
    dispatch_due = incident.due_at
    assert dispatch_due == dispatched_at + dt.timedelta(hours=incident.category.handle_hours)
    _at(monkeypatch, dispatched_at + dt.timedelta(hours=1))
    handle = services.incident_transition(incident=incident, actor=cast.department_user, action="handle")
    incident.refresh_from_db()
    assert (incident.status, incident.due_at) == ("handling", dispatch_due)
    assert (handle.step_due_at, handle.on_time) == (None, None)  # not the end of a step
    _at(monkeypatch, dispatch_due - dt.timedelta(minutes=1))
    feedback = services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared"
    )
    assert (feedback.step_due_at, feedback.on_time) == (dispatch_due, True)


@pytest.mark.django_db
def test_a_late_start_gives_no_fresh_deadline_and_the_feedback_is_late(cast, incident_in, monkeypatch):
    incident = incident_in("dispatched")
    dispatch_due = incident.due_at
    hours = incident.category.handle_hours
    _at(monkeypatch, dispatch_due - dt.timedelta(hours=2))
    services.incident_transition(incident=incident, actor=cast.department_user, action="handle")
    incident.refresh_from_db()
    assert incident.due_at == dispatch_due  # before the fix: handle time + handle_hours
    _at(monkeypatch, dispatch_due + dt.timedelta(hours=1))
    assert Incident.objects.overdue().filter(pk=incident.pk).exists()
    feedback = services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared"
    )
    assert (feedback.step_due_at, feedback.on_time) == (dispatch_due, False)
    # A failed verification sends it back to handling with a new limit from the verification.
    verified_at = dispatch_due + dt.timedelta(hours=2)
    _at(monkeypatch, verified_at)
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", result="fail", note="still dirty"
    )
    incident.refresh_from_db()
    assert (incident.status, incident.due_at) == ("handling", verified_at + dt.timedelta(hours=hours))


@pytest.mark.django_db
def test_an_on_the_spot_item_is_closed_at_report_with_a_note_and_a_photo(cast, report):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.grids.conftest import jpeg_bytes

    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    incident = report(kind="on_the_spot", resolution="moved the bins", photos=[photo])
    assert (incident.status, incident.level, incident.resolved_level) == ("closed", "grid", "grid")
    assert incident.due_at is None and incident.photos.count() == 1
    assert list(incident.events.values_list("action", flat=True)) == ["report", "close"]


@pytest.mark.django_db
def test_overdue_items_notify_the_responsible_handlers_once(cast, report):
    incident = report()
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    from grids.tasks import notify_overdue

    assert notify_overdue.delay().get() == 1
    assert notify_overdue.delay().get() == 0  # safe to run twice
    notes = Notification.objects.filter(key__startswith="incident-overdue:")
    assert list(notes.values_list("user__username", flat=True)) == ["community_handler"]
    assert incident.code in notes.get().message


@pytest.mark.django_db
def test_an_overdue_item_of_a_centre_with_nobody_in_it_is_told_to_the_centre_above(cast, report, caplog):
    # The community centre's only handler has left: the overdue notice was marked sent to nobody,
    # and the item stayed overdue unseen. The street centre hears of it instead.
    incident = report()
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    type(cast.community_handler).objects.filter(pk=cast.community_handler.pk).update(is_active=False)
    assert services.incident_notify_overdue() == 1
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["street_handler"]
    # With nobody above either, the operators are told in the log, naming the item.
    other = report()
    Incident.objects.filter(pk=other.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    type(cast.street_handler).objects.filter(pk=cast.street_handler.pk).update(is_active=False)
    with caplog.at_level("WARNING", logger="grids.services"):
        assert services.incident_notify_overdue() == 1
    assert Notification.objects.count() == 1
    assert other.code in caplog.text and "nobody to tell" in caplog.text


@pytest.mark.django_db
def test_a_new_item_with_no_centre_handler_at_or_above_it_is_said_in_the_log(cast, report, caplog):
    # The new item's notice went to nobody without a word (the overdue one said so in the log).
    incident = report()
    Notification.objects.all().delete()
    User = type(cast.community_handler)
    User.objects.filter(pk__in=[cast.community_handler.pk, cast.street_handler.pk]).update(is_active=False)
    with caplog.at_level("WARNING", logger="grids.services"):
        assert services.incident_notify_new(incident.pk) == 0
    assert not Notification.objects.exists()
    assert incident.code in caplog.text and "nobody to tell" in caplog.text


@pytest.mark.django_db
def test_the_overdue_notification_is_scheduled_in_the_beat_database(db):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    importlib.import_module("grids.migrations.0003_overdue_schedule").create(apps, None)
    task = PeriodicTask.objects.get(task="grids.notify_overdue")
    assert task.enabled and task.interval.every == 10 and task.interval.period == "minutes"


@pytest.mark.django_db
def test_the_overdue_command_reports_what_it_flagged(cast, report):
    import io

    from django.core.management import call_command

    incident = report(category="work_safety")  # street level
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    out = io.StringIO()
    call_command("grids_notify_overdue", stdout=out)
    assert out.getvalue().startswith("1 incident newly overdue; its handlers were notified.")
    assert Notification.objects.get().user == cast.street_handler
    call_command("grids_notify_overdue", stdout=out)
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_an_overdue_dispatched_item_also_notifies_the_department(cast, incident_in):
    incident = incident_in("dispatched")
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.incident_notify_overdue() == 1
    users = set(Notification.objects.values_list("user__username", flat=True))
    assert users == {"community_handler", "department_user"}


@pytest.mark.django_db
def test_an_overdue_sign_off_is_told_to_who_may_close_it_not_to_its_dispatcher(cast, report, settings):
    # Separate duties: the community centre's one handler dispatched the item and may not close it.
    # The overdue notice went to that handler alone, and nobody who could close it heard of it.
    incident = _to_verified(cast, report, dispatcher=cast.community_handler, doer=cast.department_user)
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.incident_notify_overdue() == 1
    assert set(Notification.objects.filter(key__startswith="incident-overdue:").values_list(
        "user__username", flat=True
    )) == {"street_handler"}  # fmt: skip
    # Without separate duties the centre closes what it dispatched, and is the one told.
    settings.INCIDENT_SEPARATE_DUTIES = False
    other = _to_verified(cast, report, dispatcher=cast.community_handler, doer=cast.department_user)
    Incident.objects.filter(pk=other.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.incident_notify_overdue() == 1
    assert set(Notification.objects.filter(key__startswith=f"incident-overdue:{other.pk}:").values_list(
        "user__username", flat=True
    )) == {"community_handler"}  # fmt: skip


@pytest.mark.django_db
def test_the_timeline_keeps_what_each_round_of_handling_did(cast, incident_in):
    """A failed check sends the item back and the next feedback replaces ``resolution``: the first
    round's account must stay in the timeline (the verifier and the record need both)."""
    incident = incident_in("handling")
    services.incident_transition(
        incident=incident, actor=cast.department_user, action="feedback", resolution="cleared"
    )
    services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", result="fail", note="still dirty"
    )
    services.incident_transition(
        incident=incident,
        actor=cast.department_user,
        action="feedback",
        resolution="cleared again",
        note="residents told",
    )
    incident.refresh_from_db()
    assert incident.resolution == "cleared again"
    events = api_client(cast.worker_a).get(f"/api/v1/incidents/{incident.code}/events/").json()["results"]
    notes = [e["note"] for e in events if e["action"] in ("feedback", "verify")]
    assert notes == ["cleared", "still dirty", "cleared again\nresidents told"]


@pytest.mark.django_db
def test_the_migration_fills_in_the_command_actors_of_existing_items_from_their_timelines(cast, report):
    from django.apps import apps

    backfill = importlib.import_module("grids.migrations.0007_incident_duties").backfill
    verified = _to_verified(cast, report, dispatcher=cast.street_handler, doer=cast.department_user)
    reported = report()
    Incident.objects.update(dispatched_by=None, fed_back_by=None)
    backfill(apps, None)
    verified.refresh_from_db()
    reported.refresh_from_db()
    assert (verified.dispatched_by, verified.fed_back_by) == (cast.street_handler, cast.department_user)
    assert (reported.dispatched_by, reported.fed_back_by) == (None, None)
    assert "close" not in allowed_actions(cast.street_handler, verified)


@pytest.mark.django_db
def test_an_overdue_on_site_check_also_notifies_the_grid_workers_of_its_grid(cast, incident_in):
    """The verify step is the grid's (STEP_OWNERS): its lateness counts against the grid, yet only
    the centre was told, never the grid worker who had to go and check."""
    incident = incident_in("fed_back")
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.incident_notify_overdue() == 1
    users = set(Notification.objects.values_list("user__username", flat=True))
    assert users == {"community_handler", "worker_a"}  # not worker_b (grid B), nor the department


@pytest.mark.django_db
def test_working_hour_limits_skip_holidays_and_count_a_weekend_made_a_working_day(cast, report, monkeypatch):
    """国庆 2026: 1-7 October off, Saturday 10 October a working day (调休). Accept within 2 working
    hours (08:30-17:30): from 17:00 on 30 September, half an hour that day and the rest on 8 October;
    from 17:00 on Friday 9 October, the rest on the Saturday."""
    from governance.models import Holiday

    tz = timezone.get_current_timezone()
    for day in range(1, 8):
        Holiday.objects.create(date=dt.date(2026, 10, day), name="国庆节")
    Holiday.objects.create(date=dt.date(2026, 10, 10), is_workday=True, name="国庆节调休上班")
    _at(monkeypatch, dt.datetime(2026, 9, 30, 17, 0, tzinfo=tz))
    eve = report(occurred_at=dt.datetime(2026, 9, 30, 16, 0, tzinfo=tz))
    assert timezone.localtime(eve.due_at) == dt.datetime(2026, 10, 8, 10, 0, tzinfo=tz)
    _at(monkeypatch, dt.datetime(2026, 10, 9, 17, 0, tzinfo=tz))
    friday = report(occurred_at=dt.datetime(2026, 10, 9, 16, 0, tzinfo=tz))
    assert timezone.localtime(friday.due_at) == dt.datetime(2026, 10, 10, 10, 0, tzinfo=tz)
    # Accepted at 17:20 that Saturday: dispatch within 1 working hour, so by 09:20 on Monday 12 October.
    _at(monkeypatch, dt.datetime(2026, 10, 10, 17, 20, tzinfo=tz))
    services.incident_transition(incident=friday, actor=cast.community_handler, action="accept")
    friday.refresh_from_db()
    assert timezone.localtime(friday.due_at) == dt.datetime(2026, 10, 12, 9, 20, tzinfo=tz)


@pytest.mark.django_db
def test_a_step_sent_twice_at_once_is_taken_once_and_answers_as_done(cast, incident_in):
    """Two sends of one feedback (a double tap on a slow phone, both uploads arriving together): the
    second read the item before the first committed, so its form's state still looked current; under
    the row lock it finds the first's step and answers as done, photos not saved again, rather than
    "cannot feed back: the record is awaiting verification"."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.grids.conftest import jpeg_bytes

    incident = incident_in("handling")
    second_read = Incident.objects.get(pk=incident.pk)  # read before the first send's step

    def send(item):
        photo = SimpleUploadedFile("done.jpg", jpeg_bytes(), content_type="image/jpeg")
        return services.incident_transition(
            incident=item, actor=cast.department_user, action="feedback", resolution="修好了",
            photos=[photo], state="handling/community",
        )  # fmt: skip

    first = send(incident)
    again = send(second_read)
    assert again.pk == first.pk and again.done_message(incident.code) == first.done_message(incident.code)
    assert incident.events.filter(action="feedback").count() == 1
    assert incident.photos.filter(stage="feedback").count() == 1
    assert second_read.status == "fed_back"
    # Another user's step taken first is still refused as before, naming the state.
    with pytest.raises(TransitionNotAllowed):
        services.incident_transition(
            incident=Incident.objects.get(pk=incident.pk), actor=cast.street_handler, action="feedback",
            resolution="x", state="handling/community",
        )  # fmt: skip


def test_a_holiday_entered_later_moves_a_running_working_hours_deadline_not_a_handling_one(
    cast, report, incident_in, django_capture_on_commit_callbacks
):
    from governance.models import Holiday
    from governance.periods import first_working_day_from

    reported, handling = report(), incident_in("handling")
    day = timezone.localtime(reported.due_at).date()
    handling_due = handling.due_at  # calendar hours from dispatch: no working days in it
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=day, name="地方假日")
    reported.refresh_from_db()
    handling.refresh_from_db()
    assert timezone.localtime(reported.due_at).date() == first_working_day_from(day + dt.timedelta(days=1))
    # The 2 office hours to accept, counted again from the report with the new calendar.
    assert reported.due_at == reported.step_due("reported", reported.reported_at)
    assert handling.due_at == handling_due


@pytest.mark.django_db
def test_a_calendar_change_keeps_the_limit_a_running_step_started_with(
    cast, report, django_capture_on_commit_callbacks
):
    # The category's acceptance limit went from 2 to 4 working hours after the report; a holiday
    # entered later (another year's) recomputed the running step with 4, moving its deadline.
    from governance.models import Holiday

    reported = report()
    due, hours = reported.due_at, reported.step_hours
    assert hours == reported.category.accept_hours
    type(reported.category).objects.filter(pk=reported.category_id).update(accept_hours=hours + 2)
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=dt.date(2030, 1, 2), name="另一年的假日")
    reported.refresh_from_db()
    assert (reported.due_at, reported.step_hours) == (due, hours)


@pytest.mark.django_db
def test_a_category_limit_is_bounded_so_that_a_deadline_can_be_computed(cast, categories):
    # 99,999.9 working hours passed the admin, and every report of the category was a 500.
    from django.core.exceptions import ValidationError

    from grids.models import IncidentCategory

    category = IncidentCategory.objects.get(code="sanitation")
    category.accept_hours, category.handle_hours = Decimal("99999.9"), 100000
    with pytest.raises(ValidationError) as exc:
        category.full_clean()
    assert set(exc.value.message_dict) == {"accept_hours", "handle_hours"}


@pytest.mark.django_db
def test_the_admin_timeline_of_an_incident_takes_no_query_per_step(cast, client, incident_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    short, long = incident_in("closed"), incident_in("closed")
    for actor, department in ((cast.street_handler, cast.urban), (cast.district_officer, cast.police)) * 3:
        IncidentEvent.objects.create(  # more steps, by other people, naming other departments
            incident=long, actor=actor, action="assist", from_status="closed", to_status="closed",
            department=department, level="community",
        )  # fmt: skip
    client.force_login(cast.admin)

    def queries(incident) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/admin/grids/incident/{incident.pk}/change/").status_code == 200
        return len(captured)

    queries(short)  # the first page of a session loads what later ones have cached
    assert queries(long) == queries(short)


@pytest.mark.django_db
def test_the_inbox_row_says_why_its_dispatcher_finds_no_close_button(cast, report, client):
    # The incident's page said so; the inbox row just had no button.
    incident = _to_verified(cast, report, dispatcher=cast.street_handler, doer=cast.department_user)
    client.force_login(cast.street_handler)
    html = client.get("/grids/inbox/").content.decode()
    row = html[html.index(f'id="row-{incident.code}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-action="close"' not in row and "another handler closes it" in row
    client.force_login(cast.community_handler)  # who may close it sees the button, and no note
    row = client.get("/grids/inbox/").content.decode()
    row = row[row.index(f'id="row-{incident.code}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-action="close"' in row and "another handler closes it" not in row


@pytest.mark.django_db
def test_a_department_that_fed_back_is_not_told_another_handler_closes_it(cast, report, client):
    # A department's people never close (the centre does): the police's liaison, who fed the item
    # back, read on its row and its page "You dispatched this incident or fed back its handling:
    # another handler closes it", as if they were a centre's handler kept from closing.
    incident = _to_verified(cast, report, dispatcher=cast.community_handler, doer=cast.department_user)
    client.force_login(cast.department_user)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'id="duty-note"' not in html and 'data-action="close"' not in html
    html = client.get(f"/grids/inbox/?department={cast.police.pk}").content.decode()
    row = html[html.index(f'id="row-{incident.code}"') :]
    row = row[: row.index("</tr>")]
    assert "another handler closes it" not in row and 'data-action="close"' not in row
    # Its close sent anyway is refused as any step its role does not take, nothing changed.
    response = api_client(cast.department_user).post(
        f"/api/v1/incidents/{incident.code}/transition/", {"action": "close"}, format="json"
    )
    assert response.status_code == 403 and "separate duties" not in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == "verified"


@pytest.mark.django_db
def test_a_re_dispatch_sends_an_item_from_the_wrong_department_to_the_right_one(cast, incident_in):
    # Dispatched to the police, who have not started: the centre sends it on to urban management.
    # Before, a dispatched item could only be escalated, and the police kept an item not theirs.
    from grids import selectors
    from tests.base import make_user

    urban_user = make_user("urban_user", "handler", cast.district_a, cast.urban)
    incident = incident_in("dispatched")
    first_due = incident.due_at
    events = incident.events.count()
    centre = cast.community_handler
    with pytest.raises(ActionInvalid) as exc:  # the reason is asked for
        services.incident_transition(
            incident=incident, actor=centre, action="dispatch", department=cast.urban.pk
        )
    assert exc.value.field == "note"
    with pytest.raises(ActionInvalid) as exc:  # and something must change
        services.incident_transition(
            incident=incident, actor=centre, action="dispatch", department=cast.police.pk, note="again"
        )
    assert exc.value.field == "department" and cast.police.name in exc.value.errors["department"]
    with pytest.raises(ActionForbidden):  # the department itself does not send it on
        services.incident_transition(
            incident=incident,
            actor=cast.department_user,
            action="dispatch",
            department=cast.urban.pk,
            note="x",
        )
    incident.refresh_from_db()
    assert (incident.department, incident.events.count()) == (cast.police, events)

    event = services.incident_transition(
        incident=incident, actor=centre, action="dispatch", department=cast.urban.pk, note="属城管职责"
    )
    incident.refresh_from_db()
    assert (incident.status, incident.department, incident.dispatched_by) == (
        "dispatched",
        cast.urban,
        centre,
    )
    assert incident.due_at > first_due  # the department it goes to has its full time
    assert (event.from_status, event.department, event.note) == ("dispatched", cast.urban, "属城管职责")
    # The step the police had ends here: it counts for the area (on time, the deadline had not
    # passed), and for no department (the item was never the police's).
    assert (event.step_due_at, event.on_time) == (first_due, True)
    month = timezone.localtime(first_due).date().replace(day=1)
    record = {d.pk: d for d in selectors.department_accountability(cast.admin, month)}
    assert record[cast.police.pk].steps_done == 0 and record[cast.urban.pk].steps_done == 0
    # The same dispatch sent twice (a double tap) is the first one: nothing is written again.
    again = services.incident_transition(
        incident=incident, actor=centre, action="dispatch", department=cast.urban.pk, note="属城管职责"
    )
    assert again.pk == event.pk and incident.events.count() == events + 1
    # Only the department it is with now takes it on. The police, whose page still offered the
    # item, are told it went elsewhere (a 409 naming where), not that their role may not (a 403).
    for action in ("handle", "return"):
        with pytest.raises(TransitionNotAllowed) as exc:
            services.incident_transition(
                incident=incident, actor=cast.department_user, action=action, note="x"
            )
        assert "sent elsewhere" in exc.value.message and cast.urban.name in exc.value.message
    # A department that never had it still may not (403).
    street_team = make_user("street_team_user", "handler", cast.street_a1, cast.street_team)
    with pytest.raises(ActionForbidden):
        services.incident_transition(incident=incident, actor=street_team, action="return", note="x")
    services.incident_transition(incident=incident, actor=urban_user, action="handle")
    # Once handling has started, the department answers for it: no re-dispatch.
    assert "dispatch" not in allowed_actions(centre, incident)


@pytest.mark.django_db
def test_a_department_returns_an_item_that_is_not_its_own_to_the_centre(cast, incident_in):
    # Before, a department sent an item outside its remit could neither start nor hand it back.
    from governance.models import OutboxMessage
    from grids import selectors

    incident = incident_in("dispatched")  # to the police
    handling_due = incident.due_at
    events = incident.events.count()
    with pytest.raises(ActionInvalid) as exc:  # the reason is asked for
        services.incident_transition(incident=incident, actor=cast.department_user, action="return")
    assert exc.value.field == "note"
    for other in (cast.community_handler, cast.worker_a):  # the centre dispatches again instead
        with pytest.raises(ActionForbidden):
            services.incident_transition(incident=incident, actor=other, action="return", note="x")
    incident.refresh_from_db()
    assert (incident.status, incident.events.count()) == ("dispatched", events)

    event = services.incident_transition(
        incident=incident, actor=cast.department_user, action="return", note="属城管职责，非公安"
    )
    incident.refresh_from_db()
    assert (incident.status, incident.department, incident.dispatched_by) == ("accepted", None, None)
    assert incident.due_at < handling_due  # the centre's dispatch deadline, from the return
    # The event names the department whose step it ended, on time: its record counts it.
    assert (event.department, event.from_status, event.step_due_at, event.on_time) == (
        cast.police,
        "dispatched",
        handling_due,
        True,
    )
    month = timezone.localtime(handling_due).date().replace(day=1)
    record = {d.pk: d for d in selectors.department_accountability(cast.admin, month)}
    assert (record[cast.police.pk].steps_done, record[cast.police.pk].steps_done_late) == (1, 0)
    # The centre hears of it (through the outbox) and sends it on.
    assert OutboxMessage.objects.filter(task="grids.notify_incident_step", kwargs__event_id=event.pk).exists()
    assert services.incident_notify_step(incident.pk, event.pk) >= 1  # the task the outbox runs
    notice = Notification.objects.get(user=cast.community_handler, key__endswith=f":{event.pk}")
    assert cast.police.name in notice.message and "dispatch it again" in notice.message
    assert "return" not in allowed_actions(cast.department_user, incident)
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="dispatch", department=cast.urban.pk
    )
    incident.refresh_from_db()
    assert (incident.status, incident.department) == ("dispatched", cast.urban)


@pytest.mark.django_db
def test_a_community_centre_does_not_evaluate_an_item_of_the_street(cast, report):
    # Handlers act at their own level or below; evaluate alone skipped the level check.
    from tests.grids.conftest import walk_with_the_street_late

    incident = report()
    walk_with_the_street_late(cast, incident)
    incident.refresh_from_db()
    assert (incident.status, incident.level) == ("closed", "street")
    assert "evaluate" not in allowed_actions(cast.community_handler, incident)
    with pytest.raises(ActionForbidden):
        services.incident_transition(
            incident=incident, actor=cast.community_handler, action="evaluate", evaluation="dissatisfied"
        )
    assert "evaluate" in allowed_actions(cast.street_handler, incident)


@pytest.mark.django_db
def test_who_fed_back_the_handling_does_not_check_it_on_site_through_a_second_role(cast, incident_in):
    # A centre handler who is also a grid worker of the grid fed back and then verified their own work.
    from governance.models import Membership, Role

    Membership.objects.create(user=cast.community_handler, role=Role.GRID_WORKER, area=cast.grid_a)
    incident = incident_in("handling")
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="feedback", resolution="已清理"
    )
    incident.refresh_from_db()
    assert "verify" not in allowed_actions(cast.community_handler, incident)
    with pytest.raises(ActionForbidden) as exc:
        services.incident_transition(
            incident=incident, actor=cast.community_handler, action="verify", result="pass"
        )
    assert "another grid worker" in exc.value.message
    services.incident_transition(incident=incident, actor=cast.worker_a, action="verify", result="pass")


@pytest.mark.django_db
def test_a_stale_check_form_with_the_other_result_is_refused_not_done(cast, incident_in):
    # The worker passed the check, then sent "failed" from the same page: "done", and the item
    # stayed verified. The same result sent again is still the first one.
    incident = incident_in("fed_back")
    state = incident.step_state()
    first = services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", result="pass", state=state
    )
    again = services.incident_transition(
        incident=incident, actor=cast.worker_a, action="verify", result="pass", state=state
    )
    assert again.repeated and again.pk == first.pk
    with pytest.raises(TransitionNotAllowed):
        services.incident_transition(
            incident=incident,
            actor=cast.worker_a,
            action="verify",
            result="fail",
            note="仍有垃圾",
            state=state,
        )
    incident.refresh_from_db()
    assert incident.status == "verified" and incident.events.filter(action="verify").count() == 1


@pytest.mark.django_db
def test_notices_for_an_empty_centre_or_department_go_to_who_can_act(cast, report):
    # An escalation to a street centre with no active handler, and a failed check of an item whose
    # department has nobody left (the centre handled it), were told to nobody.
    from governance.models import Membership, User

    User.objects.filter(pk=cast.street_handler.pk).update(is_active=False)
    incident = report()
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="escalate", note="上报"
    )
    services.incident_notify_escalated(incident.pk, incident.level)
    assert Notification.objects.filter(user=cast.district_officer, message__contains=incident.code).exists()

    Membership.objects.filter(user=cast.department_user).delete()
    other = report()
    for action, extra in (("accept", {}), ("dispatch", {"department": cast.police.pk}), ("handle", {}),
                          ("feedback", {"resolution": "已清理"})):  # fmt: skip
        services.incident_transition(incident=other, actor=cast.community_handler, action=action, **extra)
    event = services.incident_transition(
        incident=other, actor=cast.worker_a, action="verify", result="fail", note="仍有垃圾"
    )
    assert services.incident_notify_step(other.pk, event.pk) >= 1
    notice = Notification.objects.get(key=f"incident-step:{other.pk}:{event.pk}", user=cast.community_handler)
    assert "nobody to take it" in notice.message

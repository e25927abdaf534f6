"""A fed-back item in a grid nobody works in (its worker left, or it was never staffed): the centre
that supervises the grid checks it on site instead (docs/incidents.md "Separate duties")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Membership, Notification, Role, User
from grids import services
from grids.models import Incident, IncidentEvent, allowed_actions
from grids.services import incident_notify_step
from tests.base import api_client, make_user

URL = "/api/v1/incidents/"
IN_GRID_C = (31.805, 117.03)


def _leave(user: User) -> None:
    """The grid worker left: the account is switched off, as an administrator does."""
    User.objects.filter(pk=user.pk).update(is_active=False)


def _fed_back(
    cast, incident: Incident, *, dispatcher: User | None = None, handler: User | None = None
) -> IncidentEvent:
    """Accept and dispatch (by ``dispatcher``, else the admin), then ``handler`` (else the police)
    handles and feeds back."""
    by, hands = dispatcher or cast.admin, handler or cast.department_user
    services.incident_transition(incident=incident, actor=by, action="accept")
    services.incident_transition(incident=incident, actor=by, action="dispatch", department=cast.police.pk)
    services.incident_transition(incident=incident, actor=hands, action="handle")
    return services.incident_transition(
        incident=incident, actor=hands, action="feedback", resolution="已清理"
    )


def _verify_api(user: User, incident: Incident, result: str = "pass"):
    return api_client(user).post(
        f"{URL}{incident.code}/transition/", {"action": "verify", "result": result}, format="json"
    )


def _unchanged(incident: Incident) -> None:
    incident.refresh_from_db()
    assert incident.status == "fed_back" and incident.resolved_at is None
    assert not incident.events.filter(action="verify").exists()


@pytest.mark.django_db
def test_the_community_checks_a_fed_back_item_of_a_grid_whose_worker_left(cast, report, client):
    _leave(cast.worker_a)
    incident = report()
    feedback = _fed_back(cast, incident)
    # Told to the community's centre, which checks it now, instead of to nobody.
    assert incident_notify_step(incident.pk, feedback.pk) == 1
    notice = cast.community_handler.notifications.get()
    assert "has no grid worker to check it: check the result on site" in notice.message
    assert not Notification.objects.exclude(user=cast.community_handler).exists()
    incident.refresh_from_db()
    assert "verify" in allowed_actions(cast.community_handler, incident)
    assert "verify" not in allowed_actions(cast.department_user, incident)  # command, not supervision
    client.force_login(cast.community_handler)
    assert 'data-action-form="verify"' in client.get(f"/grids/incidents/{incident.code}/").content.decode()
    response = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "verify", "result": "pass"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "verified"
    assert incident.events.get(action="verify").actor == cast.community_handler


@pytest.mark.django_db
def test_the_community_checks_through_the_api_an_item_of_a_grid_never_staffed(cast, categories):
    community_b = make_user("yuanding_centre", Role.HANDLER, cast.community_a1b)
    incident = services.incident_report(
        actor=cast.street_handler,
        category="sanitation",
        description="垃圾",
        lat=IN_GRID_C[0],
        lng=IN_GRID_C[1],
    )
    assert incident.grid == cast.grid_c
    feedback = _fed_back(cast, incident)
    assert incident_notify_step(incident.pk, feedback.pk) == 1
    assert community_b.notifications.get().link.endswith(f"/{incident.code}/")
    assert api_client(community_b).get(f"{URL}{incident.code}/").json()["actions"] == ["verify"]
    response = api_client(community_b).post(
        f"{URL}{incident.code}/transition/",
        {"action": "verify", "result": "fail", "note": "还有杂物"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "handling"
    assert incident.events.get(action="verify").actor == community_b


@pytest.mark.django_db
def test_whoever_dispatched_it_does_not_check_it_for_the_unstaffed_grid(cast, report, client):
    _leave(cast.worker_a)
    incident = report()
    feedback = _fed_back(cast, incident, dispatcher=cast.community_handler)
    # The community's one handler dispatched it: the street's centre is told and checks it.
    assert incident_notify_step(incident.pk, feedback.pk) == 1
    assert cast.street_handler.notifications.count() == 1
    assert not cast.community_handler.notifications.exists()
    response = _verify_api(cast.community_handler, incident)
    assert response.status_code == 403
    assert (
        "You dispatched this incident or fed back its handling: you do not also check it on site"
        in (response.json()["detail"])
    )
    client.force_login(cast.community_handler)
    # The page and the inbox say why there is no check to take, as for a close.
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert 'id="duty-note"' in html and "you do not also check it on site" in html
    assert "you do not also check it on site" in client.get("/grids/inbox/").content.decode()
    page = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "verify", "result": "pass"})
    assert page.status_code == 403 and "You dispatched this incident" in page.content.decode()  # as the API
    _unchanged(incident)
    assert _verify_api(cast.street_handler, incident).status_code == 200


@pytest.mark.django_db
def test_a_grid_whose_only_worker_fed_it_back_is_checked_by_the_centre(cast, report):
    # The community's handler is also grid A's worker and fed the handling back; worker_a left.
    Membership.objects.create(user=cast.community_handler, role=Role.GRID_WORKER, area=cast.grid_a)
    _leave(cast.worker_a)
    incident = report()
    feedback = _fed_back(cast, incident, handler=cast.community_handler)
    assert incident_notify_step(incident.pk, feedback.pk) == 1
    assert cast.street_handler.notifications.count() == 1
    assert _verify_api(cast.community_handler, incident).status_code == 403
    _unchanged(incident)
    assert _verify_api(cast.street_handler, incident).status_code == 200


@pytest.mark.django_db
def test_a_staffed_grid_keeps_the_check_for_its_grid_worker(cast, incident_in, client):
    incident = incident_in("fed_back")
    for user in (cast.community_handler, cast.street_handler):
        response = _verify_api(user, incident)
        assert response.status_code == 403
        assert response.json()["detail"] == (
            f"A grid worker of {cast.grid_a.name} checks this incident on site; a centre's handler does "
            "so only while the grid has no grid worker to check it."
        )
    client.force_login(cast.community_handler)
    page = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "verify", "result": "pass"})
    assert page.status_code == 403 and "checks this incident on site" in page.content.decode()  # as the API
    _unchanged(incident)
    feedback = incident.events.get(action="feedback")
    assert incident_notify_step(incident.pk, feedback.pk) == 1
    assert cast.worker_a.notifications.count() == 1 and not cast.community_handler.notifications.exists()
    assert _verify_api(cast.worker_a, incident).status_code == 200


@pytest.mark.django_db
def test_outside_the_area_the_check_of_an_unstaffed_grid_is_a_404(cast, report, client):
    _leave(cast.worker_a)
    incident = report()
    _fed_back(cast, incident)
    assert _verify_api(cast.outsider, incident).status_code == 404
    client.force_login(cast.outsider)
    page = client.post(f"/grids/incidents/{incident.code}/act/", {"action": "verify", "result": "pass"})
    assert page.status_code == 404
    _unchanged(incident)


@pytest.mark.django_db
def test_an_overdue_check_in_an_unstaffed_grid_tells_the_community(cast, report):
    # A street-level item: its centre (the street) was told, the community that supervises the grid
    # and may check it on site was not.
    _leave(cast.worker_a)
    incident = report()
    services.incident_transition(
        incident=incident, actor=cast.admin, action="escalate", note="needs the street"
    )
    _fed_back(cast, incident)
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.incident_notify_overdue() == 1
    users = set(
        Notification.objects.filter(key__startswith="incident-overdue:").values_list(
            "user__username", flat=True
        )
    )
    assert users == {"street_handler", "community_handler"}


@pytest.mark.django_db
def test_the_inbox_decides_the_check_of_unstaffed_grids_without_a_query_per_row(cast, report, client):
    _leave(cast.worker_a)
    client.force_login(cast.community_handler)
    _fed_back(cast, report())
    client.get("/grids/inbox/")  # warm-up
    with CaptureQueriesContext(connection) as one:
        assert client.get("/grids/inbox/").status_code == 200
    for _ in range(3):
        _fed_back(cast, report())
    with CaptureQueriesContext(connection) as four:
        html = client.get("/grids/inbox/").content.decode()
    assert len(four) == len(one)
    assert html.count('#act">Next step</a>') == 4  # each row offers the check


@pytest.mark.django_db
def test_an_overdue_check_goes_to_the_street_when_the_community_dispatched_it(cast, report):
    # The community's one handler dispatched it: told as its centre, it may not check it; the
    # street, which may, heard nothing.
    _leave(cast.worker_a)
    incident = report()
    _fed_back(cast, incident, dispatcher=cast.community_handler)
    Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.incident_notify_overdue() == 1
    told = Notification.objects.filter(key__startswith="incident-overdue:")
    assert set(told.values_list("user__username", flat=True)) == {"community_handler", "street_handler"}


@pytest.mark.django_db
def test_the_feedback_notice_skips_the_grid_worker_who_fed_it_back(cast, report):
    # A centre's handler who is also the grid's worker fed back: told to check their own work,
    # which they may not.
    Membership.objects.create(user=cast.community_handler, role=Role.GRID_WORKER, area=cast.grid_a)
    incident = report()
    feedback = _fed_back(cast, incident, handler=cast.community_handler)
    assert incident_notify_step(incident.pk, feedback.pk) == 1
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"worker_a"}


@pytest.mark.django_db
def test_my_grid_does_not_list_to_verify_what_the_worker_fed_back(cast, report, client):
    # Listed "to verify on site", and refused when they tried.
    Membership.objects.create(user=cast.community_handler, role=Role.GRID_WORKER, area=cast.grid_a)
    mine, other = report(), report(description="另一处")
    _fed_back(cast, mine, handler=cast.community_handler)
    _fed_back(cast, other)
    client.force_login(cast.community_handler)
    html = client.get("/grids/my/").content.decode()
    assert '<h2>To verify on site <span class="status">1</span></h2>' in html
    assert other.code in html and f"/grids/incidents/{mine.code}/" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["deactivated", "moved"])
def test_the_community_hears_of_the_checks_left_waiting_when_the_grids_last_worker_goes(
    cast, report, client, how
):
    """The check was told to the grid's worker at the feedback; switched off (left) or moved to
    another grid in the admin afterwards, the worker took the notice with them and the community,
    which may now check it in the grid's place, heard nothing until the item was overdue."""
    from tests.governance.test_auth import _user_change_data

    incident = report()
    _fed_back(cast, incident)
    worker = cast.worker_a
    if how == "deactivated":
        data = _user_change_data(worker, is_active="")
    else:
        other = Membership.objects.filter(role=Role.GRID_WORKER).exclude(area_id=incident.grid_id).first()
        data = _user_change_data(worker, **{"memberships-0-area": str(other.area_id)})
    client.force_login(cast.admin)
    response = client.post(f"/admin/governance/user/{worker.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    told = Notification.objects.filter(key=f"incident-check-left:{incident.pk}")
    assert set(told.values_list("user__username", flat=True)) == {"community_handler"}
    assert "has no grid worker to check it" in told.first().message
    # Saved again, nothing new is said.
    client.post(
        f"/admin/governance/user/{worker.pk}/change/", _user_change_data(User.objects.get(pk=worker.pk))
    )
    assert told.count() == 1


@pytest.mark.django_db
def test_a_worker_leaving_a_grid_that_keeps_another_tells_nobody(cast, report, client):
    from tests.governance.test_auth import _user_change_data

    incident = report()
    _fed_back(cast, incident)
    make_user("worker_c", Role.GRID_WORKER, cast.grid_a)  # the grid keeps a worker who checks it
    client.force_login(cast.admin)
    response = client.post(
        f"/admin/governance/user/{cast.worker_a.pk}/change/", _user_change_data(cast.worker_a, is_active="")
    )
    assert response.status_code == 302
    assert not Notification.objects.filter(key__startswith="incident-check-left:").exists()


@pytest.mark.django_db
def test_removing_the_last_workers_role_on_the_membership_page_tells_the_community(cast, report, client):
    incident = report()
    _fed_back(cast, incident)
    membership = Membership.objects.get(user=cast.worker_a, role=Role.GRID_WORKER, area_id=incident.grid_id)
    client.force_login(cast.admin)
    response = client.post(f"/admin/governance/membership/{membership.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    told = Notification.objects.filter(key=f"incident-check-left:{incident.pk}")
    assert set(told.values_list("user__username", flat=True)) == {"community_handler"}

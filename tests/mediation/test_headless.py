"""An organisation without a head (none appointed, or the head left): its members are told what the
head would be, and a member takes over a case whose mediator can no longer act for it, on the page
and in the API; a colleague's live case stays theirs, and other organisations still get a 404."""

from __future__ import annotations

import pytest

from governance.models import Notification, User
from mediation import services
from mediation.models import DisputeCase, DisputeEvent, OrganisationMember
from tests.base import api_client

from .conftest import parties


def _headless(med):
    OrganisationMember.objects.filter(organisation=med.org_x).update(is_head=False)


def _leave(user):
    user.is_active = False
    user.save(update_fields=["is_active"])


def _told(key_part: str) -> set[str]:
    return set(Notification.objects.filter(key__contains=key_part).values_list("user__username", flat=True))


def _referred(med, org):
    return services.dispute_register(
        actor=med.cast.district_officer,
        category="neighbours",
        area=med.cast.grid_a,
        origin="police",
        description="邻里纠纷",
        parties=parties(),
        organisation=org,
    )


def test_a_referral_to_an_organisation_without_a_head_is_told_to_its_members(med):
    """Only heads were told of a case sent in from outside: with none, nobody was."""
    _referred(med, med.org_x)
    assert _told("dispute-referred") == {"head_x"}
    _headless(med)
    _leave(med.mediator_x2)  # someone who left is told nothing
    case = _referred(med, med.org_x)
    assert _told(f"dispute-referred:{case.pk}:") == {"mediator", "head_x"}


def test_a_head_who_left_is_no_head(med):
    _leave(med.head_x)
    case = _referred(med, med.org_x)
    assert _told(f"dispute-referred:{case.pk}:") == {"mediator", "mediator_x2"}


def test_a_transfer_to_an_organisation_without_a_head_is_told_to_its_members(med):
    OrganisationMember.objects.filter(organisation=med.org_y).update(is_head=False)
    case = med.register()
    event = services.dispute_transition(
        case=case, actor=med.cast.mediator, action="transfer", organisation=med.org_y.pk, note="属地管辖"
    )
    assert _told(f"dispute-transfer:{event.pk}") == {"mediator_y"}


@pytest.fixture
def orphan(med):
    """A case in mediation at a headless org_x whose mediator has left."""
    _headless(med)
    case = med.in_mediation()
    OrganisationMember.objects.filter(organisation=med.org_x, user=med.cast.mediator).delete()
    return case


def test_a_member_takes_over_a_case_whose_mediator_left_on_the_page(client, med, orphan):
    client.force_login(med.mediator_x2)
    html = client.get("/mediation/").content.decode()
    assert 'id="take-over"' in html and orphan.code in html.split('id="take-over"')[1].split("</section>")[0]
    html = client.get(f"/mediation/cases/{orphan.code}/").content.decode()
    step = html[html.index('data-action-form="reassign"') :].split("</form>")[0]
    assert 'id="take-over"' in html
    assert f'<option value="{med.mediator_x2.pk}"' in step and f'<option value="{med.head_x.pk}"' not in step
    response = client.post(
        f"/mediation/cases/{orphan.code}/act/", {"action": "reassign", "mediator": med.mediator_x2.pk}
    )
    assert response.status_code == 302
    orphan.refresh_from_db()
    assert orphan.mediator == med.mediator_x2
    event = DisputeEvent.objects.get(case=orphan, action="reassign")
    assert event.data["taken_over"] is True and event.actor == med.mediator_x2
    # Now the assigned mediator: the next steps are theirs, and the case is off the take-over list.
    html = client.get("/mediation/").content.decode()
    assert 'id="take-over"' not in html
    client.force_login(med.head_x)
    assert 'id="take-over"' not in client.get("/mediation/").content.decode()


def test_a_member_takes_over_through_the_api(med, orphan):
    url = f"/api/v1/disputes/{orphan.code}/transition/"
    response = api_client(med.head_x).post(url, {"action": "reassign"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_mediation"
    assert DisputeCase.objects.get(pk=orphan.pk).mediator == med.head_x


def test_a_member_may_not_hand_the_case_to_a_colleague_without_a_head(client, med, orphan):
    url = f"/api/v1/disputes/{orphan.code}/transition/"
    response = api_client(med.head_x).post(url, {"action": "reassign", "mediator": med.mediator_x2.pk})
    assert response.status_code == 403 and "only a head assigns" in response.json()["detail"]
    client.force_login(med.head_x)
    response = client.post(
        f"/mediation/cases/{orphan.code}/act/", {"action": "reassign", "mediator": med.mediator_x2.pk}
    )
    assert response.status_code == 403
    assert DisputeCase.objects.get(pk=orphan.pk).mediator == med.cast.mediator
    assert not DisputeEvent.objects.filter(case=orphan, action="reassign").exists()


def test_a_colleagues_live_case_or_a_headed_organisations_is_not_taken_over(client, med):
    _headless(med)
    live = med.in_mediation()  # its mediator still acts
    url = f"/api/v1/disputes/{live.code}/transition/"
    assert api_client(med.mediator_x2).post(url, {"action": "reassign"}).status_code == 403
    headed = med.in_mediation(org=med.org_y, area=med.cast.grid_c)
    member = User.objects.get(pk=med.mediator_x2.pk)  # memberships are cached on the user object
    OrganisationMember.objects.create(organisation=med.org_y, user=member)
    OrganisationMember.objects.filter(organisation=med.org_y, user=med.mediator_y).update(is_head=False)
    OrganisationMember.objects.create(organisation=med.org_y, user=med.head_x, is_head=True)
    _leave(med.mediator_y)  # the mediator left, but org_y has a head: the head decides
    url = f"/api/v1/disputes/{headed.code}/transition/"
    assert api_client(member).post(url, {"action": "reassign"}).status_code == 403
    client.force_login(member)
    html = client.get(f"/mediation/cases/{headed.code}/").content.decode()
    assert 'data-action-form="reassign"' not in html
    assert DisputeCase.objects.get(pk=live.pk).mediator == med.cast.mediator
    assert DisputeCase.objects.get(pk=headed.pk).mediator == med.mediator_y


def test_another_organisation_gets_a_404(med, orphan):
    url = f"/api/v1/disputes/{orphan.code}/transition/"
    assert api_client(med.mediator_b).post(url, {"action": "reassign"}).status_code == 404
    assert DisputeCase.objects.get(pk=orphan.pk).mediator == med.cast.mediator


def test_the_closing_window_notice_reaches_the_members_and_one_takes_over(med):
    """The judicial confirmation window of a case whose mediator left was announced to the heads
    only: with none, to nobody, and nobody could apply for it either."""
    _headless(med)
    case = med.agreed(effective_days_ago=25)
    _leave(med.cast.mediator)
    assert services.dispute_notify_confirmation_closing() == 2
    assert _told("dispute-confirmation-closing") == {"head_x", "mediator_x2"}
    case.transition(action="reassign", actor=med.mediator_x2)
    case.transition(action="apply_confirmation", actor=med.mediator_x2, joint=True)
    assert DisputeCase.objects.get(pk=case.pk).judicial_status == "applied"


def test_an_organisation_with_nobody_left_to_act_tells_the_administrators(med):
    """With no member who can act, a case sent there, or its closing window, was told to nobody:
    only an administrator can give the organisation members."""
    _leave(med.mediator_y)  # org_y's only member, its head
    case = _referred(med, med.org_y)
    assert _told(f"dispute-referred:{case.pk}:") == {"admin"}
    agreed = med.agreed(effective_days_ago=25)
    _leave(med.cast.mediator)
    OrganisationMember.objects.filter(organisation=med.org_x).delete()
    assert services.dispute_notify_confirmation_closing() == 1
    assert _told(f"dispute-confirmation-closing:{agreed.pk}:") == {"admin"}


def test_the_take_over_list_costs_the_same_queries_for_more_cases(client, med, orphan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(med.mediator_x2)
    client.get("/mediation/")  # warm-up
    counts = []
    for more in (0, 4):
        for _ in range(more):  # cases whose mediator (cast.mediator) has left
            case = med.accepted(mediator=med.head_x, actor=med.head_x)
            DisputeCase.objects.filter(pk=case.pk).update(mediator=med.cast.mediator)
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/mediation/").content.decode()
        counts.append(len(queries))
    listed = html.split('id="take-over"')[1].split("</section>")[0]
    assert listed.count("data-case=") == 5 and orphan.code in listed
    assert counts[0] == counts[1], counts


def test_the_head_hands_on_a_concluded_case_whose_mediator_left(client, med):
    """Only the assigned mediator or the head takes a concluded case's last steps (the court
    application, the follow-up visits): one whose mediator left could be handed on by nobody, as
    reassignment stopped at the conclusion. The head's page offers it now."""
    case = med.agreed(effective_days_ago=3)
    _leave(med.cast.mediator)
    client.force_login(med.head_x)
    html = client.get(f"/mediation/organisations/{med.org_x.pk}/?status=concluded").content.decode()
    assert f'id="re-{case.code}"' in html
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "reassign", "mediator": med.mediator_x2.pk, "state": "concluded"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.mediator == med.mediator_x2 and case.status == "concluded"
    case.transition(action="apply_confirmation", actor=med.mediator_x2, joint=True)

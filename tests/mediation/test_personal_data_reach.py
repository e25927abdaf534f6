"""A mediator who leaves mediation stops reading the cases once assigned to them: their description,
sessions and (masked) parties. Each test failed before the fix."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from governance.models import Membership, Role
from governance.services import user_token_issue
from mediation.models import OrganisationMember


def token_client(user) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token " + user_token_issue(user=user))
    return c


# --- a mediator who leaves mediation keeps reading every case once assigned to them ------


@pytest.mark.django_db
def test_former_mediator_now_analyst_reads_no_case(med, cast):
    case = med.in_mediation()
    case.transition(action="conclude", actor=cast.mediator, outcome="failure", other_routes=["litigation"])
    case.transition(action="close", actor=cast.mediator)
    # The mediator leaves the organisation and becomes an analyst (statistics only).
    OrganisationMember.objects.filter(user=cast.mediator).delete()
    Membership.objects.filter(user=cast.mediator).update(role=Role.ANALYST, area=cast.city)
    c = token_client(cast.mediator)
    listed = c.get("/api/v1/disputes/").json()
    # Analysts see no case rows (docs/mediation.md "Who sees what"): no description, no parties.
    assert listed["count"] == 0, [r["code"] for r in listed["results"]]
    assert c.get(f"/api/v1/disputes/{case.code}/").status_code == 404


@pytest.mark.django_db
def test_mediator_who_left_every_role_reads_no_case(med, cast):
    case = med.accepted()
    OrganisationMember.objects.filter(user=cast.mediator).delete()
    Membership.objects.filter(user=cast.mediator).delete()
    c = token_client(cast.mediator)
    # docs/api.md: "with no membership left, lists are empty and every record is a 404".
    assert c.get("/api/v1/disputes/").json()["count"] == 0
    assert c.get(f"/api/v1/disputes/{case.code}/").status_code == 404


PHONE = "13812345678"


@pytest.mark.django_db
def test_the_numbers_in_a_case_s_texts_are_masked_for_who_may_not_reveal_its_parties(med, cast, client):
    """District staff read a party as 张* and, a line above, the party's ID number and phone in the
    description, the sessions and the notes; the assigned mediator reads them as typed."""
    from django.utils import timezone

    from mediation import services
    from tests.base import api_client
    from tests.mediation.conftest import ID_1

    case = med.in_mediation(description=f"申请人张三丰（身份证{ID_1}，电话{PHONE}）与邻居争执")
    services.dispute_record_session(
        case=case, actor=case.mediator, held_at=timezone.now(), place="调解室",
        attendees=f"张三丰（{PHONE}）", summary=f"约定回电{PHONE}", next_step="再次调解",
    )  # fmt: skip
    case.transition(action="extend", actor=case.mediator, consent=True, note=f"当事人电话{PHONE}同意延期")
    urls = [f"/api/v1/disputes/{case.code}/", f"/api/v1/disputes/{case.code}/sessions/"]
    urls.append(f"/api/v1/disputes/{case.code}/events/")
    client.force_login(cast.district_officer)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    answers = "".join(api_client(cast.district_officer).get(u).content.decode() for u in urls)
    assert "张*" in page and "138****5678" in page and "138****5678" in answers
    assert ID_1 not in page + answers and PHONE not in page + answers
    client.force_login(case.mediator)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    answers = "".join(api_client(case.mediator).get(u).content.decode() for u in urls)
    assert ID_1 in page and page.count(PHONE) >= 4 and answers.count(PHONE) >= 4


@pytest.mark.django_db
def test_the_printed_agreement_masks_the_numbers_in_its_texts_for_who_may_not_reveal(med, cast, client):
    case = med.agreed(effective_days_ago=1)
    other = "13900001111"  # no party's phone: what is read is the texts'
    type(case).objects.filter(pk=case.pk).update(
        performance_method=f"转账，收款人电话{other}", agreement_terms=f"乙方向甲方（电话{other}）赔偿"
    )
    client.force_login(cast.district_officer)
    page = client.get(f"/mediation/cases/{case.code}/agreement/").content.decode()
    assert other not in page and page.count("139****1111") == 2
    client.force_login(case.mediator)
    assert client.get(f"/mediation/cases/{case.code}/agreement/").content.decode().count(other) == 2


def _session(case, *, place="调解室", attendees="张三丰、李四", summary="李四同意赔偿"):
    from django.utils import timezone

    from mediation import services

    services.dispute_record_session(
        case=case, actor=case.mediator, held_at=timezone.now(), place=place, attendees=attendees,
        summary=summary, next_step="再次调解",
    )  # fmt: skip


@pytest.mark.django_db
def test_the_parties_names_in_a_case_s_texts_are_masked_for_who_may_not_reveal_them(med, cast, client):
    """District staff read the parties as 张** and 李*, and their full names a line below in the
    agreement's terms, the description and the sessions: the case knows its parties' names, so they
    are masked where they are written out, on the case and agreement pages and in the API."""
    from django.utils import timezone

    from tests.base import api_client

    case = med.in_mediation(description="张三丰与李四因楼上漏水发生争执")
    _session(case)
    case.transition(
        action="conclude", actor=case.mediator, outcome="success_written", agreement_facts="楼上漏水，责任在李四",
        agreement_terms="李四赔偿张三丰维修费2000元", performance_method="银行转账",
        performance_due=timezone.localdate(), agreement_effective_on=timezone.localdate(),
    )  # fmt: skip
    urls = [f"/api/v1/disputes/{case.code}/", f"/api/v1/disputes/{case.code}/sessions/"]
    urls += [f"/api/v1/disputes/{case.code}/events/", "/api/v1/disputes/"]
    pages = [f"/mediation/cases/{case.code}/", f"/mediation/cases/{case.code}/agreement/"]
    for reader in (cast.district_officer, med.mediator_x2):
        client.force_login(reader)
        read = "".join(client.get(u).content.decode() for u in pages)
        read += "".join(api_client(reader).get(u).content.decode() for u in urls)
        assert "张三丰" not in read and "李四" not in read, reader
        assert "李*赔偿张**维修费2000元" in read and "张**与李*因楼上漏水" in read and "张**、李*" in read
    client.force_login(case.mediator)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert "李四赔偿张三丰维修费2000元" in page and "张三丰与李四因楼上漏水" in page
    answer = api_client(case.mediator).get(f"/api/v1/disputes/{case.code}/sessions/").json()
    assert answer["results"][0]["attendees"] == "张三丰、李四"


@pytest.mark.django_db
def test_the_admin_s_case_page_masks_the_parties_names_in_its_texts(med, cast, client):
    case = med.in_mediation(description="张三丰与李四因楼上漏水发生争执")
    _session(case)
    client.force_login(cast.admin)
    page = client.get(f"/admin/mediation/disputecase/{case.pk}/change/").content.decode()
    assert "张**与李*因楼上漏水" in page and "张**、李*" in page
    assert "张三丰" not in page and "李四" not in page


@pytest.mark.django_db
def test_a_session_held_at_a_party_s_home_shows_its_place_masked_to_who_may_not_reveal(med, cast, client):
    """Mediators go to the parties: a session's place was the applicant's full address, read by
    district staff on the page, in the API and in the admin under a list showing 甲区春晖路***."""

    from tests.base import api_client

    case = med.in_mediation()
    _session(case, place="甲区春晖路12号3栋（张三丰家）", attendees="双方当事人", summary="现场查看漏水")
    client.force_login(cast.district_officer)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    answer = api_client(cast.district_officer).get(f"/api/v1/disputes/{case.code}/sessions/").json()
    assert answer["results"][0]["place"] == "甲区春晖路***（张**家）"
    client.force_login(cast.admin)
    admin_page = client.get(f"/admin/mediation/disputecase/{case.pk}/change/").content.decode()
    for read in (page, admin_page):
        assert "春晖路12号" not in read and "张三丰" not in read and "甲区春晖路***（张**家）" in read
    client.force_login(case.mediator)
    assert "甲区春晖路12号3栋（张三丰家）" in client.get(f"/mediation/cases/{case.code}/").content.decode()


@pytest.mark.django_db
def test_the_short_texts_of_a_case_are_masked_to_who_may_not_reveal(med, cast, client):
    """The referring record (typed as the police officer wrote it: '张三丰报警，电话...') and the route
    suggested on declining ('请张三丰向...法院起诉') were shown as typed to district staff on the case
    page, in the list and detail API and in the admin, while the texts around them were masked. The
    note of a risk reported to the police is masked like the other notes."""
    from tests.base import api_client

    case = med.register(origin="police", referral_reference=f"张三丰报警 {PHONE}")
    case.transition(
        action="decline",
        actor=cast.mediator,
        note="不属于人民调解范围",
        suggested_route="请张三丰向甲区人民法院起诉",
    )
    other = med.accepted()
    other.transition(
        action="report_risk", actor=other.mediator, note=f"李四扬言报复，已报春晖派出所（{PHONE}）"
    )
    api = api_client(cast.district_officer)
    client.force_login(cast.district_officer)
    for code in (case.code, other.code):
        read = client.get(f"/mediation/cases/{code}/").content.decode()
        read += api.get(f"/api/v1/disputes/{code}/").content.decode()
        read += api.get(f"/api/v1/disputes/{code}/events/").content.decode()
        read += api.get("/api/v1/disputes/").content.decode()
        assert "张三丰" not in read and "李四" not in read and PHONE not in read, code
    assert api.get(f"/api/v1/disputes/{case.code}/").json()["referral_reference"] == "张**报警 138****5678"
    assert api.get(f"/api/v1/disputes/{case.code}/").json()["suggested_route"] == "请张**向甲区人民法院起诉"
    client.force_login(cast.admin)
    for c in (case, other):
        admin_page = client.get(f"/admin/mediation/disputecase/{c.pk}/change/").content.decode()
        assert "张三丰" not in admin_page and "李四" not in admin_page and PHONE not in admin_page, c.code
    assert (
        "请张**向甲区人民法院起诉"
        in client.get(f"/admin/mediation/disputecase/{case.pk}/change/").content.decode()
    )
    client.force_login(med.head_x)  # the organisation head may reveal the parties: reads them as typed
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert f"张三丰报警 {PHONE}" in page and "请张三丰向甲区人民法院起诉" in page

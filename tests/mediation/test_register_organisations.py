"""The register page's choice of organisation for a referrer who may send a case to many: every
organisation ``services.dispute_register`` accepts can be chosen, the page lists at most
ORGANISATION_CHOICES_MAX and offers a filter that narrows the list without losing what was typed."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mediation.models import DisputeCase, MediationOrganisation
from mediation.selectors import ORGANISATION_CHOICES_MAX, referral_organisations

URL = "/mediation/cases/new/"


def _many_committees(area, count: int, start: int = 0) -> None:
    MediationOrganisation.objects.bulk_create(
        MediationOrganisation(name=f"春晖调解室{i:04d}", kind=MediationOrganisation.Kind.COMMITTEE, area=area)
        for i in range(start, start + count)
    )


def _offered(html: str) -> list[str]:
    select = html.split('name="organisation"')[1].split("</select>")[0]
    return [v for v in select.split('value="')[1:] for v in [v.split('"')[0]] if v]


def _case(med, organisation) -> dict:
    return {
        "category": "neighbours", "origin": "police", "area": med.cast.grid_a.code, "description": "楼上噪音扰民",
        "organisation": str(organisation), "party0_role": "applicant", "party0_name": "王五",
        "party1_role": "respondent", "party1_name": "赵六", "party2_role": "other",
    }  # fmt: skip


@pytest.fixture
def crowded(med):
    """District A's handler may refer to more organisations than the page lists."""
    _many_committees(med.cast.community_a1a, ORGANISATION_CHOICES_MAX + 5)
    return list(referral_organisations(med.cast.district_officer))


def test_a_referrer_registers_to_an_organisation_past_the_listed_ones(client, med, crowded):
    """The page offered the first 300 organisations and its form refused every other one as "not one
    of the available choices", although the service takes any organisation of the referrer's area."""
    client.force_login(med.cast.district_officer)
    html = client.get(URL).content.decode()
    offered = _offered(html)
    assert len(offered) == ORGANISATION_CHOICES_MAX and str(crowded[-1].pk) not in offered
    assert 'id="org-filter"' in html and "Only the first 300 organisations are listed" in html
    response = client.post(URL, _case(med, crowded[ORGANISATION_CHOICES_MAX].pk))
    assert response.status_code == 302
    assert DisputeCase.objects.get().organisation == crowded[ORGANISATION_CHOICES_MAX]


def test_an_organisation_outside_the_referrers_area_is_still_refused(client, med, crowded):
    client.force_login(med.cast.district_officer)
    for value in (med.org_b.pk, "abc", 10**9):
        response = client.post(URL, _case(med, value))
        assert response.status_code == 400
        form = response.context["form"]
        assert "outside your area" in " ".join(form.errors["organisation"])
        select = response.content.decode().split('<select name="organisation"')[1].split(">")[0]
        assert 'aria-invalid="true"' in select
    assert DisputeCase.objects.count() == 0


def test_a_chosen_organisation_past_the_list_stays_chosen_when_the_form_comes_back(client, med, crowded):
    client.force_login(med.cast.district_officer)
    chosen = crowded[-1]
    data = _case(med, chosen.pk) | {"party1_name": ""}  # refused: a party without a name
    response = client.post(URL, data)
    assert response.status_code == 400 and DisputeCase.objects.count() == 0
    assert f'<option value="{chosen.pk}" selected>' in response.content.decode()


def test_the_filter_narrows_the_list_by_name_area_code_or_area(client, med, crowded):
    client.force_login(med.cast.district_officer)
    html = client.get(URL, {"org_q": "春晖调解室030"}).content.decode()
    names = {o.pk: o.name for o in crowded}
    assert sorted(names[int(v)] for v in _offered(html)) == [f"春晖调解室{i:04d}" for i in range(300, 305)]
    # An area's whole code: the organisations of that area and below it.
    html = client.get(URL, {"org_q": med.cast.community_a1b.code}).content.decode()
    assert _offered(html) == [str(med.org_y.pk)]
    html = client.get(URL, {"org_q": med.cast.street_a1.code}).content.decode()
    assert len(_offered(html)) == ORGANISATION_CHOICES_MAX and str(med.org_x.pk) in _offered(html)
    html = client.get(URL, {"org_q": "乙一"}).content.decode()  # district B's: not the officer's
    assert _offered(html) == [] and 'id="org-none"' in html


def test_narrowing_keeps_what_was_typed_and_saves_nothing(client, med, crowded):
    client.force_login(med.cast.district_officer)
    data = _case(med, "") | {"org_q": "春晖调解室0304", "narrow": "1", "amount": "12.50", "risk_group": "on"}
    response = client.post(URL, data)
    assert response.status_code == 200 and DisputeCase.objects.count() == 0
    html = response.content.decode()
    assert [int(v) for v in _offered(html)] == [o.pk for o in crowded if o.name == "春晖调解室0304"]
    assert "楼上噪音扰民</textarea>" in html and 'value="王五"' in html and 'value="12.50"' in html
    assert re.search(r'<input type="checkbox" name="risk_group"[^>]* checked', html)
    assert 'value="春晖调解室0304"' in html and "Not saved" not in html and "aria-invalid" not in html
    chosen = next(o for o in crowded if o.name == "春晖调解室0304")
    response = client.post(URL, data | {"organisation": str(chosen.pk), "narrow": ""})
    assert response.status_code == 200  # "narrow" sent, even empty: still only narrowing
    del data["narrow"]
    response = client.post(URL, data | {"organisation": str(chosen.pk)})
    assert response.status_code == 302 and DisputeCase.objects.get().organisation == chosen


def test_a_mediator_with_a_few_organisations_gets_no_filter(client, med):
    client.force_login(med.cast.mediator)
    html = client.get(URL).content.decode()
    assert 'id="org-filter"' not in html and _offered(html) == [str(med.org_x.pk)]


def test_the_pages_queries_do_not_grow_with_the_organisations(client, med):
    client.force_login(med.cast.district_officer)
    client.get(URL)  # warm-up (session, content types)
    counts = []
    for more in (ORGANISATION_CHOICES_MAX + 20, 400):
        _many_committees(med.cast.community_a1a, more, start=len(counts) * 1000)
        for params in ({}, {"org_q": med.cast.community_a1a.code}):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL, params).status_code == 200
            counts.append(len(queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_the_filter_finds_an_organisation_by_any_part_of_its_name(client, med, crowded):
    """Names start with their area's ("甲区医疗纠纷人民调解委员会"): a handler looking for the medical
    committee types "医疗", and the filter, which matched the start of a name only, found nothing."""
    medical = MediationOrganisation.objects.create(
        name="甲区医疗纠纷人民调解委员会", kind=MediationOrganisation.Kind.INDUSTRY, industry="medical",
        area=med.cast.district_a,
    )  # fmt: skip
    latin = MediationOrganisation.objects.create(
        name="甲区Labour调解室", kind=MediationOrganisation.Kind.INDUSTRY, area=med.cast.district_a
    )
    client.force_login(med.cast.district_officer)
    assert _offered(client.get(URL, {"org_q": "医疗"}).content.decode()) == [str(medical.pk)]
    assert _offered(client.get(URL, {"org_q": "labour"}).content.decode()) == [str(latin.pk)]
    assert _offered(client.get(URL, {"org_q": "园丁社区"}).content.decode()) == [str(med.org_y.pk)]
    html = client.get(URL, {"org_q": "乙一"}).content.decode()  # district B's: still not the officer's
    assert _offered(html) == [] and 'id="org-none"' in html


def test_a_handler_who_sits_on_a_committee_may_still_refer_elsewhere_from_the_page(client, med):
    """A handler who is also a committee's member was offered only their own committee, and the form
    refused a referral to the street centre that the service (and the API) accepts from a handler."""
    from governance.models import Membership, Role
    from mediation.models import OrganisationMember

    handler = med.cast.street_handler
    Membership.objects.create(user=handler, role=Role.MEDIATOR, area=med.cast.community_a1b)
    OrganisationMember.objects.create(organisation=med.org_y, user=handler)
    client.force_login(handler)
    offered = _offered(client.get(URL).content.decode())
    assert str(med.org_y.pk) in offered and str(med.org_x.pk) in offered
    assert str(med.org_b.pk) not in offered
    response = client.post(URL, _case(med, med.org_x.pk))
    assert response.status_code == 302 and DisputeCase.objects.get().organisation == med.org_x
    response = client.post(URL, _case(med, med.org_b.pk))
    assert response.status_code == 400 and "organisation" in response.context["form"].errors
    assert DisputeCase.objects.count() == 1


def test_an_organisation_with_nobody_to_take_cases_is_said_so_where_a_case_is_sent(client, med):
    """A referrer sent a case to a committee whose people had all left; only the administrators were
    told, afterwards. The lists now say so (the choice stays open: the administrators staff it)."""
    import html as html_lib

    from mediation.models import OrganisationMember

    empty = MediationOrganisation.objects.create(
        name="空置调解室", kind=MediationOrganisation.Kind.COMMITTEE, area=med.cast.community_a1a
    )
    OrganisationMember.objects.filter(organisation=med.org_y).delete()
    client.force_login(med.cast.district_officer)
    page = html_lib.unescape(client.get(URL).content.decode())
    labels = dict(
        re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', page.split('name="organisation"')[1])
    )
    assert labels[str(empty.pk)] == "空置调解室 (nobody there to take cases yet)"
    assert labels[str(med.org_y.pk)].endswith("(nobody there to take cases yet)")
    assert labels[str(med.org_x.pk)] == med.org_x.name
    assert client.post(URL, _case(med, empty.pk)).status_code == 302
    assert DisputeCase.objects.get().organisation == empty
    # The case page's transfer list says it too.
    case = med.accepted()
    client.force_login(case.mediator)
    page = html_lib.unescape(client.get(f"/mediation/cases/{case.code}/").content.decode())
    transfer = page.split('id="org-transfer"')[1].split("</select>")[0]
    assert f"{empty.name} · {empty.area.name} (nobody there to take cases yet)" in transfer


def _options(html: str) -> list[tuple[str, str]]:
    select = html.split('name="organisation"')[1].split("</select>")[0]
    return re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select)


def test_a_mediator_with_one_organisation_is_offered_it_once(client, med):
    """ "— 本组织 —" (the empty choice, which the registration reads as the mediator's only
    organisation) sat above the same organisation by name: two choices for one committee."""
    from mediation.models import OrganisationMember

    client.force_login(med.cast.mediator)
    options = _options(client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert options == [(str(med.org_x.pk), med.org_x.name)]
    response = client.post(URL, _case(med, med.org_x.pk))
    assert response.status_code == 302 and DisputeCase.objects.get().organisation == med.org_x
    # Bad input: another committee's number is refused, naming the field, and nothing is saved.
    response = client.post(URL, _case(med, med.org_b.pk))
    assert response.status_code == 400 and "organisation" in response.context["form"].errors
    assert DisputeCase.objects.count() == 1
    # With several organisations the empty choice stays: the mediator must say which one.
    OrganisationMember.objects.create(organisation=med.org_y, user=med.cast.mediator)
    options = _options(client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert options[0] == ("", "— 本组织 —") and len(options) == 3


def test_a_referrer_with_one_organisation_chooses_among_those_listed_without_a_duplicate(client, med):
    """A handler who sits on one committee and may refer to others saw "— 本组织 —" (the empty
    choice, read as that committee) and the same committee by name further down: two lines for one
    choice. Their committee comes first, by name, and is the one chosen until they pick another."""
    from governance.models import Membership, Role
    from mediation.models import OrganisationMember

    handler = med.cast.street_handler  # and a mediator of the street's centre
    Membership.objects.create(user=handler, role=Role.MEDIATOR, area=med.cast.street_a1)
    OrganisationMember.objects.create(organisation=med.org_x, user=handler)
    client.force_login(handler)
    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    options = _options(html)
    assert options[0] == (str(med.org_x.pk), med.org_x.name) and len(options) > 1
    assert "" not in [value for value, _ in options] and "— 本组织 —" not in html
    assert [value for value, _ in options].count(str(med.org_x.pk)) == 1
    assert re.search(rf'<option value="{med.org_x.pk}"[^>]*selected', html)
    # Another committee the handler may refer to, and the empty value an older page sent (their own).
    response = client.post(URL, _case(med, med.org_y.pk))
    assert response.status_code == 302 and DisputeCase.objects.get().organisation == med.org_y
    response = client.post(URL, _case(med, ""))
    assert response.status_code == 302 and DisputeCase.objects.latest("pk").organisation == med.org_x
    # Bad input: another district's centre is refused, naming the field, and nothing is saved.
    response = client.post(URL, _case(med, med.org_b.pk))
    assert response.status_code == 400 and "organisation" in response.context["form"].errors
    assert DisputeCase.objects.count() == 2
    # Narrowed by a filter that leaves their committee out, "— 本组织 —" is the way back to it.
    narrowed = client.post(
        URL, {**_case(med, ""), "org_q": med.org_y.name, "narrow": "1"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert _options(narrowed.content.decode()) == [("", "— 本组织 —"), (str(med.org_y.pk), med.org_y.name)]

"""Numbers typed into an incident's free text reach only those who work on the area's incidents.

A report asks for no names, but grid workers type a resident's phone or ID number into the
description or a step's note for the centre to call back. Analysts (statistics only), mediators and
petition officers read incidents without working on them: they read those numbers masked, on the
pages and through the API, as the lists mask a party's."""

import pytest

from grids import services
from grids.models import Incident
from tests.base import api_client

PHONE, ID_NUMBER = "13812345678", "34010419900307123X"
TEXT = f"楼道堆物，住户王先生 {PHONE}，身份证 {ID_NUMBER}"


@pytest.fixture
def noted(cast, report):
    incident = report(description=TEXT, address=f"甲一路 8 号 电话 {PHONE}")
    services.incident_transition(incident=incident, actor=cast.community_handler, action="accept")
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="escalate", note=f"住户再次来电 {PHONE}"
    )
    return Incident.objects.get(pk=incident.pk)


def _bodies(client, code) -> str:
    return "".join(
        client.get(url).content.decode()
        for url in (
            "/api/v1/incidents/",
            f"/api/v1/incidents/{code}/",
            f"/api/v1/incidents/{code}/events/",
            f"/grids/incidents/{code}/",
            "/grids/inbox/",
        )
    )


@pytest.mark.django_db
def test_readers_who_do_not_work_on_incidents_read_the_numbers_masked(cast, noted, client):
    for reader in (cast.analyst, cast.mediator, cast.petition_officer):
        api = api_client(reader)
        body = api.get(f"/api/v1/incidents/{noted.code}/").json()
        assert body["description"] == "楼道堆物，住户王先生 138****5678，身份证 3401**********123X"
        assert body["address"] == "甲一路 8 号 电话 138****5678"
        events = api.get(f"/api/v1/incidents/{noted.code}/events/").json()["results"]
        assert events[-1]["note"] == "住户再次来电 138****5678"
        assert api.get("/api/v1/incidents/").json()["results"][0]["description"] == body["description"]
        client.force_login(reader)
        page = client.get(f"/grids/incidents/{noted.code}/").content.decode()
        assert "138****5678" in page and "3401**********123X" in page
        everything = _bodies(client, noted.code) + str(body) + str(events)
        assert PHONE not in everything and ID_NUMBER not in everything, reader


@pytest.mark.django_db
def test_who_works_on_the_areas_incidents_reads_them_in_full(cast, noted, client):
    for worker in (cast.worker_a, cast.community_handler, cast.district_officer):
        assert api_client(worker).get(f"/api/v1/incidents/{noted.code}/").json()["description"] == TEXT
        client.force_login(worker)
        page = client.get(f"/grids/incidents/{noted.code}/").content.decode()
        assert PHONE in page and ID_NUMBER in page, worker


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("回电 +86 138-1234-5678 或 0551-62345678", "回电 138****5678 或 055*****5678"),
        ("楼下 138 1234 5678", "楼下 138****5678"),
        ("INC-2026-000123 坐标 31.805,117.005", "INC-2026-000123 坐标 31.805,117.005"),
        ("编号 1381234567890 不是电话", "编号 1381234567890 不是电话"),
        ("", ""),
        # A Chinese input method's full-width digits; a landline as validate_phone stores it, or
        # with a space or brackets; an ID number typed in groups. All passed unmasked.
        ("电话１３８１２３４５６７８", "电话138****5678"),
        ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证1101**********002X"),
        ("座机05516234567", "座机055****4567"),
        ("座机0551 62345678、(0551)62345678", "座机055*****5678、055*****5678"),
        ("身份证 340104 19900307 1235", "身份证 3401**********1235"),
        ("坐标 31.0551234567,117.1", "坐标 31.0551234567,117.1"),  # decimals are no landline
        # A list's "1." before a number does not protect it; common groupings and pasted spaces.
        ("联系人：1.13812345678；2.13987654321", "联系人：1.138****5678；2.139****4321"),
        ("身份证 340104 1990 0307 1235", "身份证 3401**********1235"),
        ("座机 0551 6234 5678、0551\u201462345678", "座机 055*****5678、055*****5678"),
        ("手机 138\u00a01234\u00a05678", "手机 138****5678"),
        # Numbers that merely start with 0 are no landline without a real area code.
        ("订单号 0123456789，批次 0012 20261105", "订单号 0123456789，批次 0012 20261105"),
        ("北京 010-12345678", "北京 010****5678"),
    ],
)
def test_the_numbers_masked_in_free_text(text, shown):
    from governance.pii import mask_numbers_in_text

    assert mask_numbers_in_text(text) == shown


@pytest.mark.django_db
def test_a_reporter_now_in_a_reading_role_reads_their_reports_masked_on_the_start_page(cast, noted, client):
    # worker_a reported it, then became the street's mediator: the start page still lists their
    # open reports, and showed each description whole while the incident's page masked it.
    from governance.models import Role

    cast.worker_a.memberships.update(role=Role.MEDIATOR, area=cast.street_a1)
    client.force_login(cast.worker_a)
    incident_page = client.get(f"/grids/incidents/{noted.code}/").content.decode()
    assert "138****5678" in incident_page and PHONE not in incident_page
    start_page = client.get("/grids/my/").content.decode()
    assert noted.code in start_page
    assert "138****5678" in start_page and PHONE not in start_page

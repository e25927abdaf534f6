"""The incident admin (superusers only) is no way to find a resident: it is searched by incident
number only, and the address filters nothing by a free text (docs/architecture.md, Personal data).
A grid worker types a resident's phone or ID number into a report for the centre to call back; the
admin searched the descriptions, so typing the number listed every incident naming that person,
with no reveal logged."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import PersonalDataAccess

NAMED = "3号楼楼道堆放杂物，住户张三丰（电话13812345678，身份证340104199003071235）请回电"
CHANGELIST = "/admin/grids/incident/"


@pytest.fixture
def named(report):
    return report(description=NAMED, address="春晖路12号3号楼")


@pytest.mark.django_db
def test_the_incident_admin_finds_an_incident_by_its_number_only(client, cast, named):
    client.force_login(cast.admin)
    found = client.get(CHANGELIST, {"q": named.code})
    assert found.status_code == 200 and named.code in found.content.decode()
    assert "Search by incident number." in found.content.decode()  # under the box: what it searches
    for term in ("13812345678", "138 1234 5678", "340104199003071235", "张三丰", "春晖路12号", "堆放杂物"):
        response = client.get(CHANGELIST, {"q": term})
        assert response.status_code == 200, term
        assert named.code not in response.content.decode(), term
    client.cookies["django_language"] = "zh-hans"
    assert "按事件编号搜索。" in client.get(CHANGELIST).content.decode()
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.django_db
def test_the_incident_admin_filters_by_no_free_text_in_the_address(client, cast, named):
    client.force_login(cast.admin)
    for lookup, value in {
        "description": NAMED,
        "description__icontains": "13812345678",
        "description__contains": "340104199003071235",
        "description__regex": r"1[3-9]\d{9}",
        "address__icontains": "春晖路",
        "resolution__icontains": "138",
        "evaluation_note__icontains": "138",
    }.items():
        response = client.get(CHANGELIST, {lookup: value})
        assert response.status_code == 400, lookup
        assert named.code not in response.content.decode(), lookup
    # The filters it offers still work.
    for params in ({"status__exact": named.status}, {"level__exact": named.level}):
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200 and named.code in response.content.decode(), params
    assert not PersonalDataAccess.objects.exists()


@pytest.mark.django_db
def test_the_incident_admin_is_for_superusers_only(client, cast, named):
    client.force_login(cast.worker_a)  # not staff
    assert client.get(CHANGELIST, {"q": named.code}).status_code == 302
    cast.worker_a.is_staff = True
    cast.worker_a.save(update_fields=["is_staff"])
    assert client.get(CHANGELIST, {"q": named.code}).status_code == 403


@pytest.mark.django_db
def test_the_incident_admin_list_takes_no_query_per_row(client, cast, report, named):
    client.force_login(cast.admin)
    client.get(CHANGELIST)  # warm up: session, content types
    with CaptureQueriesContext(connection) as one:
        assert client.get(CHANGELIST).status_code == 200
    for i in range(4):
        report(description=f"井盖缺失{i}")
    with CaptureQueriesContext(connection) as five:
        assert client.get(CHANGELIST).status_code == 200
    assert len(five) == len(one)

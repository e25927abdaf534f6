"""A mediator may reveal at most PERSONAL_DATA_REVEAL_LIMIT people's details within
PERSONAL_DATA_REVEAL_MINUTES: the assigned mediator of many cases could otherwise copy out every
party, one logged reveal after another, as fast as a script can post reasons. Past the limit a reveal
is a 429 with Retry-After (API) or a message at the reason field (page), nothing is shown and nothing
logged; the printed agreement, a reveal the platform makes, counts but is never refused."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.models import PersonalDataAccess
from tests.base import api_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings):
    settings.PERSONAL_DATA_REVEAL_LIMIT = 2
    settings.PERSONAL_DATA_REVEAL_WINDOW = dt.timedelta(minutes=60)
    return 2


def _url(case, party) -> str:
    return f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/"


def test_past_the_limit_the_api_answers_429_with_retry_after_and_shows_nothing(med, limit):
    case = med.accepted()
    applicant, respondent = case.parties.order_by("position")
    client = api_client(med.cast.mediator)
    assert client.post(_url(case, applicant), {"reason": "电话通知"}).status_code == 200
    assert client.post(_url(case, respondent), {"reason": "电话通知"}).status_code == 200
    refused = client.post(_url(case, applicant), {"reason": "再核对一次"})
    assert refused.status_code == 429, refused.content
    body = refused.content.decode()
    assert "张三丰" not in body and "13812345678" not in body
    assert "2" in refused.json()["detail"] and "60" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert PersonalDataAccess.objects.filter(user=med.cast.mediator).count() == 2
    # The limit is each user's: the organisation head still reveals.
    assert api_client(med.head_x).post(_url(case, applicant), {"reason": "复核"}).status_code == 200


def test_the_limit_counts_only_the_window(med, limit):
    case = med.accepted()
    party = case.parties.get(role="applicant")
    client = api_client(med.cast.mediator)
    for _ in range(limit):
        assert client.post(_url(case, party), {"reason": "核对"}).status_code == 200
    assert client.post(_url(case, party), {"reason": "核对"}).status_code == 429
    PersonalDataAccess.objects.update(at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=61))
    assert client.post(_url(case, party), {"reason": "核对"}).status_code == 200


def test_a_refused_reveal_stays_refused_before_the_limit_is_read(med, limit):
    """Who may not reveal gets the 403, whatever the count; a bad reason its 400: the limit is
    looked at only for a reveal that would otherwise be shown."""
    case = med.accepted()
    party = case.parties.get(role="applicant")
    assert api_client(med.mediator_x2).post(_url(case, party), {"reason": "好奇"}).status_code == 403
    assert api_client(med.cast.outsider).post(_url(case, party), {"reason": "好奇"}).status_code == 404
    assert api_client(med.cast.mediator).post(_url(case, party), {"reason": ""}).status_code == 400
    assert not PersonalDataAccess.objects.exists()


def test_past_the_limit_the_page_says_so_at_the_reason_and_shows_nothing(client, med, limit):
    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    client.force_login(med.cast.mediator)
    for _ in range(limit):
        assert "张三丰" in client.post(url, {"reason": "通知当事人"}, HTTP_HX_REQUEST="true").content.decode()
    # htmx swaps only 2xx answers: the row carries the refusal, the reason typed kept in its field.
    response = client.post(url, {"reason": "第三次"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "张三丰" not in html and ID_NOT_SHOWN not in html
    assert "limit: 2 per 60 minutes" in html and 'value="第三次"' in html
    response = client.post(url, {"reason": "第三次"})
    assert response.status_code == 429 and "张三丰" not in response.content.decode()
    assert PersonalDataAccess.objects.count() == limit
    # In Chinese too.
    client.cookies["django_language"] = "zh-hans"
    html = client.post(url, {"reason": "第三次"}, HTTP_HX_REQUEST="true").content.decode()
    assert "最多" in html


ID_NOT_SHOWN = "11010519491231002X"


def test_the_printed_agreement_counts_but_is_never_refused(client, med, limit):
    case = med.agreed(effective_days_ago=1)
    client.force_login(med.cast.mediator)
    printed = client.get(f"/mediation/cases/{case.code}/agreement/")
    assert printed.status_code == 200 and "张三丰" in printed.content.decode()
    assert PersonalDataAccess.objects.count() == 2  # one per party: the limit is reached
    party = case.parties.get(role="applicant")
    assert api_client(med.cast.mediator).post(_url(case, party), {"reason": "核对"}).status_code == 429
    # The agreement of the mediator's own case still prints in full, logged as before.
    printed = client.get(f"/mediation/cases/{case.code}/agreement/")
    assert printed.status_code == 200 and "张三丰" in printed.content.decode()
    assert PersonalDataAccess.objects.count() == 4

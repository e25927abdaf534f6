"""The caller's own notices over the API: ``notifications/``, ``notifications/{id}/read/`` and
``notifications/read/`` (docs/api.md "Notifications")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext_lazy

from governance.models import Notification
from governance.services import notify
from tests.base import api_client

LIST, ALL = "/api/v1/notifications/", "/api/v1/notifications/read/"


def one(pk: int) -> str:
    return f"/api/v1/notifications/{pk}/read/"


def notices(user, n: int, *, prefix: str = "k") -> list[Notification]:
    for i in range(n):
        notify(user=user, key=f"{prefix}{i}", message=f"事件 INC-{i} 已逾期", link="/grids/inbox/")
    return list(user.notifications.order_by("pk"))


@pytest.mark.django_db
def test_the_list_is_the_caller_s_own_newest_first(cast):
    mine = notices(cast.worker_a, 3)
    notices(cast.worker_b, 2, prefix="theirs")
    Notification.objects.filter(pk=mine[0].pk).update(created_at=timezone.now() + dt.timedelta(minutes=1))
    body = api_client(cast.worker_a).get(LIST).json()
    assert body["count"] == 3 and body["next"] is None
    assert [row["id"] for row in body["results"]] == [mine[0].pk, mine[2].pk, mine[1].pk]
    row = body["results"][1]
    assert set(row) == {"id", "message", "link", "created_at", "read_at"}
    assert row["message"] == "事件 INC-2 已逾期" and row["link"] == "/grids/inbox/" and row["read_at"] is None


@pytest.mark.django_db
def test_every_role_reads_its_own(cast):
    for user in (cast.analyst, cast.mediator, cast.petition_officer, cast.admin, cast.outsider):
        notices(user, 1, prefix=user.username)
        body = api_client(user).get(LIST).json()
        assert [row["id"] for row in body["results"]] == [user.notifications.get().pk]


@pytest.mark.django_db
def test_the_message_is_in_the_request_s_language(cast):
    notify(
        user=cast.worker_a, key="lang", message=gettext_lazy("Your password was changed."), link="/accounts/"
    )
    client = api_client(cast.worker_a)
    english = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]["message"]
    chinese = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["message"]
    assert english == "Your password was changed."
    assert chinese != english and chinese == cast.worker_a.notifications.get().texts["zh-hans"]


@pytest.mark.django_db
def test_unread_filters_and_a_bad_value_is_a_400_naming_it(cast):
    first, second = notices(cast.worker_a, 2)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    client = api_client(cast.worker_a)
    assert [r["id"] for r in client.get(LIST, {"unread": "true"}).json()["results"]] == [second.pk]
    assert [r["id"] for r in client.get(LIST, {"unread": "false"}).json()["results"]] == [first.pk]
    assert client.get(LIST, {"unread": ""}).json()["count"] == 2
    bad = client.get(LIST, {"unread": "maybe"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["unread"]
    assert "unread" in bad.json()["detail"]
    unknown = client.get(LIST, {"unraed": "true"})
    assert unknown.status_code == 400 and list(unknown.json()["errors"]) == ["unraed"]


@pytest.mark.django_db
def test_the_list_is_paginated(cast):
    notices(cast.worker_a, 3)
    client = api_client(cast.worker_a)
    body = client.get(LIST, {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["results"]) == 2 and "page=2" in body["next"]
    assert client.get(LIST, {"page": 9}).status_code == 400


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_whatever_its_length(cast):
    client = api_client(cast.worker_a)
    notices(cast.worker_a, 2)
    client.get(LIST)  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST, {"unread": "true"}).status_code == 200
    notices(cast.worker_a, 40, prefix="more")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(LIST, {"unread": "true"}).json()["results"]) == 42
    assert len(many) == len(few) == 3  # the version (the ETag's), the count and the page


@pytest.mark.django_db
def test_reading_without_credentials_is_a_401(cast):
    assert api_client().get(LIST).status_code == 401
    assert api_client().post(one(1)).status_code == 401
    assert api_client().post(ALL, {"up_to": 1}, format="json").status_code == 401


@pytest.mark.django_db
def test_marking_one_read_answers_the_item_and_keeps_the_first_time(cast):
    first, second = notices(cast.worker_a, 2)
    client = api_client(cast.worker_a)
    response = client.post(one(first.pk))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == first.pk and response.json()["read_at"] is not None
    first.refresh_from_db()
    read_at = first.read_at
    assert read_at is not None
    again = client.post(one(first.pk), {}, format="json")
    assert again.status_code == 200 and again.json()["read_at"] == response.json()["read_at"]
    first.refresh_from_db()
    assert first.read_at == read_at
    second.refresh_from_db()
    assert second.read_at is None


@pytest.mark.django_db
def test_another_user_s_notice_or_a_missing_one_is_the_same_404(cast):
    (theirs,) = notices(cast.worker_b, 1)
    client = api_client(cast.worker_a)
    other = client.post(one(theirs.pk))
    missing = client.post(one(theirs.pk + 1000))
    huge = client.post(one(10**20))
    assert other.status_code == missing.status_code == huge.status_code == 404
    assert other.json() == missing.json() == huge.json()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.django_db
def test_marking_one_refuses_a_parameter_or_a_body_it_cannot_read(cast):
    from tests.api.test_read_status_codes import _schema

    (mine,) = notices(cast.worker_a, 1)
    client = api_client(cast.worker_a)
    assert client.post(one(mine.pk) + "?all=1").status_code == 400
    assert client.post(one(mine.pk), "x", content_type="text/plain").status_code == 415
    # The schema lists a JSON body alone, and its 415 says every other type is refused: a form or a
    # multipart body was read (and marked the notice) all the same.
    assert (
        client.post(one(mine.pk), "a=1", content_type="application/x-www-form-urlencoded").status_code == 415
    )
    assert client.post(one(mine.pk), {"a": "1"}, format="multipart").status_code == 415
    assert Notification.objects.get(pk=mine.pk).read_at is None
    schema = _schema()["paths"]["/api/v1/notifications/{id}/read/"]["post"]
    assert list(schema["requestBody"]["content"]) == ["application/json"] and "415" in schema["responses"]
    # No body at all, whatever its declared type, is the empty body the endpoint takes.
    no_body = client.post(one(mine.pk), content_type="application/x-www-form-urlencoded")
    assert no_body.status_code == 200 and no_body.json()["read_at"]


@pytest.mark.django_db
def test_mark_all_marks_those_up_to_the_id_given(cast):
    listed = notices(cast.worker_a, 3)
    (theirs,) = notices(cast.worker_b, 1, prefix="theirs")
    Notification.objects.filter(pk=listed[0].pk).update(read_at=timezone.now() - dt.timedelta(days=1))
    later = notices(cast.worker_a, 1, prefix="later")[-1]  # arrived after the client listed
    response = api_client(cast.worker_a).post(ALL, {"up_to": listed[-1].pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {"marked": 2}
    unread = set(Notification.objects.filter(read_at=None).values_list("pk", flat=True))
    assert unread == {later.pk, theirs.pk}
    # The one read yesterday keeps its time.
    assert Notification.objects.get(pk=listed[0].pk).read_at < timezone.now() - dt.timedelta(hours=23)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"up_to": "abc"}, {"up_to": 0}, {"up_to": 10**20}, {"up_to": None}])
def test_mark_all_without_a_good_up_to_is_a_400_naming_it_and_marks_nothing(cast, body):
    notices(cast.worker_a, 2)
    response = api_client(cast.worker_a).post(ALL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["up_to"] and "up_to" in response.json()["detail"]
    assert cast.worker_a.notifications.filter(read_at=None).count() == 2


@pytest.mark.django_db
def test_mark_all_refuses_a_field_it_does_not_read_naming_it_and_marks_nothing(cast):
    # As every other write of the API: a misspelt field is a 400 keyed by it, not silently dropped.
    (mine,) = notices(cast.worker_a, 1)
    response = api_client(cast.worker_a).post(ALL, {"up_to": mine.pk, "unread": False}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["unread"]
    assert response.json()["errors"]["unread"][0] == "Unknown field; the fields are: up_to."
    assert cast.worker_a.notifications.filter(read_at=None).count() == 1


@pytest.mark.django_db
def test_mark_all_takes_its_id_in_the_body_not_the_address(cast):
    (mine,) = notices(cast.worker_a, 1)
    response = api_client(cast.worker_a).post(f"{ALL}?up_to={mine.pk}", {"up_to": mine.pk}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["up_to"]
    assert cast.worker_a.notifications.filter(read_at=None).count() == 1


@pytest.mark.django_db
def test_marking_by_token_and_by_session(cast, client):
    from governance.services import user_token_issue

    first, second = notices(cast.worker_a, 2)
    token = user_token_issue(user=cast.worker_a)
    response = api_client().post(one(first.pk), HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    client.force_login(cast.worker_a)
    assert client.get(LIST).json()["results"][1]["read_at"] is not None
    assert client.post(ALL, {"up_to": second.pk}, content_type="application/json").json() == {"marked": 1}


def test_the_schema_describes_the_filter_and_names_each_operation_once():
    from tests.api.test_read_status_codes import _schema

    paths = _schema()["paths"]
    listed = paths["/api/v1/notifications/"]["get"]
    assert "unread" in {p["name"] for p in listed["parameters"]}
    one_id = paths["/api/v1/notifications/{id}/read/"]["post"]["operationId"]
    all_id = paths["/api/v1/notifications/read/"]["post"]["operationId"]
    assert one_id == "v1_notification_read" and all_id == "v1_notifications_read"
    assert set(listed["responses"]["304"]["headers"]) == {"ETag", "Last-Modified"}
    assert {"ETag", "Last-Modified", "Cache-Control"} <= set(listed["responses"]["200"]["headers"])
    assert "X-Total-Count" not in listed["responses"]["200"]["headers"]  # (the statistics' CSV paging)


def _polled(client, etag: str, query: dict | None = None, **headers):
    return client.get(LIST, query or {}, HTTP_IF_NONE_MATCH=etag, **headers)


@pytest.mark.django_db
def test_an_unchanged_list_answers_304_with_no_body_until_a_notice_arrives_or_is_read(cast):
    """A phone polls the list: while nothing it shows changed, a 304 and no body (the list was read
    and sent whole every time). A new notice, one marked read (one or all) change the answer."""
    first, second = notices(cast.worker_a, 2)
    client = api_client(cast.worker_a)
    listed = client.get(LIST)
    etag = listed["ETag"]
    assert listed.status_code == 200 and etag.startswith('"') and len(etag) == 34
    assert listed["Cache-Control"] == "private, no-cache" and "Accept-Language" in listed["Vary"]
    again = _polled(client, etag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    assert _polled(client, f"W/{etag}").status_code == 304  # (a compressing proxy's weak tag)
    # If-Modified-Since, once the second of the last notice is over (the same second: below).
    Notification.objects.update(created_at=timezone.now() - dt.timedelta(seconds=5))
    dated = client.get(LIST)["Last-Modified"]
    assert client.get(LIST, HTTP_IF_MODIFIED_SINCE=dated).status_code == 304

    notices(cast.worker_a, 1, prefix="new")
    arrived = _polled(client, etag)
    assert arrived.status_code == 200 and arrived.json()["count"] == 3 and arrived["ETag"] != etag
    etag = arrived["ETag"]
    assert _polled(client, etag).status_code == 304
    assert client.post(one(first.pk)).status_code == 200
    read = _polled(client, etag)
    assert read.status_code == 200 and read["ETag"] != etag
    etag = read["ETag"]
    assert client.post(ALL, {"up_to": second.pk}, format="json").json() == {"marked": 1}
    assert _polled(client, etag).status_code == 200


@pytest.mark.django_db
def test_the_tag_is_of_this_user_these_parameters_and_this_language(cast):
    notices(cast.worker_a, 3)
    notices(cast.worker_b, 3)
    client = api_client(cast.worker_a)
    etag = client.get(LIST)["ETag"]
    assert _polled(api_client(cast.worker_b), etag).status_code == 200  # another user's: never theirs
    assert api_client(cast.worker_b).get(LIST)["ETag"] != etag
    for query in ({"unread": "true"}, {"unread": "false"}, {"page_size": 2}):
        other = _polled(client, etag, query)
        assert other.status_code == 200 and other["ETag"] != etag, query
    paged = client.get(LIST, {"page_size": 2})["ETag"]
    assert _polled(client, paged, {"page_size": 2, "page": 2}).status_code == 200
    english = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en")["ETag"]
    assert _polled(client, english, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200


@pytest.mark.django_db
def test_a_request_that_would_fail_is_not_a_304(cast):
    notices(cast.worker_a, 1)
    client = api_client(cast.worker_a)
    modified = client.get(LIST)["Last-Modified"]
    for query in ({"unread": "maybe"}, {"page": 9}, {"unraed": "true"}):
        assert client.get(LIST, query, HTTP_IF_NONE_MATCH="*").status_code == 400, query
        assert client.get(LIST, query, HTTP_IF_MODIFIED_SINCE=modified).status_code == 400, query
    assert api_client().get(LIST, HTTP_IF_NONE_MATCH="*").status_code == 401


@pytest.mark.django_db
def test_a_304_reads_the_version_alone_whatever_the_list_holds(cast):
    """A phone signed in by token: the token (with its user) and the version of the user's notices,
    one aggregate, and not the list's count or page."""
    from governance.services import user_token_issue

    notices(cast.worker_a, 2)
    phone = api_client()
    phone.credentials(HTTP_AUTHORIZATION=f"Token {user_token_issue(user=cast.worker_a)}")
    etag = phone.get(LIST)["ETag"]
    _polled(phone, etag)  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert _polled(phone, etag).status_code == 304
    notices(cast.worker_a, 40, prefix="more")
    etag = phone.get(LIST)["ETag"]
    with CaptureQueriesContext(connection) as many:
        assert _polled(phone, etag).status_code == 304
    reads = [q["sql"] for q in many.captured_queries if 'FROM "governance_notification"' in q["sql"]]
    assert len(reads) == 1 and "COUNT(" in reads[0] and "LIMIT" not in reads[0]
    assert len(many) == len(few) == 2, [q["sql"] for q in many.captured_queries]


@pytest.mark.django_db
def test_a_notice_written_in_the_second_of_the_last_read_is_never_a_304(cast, monkeypatch):
    """If-Modified-Since is second-precise: a notice written later in the second the client last
    read, and dated by its Last-Modified, was answered 304 and missed until the next one came. Within
    the second of the last change, Last-Modified is that second and the next read is a 200 (a spurious
    one at worst); once the second is over, it is the end of that second, and a 304 means nothing was
    written or read since."""
    start = timezone.now().replace(microsecond=0) - dt.timedelta(seconds=10)

    def at(seconds: float) -> dt.datetime:
        return start + dt.timedelta(seconds=seconds)

    def written(seconds: float, prefix: str) -> None:
        (notice,) = notices(cast.worker_a, 1, prefix=prefix)[-1:]
        Notification.objects.filter(pk=notice.pk).update(created_at=at(seconds))

    client = api_client(cast.worker_a)
    written(0.1, "a")
    monkeypatch.setattr(timezone, "now", lambda: at(0.3))
    first = client.get(LIST)
    assert first.status_code == 200 and first["Last-Modified"] == http_date(start.timestamp())
    written(0.7, "b")
    monkeypatch.setattr(timezone, "now", lambda: at(0.8))
    again = client.get(LIST, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 200 and again.json()["count"] == 2
    # The second is over: nothing more can be written in it.
    monkeypatch.setattr(timezone, "now", lambda: at(2))
    later = client.get(LIST, HTTP_IF_MODIFIED_SINCE=again["Last-Modified"])
    assert later.status_code == 200 and later["Last-Modified"] == http_date(at(1).timestamp())
    unchanged = client.get(LIST, HTTP_IF_MODIFIED_SINCE=later["Last-Modified"])
    assert unchanged.status_code == 304 and unchanged["Last-Modified"] == later["Last-Modified"]
    written(2.5, "c")
    monkeypatch.setattr(timezone, "now", lambda: at(2.6))
    assert client.get(LIST, HTTP_IF_MODIFIED_SINCE=later["Last-Modified"]).json()["count"] == 3
    # A date the server cannot read is no condition: the whole list.
    assert client.get(LIST, HTTP_IF_MODIFIED_SINCE="yesterday").status_code == 200

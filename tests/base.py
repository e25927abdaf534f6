"""The cast every test can use (STYLE.md "Tests"): a small city with two districts and users in
every role. Boundaries are rectangles so tests can reason about points exactly.

    city 340100000000
    ├── district A 340102000000  (depts: 公安分局, 城市管理局, 信访局)
    │   └── street A1 340102001000  (dept: 城管中队)
    │       ├── community A1a 340102001001
    │       │   ├── grid A 340102001001001   lng 117.00-117.01, lat 31.80-31.81
    │       │   └── grid B 340102001001002   lng 117.01-117.02, lat 31.80-31.81 (shares a border with A)
    │       └── community A1b 340102001002
    │           └── grid C 340102001002001   lng 117.02-117.04, lat 31.80-31.81
    └── district B 340103000000
        └── street B1 340103001000
            └── community B1a 340103001001
                └── grid D 340103001001001   lng 117.10-117.12, lat 31.80-31.81

Users: worker_a (grid A), worker_b (grid B), community_handler (A1a), street_handler (A1),
district_officer (district A handler), department_user (handler in district A's 公安分局),
mediator (street A1), petition_officer (district A, 信访局), analyst (city), outsider (handler in
district B), admin (superuser).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from rest_framework.test import APIClient

from governance.models import Area, Department, Membership, Role, SequenceCounter, User

PASSWORD = "a-long-test-password-91"


def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def make_area(code, name, level, parent, box, households=500) -> Area:
    area = Area(
        code=code,
        name=name,
        level=level,
        parent=parent,
        boundary=rect(*box),
        households=households,
        population=households * 3,
    )
    area.full_clean()
    area.save()
    return area


def out_of_service_today(area: Area) -> Iterator[str]:
    """Take ``area`` out of service today, first merged away yesterday, then drawn from tomorrow
    (yielding "retired", then "drawn for later"); saved with update(), as a data fix would."""
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    for how, dates in (
        ("retired", {"in_service_until": today - dt.timedelta(days=1)}),
        ("drawn for later", {"in_service_from": today + dt.timedelta(days=1)}),
    ):
        Area.objects.filter(pk=area.pk).update(**{"in_service_from": None, "in_service_until": None, **dates})
        yield how


def post_area_change(client, area: Area, **changes):
    """POST the admin's change form of ``area`` as it shows it, with ``changes`` (as form values):
    the response and, when it shows the form again (200), the form with its errors."""
    import json

    url = f"/admin/governance/area/{area.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data["boundary"] = json.dumps(area.boundary)
    response = client.post(url, {**data, **changes})
    return response, (response.context["adminform"].form if response.status_code == 200 else None)


def make_user(
    username: str, role: str | None, area: Area | None, department: Department | None = None, **extra
) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, display_name=username, **extra)
    if role:
        Membership.objects.create(user=user, role=role, area=area, department=department)
    return user


def build_cast() -> SimpleNamespace:
    c = SimpleNamespace()
    c.city = make_area("340100000000", "示例市", "city", None, (116.9, 31.7, 117.3, 31.9), 0)
    c.district_a = make_area("340102000000", "甲区", "district", c.city, (117.0, 31.8, 117.04, 31.81))
    c.street_a1 = make_area("340102001000", "甲一街道", "street", c.district_a, (117.0, 31.8, 117.04, 31.81))
    c.community_a1a = make_area(
        "340102001001", "春晖社区", "community", c.street_a1, (117.0, 31.8, 117.02, 31.81)
    )
    c.grid_a = make_area(
        "340102001001001", "春晖第1网格", "grid", c.community_a1a, (117.0, 31.8, 117.01, 31.81)
    )
    c.grid_b = make_area(
        "340102001001002", "春晖第2网格", "grid", c.community_a1a, (117.01, 31.8, 117.02, 31.81)
    )
    c.community_a1b = make_area(
        "340102001002", "园丁社区", "community", c.street_a1, (117.02, 31.8, 117.04, 31.81)
    )
    c.grid_c = make_area(
        "340102001002001", "园丁第1网格", "grid", c.community_a1b, (117.02, 31.8, 117.04, 31.81)
    )
    c.district_b = make_area("340103000000", "乙区", "district", c.city, (117.1, 31.8, 117.12, 31.81))
    c.street_b1 = make_area("340103001000", "乙一街道", "street", c.district_b, (117.1, 31.8, 117.12, 31.81))
    c.community_b1a = make_area(
        "340103001001", "金桥社区", "community", c.street_b1, (117.1, 31.8, 117.12, 31.81)
    )
    c.grid_d = make_area(
        "340103001001001", "金桥第1网格", "grid", c.community_b1a, (117.1, 31.8, 117.12, 31.81)
    )
    SequenceCounter.bump("geo")

    c.police = Department.objects.create(name="公安分局", area=c.district_a)
    c.urban = Department.objects.create(name="城市管理局", area=c.district_a)
    c.petition_office = Department.objects.create(name="信访局", area=c.district_a)
    c.street_team = Department.objects.create(name="城管中队", area=c.street_a1)
    c.police_b = Department.objects.create(name="公安分局", area=c.district_b)

    c.worker_a = make_user("worker_a", Role.GRID_WORKER, c.grid_a)
    c.worker_b = make_user("worker_b", Role.GRID_WORKER, c.grid_b)
    c.community_handler = make_user("community_handler", Role.HANDLER, c.community_a1a)
    c.street_handler = make_user("street_handler", Role.HANDLER, c.street_a1)
    c.district_officer = make_user("district_officer", Role.HANDLER, c.district_a)
    c.department_user = make_user("department_user", Role.HANDLER, c.district_a, c.police)
    c.mediator = make_user("mediator", Role.MEDIATOR, c.street_a1)
    c.petition_officer = make_user("petition_officer", Role.PETITION_OFFICER, c.district_a, c.petition_office)
    c.analyst = make_user("analyst", Role.ANALYST, c.city)
    c.outsider = make_user("outsider", Role.HANDLER, c.district_b)
    c.admin = make_user("admin", None, None, is_staff=True, is_superuser=True)
    return c


def api_client(user: User | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def reset_broker_connections(app) -> None:
    """Drop Celery's pooled broker connections so the next send connects to ``broker_url`` anew."""
    from kombu import pools

    # kombu keeps process-wide pools keyed by broker URL; Celery's own references point into them.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def every_day_working(first: int, last: int) -> None:
    """Mark every day from ``first`` to ``last`` days after today (local) a working day of the
    calendar. A period ending on a rest day runs to the next working day (Civil Code art. 203), so a
    test about days left or overdue would otherwise depend on the weekday it runs."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import Holiday

    today = timezone.localdate()
    Holiday.objects.bulk_create(
        Holiday(date=today + dt.timedelta(days=d), is_workday=True, name="test")
        for d in range(first, last + 1)
    )
    SequenceCounter.bump("calendar")


def calendar_for_this_year_and_next() -> None:
    """The calendar entered for this year and the next (New Year's Day of each), the years the
    deadlines of a record taken today fall in; a year further on has none, and its deadlines count
    plain weekdays (``governance.periods.calendar_lacks_year``)."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import Holiday

    year = timezone.localdate().year
    for y in (year, year + 1):
        Holiday.objects.get_or_create(date=dt.date(y, 1, 1), defaults={"name": "元旦"})
    SequenceCounter.bump("calendar")


def shift_back(queryset, days: int, *fields: str) -> None:
    """Move the date-time ``fields`` of the rows of ``queryset`` ``days`` into the past, as if what
    they record had happened then (fields that are NULL stay NULL)."""
    from datetime import timedelta

    from django.db.models import F

    queryset.update(**{name: F(name) - timedelta(days=days) for name in fields})


# Every stored column of a published value but its id and run: what two runs must agree on.
VALUE_FIELDS = [
    "indicator", "area_id", "parent_id", "level", "period", "period_type", "numerator", "denominator", "value",
    "rank", "rank_of", "previous_value", "delta", "previous_rank", "rank_change", "yoy_value", "yoy_delta",
]  # fmt: skip


def published_values() -> list[tuple]:
    from dashboards.models import IndicatorValue

    return list(IndicatorValue.objects.order_by("indicator", "period", "area_id").values_list(*VALUE_FIELDS))


def nightly_run_matches_full_rebuild(change):
    """A full rollup, then ``change()``, then the nightly (incremental) run: asserts that a full
    rebuild afterwards publishes exactly the nightly run's rows, and returns the nightly run."""
    from dashboards.models import RollupRun
    from dashboards.rollup import run_rollup

    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    change()
    nightly = run_rollup()
    assert (nightly.status, nightly.kind) == (RollupRun.Status.SUCCESS, RollupRun.Kind.INCREMENTAL)
    rows = published_values()
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    assert published_values() == rows
    return nightly


def assert_the_admin_hides_people(client, admin_user, *, record, people_url: str, raw: list[str], hashes: list[str],
                                  lookups: dict[str, str]) -> None:  # fmt: skip
    """The admin shows ``record`` (a case or a petition) without its people's personal data or hashes,
    finds it by number but not by a person's name or number, refuses filters through its people
    (400), has no page for the people, and logs no reveal (it makes none)."""
    from governance.models import PersonalDataAccess

    client.force_login(admin_user)
    changelist = f"/admin/{record._meta.app_label}/{record._meta.model_name}/"
    for url in [changelist, f"{changelist}{record.pk}/change/"]:
        response = client.get(url)
        body = response.content.decode()
        assert response.status_code == 200 and record.code in body
        for value in [*raw, *hashes]:
            assert value not in body, (url, value)
    assert record.code in client.get(changelist, {"q": record.code}).content.decode()
    for value in raw:
        response = client.get(changelist, {"q": value})
        assert response.status_code == 200 and record.code not in response.content.decode(), value
    for lookup, value in lookups.items():
        response = client.get(changelist, {lookup: value})
        assert response.status_code == 400 and record.code not in response.content.decode(), lookup
    assert client.get(people_url).status_code == 404
    assert not PersonalDataAccess.objects.exists()


def logged_reveal(
    user: User,
    fields: str,
    reason: str,
    *,
    record: str = "DSP-2026-000001",
    kind: str = "mediation.disputeparty",
):
    """An access-log row as ``governance.services.personal_data_reveal`` writes it (for the log's pages)."""
    from governance.models import PersonalDataAccess

    return PersonalDataAccess.objects.create(
        user=user, object_type=kind, object_id="1", record=record, fields=fields, reason=reason
    )


@contextmanager
def masked_log() -> Iterator[io.StringIO]:
    """What the server's log handler (the root's, with the mask filter) writes meanwhile."""
    import logging

    from governance.logging import MaskPersonalDataFilter

    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def refused_filter(client, url: str, param: str, value) -> dict:
    """GET ``url?param=value`` and return the body of the 400 it must answer, after checking that the
    error names exactly that filter (the body is compared whole by the caller: unknown and out of
    scope must answer the same, so nothing tells them apart)."""
    response = client.get(url, {param: value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body["errors"]) == [param], body
    assert f"{param}: " in body["detail"], body
    return body


def unknown_body(param: str, message: str) -> dict:
    """The API's 400 for a filter value naming nothing the user may see."""
    return {"detail": f"Invalid input: {param}: {message}", "errors": {param: [message]}}


def listed_codes(client, url: str, **query) -> set[str]:
    """The ``code`` of every row of a list endpoint's first page, which must answer 200."""
    response = client.get(url, query)
    assert response.status_code == 200, response.json()
    return {row["code"] for row in response.json()["results"]}


def queries_of(client, url: str, **query) -> int:
    """How many queries a GET (answering 200) costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, query).status_code == 200
    return len(ctx.captured_queries)


def filter_form_as_shown(html: str) -> str:
    """The query string a browser sends when the first GET form of a page is submitted as it is shown:
    each input with its value, each select at its selected option (else its first), empty ones too
    ("any" is an empty value)."""
    from html.parser import HTMLParser
    from urllib.parse import urlencode

    class Form(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.done, self.pairs, self.select = False, False, [], None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form" and not self.done and (a.get("method") or "get").lower() == "get":
                self.inside = True
            elif not self.inside or "name" not in a and tag != "option":
                return
            elif tag == "input" and a.get("type") not in ("submit", "button", "checkbox", "radio"):
                self.pairs.append((a["name"], a.get("value") or ""))
            elif tag == "select":
                self.select = [a["name"], None, None]  # name, first option, selected option
            elif tag == "option" and self.select is not None:
                value = a.get("value") or ""
                self.select[1] = value if self.select[1] is None else self.select[1]
                self.select[2] = value if "selected" in a else self.select[2]

        def handle_endtag(self, tag):
            if tag == "select" and self.select is not None and self.inside:
                name, first, chosen = self.select
                self.pairs.append((name, chosen if chosen is not None else first or ""))
                self.select = None
            elif tag == "form" and self.inside:
                self.inside, self.done = False, True

    form = Form()
    form.feed(html)
    assert form.pairs, "no GET form on the page"
    return urlencode(form.pairs)


def race(*targets):
    """Run the callables in threads released together (a barrier), each on its own database
    connection; their results, or the exception each raised, in order. For behaviour under
    concurrency that only PostgreSQL's row locks show (use with ``transaction=True`` tests)."""
    from django.db import connection

    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def wait_until_another_waits_for_a_lock(timeout: float = 30) -> bool:
    """Poll, on this thread's connection, until another session of the test database is waiting for
    a lock (one this connection's transaction holds, in a ``race``), for at most ``timeout`` seconds;
    whether one was seen. A fixed sleep "long enough" for the other thread to get there is not, on a
    loaded CI machine: the interleaving the test is about then silently does not happen."""
    import time

    from django.db import connection

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            # Statistics views are read once per transaction: this one may be held open.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def start_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of a page, in order, with its attributes: what assistive technology is told
    about an element (its role, aria-invalid, the ids its aria-describedby names)."""
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

    parser = Tags()
    parser.feed(html)
    return parser.tags


def attrs_of(html: str, element_id: str) -> dict[str, str | None]:
    """The attributes of the one element of a page with that id."""
    found = [attrs for _tag, attrs in start_tags(html) if attrs.get("id") == element_id]
    assert len(found) == 1, (element_id, len(found))
    return found[0]


def assert_marked_invalid(html: str, field_id: str, message: str) -> None:
    """The field is aria-invalid and its aria-describedby names an element holding the message."""
    attrs = attrs_of(html, field_id)
    assert attrs.get("aria-invalid") == "true", (field_id, attrs)
    ids = (attrs.get("aria-describedby") or "").split()
    assert ids, (field_id, attrs)
    for described in ids:
        attrs_of(html, described)  # each id names one element of the page
    texts = []
    for described in ids:
        rest = html[html.index(f'id="{described}"') :]
        texts.append(rest[: rest.index("</")])
    assert any(message in text for text in texts), (field_id, ids, message)


def assert_no_alert_replaces_a_role(html: str) -> None:
    """role="alert" on a list (or a list item) takes away its role: a screen reader no longer hears a
    list, and axe reports listitem (serious) and aria-allowed-role."""
    bad = [(tag, a) for tag, a in start_tags(html) if a.get("role") == "alert" and tag in ("ul", "ol", "li")]
    assert bad == []


def second_connection():
    """A psycopg2 connection of its own to the test database: another process's session, to hold a
    lock or a transaction while the code under test runs on Django's."""
    import psycopg2
    from django.db import connection

    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )


def assert_filters_fold(client, url: str, *cases: tuple[str, int, str]) -> None:
    """Each (query, status, summary): the list's filters are folded in a <details>, closed unless the
    response refused a filter (a 400), under a summary reading ``summary``."""
    for query, status, expected in cases:
        response = client.get(f"{url}?{query}" if query else url)
        html = response.content.decode()
        tag, rest = html.split('<details class="filters-fold"', 1)[1].split(">", 1)
        summary = rest.split("<summary", 1)[1].split(">", 1)[1].split("</summary>", 1)[0]
        assert response.status_code == status, (query, response.status_code)
        assert tag.strip() == ("open" if status == 400 else ""), (query, tag)
        assert " ".join(re.sub(r"<[^>]+>", " ", summary).split()) == expected, (query, summary)
        assert "<form" in rest.split("</details>", 1)[0], query  # the whole form is inside the fold


def assert_records_named_safely(
    client, url: str, named: tuple[str, str], outside: tuple[str, str, tuple], lookups: int
):
    """``named`` (a query of filters naming records: a grid, a department …, and the summary naming
    them) costs ``lookups`` queries more than the same list without them, rows alike (none closed):
    each filter's own check of its value, which reads the record's name as well; naming takes no query
    of its own. ``outside`` (records from outside the user's area, the summary, their names) is a 400
    whose summary labels the filters and whose page names none of the records."""
    assert_filters_fold(client, url, (named[0], 200, named[1]), (outside[0], 400, outside[1]))
    html = client.get(f"{url}?{outside[0]}").content.decode()
    assert [name for name in outside[2] if name in html] == []
    base = "status=closed"
    for query in (base, f"{base}&{named[0]}"):
        client.get(f"{url}?{query}")  # warm-up
    counts = queries_of(client, f"{url}?{base}"), queries_of(client, f"{url}?{base}&{named[0]}")
    assert counts[1] == counts[0] + lookups, counts


def assert_filters_kept(client, url: str, query: str, linked: tuple[str, ...]) -> str:
    """Every filter ``query`` sets (but the page) has a control in the list's filter form, so sending
    the form with another filter changed keeps it; those the form has no field for (``linked``: the
    address's only) as hidden inputs with their values, each beside a link that removes just it
    (the others kept, the page dropped). Returns the form's html."""
    import html as html_lib

    from django.http import QueryDict

    response = client.get(f"{url}?{query}")
    form = response.content.decode().split('<details class="filters-fold"', 1)[1].split("</form>", 1)[0]
    form = form[form.index("<form") :]
    params = QueryDict(query)
    names = set(re.findall(r'<(?:input|select)\b[^>]*\bname="([^"]+)"', form))
    assert set(params) - {"page"} <= names, (query, set(params) - names)
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    expected = [(key, html_lib.escape(v)) for key in linked for v in params.getlist(key) if v]
    assert hidden == expected, (query, hidden)
    removes = [
        QueryDict(html_lib.unescape(q))
        for q in re.findall(r'<a class="linked-filter-remove" href="\?([^"]*)"', form)
    ]
    assert len(removes) == len(linked), (query, removes)
    for key, without in zip(linked, removes, strict=True):
        rest = params.copy()
        for dropped in (key, "page"):
            rest.pop(dropped, None)
        assert {k: without.getlist(k) for k in without} == {k: rest.getlist(k) for k in rest}, key
    return form


def assert_linked_filters(client, url: str, query: str, named: dict, own: str, outside: tuple) -> None:
    """A list's filters the form has no field for: ``query`` sets them (``named``: each parameter and
    how the form names it, in the form's order) with one of the form's own; ``assert_filters_kept``
    holds, each is named as the summary names it and its link says, to a screen reader, which filter
    it removes. ``own`` (the form's filters only) draws no "From the link" at all. ``outside`` (a
    query naming a record outside the user's area, its parameter, label and the record's name) is a
    400 whose form still keeps that filter, with its link, named by its label alone."""
    shown = r'<span class="linked-filter-name">([^<]*)</span>'
    form = assert_filters_kept(client, url, query, tuple(named))
    assert re.findall(shown, form) == list(named.values())
    for name in named.values():
        assert f'Clear<span class="visually-hidden">: the filter {name}</span>' in form, name
    assert "linked-filters" not in assert_filters_kept(client, url, own, ())
    outside_query, key, label, record = outside
    assert client.get(f"{url}?{outside_query}").status_code == 400
    form = assert_filters_kept(client, url, outside_query, (key,))
    assert re.findall(shown, form) == [label] and record not in form


def described(code: str) -> dict[str, str]:
    """An indicator's description as shown in English and in Chinese: {"en": ..., "zh-hans": ...}."""
    from django.utils import translation

    from governance.indicators import get

    out = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            out[language] = str(get(code).description)
    return out


def described_as(html: str, term: str) -> str:
    """The text of a description list's entry ``term`` (``<dt>term</dt><dd>…</dd>``), tags dropped."""
    match = re.search(rf"<dt>{re.escape(term)}</dt><dd[^>]*>(.*?)</dd>", html, re.S)
    assert match, term
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def assert_a_namesake_grid_is_named_apart(client, cast, user, url: str, term: str) -> None:
    """The record of ``url``, in grid A, names it plainly, then, once a grid of the same name is made
    in community A1b (street A1 too), with its community before it, for ``user``, at no query more
    however many namesakes; and the page is a 404 for the outsider (district B)."""
    client.force_login(user)
    assert described_as(client.get(url).content.decode(), term) == f"{cast.grid_a.name} {cast.grid_a.code}"
    few = queries_of(client, url)
    for code in ("340102001002009", "340102001002008"):
        make_area(code, cast.grid_a.name, "grid", cast.community_a1b, (117.03, 31.805, 117.035, 31.81))
        assert described_as(client.get(url).content.decode(), term) == (
            f"{cast.community_a1a.name} · {cast.grid_a.name} {cast.grid_a.code}"
        )
        assert queries_of(client, url) == few
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404


def summary_of(html: str) -> str:
    """The filters in force as a list page's summary names them."""
    summary = html[html.index('class="filters-active"') :]
    return summary[: summary.index("</span>")]


def assert_list_names_a_namesake_grid_apart(client, cast, user, url: str, code: str, area_of) -> None:
    """The list of ``url`` names the area of its row ``code`` (in grid A; ``area_of(html, code)``
    reads it) plainly, then, once a grid of the same name is made in community A1b (street A1 too),
    with its community before it, for ``user``, at no query more however many namesakes (after a
    warm-up request); and the outsider (district B) is not shown the row."""
    client.force_login(user)
    client.get(url)  # warm up
    assert area_of(client.get(url).content.decode(), code) == cast.grid_a.name
    few = queries_of(client, url)
    for namesake in ("340102001002009", "340102001002008"):
        make_area(namesake, cast.grid_a.name, "grid", cast.community_a1b, (117.03, 31.805, 117.035, 31.81))
        html = client.get(url).content.decode()
        assert area_of(html, code) == f"{cast.community_a1a.name} · {cast.grid_a.name}"
        assert queries_of(client, url) == few
    client.force_login(cast.outsider)
    response = client.get(url)
    assert response.status_code in (200, 302) and code not in response.content.decode()


def assert_the_summary_names_a_namesake_grid_apart(client, cast, user, url: str) -> None:
    """The filter summary of the list ``url``, filtered by grid A, names it with its community once a
    grid of the same name is in community A1b; from outside the user's area the filter is refused."""
    make_area(
        "340102001002009", cast.grid_a.name, "grid", cast.community_a1b, (117.03, 31.805, 117.035, 31.81)
    )
    client.force_login(user)
    html = client.get(url, {"area": cast.grid_a.code}).content.decode()
    assert f"{cast.community_a1a.name} · {cast.grid_a.name}" in summary_of(html)
    client.force_login(cast.outsider)
    assert client.get(url, {"area": cast.grid_a.code}).status_code == 400


def area_cell(html: str, code: str) -> str:
    """The "Area" cell of the table row of record ``code`` (data-code or data-case)."""
    row = re.search(rf'<tr [^>]*data-(?:code|case)="{re.escape(code)}">(.*?)</tr>', html, re.S)
    assert row, code
    cell = re.search(r'<td [^>]*data-label="Area">([^<]*)</td>', row.group(1))
    assert cell, code
    return cell.group(1).strip()


def home_item_area(html: str, code: str) -> str:
    """The area a home page section's item ``code`` names ("CODE · category · AREA <status>")."""
    item = re.search(rf">{re.escape(code)}</a> · [^·<]*? · (.*?) <span", html)
    assert item, code
    return item.group(1).strip()


def drawn_state(client, url: str) -> str:
    """The ``state`` a page's step forms carry (all alike), as the browser sends it back."""
    import re

    page = client.get(url)
    assert page.status_code == 200
    states = set(re.findall(r'name="state" value="([^"]+)"', page.content.decode()))
    assert len(states) == 1, states
    return states.pop()


def one_taken_one_refused(results):
    """Of two page steps raced (``race``): one taken (302), the other refused (409), which is returned."""
    statuses = sorted(getattr(r, "status_code", 500) for r in results)
    assert statuses == [302, 409], [getattr(r, "content", r)[:300] for r in results]
    return next(r for r in results if r.status_code == 409)


def stale_state_over_the_api(api, outsider, path: str, body: dict, page_state: str, malformed: str) -> None:
    """The record's API at ``path`` (``.../{code}/``) gives as ``step_state`` what its page's forms
    carry (``page_state``); ``body``, a step with an older ``state``, is the 409 of a record changed
    since, with the ``malformed`` state a 400 keyed ``state``, from ``outsider`` (out of the area) a
    404; with the bare status (no "@") it is taken as before (200, a new ``step_state``)."""
    detail = api.get(path).json()
    assert detail["step_state"] == page_state != body["state"]
    transition = f"{path}transition/"
    refused = api.post(transition, body, format="json")
    assert refused.status_code == 409 and "changed since your page was drawn" in refused.json()["detail"]
    bad = api.post(transition, {**body, "state": malformed}, format="json")
    assert bad.status_code == 400 and "state" in bad.json()["errors"]
    assert (
        outsider.post(transition, {**body, "state": detail["step_state"]}, format="json").status_code == 404
    )
    bare = api.post(transition, {**body, "state": body["state"].partition("@")[0]}, format="json")
    assert bare.status_code == 200 and bare.json()["step_state"] not in (page_state, body["state"])

"""The status codes /api/schema/ documents for the writes (every POST that takes a body but the
token's and the imports', proven in test_read_status_codes.py) are the codes those writes answer,
no more and no fewer.

Each write is sent every request that could draw an error: the step or record as a user allowed to
take it, the same as each role that may see the record but not take the step, no credentials, a
wrong token past the limit, a session signed in with a temporary password, ``?format=xml``, an
Accept it does not serve, a parameter it does not read, a text/plain body, an empty JSON body, a
JSON body over the limit, a record out of the user's area or missing, and a step not allowed from
the record's state. The codes answered are compared with the codes its schema names.

Two 409s are not drawn here (governance/schema.py says so where it lists them): registering an
incident, a dispute or a petition again with the key of one saved already and since moved out of
the sender's reach (tests/grids, tests/mediation and tests/petitions test_api.py drive each)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from django.utils import timezone

from governance.models import Notification
from governance.rest import token_failures_reset
from tests.api.test_read_status_codes import _schema, _session
from tests.base import api_client
from tests.grids.conftest import IN_GRID_A, report  # noqa: F401  (the fixture)
from tests.mediation.conftest import med, parties  # noqa: F401  (the fixture)
from tests.petitions.conftest import pet, petitioners  # noqa: F401  (the fixture)

INCIDENTS, DISPUTES, PETITIONS = "/api/v1/incidents/", "/api/v1/disputes/", "/api/v1/petitions/"


def _assert_answers(
    path: str,
    *,
    url: Callable[[], str],
    body: dict,
    user,
    ok: int,
    cases: dict[str, tuple[object, str | None, dict | None, int]],
    settings,
    also: set[str] = frozenset(),
    common: dict[str, int] | None = None,
) -> None:
    """Send ``path``'s write every request that could draw an error (``cases``: the labelled ones of
    this write, each by a user to an address, ``url()`` if None, with a body, ``body`` if None, and
    the code it must draw), check each drew its code and that the schema lists exactly the codes
    drawn, and ``also`` (those argued, not drawn). ``url()`` gives a fresh record's address to each
    request that could take the step, so one taken does not make the next illegal; ``common``
    overrides what a request of every write draws."""

    def post(client, address=None, data=None, **extra) -> int:
        payload = json.dumps(body if data is None else data)
        return client.post(address or url(), payload, content_type="application/json", **extra).status_code

    allowed = api_client(user)
    answered = {
        "the step, as a user allowed to take it": post(allowed),
        "no credentials": post(api_client()),
        "?format=xml": post(allowed, url() + "?format=xml"),
        "Accept: application/xml": post(allowed, HTTP_ACCEPT="application/xml"),
        "?nope=1": post(allowed, url() + "?nope=1"),
        "a text/plain body": allowed.post(url(), json.dumps(body), content_type="text/plain").status_code,
        "an empty JSON body": post(allowed, data={}),
        "a JSON body over the limit": allowed.post(
            url(), "[" + "0," * settings.API_JSON_MAX_BYTES + "0]", content_type="application/json"
        ).status_code,
    }
    for label, (who, address, data, _code) in cases.items():
        answered[label] = post(api_client(who), address, data)
    # A wrong token, then the address past the limit.
    settings.TOKEN_AUTH_FAILURE_LIMIT = 1
    token_failures_reset("127.0.0.1")
    answered["a wrong token"] = post(api_client(), HTTP_AUTHORIZATION="Token wrong")
    answered["a wrong token past the limit"] = post(api_client(), HTTP_AUTHORIZATION="Token wrong")
    token_failures_reset("127.0.0.1")
    # Signed in by the session with a temporary password an administrator set.
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    answered["a session with a temporary password"] = post(_session(user))
    user.must_change_password = False
    user.save(update_fields=["must_change_password"])
    expected = {
        "the step, as a user allowed to take it": ok,
        **COMMON,
        **(common or {}),
        **{label: code for label, (*_, code) in cases.items()},
    }
    assert answered == expected, path
    documented = set(_schema()["paths"][path]["post"]["responses"])
    assert documented == {str(code) for code in answered.values()} | set(also), path


COMMON = {
    "no credentials": 401,
    "?format=xml": 400,
    "Accept: application/xml": 406,
    "?nope=1": 400,
    "a text/plain body": 415,
    "an empty JSON body": 400,
    "a JSON body over the limit": 413,
    "a wrong token": 401,
    "a wrong token past the limit": 429,
    "a session with a temporary password": 403,
}


def _of_a_record(path: str, *, mine: str, unknown: str, outsider, user, illegal: dict | None = None) -> dict:
    """The cases of a write naming a record in its path: one outside ``outsider``'s area and one
    that does not exist are a 404 alike, and ``illegal`` (a step not allowed now) a 409."""
    cases = {
        "outside the area": (outsider, path.replace("{code}", mine), None, 404),
        "an unknown number": (user, path.replace("{code}", unknown), None, 404),
    }
    if illegal is not None:
        cases["a step not allowed now"] = (user, path.replace("{code}", mine), illegal, 409)
    return cases


def test_reporting_an_incident(cast, categories, settings):
    body = {"category": "sanitation", "description": "垃圾堆放", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    _assert_answers(
        INCIDENTS, url=lambda: INCIDENTS, body=body, user=cast.worker_a, ok=201, settings=settings,
        also={"409"},  # sent again, its incident since out of reach: tests/grids/test_api.py
        cases={
            "a read-only role": (cast.analyst, None, None, 403),
            "a mediator": (cast.mediator, None, None, 403),
            "a worker of another district": (cast.outsider, None, None, 400),
            "a grid outside the area": (cast.worker_a, None, {**body, "lat": None, "grid": cast.grid_d.code}, 400),
            "an unknown grid": (cast.worker_a, None, {**body, "lat": None, "grid": "999"}, 400),
        },
    )  # fmt: skip


def test_an_incident_step(cast, report, settings):  # noqa: F811
    path = INCIDENTS + "{code}/transition/"
    _assert_answers(
        path, url=lambda: path.replace("{code}", report().code), body={"action": "accept"},
        user=cast.community_handler, ok=200, settings=settings,
        cases={
            "a read-only role": (cast.analyst, None, None, 403),
            **_of_a_record(path, mine=report().code, unknown="INC-2026-999999", outsider=cast.worker_b,
                           user=cast.community_handler, illegal={"action": "close"}),
        },
    )  # fmt: skip


def _dispute(cast, **over) -> dict:
    data = {
        "category": "neighbours", "area": cast.grid_a.code, "source": "application",
        "description": "噪音扰民纠纷", "parties": parties(),
    }  # fmt: skip
    return {**data, **over}


def test_registering_a_dispute(med, settings):  # noqa: F811
    c = med.cast
    _assert_answers(
        DISPUTES, url=lambda: DISPUTES, body=_dispute(c), user=c.mediator, ok=201, settings=settings,
        also={"409"},  # sent again, its case since transferred away: tests/mediation/test_api.py
        cases={
            "a read-only role": (c.analyst, None, None, 403),
            "a grid worker": (c.worker_a, None, None, 403),
            "a handler of another district": (c.outsider, None, None, 400),
            "an area outside": (c.mediator, None, _dispute(c, area=c.grid_d.code), 400),
            "an unknown area": (c.mediator, None, _dispute(c, area="999"), 400),
            "another organisation": (c.mediator, None, _dispute(c, organisation=med.org_b.pk), 400),
        },
    )  # fmt: skip


def test_a_dispute_step(med, settings):  # noqa: F811
    c, path = med.cast, DISPUTES + "{code}/transition/"
    _assert_answers(
        path, url=lambda: path.replace("{code}", med.register().code),
        body={"action": "accept", "mediator": c.mediator.pk}, user=c.mediator, ok=200, settings=settings,
        cases={
            "district staff": (c.district_officer, None, None, 403),
            "another mediator of the organisation": (med.mediator_x2, None, None, 403),
            **_of_a_record(path, mine=med.register().code, unknown="MED-2026-999999", outsider=med.mediator_b,
                           user=c.mediator, illegal={"action": "conclude"}),
        },
    )  # fmt: skip


def test_recording_a_mediation_session(med, settings):  # noqa: F811
    c, path = med.cast, DISPUTES + "{code}/sessions/"
    # A few minutes ahead (a session may be recorded up to ten minutes early): each request's case is
    # received as it is sent, so a time taken before them all fell before the later cases' minute.
    held_at = (timezone.now() + dt.timedelta(minutes=5)).isoformat()
    session = {"held_at": held_at, "place": "调解室", "attendees": "双方", "summary": "x"}
    long_ago = {**session, "held_at": "2020-01-01T09:00:00+08:00"}  # before the case came in
    _assert_answers(
        path, url=lambda: path.replace("{code}", med.accepted().code), body=session, user=c.mediator,
        ok=201, settings=settings,
        cases={
            "district staff": (c.district_officer, None, None, 403),
            "another mediator of the organisation": (med.mediator_x2, None, None, 403),
            # Not a 400 about the time: the step is not theirs, whatever the body holds.
            "another mediator, a time before the case": (med.mediator_x2, None, long_ago, 403),
            **_of_a_record(path, mine=med.accepted().code, unknown="MED-2026-999999", outsider=med.mediator_b,
                           user=c.mediator),
            "a case not accepted yet": (c.mediator, path.replace("{code}", med.register().code), None, 409),
        },
    )  # fmt: skip


def _assert_a_reveal(
    path: str, *, code: str, person: int, unknown: str, user, outsider, refused: dict, settings
):
    """A reveal's cases: ``refused`` (who may see the record, masked, but not reveal: 403), the
    record outside ``outsider``'s area or missing, and a person of no record (404 alike)."""
    person_param = path.rsplit("{", 1)[1].split("}")[0]
    mine = path.replace("{" + person_param + "}", str(person))
    nobody = path.replace("{code}", code).replace("{" + person_param + "}", "999999")
    _assert_answers(
        path, url=lambda: mine.replace("{code}", code), body={"reason": "核对身份"}, user=user, ok=200,
        settings=settings,
        cases={
            **{label: (who, None, None, 403) for label, who in refused.items()},
            **_of_a_record(mine, mine=code, unknown=unknown, outsider=outsider, user=user),
            "an unknown person": (user, nobody, None, 404),
        },
    )  # fmt: skip


def test_revealing_a_party(med, settings):  # noqa: F811
    c, case = med.cast, med.accepted()
    _assert_a_reveal(
        DISPUTES + "{code}/parties/{party_id}/reveal/", code=case.code, person=case.parties.first().pk,
        unknown="MED-2026-999999", user=c.mediator, outsider=med.mediator_b, settings=settings,
        refused={"an administrator": c.admin, "another mediator of the organisation": med.mediator_x2},
    )  # fmt: skip


def _petition(cast, **over) -> dict:
    data = {
        "channel": "visit", "type": "claim", "category": "labour", "content": "工厂拖欠工资三个月。",
        "area": cast.community_a1a.code, "persons_count": 1, "petitioners": petitioners(1),
    }  # fmt: skip
    return {**data, **over}


def test_registering_a_petition(pet, settings):  # noqa: F811
    c = pet.cast
    _assert_answers(
        PETITIONS, url=lambda: PETITIONS, body=_petition(c), user=c.petition_officer, ok=201,
        settings=settings,
        also={"409"},  # sent again, its petition since out of reach: tests/petitions/test_api.py
        cases={
            "a read-only role": (c.analyst, None, None, 403),
            "a grid worker": (c.worker_a, None, None, 403),
            "an area outside": (c.petition_officer, None, _petition(c, area=c.grid_d.code), 400),
            "an unknown area": (c.petition_officer, None, _petition(c, area="999"), 400),
        },
    )  # fmt: skip


def test_a_petition_step(pet, settings):  # noqa: F811
    c, path = pet.cast, PETITIONS + "{code}/transition/"
    _assert_answers(
        path, url=lambda: path.replace("{code}", pet.register().code),
        body={"action": "assign", "department": c.police.pk}, user=c.petition_officer, ok=200,
        settings=settings,
        cases={
            "the office accepting for the department": (
                c.petition_officer, path.replace("{code}", pet.routed().code), {"action": "accept"}, 403
            ),
            **_of_a_record(path, mine=pet.register().code, unknown="PET-2026-999999", outsider=c.outsider,
                           user=c.petition_officer, illegal={"action": "close"}),
        },
    )  # fmt: skip


def test_revealing_a_petitioner(pet, settings):  # noqa: F811
    c, petition = pet.cast, pet.register()
    _assert_a_reveal(
        PETITIONS + "{code}/petitioners/{petitioner_id}/reveal/", code=petition.code,
        person=petition.petitioners.first().pk, unknown="PET-2026-999999", user=c.petition_officer,
        outsider=c.outsider, settings=settings, refused={"an administrator": c.admin},
    )  # fmt: skip


def test_starting_a_rollup_run(cast, settings, monkeypatch):
    url = "/api/v1/stats/rollups/"

    class Running:
        """The engine's lock held (a run in progress) for the requests that say so."""

        def __init__(self):
            self.held = False

        def __call__(self) -> bool:
            return self.held

    running = Running()
    monkeypatch.setattr("dashboards.api.rollup_in_progress", running)
    _assert_answers(
        url, url=lambda: url, body={"full": True}, user=cast.admin, ok=202, settings=settings,
        cases={
            "an analyst": (cast.analyst, None, None, 403),
            "district staff": (cast.district_officer, None, None, 403),
            "a month to come": (cast.admin, None, {"since": "2999-01"}, 400),
        },
        common={"an empty JSON body": 202},  # every field has a default: a run of the recent months
        also={"409"},  # drawn below, with the engine's lock held
    )  # fmt: skip
    running.held = True
    conflict = api_client(cast.admin).post(url, {"full": True}, format="json")
    assert conflict.status_code == 409 and "409" in _schema()["paths"][url]["post"]["responses"]


def test_marking_a_notice_read(cast, settings):
    from governance.services import notify

    def mine() -> str:
        # A fresh unread notice for each request that could mark one.
        notify(user=cast.worker_a, key=f"n{Notification.objects.count()}", message="事件已逾期")
        return f"/api/v1/notifications/{cast.worker_a.notifications.latest('pk').pk}/read/"

    path = "/api/v1/notifications/{id}/read/"
    notify(user=cast.worker_b, key="theirs", message="事件已逾期")
    theirs = cast.worker_b.notifications.get().pk
    read = mine()
    Notification.objects.filter(user=cast.worker_a).update(read_at=timezone.now())
    _assert_answers(
        path, url=mine, body={}, user=cast.worker_a, ok=200, settings=settings,
        cases={
            "another user's notice": (cast.worker_a, path.replace("{id}", str(theirs)), None, 404),
            "an unknown number": (cast.worker_a, path.replace("{id}", "999999"), None, 404),
            "a notice read already": (cast.worker_a, read, None, 200),
        },
        common={"an empty JSON body": 200},  # it takes no field
    )  # fmt: skip
    assert Notification.objects.get(pk=theirs).read_at is None


def test_marking_notices_read_up_to_an_id(cast, settings):
    from governance.services import notify

    url = "/api/v1/notifications/read/"
    notify(user=cast.worker_a, key="one", message="事件已逾期")
    newest = cast.worker_a.notifications.get().pk
    _assert_answers(
        url, url=lambda: url, body={"up_to": newest}, user=cast.worker_a, ok=200, settings=settings,
        cases={
            "every role, its own": (cast.analyst, None, None, 200),
            "an id that is not a number": (cast.worker_a, None, {"up_to": "x"}, 400),
        },
    )  # fmt: skip


def test_every_write_is_proven_here_or_with_the_imports():
    proven = {
        INCIDENTS, f"{INCIDENTS}{{code}}/transition/", DISPUTES, f"{DISPUTES}{{code}}/transition/",
        f"{DISPUTES}{{code}}/sessions/", f"{DISPUTES}{{code}}/parties/{{party_id}}/reveal/", PETITIONS,
        f"{PETITIONS}{{code}}/transition/", f"{PETITIONS}{{code}}/petitioners/{{petitioner_id}}/reveal/",
        "/api/v1/stats/rollups/", "/api/v1/notifications/{id}/read/", "/api/v1/notifications/read/",
        # test_read_status_codes.py
        "/api/v1/auth/token/", "/api/v1/stats/case-counts/", "/api/v1/stats/populations/",
        "/api/v1/surveys/responses/",
    }  # fmt: skip
    writes = {
        path
        for path, methods in _schema()["paths"].items()
        if set(methods) & {"post", "put", "patch", "delete"}
    }
    assert writes == proven

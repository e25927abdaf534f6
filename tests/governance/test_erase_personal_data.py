"""manage.py erase_personal_data: the personal details of long-closed cases and petitions, erased on
request only, set-based, audited, idempotent, with every record and statistic left as it was."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from dashboards.models import IndicatorValue
from dashboards.rollup import run_rollup
from governance.models import AuditEntry, PersonalDataAccess
from mediation.models import DisputeCase, DisputeParty
from petitions.models import Petition, Petitioner
from tests.base import api_client, make_user
from tests.mediation.conftest import med  # noqa: F401 - fixtures of both apps' records
from tests.petitions.conftest import pet  # noqa: F401

YEAR_AGO = dt.timedelta(days=400)


def _run(*args: str) -> str:
    out = StringIO()
    call_command("erase_personal_data", *args, stdout=out)
    return out.getvalue()


def _cut_off() -> str:
    return (timezone.localdate() - dt.timedelta(days=365)).isoformat()


@pytest.fixture
def records(med, pet):  # noqa: F811
    """Two records to erase of each app, and one of each kind that must stay."""
    now = timezone.now()

    def closed_case(closed_ago: dt.timedelta, **fields):
        case = med.in_mediation()
        case.transition(
            action="conclude", actor=case.mediator, outcome="failure", other_routes=["litigation"]
        )
        case.transition(action="close", actor=case.mediator)
        DisputeCase.objects.filter(pk=case.pk).update(closed_at=now - closed_ago, **fields)
        return case

    def closed_petition(closed_ago: dt.timedelta, window_ended_ago: dt.timedelta):
        petition = pet.replied()
        petition.transition(action="close", actor=pet.cast.petition_officer)
        Petition.objects.filter(pk=petition.pk).update(
            closed_at=now - closed_ago, review_request_until=now - window_ended_ago
        )
        return petition

    declined = pet.register()
    Petition.objects.filter(pk=declined.pk).update(status="declined", closed_at=now - YEAR_AGO)
    return {
        "erased_cases": [closed_case(YEAR_AGO), closed_case(YEAR_AGO, judicial_status="rejected")],
        "kept_cases": [
            med.in_mediation(),  # open
            closed_case(dt.timedelta(days=10)),  # closed after the cut-off
            closed_case(YEAR_AGO, judicial_status="applied"),  # the court has still to decide
        ],
        "erased_petitions": [closed_petition(YEAR_AGO, dt.timedelta(days=360)), declined],
        # Closed long ago, but a review request received in time may still be recorded.
        "kept_petitions": [closed_petition(YEAR_AGO, dt.timedelta(days=5)), pet.accepted()],
        "admin": make_user("retention_admin", "admin", med.cast.city),
    }


def _personal(model, **where) -> list[tuple]:
    fields = ("name", "id_number", "phone", "address", "id_hash")
    return sorted(tuple(getattr(p, f) for f in fields) for p in model.objects.filter(**where))


def test_a_dry_run_counts_the_eligible_and_changes_nothing(records):
    before = (_personal(DisputeParty), _personal(Petitioner))
    out = _run("--closed-before", _cut_off())
    assert "4 parties of 2 dispute cases" in out and "2 petitioners of 2 petitions" in out
    assert "nothing was changed" in out
    assert (_personal(DisputeParty), _personal(Petitioner)) == before
    assert not AuditEntry.objects.exists()


def test_commit_erases_exactly_the_eligible_people_and_a_second_run_erases_none(records):
    erased_cases = [c.pk for c in records["erased_cases"]]
    erased_petitions = [p.pk for p in records["erased_petitions"]]
    kept = (
        _personal(DisputeParty, case__in=[c.pk for c in records["kept_cases"]]),
        _personal(Petitioner, petition__in=[p.pk for p in records["kept_petitions"]]),
    )
    people = (DisputeParty.objects.count(), Petitioner.objects.count())
    out = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert "4 parties of 2 dispute cases" in out and "2 petitioners of 2 petitions" in out
    assert _personal(DisputeParty, case__in=erased_cases) == [("", "", "", "", "")] * 4
    assert _personal(Petitioner, petition__in=erased_petitions) == [("", "", "", "", "")] * 2
    assert not Petitioner.objects.filter(petition__in=erased_petitions).exclude(phone_hash="").exists()
    # Everything else as it was, and every row still there (roles, positions, records).
    assert (
        _personal(DisputeParty, case__in=[c.pk for c in records["kept_cases"]]),
        _personal(Petitioner, petition__in=[p.pk for p in records["kept_petitions"]]),
    ) == kept
    assert (DisputeParty.objects.count(), Petitioner.objects.count()) == people
    entries = AuditEntry.objects.filter(action="personal_data.erase").order_by("object_type")
    assert [(e.object_type, e.object_id, e.after, e.actor) for e in entries] == [
        ("mediation.disputeparty", _cut_off(),
         {"closed_before": _cut_off(), "people": 4, "records": 2, "texts": 0}, records["admin"]),
        ("petitions.petitioner", _cut_off(),
         {"closed_before": _cut_off(), "people": 2, "records": 2, "texts": 0}, records["admin"]),
    ]  # fmt: skip
    again = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert "0 parties of 0 dispute cases" in again and "0 petitioners of 0 petitions" in again


def test_the_setting_gives_the_cut_off_and_without_it_or_the_option_nothing_runs(records, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = None
    with pytest.raises(CommandError, match="PERSONAL_DATA_RETENTION_DAYS"):
        _run("--commit", "--actor", "retention_admin")
    settings.PERSONAL_DATA_RETENTION_DAYS = 365
    assert f"closed before {_cut_off()}" in _run()
    assert "4 parties of 2 dispute cases" in _run()
    settings.PERSONAL_DATA_RETENTION_DAYS = 5  # the case closed ten days ago too
    assert "6 parties of 3 dispute cases" in _run()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--closed-before", "2025-02-30"], "--closed-before"),
        (["--closed-before", "yesterday"], "--closed-before"),
        (["--closed-before", "2999-01-01"], "--closed-before"),
        (["--closed-before", "2020-01-01", "--commit"], "--actor"),
        (["--closed-before", "2020-01-01", "--commit", "--actor", "nobody"], "--actor"),
    ],
)
def test_a_bad_option_is_an_error_naming_it_and_nothing_is_erased(records, args, named):
    before = (_personal(DisputeParty), _personal(Petitioner))
    with pytest.raises(CommandError, match=named):
        _run(*args)
    assert (_personal(DisputeParty), _personal(Petitioner)) == before
    assert not AuditEntry.objects.exists()


def test_the_statistics_are_the_same_before_and_after_the_erasure(records):
    def values():
        run_rollup(full=True)
        return sorted(
            IndicatorValue.objects.values_list(
                "indicator", "area_id", "period", "numerator", "denominator", "value"
            )
        )

    before = values()
    assert any(row[0].startswith("dispute_") for row in before)
    assert any(row[0].startswith("petition") for row in before)
    _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert values() == before


def test_an_erased_person_reads_as_erased_and_a_reveal_says_nothing_is_stored(records, med, pet, client):  # noqa: F811
    _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    case, petition = records["erased_cases"][0], records["erased_petitions"][0]
    party, person = case.parties.first(), petition.petitioners.first()
    # The API: masked as erased, and a reveal is a 400 naming the person, nothing logged.
    body = api_client(case.mediator).get(f"/api/v1/disputes/{case.code}/").json()
    assert {p["name"] for p in body["parties"]} == {"(personal details erased)"}
    refused = api_client(case.mediator).post(
        f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/", {"reason": "回访"}
    )
    assert refused.status_code == 400 and "erased" in str(refused.json()["errors"]["party"])
    officer = pet.cast.petition_officer
    body = api_client(officer).get(f"/api/v1/petitions/{petition.code}/").json()
    assert {p["name"] for p in body["petitioners"]} == {"(personal details erased)"}
    refused = api_client(officer).post(
        f"/api/v1/petitions/{petition.code}/petitioners/{person.pk}/reveal/",
        {"reason": "回访"},
        format="json",
    )
    assert refused.status_code == 400 and "erased" in str(refused.json()["errors"]["petitioner"])
    assert not PersonalDataAccess.objects.exists()
    # From outside the area: 404, as for anyone's record there, not the 400 telling it was erased.
    outsider = api_client(med.cast.outsider)
    assert (
        outsider.post(
            f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/", {"reason": "回访"}
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/api/v1/petitions/{petition.code}/petitioners/{person.pk}/reveal/",
            {"reason": "回访"},
            format="json",
        ).status_code
        == 404
    )
    # The pages, in Chinese: the case and the petition show it, and offer no reveal.
    client.force_login(case.mediator)
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        erased = str(translation.gettext("(personal details erased)"))
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert html.count(erased) == 2 and f"/parties/{party.pk}/reveal/" not in html
    page = client.post(f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/", {"reason": "回访"})
    assert page.status_code == 400 and "保留期" in page.content.decode()
    client.force_login(officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert erased in html and f"/petitioners/{person.pk}/reveal/" not in html
    assert client.get("/petitions/").status_code == 200
    assert not PersonalDataAccess.objects.exists()


def test_an_erased_name_is_shown_as_erased_not_as_nothing():
    assert DisputeParty(name="").masked_name == "(personal details erased)"
    assert Petitioner(name="").masked_name == "(personal details erased)"
    assert not Petitioner(name="").has_personal_data and DisputeParty(name="").erased


def test_the_lists_show_erased_people_without_a_query_for_each(records, med, pet, client):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    pages = {"/mediation/cases/?status=closed": med.cast.mediator, "/petitions/": pet.cast.petition_officer}
    counts = {}
    for url, user in pages.items():
        client.force_login(user)
        assert "(personal details erased)" in client.get(url).content.decode()  # warm-up
        with CaptureQueriesContext(connection) as first:
            client.get(url)
        counts[url] = len(first)
    # More erased records of each app: the same number of queries.
    for _ in range(3):
        copy = med.in_mediation()
        DisputeCase.objects.filter(pk=copy.pk).update(status="closed", closed_at=timezone.now() - YEAR_AGO)
    for _ in range(3):
        Petition.objects.filter(pk=pet.register().pk).update(
            status="declined", closed_at=timezone.now() - YEAR_AGO
        )
    assert "6 parties of 3 dispute cases" in _run(
        "--closed-before", _cut_off(), "--commit", "--actor", "retention_admin"
    )
    for url, user in pages.items():
        client.force_login(user)
        client.get(url)
        with CaptureQueriesContext(connection) as again:
            html = client.get(url).content.decode()
        assert html.count("(personal details erased)") >= 3 and len(again) == counts[url], url


# The free texts of a record naming its people (张三丰 and 李四, 王建国: the fixtures' details).
CASE_TEXT = (
    "申请人张三丰（身份证11010519491231002X，电话138 1234 5678）称李四拖欠维修费；"
    "证人王五13700001111；张先生另述。"
)
CASE_SCRUBBED = (
    "申请人(erased)（身份证(erased)，电话(erased)）称(erased)拖欠维修费；证人王五137****1111；张先生另述。"
)
TERMS = "李四于2026年1月31日前向张三丰支付维修费2000元，联系电话１３９８７６５４３２１。"
TERMS_SCRUBBED = "(erased)于2026年1月31日前向(erased)支付维修费2000元，联系电话(erased)。"
NOTE = "已电话告知张三丰（13812345678），住甲区春晖路12号3栋。"
NOTE_SCRUBBED = "已电话告知(erased)（(erased)），住(erased)。"
CONTENT = "我叫王建国，身份证号11010519491231002X，电话13812345678，反映工地噪音。王先生"
CONTENT_SCRUBBED = "我叫(erased)，身份证号(erased)，电话(erased)，反映工地噪音。王先生"
REPLY = "王建国同志：经核查已责令停工，如有疑问请致电0551-62345678。"
REPLY_SCRUBBED = "(erased)同志：经核查已责令停工，如有疑问请致电055*****5678。"


def _write_texts(records) -> None:
    from mediation.models import DisputeEvent, DisputeSession
    from petitions.models import PetitionEvent

    for case in [*records["erased_cases"], *records["kept_cases"]]:
        DisputeCase.objects.filter(pk=case.pk).update(description=CASE_TEXT, agreement_terms=TERMS)
        DisputeEvent.objects.filter(case=case).update(note=NOTE)
        DisputeSession.objects.create(
            case=case, held_at=timezone.now() - YEAR_AGO, place="甲一街道调解室", attendees="张三丰、李四",
            summary=NOTE, recorded_by=case.mediator,
        )  # fmt: skip
    for petition in [*records["erased_petitions"], *records["kept_petitions"]]:
        Petition.objects.filter(pk=petition.pk).update(content=CONTENT, reply_text=REPLY)
        PetitionEvent.objects.filter(petition=petition).update(note=CONTENT)


def _texts(case_pks, petition_pks) -> list:
    from mediation.models import DisputeEvent, DisputeSession
    from petitions.models import PetitionEvent

    return [
        sorted(DisputeCase.objects.filter(pk__in=case_pks).values_list("description", "agreement_terms")),
        sorted(DisputeEvent.objects.filter(case__in=case_pks).values_list("note", flat=True)),
        sorted(DisputeSession.objects.filter(case__in=case_pks).values_list("attendees", "summary")),
        sorted(Petition.objects.filter(pk__in=petition_pks).values_list("content", "reply_text")),
        sorted(PetitionEvent.objects.filter(petition__in=petition_pks).values_list("note", flat=True)),
    ]


def _events(case_pks, petition_pks) -> tuple[int, int]:
    from mediation.models import DisputeEvent
    from petitions.models import PetitionEvent

    return (
        DisputeEvent.objects.filter(case__in=case_pks).count(),
        PetitionEvent.objects.filter(petition__in=petition_pks).count(),
    )


def test_commit_scrubs_the_erased_peoples_details_from_their_records_texts_only(records):
    _write_texts(records)
    erased = ([c.pk for c in records["erased_cases"]], [p.pk for p in records["erased_petitions"]])
    kept = ([c.pk for c in records["kept_cases"]], [p.pk for p in records["kept_petitions"]])
    kept_before = _texts(*kept)
    case_events, petition_events = _events(*erased)
    out = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert _texts(*erased) == [
        [(CASE_SCRUBBED, TERMS_SCRUBBED)] * 2,
        [NOTE_SCRUBBED] * case_events,
        [("(erased)、(erased)", NOTE_SCRUBBED)] * 2,
        [(CONTENT_SCRUBBED, REPLY_SCRUBBED)] * 2,
        [CONTENT_SCRUBBED] * petition_events,
    ]
    # The same names and numbers in the records not eligible (the same fixture people) stay as typed.
    assert _texts(*kept) == kept_before
    assert kept_before[0] == [(CASE_TEXT, TERMS)] * 3
    case_texts = 2 * 2 + case_events + 2 * 2  # description and terms, notes, sessions' two fields
    petition_texts = 2 * 2 + petition_events
    assert f"{case_texts} texts scrubbed" in out and f"{petition_texts} texts scrubbed" in out
    entries = dict(
        AuditEntry.objects.filter(action="personal_data.erase").values_list("object_type", "after__texts")
    )
    assert entries == {"mediation.disputeparty": case_texts, "petitions.petitioner": petition_texts}
    # A second run: nothing left to erase, no text changed.
    after = _texts(*erased)
    again = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert "0 texts scrubbed" in again and _texts(*erased) == after


def test_the_marker_is_written_in_the_sites_language(records, settings):
    case = records["erased_cases"][0]
    DisputeCase.objects.filter(pk=case.pk).update(description="张三丰与李四")
    settings.LANGUAGE_CODE = "zh-hans"
    _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert DisputeCase.objects.get(pk=case.pk).description == "（已删除）与（已删除）"


def test_a_dry_run_counts_the_texts_it_would_scrub_and_writes_none(records):
    _write_texts(records)
    erased = ([c.pk for c in records["erased_cases"]], [p.pk for p in records["erased_petitions"]])
    before = _texts(*erased)
    case_events, petition_events = _events(*erased)
    out = _run("--closed-before", _cut_off())
    assert f"{2 * 2 + case_events + 2 * 2} texts would be scrubbed" in out
    assert f"{2 * 2 + petition_events} texts would be scrubbed" in out
    assert _texts(*erased) == before and not AuditEntry.objects.exists()


def test_a_text_too_long_for_its_column_once_scrubbed_is_cut_to_fit(records):
    from mediation.models import DisputeSession

    case = records["erased_cases"][0]
    # 李四 (2 characters) becomes (erased) (8): 400 characters of names no longer fit in 400.
    session = DisputeSession.objects.create(
        case=case, held_at=timezone.now() - YEAR_AGO, place="调解室", attendees="李四" * 200,
        summary="-", recorded_by=case.mediator,
    )  # fmt: skip
    _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    attendees = DisputeSession.objects.get(pk=session.pk).attendees
    assert len(attendees) == 400 and attendees == ("(erased)" * 50)[:399] + "…"


def test_the_texts_are_scrubbed_a_chunk_of_records_at_a_time_in_a_fixed_number_of_queries(
    records,
    med,  # noqa: F811 - the fixtures imported above
    pet,  # noqa: F811
    monkeypatch,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.management.commands import erase_personal_data

    _write_texts(records)
    for _ in range(3):  # five records of each app to erase, three cases referred from an incident
        case = med.in_mediation()
        DisputeCase.objects.filter(pk=case.pk).update(
            status="closed", closed_at=timezone.now() - YEAR_AGO, description=CASE_TEXT
        )
        _incident_of(case, med, CASE_TEXT)
        Petition.objects.filter(pk=pet.register().pk).update(
            status="declined", closed_at=timezone.now() - YEAR_AGO, content=CONTENT
        )

    def tables(queries, verb: str) -> dict[str, int]:
        """How many of the ``verb`` (SELECT, UPDATE) queries read or wrote each text table itself."""
        names = ("mediation_disputecase", "mediation_disputesession", "mediation_disputeevent",
                 "grids_incident", "petitions_petition", "petitions_petitionevent")  # fmt: skip
        heads = [q["sql"].split(" WHERE ")[0] for q in queries if q["sql"].startswith(verb)]
        table = 'FROM "{}"' if verb == "SELECT" else 'UPDATE "{}"'
        return {n: sum(table.format(n) in head for head in heads) for n in names}

    monkeypatch.setattr(erase_personal_data, "CHUNK_SIZE", 2)  # three chunks of each app
    with CaptureQueriesContext(connection) as queries:
        out = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert "10 parties of 5 dispute cases" in out and "5 petitioners of 5 petitions" in out
    # Each text table: one SELECT and at most one UPDATE a chunk, whatever the rows in it.
    selects, updates = tables(queries, "SELECT"), tables(queries, "UPDATE")
    assert all(n == 3 for n in selects.values()), selects
    assert all(1 <= n <= 3 for n in updates.values()), updates
    # In all: the actor (2) and the transaction (2); for each app the two counts, the records' keys
    # (one cursor), the erasing UPDATE and the audit entry, and a chunk's people and a SELECT and an
    # UPDATE a table (four of a case's, with the incident's, two of a petition's) for each of its
    # three chunks.
    assert len(queries) <= 4 + 2 * 5 + 3 * (1 + 4 * 2) + 3 * (1 + 2 * 2), [q["sql"][:80] for q in queries]


def _incident_of(case, med, description: str):  # noqa: F811 - the fixture imported above
    """The grid incident ``case`` was referred from, its description naming the case's people."""
    from grids import services as grid_services
    from grids.models import Incident

    incident = grid_services.incident_report(
        actor=med.cast.worker_a, category="dispute", description="-", grid=med.cast.grid_a.code
    )
    Incident.objects.filter(pk=incident.pk).update(description=description)
    DisputeCase.objects.filter(pk=case.pk).update(incident=incident)
    return incident


def test_the_description_of_the_incident_a_case_was_referred_from_is_scrubbed_too(records, med):  # noqa: F811
    from grids.models import Incident

    erased = [_incident_of(case, med, CASE_TEXT).pk for case in records["erased_cases"]]
    kept = [_incident_of(case, med, CASE_TEXT).pk for case in records["kept_cases"]]
    dry = _run("--closed-before", _cut_off())
    assert "2 texts would be scrubbed" in dry  # the two incidents' descriptions, nothing else written
    assert set(Incident.objects.filter(pk__in=erased).values_list("description", flat=True)) == {CASE_TEXT}
    out = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    descriptions = dict(Incident.objects.values_list("pk", "description"))
    assert [descriptions[pk] for pk in erased] == [CASE_SCRUBBED] * 2
    # An incident of a case not eligible keeps its text: its people may still be needed.
    assert [descriptions[pk] for pk in kept] == [CASE_TEXT] * 3
    assert "2 texts scrubbed" in out
    entry = AuditEntry.objects.get(action="personal_data.erase", object_type="mediation.disputeparty")
    assert entry.after["texts"] == 2
    again = _run("--closed-before", _cut_off(), "--commit", "--actor", "retention_admin")
    assert "0 texts scrubbed" in again

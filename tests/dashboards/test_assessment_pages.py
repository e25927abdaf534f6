"""The assessment entry page: hand scores with evidence, adjustments and their approval, vetoes."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal as D
from html import escape as html_escape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from dashboards.assessment import adjustment_enter
from dashboards.assessment_models import (
    Adjustment,
    AssessmentItem,
    AssessmentRun,
    AssessmentScheme,
    ManualScore,
    VetoEvent,
)
from governance.models import AuditEntry, Role
from governance.workflow import ActionInvalid
from tests.base import make_user
from tests.dashboards import assessment_data


@pytest.fixture
def data(cast):
    assessment_data.build(cast)
    cast.city_officer = make_user("city_officer", Role.HANDLER, cast.city)
    cast.city_officer_2 = make_user("city_officer_2", Role.HANDLER, cast.city)
    cast.url = f"/dashboards/assessments/{cast.scheme.pk}/entries/"
    return cast


def _deduction(data, occurrences: str = "2", reason: str = "两起重大事件") -> dict:
    """District B: the negative list's one entry (2 points each) ``occurrences`` times."""
    return {
        "form": "adjustment",
        "adjustment-kind": "deduction",
        "adjustment-area": "340103000000",
        "adjustment-negative_entry": data.scheme.negative_list.get().pk,
        "adjustment-occurrences": occurrences,
        "adjustment-reason": reason,
    }


def _one_point_bonus(data, reason: str) -> Adjustment:
    """A bonus of 1 point on the hand-scored item for district A, entered by the city officer."""
    return adjustment_enter(
        scheme=data.scheme,
        area=data.district_a,
        kind="bonus",
        reason=reason,
        item=data.manual_item,
        points=D("1"),
        actor=data.city_officer,
    )


def test_a_manager_enters_a_hand_score_with_evidence(client, data):
    client.force_login(data.city_officer)
    assert client.get(data.url).status_code == 200
    response = client.post(
        data.url,
        {
            "form": "manual",
            "manual-item": data.manual_item.pk,
            "manual-area": "340102000000",
            "manual-points": "17.5",
            "manual-evidence": SimpleUploadedFile("ledger.pdf", b"%PDF-1.4"),
        },
    )
    assert response.status_code == 302
    score = ManualScore.objects.get()
    assert score.points == D("17.50") and score.evidence.name.endswith(".pdf")
    assert AuditEntry.objects.filter(action="assessment.manual_score").count() == 1


def test_the_evidence_is_listed_and_opened_by_the_managers_only_under_a_generated_name(
    client, data, settings, tmp_path
):
    # The evidence was required but no page, API or admin ever showed it; it was stored under the name
    # it was sent with (a resident's name) and of any type (an SVG with a script).
    settings.MEDIA_ROOT = tmp_path
    client.force_login(data.city_officer)
    base = {"form": "manual", "manual-item": data.manual_item.pk, "manual-area": "340102000000"}
    refused = client.post(
        data.url,
        {**base, "manual-points": "10", "manual-evidence": SimpleUploadedFile("王建国家门口.svg", b"<svg/>")},
    )
    assert refused.status_code == 400 and "evidence" in refused.context["manual"].errors
    assert not ManualScore.objects.exists() and not list(tmp_path.rglob("*.svg"))
    pdf = b"%PDF-1.4 ledger"
    response = client.post(
        data.url,
        {**base, "manual-points": "10", "manual-evidence": SimpleUploadedFile("王建国 台账.PDF", pdf)},
    )
    assert response.status_code == 302
    score = ManualScore.objects.get()
    assert re.fullmatch(r"assessment/evidence/\d{4}/[0-9a-f]{32}\.pdf", score.evidence.name)
    url = f"/dashboards/assessments/{data.scheme.pk}/evidence/{score.pk}/"
    page = client.get(data.url).content.decode()
    assert 'id="manual-scores"' in page and f'href="{url}"' in page
    served = client.get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == pdf
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"] == f'attachment; filename="evidence-{score.pk}.pdf"'
    assert served["X-Content-Type-Options"] == "nosniff" and served["Cache-Control"] == "private, no-store"
    # A reader of the results who does not manage the assessment, and someone outside its area.
    client.force_login(data.analyst)
    assert client.get(url).status_code in (403, 404)
    client.force_login(data.outsider)
    assert client.get(url).status_code == 404
    client.force_login(data.city_officer)
    assert (
        client.get(f"/dashboards/assessments/{data.scheme.pk}/evidence/{score.pk + 99}/").status_code == 404
    )


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file a .doc or .xls is
ZIP = b"PK\x03\x04"  # the package an .ofd, .docx or .xlsx is


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("台账.pdf", b"<html><script>alert(1)</script></html>"),
        ("台账.docx", b"MZ\x90\x00 an executable"),
        ("台账.xlsx", OLE2 + b"\0" * 64),  # an old workbook named as a new one: Excel refuses to open it
        ("台账.doc", ZIP + b"\0" * 64),
        ("台账.ofd", b"%PDF-1.4"),
    ],
    ids=["html-as-pdf", "program-as-docx", "xls-as-xlsx", "zip-as-doc", "pdf-as-ofd"],
)
def test_a_document_whose_content_is_not_what_its_name_says_is_refused(
    client, data, settings, tmp_path, name, content
):
    """Documents were taken by their name alone: any file renamed to .pdf or .docx was stored and
    handed to the managers as that document (pictures were already checked by their content)."""
    settings.MEDIA_ROOT = tmp_path
    client.force_login(data.city_officer)
    base = {"form": "manual", "manual-item": data.manual_item.pk, "manual-area": "340102000000"}
    refused = client.post(
        data.url, {**base, "manual-points": "10", "manual-evidence": SimpleUploadedFile(name, content)}
    )
    assert refused.status_code == 400 and list(refused.context["manual"].errors) == ["evidence"]
    kind = name.rsplit(".", 1)[1].upper()
    assert f"is not the {kind} file its name says" in refused.content.decode()
    assert not ManualScore.objects.exists() and not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("台账.pdf", b"\xef\xbb\xbf%PDF-1.7 ledger"),  # a header a little way in, as readers allow
        ("台账.ofd", ZIP + b"OFD.xml"),
        ("台账.docx", ZIP + b"[Content_Types].xml"),
        ("台账.xlsx", ZIP + b"[Content_Types].xml"),
        ("台账.doc", OLE2 + b"\0" * 64),
        ("台账.xls", OLE2 + b"\0" * 64),
    ],
    ids=["pdf", "ofd", "docx", "xlsx", "doc", "xls"],
)
def test_a_document_of_each_accepted_kind_is_stored_as_it_came(
    client, data, settings, tmp_path, name, content
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(data.city_officer)
    base = {"form": "manual", "manual-item": data.manual_item.pk, "manual-area": "340102000000"}
    response = client.post(
        data.url, {**base, "manual-points": "10", "manual-evidence": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 302
    assert ManualScore.objects.get().evidence.open("rb").read() == content


def test_a_picture_as_evidence_is_stored_upright_without_its_metadata(client, data, settings, tmp_path):
    """A phone photo of a ledger page was kept as sent: its EXIF (the GPS position where it was
    taken, the camera's serial number, the maker's notes) went to everyone who opened the evidence."""
    settings.MEDIA_ROOT = tmp_path
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turned a quarter right
    exif[0xA431] = "SN-0042-7731"  # BodySerialNumber
    exif[0x8825] = {1: "N", 2: (31.0, 48.0, 18.0), 3: "E", 4: (117.0, 0.0, 18.0)}  # GPSInfo
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(photo, "JPEG", exif=exif)
    assert b"SN-0042-7731" in photo.getvalue()
    client.force_login(data.city_officer)
    base = {"form": "manual", "manual-item": data.manual_item.pk, "manual-area": "340102000000"}
    # A file named as a picture that is not one is refused naming the evidence, nothing saved.
    refused = client.post(
        data.url,
        {**base, "manual-points": "10", "manual-evidence": SimpleUploadedFile("台账.jpg", b"%PDF-1.4")},
    )
    assert refused.status_code == 400 and "evidence" in refused.context["manual"].errors
    assert "is not a JPEG, PNG or WebP image" in refused.content.decode()
    assert not ManualScore.objects.exists()
    response = client.post(
        data.url,
        {**base, "manual-points": "10", "manual-evidence": SimpleUploadedFile("台账.JPG", photo.getvalue())},
    )
    assert response.status_code == 302
    score = ManualScore.objects.get()
    assert re.fullmatch(r"assessment/evidence/\d{4}/[0-9a-f]{32}\.jpg", score.evidence.name)
    stored = score.evidence.open("rb").read()
    assert b"SN-0042-7731" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.size == (30, 40) and not image.getexif()


def test_a_hand_score_without_evidence_or_above_the_maximum_is_refused_and_nothing_saved(client, data):
    client.force_login(data.city_officer)
    base = {"form": "manual", "manual-item": data.manual_item.pk, "manual-area": "340102000000"}
    response = client.post(data.url, {**base, "manual-points": "5"})
    assert response.status_code == 400 and "evidence" in response.context["manual"].errors
    response = client.post(
        data.url, {**base, "manual-points": "25", "manual-evidence": SimpleUploadedFile("e.pdf", b"%PDF")}
    )
    assert response.status_code == 400 and "points" in response.content.decode()
    assert ManualScore.objects.count() == 0


def test_a_hand_score_reports_every_error_at_once_and_states_the_maximum(client, data):
    client.force_login(data.city_officer)
    page = client.get(data.url).content.decode()
    maximum = 20  # the item's max_points, 20.00, as the page writes it
    assert data.manual_item.max_points == 20
    assert f"{data.manual_item.name} (at most {maximum} points)" in page
    # Above the maximum and no file: both at once, the limit named.
    response = client.post(
        data.url,
        {
            "form": "manual",
            "manual-item": data.manual_item.pk,
            "manual-area": "340102000000",
            "manual-points": "25",
        },
    )
    assert response.status_code == 400
    errors = response.context["manual"].errors
    assert set(errors) == {"points", "evidence"}
    assert errors["points"] == [f"At most {maximum} points for this item."]
    assert 'value="25"' in response.content.decode() and ManualScore.objects.count() == 0
    # A file was chosen but another field is wrong: the page says to choose it again.
    response = client.post(
        data.url,
        {
            "form": "manual",
            "manual-item": data.manual_item.pk,
            "manual-area": "340102000000",
            "manual-points": "25",
            "manual-evidence": SimpleUploadedFile("e.pdf", b"%PDF"),
        },
    )
    assert list(response.context["manual"].errors) == ["points"]
    assert "data-choose-again" in response.content.decode() and ManualScore.objects.count() == 0


def test_a_refused_entry_shows_the_error_at_its_field_without_internal_names(client, data, settings):
    # The service's refusal was shown above the form as "points: ..." (the internal English name
    # in the Chinese page) and the field in error was not marked.
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(data.city_officer)
    response = client.post(
        data.url,
        {
            "form": "manual",
            "manual-item": data.manual_item.pk,
            "manual-area": "340102000000",
            "manual-points": "25",
            "manual-evidence": SimpleUploadedFile("e.pdf", b"%PDF"),
        },
    )
    assert response.status_code == 400
    form = response.context["manual"]
    assert list(form.errors) == ["points"] and not form.non_field_errors()
    assert "points:" not in response.content.decode()
    response = client.post(
        data.url,
        {
            "form": "adjustment",
            "adjustment-kind": "bonus",
            "adjustment-area": "340102000000",
            "adjustment-reason": "排名上升",
        },
    )
    assert response.status_code == 400
    # The bonus's item and points are both missing: both named at once.
    assert list(response.context["adjustment"].errors) == ["item", "points"]
    assert "item:" not in response.content.decode()
    assert ManualScore.objects.count() == 0 and Adjustment.objects.count() == 0
    # The selects start on what to choose, not on Django's dashes, and say so when left there.
    html = client.get(data.url).content.decode()
    assert "---------" not in html and "请选择区域" in html and "请选择考核项目" in html
    response = client.post(data.url, {"form": "manual", "manual-points": "5"})
    assert response.status_code == 400
    assert response.context["manual"].errors["item"] == ["请选择考核项目。"]
    assert response.context["manual"].errors["area"] == ["请选择区域。"]
    assert ManualScore.objects.count() == 0


def test_a_deduction_reports_its_reason_and_entry_together(client, data):
    client.force_login(data.city_officer)
    post = {**_deduction(data, "0", " "), "adjustment-negative_entry": ""}
    response = client.post(data.url, post)
    assert response.status_code == 400
    assert set(response.context["adjustment"].errors) == {"reason", "negative_entry", "occurrences"}
    assert Adjustment.objects.count() == 0


@pytest.mark.parametrize("occurrences", ["9999999", "99999999999999"])
def test_a_deduction_with_absurd_occurrences_is_refused_at_that_field(client, data, occurrences):
    # 9,999,999 x 2 points did not fit the points column: full_clean's ValidationError was a 500.
    client.force_login(data.city_officer)
    response = client.post(data.url, _deduction(data, occurrences, "录入错误"))
    assert response.status_code == 400
    assert list(response.context["adjustment"].errors) == ["occurrences"]
    assert Adjustment.objects.count() == 0


def test_the_adjustment_form_reports_every_error_at_once_and_states_the_limits(client, data):
    # The deduction's entry and occurrences, and the bonus's item and points, were checked by the
    # service one at a time after the form's own fields: fix one, send, learn the next. The bonus cap
    # was stated nowhere, and a bonus above it was taken and silently cut to the cap.
    client.force_login(data.city_officer)
    page = client.get(data.url).content.decode()
    assert "重大事件 (2 points per occurrence)" in page
    assert f"{data.manual_item.name} (bonus at most 5 points)" in page
    assert 'id="id_adjustment-occurrences_helptext">From 1 to 999.' in page
    assert 'aria-describedby="id_adjustment-points_helptext"' in page
    response = client.post(
        data.url,
        {"form": "adjustment", "adjustment-kind": "deduction", "adjustment-occurrences": "1000"},
    )
    assert response.status_code == 400
    errors = response.context["adjustment"].errors
    assert set(errors) == {"area", "negative_entry", "occurrences", "reason"}
    assert errors["occurrences"] == ["At most 999 occurrences."]
    html = response.content.decode()
    assert 'name="adjustment-occurrences" value="1000"' in html
    assert 'aria-describedby="id_adjustment-negative_entry_error"' in html
    response = client.post(
        data.url,
        {
            "form": "adjustment",
            "adjustment-kind": "bonus",
            "adjustment-area": "340103000000",
            "adjustment-item": data.manual_item.pk,
            "adjustment-points": "6",
            "adjustment-reason": "",
        },
    )
    assert response.status_code == 400
    errors = response.context["adjustment"].errors
    assert set(errors) == {"points", "reason"}
    assert errors["points"] == ["At most 5 points for this item."]
    html = response.content.decode()
    assert 'name="adjustment-points" value="6"' in html
    assert f'<option value="{data.manual_item.pk}" selected>' in html
    assert '<option value="340103000000" selected>' in html
    assert Adjustment.objects.count() == 0
    # Within the cap it is entered.
    response = client.post(
        data.url,
        {
            "form": "adjustment",
            "adjustment-kind": "bonus",
            "adjustment-area": "340103000000",
            "adjustment-item": data.manual_item.pk,
            "adjustment-points": "5",
            "adjustment-reason": "排名上升",
        },
    )
    assert response.status_code == 302 and Adjustment.objects.get().points == D("5")


def test_a_deduction_is_entered_then_approved_by_another_manager(client, data):
    client.force_login(data.city_officer)
    response = client.post(data.url, _deduction(data))
    assert response.status_code == 302
    adj = Adjustment.objects.get()
    # Its author is not offered Approve / Reject (which could only end on a bare 403 page).
    page = client.get(data.url).content.decode()
    assert "两起重大事件" in page and 'name="approve"' not in page and "data-own-entry" in page
    assert client.post(data.url, {"form": "decide", "adjustment": adj.pk, "approve": "1"}).status_code == 403
    client.force_login(data.city_officer_2)
    page = client.get(data.url).content.decode()
    assert "两起重大事件" in page and 'name="approve"' in page and "data-own-entry" not in page
    client.post(data.url, {"form": "decide", "adjustment": adj.pk, "approve": "1"})
    adj.refresh_from_db()
    assert adj.status == "approved" and adj.approved_by == data.city_officer_2


def test_a_decision_on_another_schemes_adjustment_is_not_found(client, data):
    # It answered 400 ("no such adjustment"), where a veto of another scheme, or any record outside
    # the scheme or area, is not found (404).
    street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=data.district_a, level="street"
    )
    item = AssessmentItem.objects.create(scheme=street_scheme, name="台账", max_points=100, method="manual")
    street_adjustment = Adjustment.objects.create(
        scheme=street_scheme, item=item, area=data.street_a1, kind="bonus", points=D("1"), reason="进步",
        entered_by=data.district_officer, entered_at=timezone.now(),
    )  # fmt: skip
    client.force_login(data.city_officer_2)
    decide = {"form": "decide", "adjustment": street_adjustment.pk, "approve": "1"}
    assert client.post(data.url, decide).status_code == 404
    assert client.post(data.url, {**decide, "adjustment": street_adjustment.pk + 99}).status_code == 404
    # Nor does the district's own page decide the city scheme's adjustment.
    city_adjustment = adjustment_enter(
        scheme=data.scheme, area=data.district_a, kind="bonus", reason="进步", item=data.manual_item,
        points=D("1"), actor=data.city_officer,
    )  # fmt: skip
    client.force_login(data.district_officer)
    url = f"/dashboards/assessments/{street_scheme.pk}/entries/"
    assert client.post(url, {**decide, "adjustment": city_adjustment.pk}).status_code == 404
    assert set(Adjustment.objects.values_list("status", flat=True)) == {"pending"}


def test_a_veto_from_the_page_needs_district_level(client, data):
    street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=data.district_a, level="street"
    )
    url = f"/dashboards/assessments/{street_scheme.pk}/entries/"
    client.force_login(data.district_officer)
    response = client.post(url, {"form": "veto", "veto-area": "340102001000", "veto-event": "重大事故"})
    assert response.status_code == 302 and VetoEvent.objects.count() == 1
    response = client.post(url, {"form": "veto", "veto-area": "340102001000", "veto-event": ""})
    assert response.status_code == 400 and VetoEvent.objects.count() == 1


def test_the_results_table_gives_each_items_indicator_value_to_two_decimals(client, data):
    # The hover text of an item's score ended with the raw stored value: '· 88.0', '· 39.7477'.
    # It is written as the league table writes it, with the unit: these are percentages.
    from dashboards import assessment

    assessment.assessment_compute(scheme=data.scheme)
    client.force_login(data.analyst)
    html = client.get(f"/dashboards/assessments/{data.scheme.pk}/").content.decode()
    assert '· 88.00%"' in html and '· 93.20%"' in html
    assert '· 88.0%"' not in html and '· 93.2%"' not in html


def test_the_results_say_the_deductions_and_bonus_are_counted_in_the_item_scores(client, data):
    # A row gave the item scores, the total, then the deductions and bonus: a reader who took the
    # deductions off the items again got a total the table did not show, as nothing said the item
    # scores had taken them already.
    from dashboards import assessment

    client.force_login(data.city_officer)
    client.post(data.url, _deduction(data))
    client.force_login(data.city_officer_2)
    client.post(data.url, {"form": "decide", "adjustment": Adjustment.objects.get().pk, "approve": "1"})
    assessment.assessment_compute(scheme=data.scheme)
    result = AssessmentRun.objects.latest("pk").results.get(area__code="340103000000")
    assert result.deductions > 0 and result.total == sum(D(i["score"]) for i in result.items)
    client.force_login(data.analyst)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert (
        "Each item's score already counts its approved deductions and bonus: the total is the sum of"
        " the item scores." in english
    )
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "各项得分已计入经审核的扣分和加分，总分为各项得分之和。" in chinese


def test_analysts_and_outsiders_cannot_use_the_entry_page(client, data):
    client.force_login(data.analyst)
    assert client.get(data.url).status_code == 403
    client.force_login(data.outsider)
    assert client.get(data.url).status_code == 404
    client.force_login(data.city_officer)
    assert client.post(data.url, {"form": "sing"}).status_code == 400


def test_the_admin_sets_up_a_scheme_and_shows_runs_read_only(client, data):
    client.force_login(data.admin)
    # The list costs the same whatever the number of schemes: published_run, which may be empty,
    # was read once a row.
    client.get("/admin/dashboards/assessmentscheme/")  # warm-up
    counts = []
    for years in (range(2030, 2031), range(2031, 2040)):
        for year in years:
            scheme = AssessmentScheme.objects.create(
                year=year, name=f"{year}", area=data.city, level="district"
            )
            scheme.published_run = AssessmentRun.objects.create(scheme=scheme, computed_at=timezone.now())
            scheme.save(update_fields=["published_run"])
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/dashboards/assessmentscheme/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert client.get(f"/admin/dashboards/assessmentscheme/{data.scheme.pk}/change/").status_code == 200
    assert client.get("/admin/dashboards/assessmentrun/").status_code == 200
    assert client.get("/admin/dashboards/assessmentrun/add/").status_code == 403


def test_a_negative_list_entry_only_takes_an_item_of_its_own_scheme(client, data):
    """The admin offered every scheme's items (same names, year after year); an entry tied to
    another scheme's item charged its deductions to an item this scheme does not score: lost."""
    import re

    from django.core.exceptions import ValidationError

    from dashboards.assessment_models import AssessmentItem, NegativeListEntry

    other = AssessmentScheme.objects.create(year=2025, name="2025 考核", area=data.city, level="district")
    foreign = AssessmentItem.objects.create(
        scheme=other, order=1, name="安全感", max_points=D("100"), method="manual"
    )
    entry = NegativeListEntry(scheme=data.scheme, item=foreign, name="重大事件", points=D("2"))
    with pytest.raises(ValidationError) as err:
        entry.full_clean()
    assert "item" in err.value.message_dict
    client.force_login(data.admin)
    html = client.get(f"/admin/dashboards/assessmentscheme/{data.scheme.pk}/change/").content.decode()
    select = re.search(r'<select name="negative_list-0-item".*?</select>', html, re.S).group(0)
    offered = set(re.findall(r'<option value="(\d+)"', select))
    assert offered == {str(pk) for pk in data.scheme.items.values_list("pk", flat=True)}


def _scheme_form(data, **fields) -> dict:
    """The admin's add form of a scheme with one item of 100 points (inline management forms)."""
    form = {
        "year": "2027",
        "name": "2027 考核",
        "area": str(data.city.pk),
        "level": "district",
        "excellent_share_cap": "0.300",
        "tie_rule": "fewer_deductions",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-order": "1",
        "items-0-name": "工作台账",
        "items-0-max_points": "100",
        "items-0-method": "manual",
        "items-0-bonus_cap": "5",
        "negative_list-TOTAL_FORMS": "0",
        "negative_list-INITIAL_FORMS": "0",
    }
    return {**form, **fields}


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        # floor(-0.1 x 3 areas) = -1 kept "all but the last" excellent area: one was demoted.
        ("excellent_share_cap", "-0.100", "greater than or equal to 0"),
        ("excellent_share_cap", "2.000", "less than or equal to 1"),
        # A negative deduction cap added the deductions as points; a negative bonus cap deducted.
        ("items-0-deduction_cap", "-3", "greater than or equal to 0"),
        ("items-0-bonus_cap", "-5", "greater than or equal to 0"),
        # The city's streets are not its children: the scheme would assess no area at all.
        ("level", "street", "one level below it"),
        ("level", "District", "Select a valid choice"),
        # A year typed with a digit too many (or none) was saved: its period "20266" is no period,
        # and the scheme's results page failed with a server error.
        ("year", "20266", "less than or equal to 2999"),
        ("year", "0", "greater than or equal to 1900"),
    ],
)
def test_the_admin_refuses_a_scheme_that_could_not_be_scored_as_set(client, data, field, value, error):
    client.force_login(data.admin)
    before = (AssessmentScheme.objects.count(), AssessmentItem.objects.count())
    response = client.post(
        "/admin/dashboards/assessmentscheme/add/",
        _scheme_form(data, **{field: value}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and error in response.content.decode()
    assert (AssessmentScheme.objects.count(), AssessmentItem.objects.count()) == before
    good = client.post("/admin/dashboards/assessmentscheme/add/", _scheme_form(data))
    assert (
        good.status_code == 302 and AssessmentScheme.objects.filter(year=2027, level="district").count() == 1
    )


def test_the_admin_warns_when_a_saved_schemes_items_do_not_add_to_100(client, data):
    # Items may be set up over several saves (docs/assessment.md), so a scheme whose items add to 95
    # is kept; but the admin said only "added successfully", and the scheme then went unscored each
    # night with a warning in the log alone. The save says what computing will refuse.
    client.force_login(data.admin)
    response = client.post(
        "/admin/dashboards/assessmentscheme/add/",
        _scheme_form(data, **{"items-0-max_points": "95"}),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    scheme = AssessmentScheme.objects.get(year=2027, level="district")
    assert [i.max_points for i in scheme.items.all()] == [D("95")]
    assert (
        "The items add to 95.00 points, not 100. The scheme is not scored until this is put right."
        in _messages(response)
    )
    fixed = client.post(
        f"/admin/dashboards/assessmentscheme/{scheme.pk}/change/",
        _scheme_form(
            data,
            **{
                "items-INITIAL_FORMS": "1",
                "items-0-id": str(scheme.items.get().pk),
                "items-0-scheme": str(scheme.pk),
            },
        ),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    assert not any("100" in m for m in _messages(fixed)), _messages(fixed)


# --- errors at their fields, feedback after each action, no twin adjustments -----------------------


def _between(html: str, needle: str, after: str, before: str) -> bool:
    """``needle`` comes after ``after`` and before ``before`` in the page."""
    return html.index(after) < html.index(needle) < html.index(before)


def test_each_error_of_the_hand_score_form_sits_with_its_own_field(client, data):
    # as_p printed each error before its label: "required" for the area showed under the item above
    # it, and the missing evidence's under the points.
    client.force_login(data.city_officer)
    response = client.post(
        data.url, {"form": "manual", "manual-item": data.manual_item.pk, "manual-points": "9"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert _between(html, 'id="id_manual-area_error"', 'for="id_manual-area"', 'for="id_manual-points"')
    assert _between(html, 'id="id_manual-evidence_error"', 'for="id_manual-evidence"', 'for="id_manual-note"')
    assert 'id="id_manual-item_error"' not in html and 'id="id_manual-points_error"' not in html
    # The box points at its error, and the summary names the two fields, each a link to its box.
    assert 'aria-describedby="id_manual-area_error"' in html
    assert 'aria-describedby="id_manual-evidence_error"' in html
    summary = html[html.index("data-error-summary") : html.index("</p>", html.index("data-error-summary"))]
    assert '<a href="#id_manual-area">Area</a>' in summary
    assert '<a href="#id_manual-evidence">Evidence</a>' in summary
    assert "Item" not in summary and "Points" not in summary
    assert ManualScore.objects.count() == 0


def test_each_error_of_the_adjustment_form_sits_with_its_own_field(client, data):
    client.force_login(data.city_officer)
    response = client.post(
        data.url, {"form": "adjustment", "adjustment-kind": "bonus", "adjustment-points": "-1"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert _between(
        html,
        'id="id_adjustment-area_error"',
        'for="id_adjustment-area"',
        'for="id_adjustment-negative_entry"',
    )
    assert _between(
        html, 'id="id_adjustment-points_error"', 'for="id_adjustment-points"', 'for="id_adjustment-reason"'
    )
    assert html.index('for="id_adjustment-reason"') < html.index('id="id_adjustment-reason_error"')
    assert set(response.context["adjustment"].errors) == {"area", "item", "points", "reason"}  # all at once
    # Only the form in error has a summary; the others stay clean.
    assert html.count("data-error-summary") == 1 and "id_manual-area_error" not in html
    assert Adjustment.objects.count() == 0


def _manual(data, points: str) -> dict:
    return {
        "form": "manual",
        "manual-item": data.manual_item.pk,
        "manual-area": "340102000000",
        "manual-points": points,
        "manual-evidence": SimpleUploadedFile("ledger.pdf", b"%PDF-1.4"),
    }


def test_a_refusal_by_the_service_is_named_in_the_summary_at_its_field(client, data):
    client.force_login(data.city_officer)
    response = client.post(data.url, _manual(data, "999"))
    assert response.status_code == 400
    html = response.content.decode()
    assert _between(html, 'id="id_manual-points_error"', 'for="id_manual-points"', 'for="id_manual-evidence"')
    assert '<a href="#id_manual-points">Points</a>' in html
    assert ManualScore.objects.count() == 0


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_each_entry_says_what_was_saved(client, data):
    # The form came back empty without a word: the auditor could not tell a saved bonus from a lost
    # one and entered it twice.
    client.force_login(data.city_officer)
    response = client.post(data.url, _manual(data, "17.5"), follow=True)
    assert _messages(response) == ["Score of 17.50 saved for 甲区, 工作台账."]
    assert 'class="msg-success"' in response.content.decode()
    response = client.post(
        data.url,
        {
            "form": "adjustment",
            "adjustment-kind": "bonus",
            "adjustment-area": "340103000000",
            "adjustment-item": data.manual_item.pk,
            "adjustment-points": "2",
            "adjustment-reason": "排名上升",
        },
        follow=True,
    )
    assert _messages(response) == [
        "Bonus of 2.00 points for 乙区, 工作台账, entered: it counts once another manager approves it."
    ]
    response = client.post(data.url, _deduction(data), follow=True)
    assert _messages(response) == [
        "Deduction of 4.00 points for 乙区, 安全感, entered: it counts once another manager approves it."
    ]
    bonus, deduction = Adjustment.objects.order_by("pk")
    client.force_login(data.city_officer_2)
    response = client.post(data.url, {"form": "decide", "adjustment": bonus.pk, "approve": "1"}, follow=True)
    assert _messages(response) == ["Approved: bonus of 2.00 points for 乙区, 工作台账."]
    response = client.post(
        data.url,
        {"form": "decide", "adjustment": deduction.pk, "approve": "0", "reason": "证据不足"},
        follow=True,
    )
    assert _messages(response) == ["Rejected: deduction of 4.00 points for 乙区, 安全感."]


def test_a_veto_says_it_was_recorded(client, data):
    client.force_login(data.city_officer)
    response = client.post(
        data.url, {"form": "veto", "veto-area": "340104000000", "veto-event": "重大事故"}, follow=True
    )
    assert _messages(response) == ["Veto recorded for 丙区: 重大事故."] and VetoEvent.objects.count() == 1
    # A refused entry says nothing of success.
    response = client.post(data.url, {"form": "veto", "veto-area": "340104000000", "veto-event": ""})
    assert response.status_code == 400 and _messages(response) == [] and VetoEvent.objects.count() == 1


def test_an_area_s_veto_events_are_listed_with_the_reader_s_separator(client, data):
    # They were joined with "; " in the template, half-width between Chinese sentences.
    from dashboards import assessment

    client.force_login(data.city_officer)
    for event in ("重大事故", "群体性事件"):
        client.post(data.url, {"form": "veto", "veto-area": "340104000000", "veto-event": event})
    assessment.assessment_compute(scheme=data.scheme)
    results = f"/dashboards/assessments/{data.scheme.pk}/"
    client.cookies["django_language"] = "zh-hans"
    assert "重大事故；群体性事件" in client.get(results).content.decode()
    client.cookies["django_language"] = "en"
    assert "重大事故; 群体性事件" in client.get(results).content.decode()


def _bonus(data, reason: str = "排名上升") -> dict:
    return {
        "form": "adjustment",
        "adjustment-kind": "bonus",
        "adjustment-area": "340103000000",
        "adjustment-item": data.manual_item.pk,
        "adjustment-points": "2",
        "adjustment-reason": reason,
    }


def test_the_same_bonus_twice_while_pending_is_refused_at_the_reason(client, data):
    client.force_login(data.city_officer)
    assert client.post(data.url, _bonus(data), follow=True).status_code == 200  # its message read
    response = client.post(data.url, _bonus(data))
    assert response.status_code == 400
    assert list(response.context["adjustment"].errors) == ["reason"]
    error = response.context["adjustment"].errors["reason"][0]
    assert "already awaiting approval" in error and "city_officer" in error
    assert _messages(response) == [] and Adjustment.objects.count() == 1
    # A separate bonus of the same size says so in its reason.
    assert client.post(data.url, _bonus(data, "排名上升（第二次）")).status_code == 302
    assert Adjustment.objects.count() == 2


def test_the_same_adjustment_can_be_entered_again_once_the_first_is_decided(client, data):
    client.force_login(data.city_officer)
    client.post(data.url, _bonus(data))
    client.force_login(data.city_officer_2)
    client.post(
        data.url,
        {"form": "decide", "adjustment": Adjustment.objects.get().pk, "approve": "0", "reason": "重复"},
    )
    client.force_login(data.city_officer)
    assert client.post(data.url, _bonus(data)).status_code == 302
    assert list(Adjustment.objects.order_by("pk").values_list("status", flat=True)) == ["rejected", "pending"]


def test_the_same_deduction_twice_while_pending_is_refused(client, data):
    client.force_login(data.city_officer)
    assert client.post(data.url, _deduction(data)).status_code == 302
    response = client.post(data.url, _deduction(data))
    assert response.status_code == 400 and list(response.context["adjustment"].errors) == ["reason"]
    # Said in Chinese as the twin veto is ("已由 某人 于 日期 记录"): it read "由city_officer于2026-12-07 17:22录入".
    zh = client.post(data.url, _deduction(data), HTTP_ACCEPT_LANGUAGE="zh-hans")
    error = zh.context["adjustment"].errors["reason"][0]
    assert re.search(r"，由 \S.* 于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 录入。", error), error
    # Another number of occurrences is another deduction.
    assert client.post(data.url, _deduction(data, "3")).status_code == 302
    assert Adjustment.objects.count() == 2


def test_compute_now_says_whether_it_stored_a_new_run_and_publish_says_which(client, data):
    # With unchanged inputs "Compute now" returned the newest run and the page said nothing.
    client.force_login(data.city_officer)
    url = f"/dashboards/assessments/{data.scheme.pk}/action/"
    response = client.post(url, {"action": "compute"}, follow=True)
    run = data.scheme.runs.get()
    assert _messages(response) == [f"Computed anew: run {run.pk}, a draft until it is published."]
    response = client.post(url, {"action": "compute"}, follow=True)
    assert _messages(response) == [f"Nothing changed since run {run.pk}: no new run was stored."]
    assert data.scheme.runs.count() == 1
    response = client.post(url, {"action": "publish", "run": run.pk}, follow=True)
    assert _messages(response) == [f"Run {run.pk} published."]
    response = client.post(url, {"action": "sing"})
    assert response.status_code == 400 and _messages(response) == []


def test_a_run_replaced_by_a_later_publication_is_not_shown_as_published(client, data):
    # The page, its CSV and the publish button asked whether the run had ever been published: the
    # run published first still read "Published result" after another was published in its place,
    # and it could not be published again to go back to it.
    from dashboards import assessment

    first = assessment.assessment_compute(scheme=data.scheme)
    assessment.assessment_publish(run=first, actor=data.city_officer)
    assessment.manual_score_enter(
        item=data.manual_item,
        area=data.district_b,
        points=D("20"),
        evidence=SimpleUploadedFile("e.pdf", b"%PDF"),
        actor=data.city_officer,
    )
    second = assessment.assessment_compute(scheme=data.scheme)
    assessment.assessment_publish(run=second, actor=data.city_officer)
    client.force_login(data.city_officer)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    html = client.get(url).content.decode()
    assert f"Published result (run {second.pk}," in html and 'value="publish"' not in html
    html = client.get(f"{url}?run={first.pk}").content.decode()
    assert "Published result" not in html
    assert f"since replaced by run {second.pk}" in html and 'value="publish"' in html
    csv_text = client.get(f"{url}?run={first.pk}&format=csv").content.decode("utf-8-sig")
    # The state is the first line's second cell (a year not over yet adds its warning after it).
    assert next(csv.reader(io.StringIO(csv_text)))[1] == "Replaced"
    published = client.get(f"{url}?format=csv").content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(published)))[1] == "Published"
    # Going back to the first publication is a publication like any other.
    client.post(f"{url}action/", {"action": "publish", "run": first.pk})
    data.scheme.refresh_from_db()
    assert data.scheme.published_run_id == first.pk


def test_the_assessment_pages_and_api_cost_the_same_queries_for_more_areas(client, data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dashboards import assessment
    from tests.base import api_client, make_area

    def counts() -> list[int]:
        run = assessment.assessment_compute(scheme=data.scheme)
        assessment.assessment_publish(run=run, actor=data.city_officer)
        _one_point_bonus(data, f"进步 {run.pk}")
        client.force_login(data.city_officer)
        # A fresh user each time: the memberships it caches would spare the second round a query.
        api = api_client(type(data.analyst).objects.get(pk=data.analyst.pk))
        out = []
        for get in (
            lambda: client.get(f"/dashboards/assessments/{data.scheme.pk}/"),
            lambda: client.get(f"/dashboards/assessments/{data.scheme.pk}/?format=csv"),
            lambda: client.get(data.url),
            lambda: client.get("/dashboards/assessments/"),
            lambda: api.get(f"/api/v1/assessments/{data.scheme.pk}/results/"),
        ):
            with CaptureQueriesContext(connection) as queries:
                assert get().status_code == 200
            out.append(len(queries))
        return out

    few = counts()
    for n in range(5, 10):
        area = make_area(f"34010{n}000000", f"区{n}", "district", data.city, (117.3, 31.8, 117.31, 31.81))
        assessment_data.indicator_value("survey_safety_rate", area, "2026", 80.0 + n)
        assessment.veto_record(scheme=data.scheme, area=area, event="重大事故", actor=data.city_officer)
        assessment.manual_score_enter(
            item=data.manual_item,
            area=area,
            points=D("10"),
            evidence=SimpleUploadedFile("e.pdf", b"%PDF"),
            actor=data.city_officer,
        )
    assert counts() == few


def test_a_run_is_shown_with_the_items_it_was_scored_on_after_the_scheme_changes(client, data):
    # The column headings were the scheme's items now, the cells the run's: an item added after the
    # run was published put the "Deductions" of every row under its heading, and the CSV likewise.
    from dashboards import assessment

    run = assessment.assessment_compute(scheme=data.scheme)
    assessment.assessment_publish(run=run, actor=data.city_officer)
    AssessmentItem.objects.filter(pk=data.manual_item.pk).update(name="台账（旧）")
    AssessmentItem.objects.create(
        scheme=data.scheme, order=4, name="新增项目", max_points=D("5"), method="manual"
    )
    client.force_login(data.analyst)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    html = client.get(url).content.decode()
    head = re.search(r"<thead>.*?</thead>", html, re.S).group(0)
    assert "新增项目" not in head and "工作台账" in head and "台账（旧）" not in head
    row = re.search(r'<tr data-area="340102000000".*?</tr>', html, re.S).group(0)
    assert len(re.findall(r"<th[ >]", head)) == len(re.findall(r"<td[ >]", row)) == 11
    lines = list(csv.reader(io.StringIO(client.get(f"{url}?format=csv").content.decode("utf-8-sig"))))
    assert lines[1][7:10] == ["安全感", "排名", "工作台账"] and len(lines[1]) == len(lines[2])


@pytest.mark.parametrize(
    ("points", "written", "unit"),
    [(D("1.00"), "1", "point"), (D("5.00"), "5", "points"), (D("2.50"), "2.5", "points")],
)
def test_the_limits_read_one_point_in_the_singular(client, data, points, written, unit):
    # Every limit read "1 points" when it was 1.
    item = data.manual_item
    item.max_points = item.bonus_cap = points
    item.save(update_fields=["max_points", "bonus_cap"])
    data.scheme.negative_list.update(points=points)
    client.force_login(data.city_officer)
    page = client.get(data.url).content.decode()
    assert f"{item.name} (at most {written} {unit})" in page
    assert f"{item.name} (bonus at most {written} {unit})" in page
    assert f"重大事件 ({written} {unit} per occurrence)" in page
    base = {"manual-item": item.pk, "manual-area": "340102000000", "manual-points": "6"}
    response = client.post(data.url, {"form": "manual", **base})
    assert response.context["manual"].errors["points"] == [f"At most {written} {unit} for this item."]
    bonus = {
        "form": "adjustment",
        "adjustment-kind": "bonus",
        "adjustment-area": "340103000000",
        "adjustment-item": item.pk,
        "adjustment-points": "6",
        "adjustment-reason": "排名上升",
    }
    response = client.post(data.url, bonus)
    assert response.context["adjustment"].errors["points"] == [f"At most {written} {unit} for this item."]
    assert ManualScore.objects.count() == 0 and Adjustment.objects.count() == 0


@pytest.mark.parametrize(("cap", "unit"), [(D("1"), "point"), (D("5"), "points")])
def test_the_service_states_a_bonus_cap_of_one_point_in_the_singular(data, cap, unit):
    data.manual_item.bonus_cap = cap
    data.manual_item.save(update_fields=["bonus_cap"])
    with pytest.raises(ActionInvalid) as refused:
        adjustment_enter(
            scheme=data.scheme,
            area=data.district_b,
            kind="bonus",
            reason="排名上升",
            item=data.manual_item,
            points=D("6"),
            actor=data.city_officer,
        )
    assert refused.value.errors == {"points": f"At most {cap} {unit} for this item."}
    assert Adjustment.objects.count() == 0


def test_a_refused_compute_leads_back_to_the_results_page_not_to_a_blank_405(client, data):
    # The refusal's only button went to "?", that is a GET of the POST-only action address: a blank
    # "405 Method Not Allowed" for the officer whose scheme's items no longer add to 100.
    client.force_login(data.city_officer)
    AssessmentItem.objects.filter(pk=data.manual_item.pk).update(max_points=D("15"))
    url = f"/dashboards/assessments/{data.scheme.pk}/action/"
    response = client.post(url, {"action": "compute"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="items"' in html
    buttons = re.findall(r'<a class="button" href="([^"]*)">([^<]*)</a>', html)
    assert buttons == [(f"/dashboards/assessments/{data.scheme.pk}/", "Back to the results")]
    assert client.get(buttons[0][0]).status_code == 200
    # The league table's refusals still start again on their own page.
    response = client.get("/dashboards/league/?sort=sideways")
    assert response.status_code == 400
    assert re.findall(r'<a class="button" href="([^"]*)">', response.content.decode()) == ["?"]


@pytest.mark.parametrize(
    ("indicator", "zero_at", "full_at", "words"),
    [
        # Zero at 2 cases per 10,000, full marks at 10: the most cases scored the most points.
        ("police_preventable_cases_per_10k", "2", "10", "is better when lower"),
        ("survey_satisfaction_rate", "95", "80", "is better when higher"),
    ],
)
def test_the_admin_refuses_linear_thresholds_set_against_the_indicators_direction(
    client, data, indicator, zero_at, full_at, words
):
    client.force_login(data.admin)
    item = {"items-0-method": "linear", "items-0-indicator": indicator}
    response = client.post(
        "/admin/dashboards/assessmentscheme/add/",
        _scheme_form(data, **item, **{"items-0-zero_at": zero_at, "items-0-full_at": full_at}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and words in response.content.decode()
    assert not AssessmentScheme.objects.filter(year=2027).exists()
    good = client.post(
        "/admin/dashboards/assessmentscheme/add/",
        _scheme_form(data, **item, **{"items-0-zero_at": full_at, "items-0-full_at": zero_at}),
    )
    assert good.status_code == 302 and AssessmentScheme.objects.filter(year=2027).count() == 1


def test_computing_a_stored_linear_item_set_against_its_indicators_direction_is_refused(data):
    from dashboards import assessment
    from dashboards.assessment_models import AssessmentRun

    AssessmentItem.objects.filter(pk=data.target_item.pk).update(method="linear", zero_at=95.0, full_at=80.0)
    with pytest.raises(assessment.StoredSchemeInvalid) as err:
        assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert err.value.field == "items"
    assert err.value.message.startswith(
        "Item 安全感, Value scoring zero: Sense of safety is better when higher"
    )
    assert not AssessmentRun.objects.exists()


def test_a_bonus_keeps_no_occurrence_count_and_an_absurd_one_is_refused_at_its_field(client, data):
    # A bonus sent with 3,000,000,000 occurrences reached full_clean, whose error was a 500; with 5
    # it stored a count that means nothing for a bonus.
    client.force_login(data.city_officer)
    response = client.post(data.url, {**_bonus(data), "adjustment-occurrences": "3000000000"})
    assert response.status_code == 400 and list(response.context["adjustment"].errors) == ["occurrences"]
    assert Adjustment.objects.count() == 0
    assert client.post(data.url, {**_bonus(data), "adjustment-occurrences": "5"}).status_code == 302
    assert Adjustment.objects.get().occurrences == 1


def test_a_bonus_keeps_no_negative_list_entry_left_chosen_on_the_form(client, data):
    # The form shows the entry and the bonus fields together: an entry chosen for a deduction and
    # left there when the kind was changed to a bonus was stored with the bonus, which has none.
    # The bonus then kept the entry from being deleted in the admin (a protected reference), and
    # counted as another adjustment than the same bonus entered without it.
    client.force_login(data.city_officer)
    entry = data.scheme.negative_list.get()
    assert client.post(data.url, {**_bonus(data), "adjustment-negative_entry": entry.pk}).status_code == 302
    bonus = Adjustment.objects.get()
    assert (bonus.kind, bonus.negative_entry, bonus.item) == ("bonus", None, data.manual_item)
    response = client.post(data.url, _bonus(data))  # the same bonus again, without the entry
    assert response.status_code == 400 and list(response.context["adjustment"].errors) == ["reason"]
    entry.delete()  # nothing refers to it


def test_a_decision_sent_wrong_is_named_by_its_own_field(client, data):
    adjustment = adjustment_enter(
        scheme=data.scheme, area=data.district_a, kind="bonus", reason="进步", item=data.manual_item,
        points=D("1"), actor=data.city_officer,
    )  # fmt: skip
    client.force_login(data.city_officer_2)
    response = client.post(data.url, {"form": "decide", "adjustment": adjustment.pk, "approve": "yes"})
    assert response.status_code == 400 and response.context["field"] == "approve"
    adjustment.refresh_from_db()
    assert adjustment.status == "pending"


def test_publishing_twice_or_from_a_stale_page_changes_nothing(client, data):
    # A double click republished the run (its time and publisher moved, a second audit entry); a
    # page drawn before another manager published a newer run put the older one back without a word.
    from dashboards import assessment

    first = assessment.assessment_compute(scheme=data.scheme)
    client.force_login(data.city_officer)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    page = client.get(url).content.decode()
    form = {
        "action": "publish",
        "run": first.pk,
        "published": re.search(r'name="published" value="(\d*)"', page)[1],
    }
    assert form["published"] == ""
    assert client.post(f"{url}action/", form).status_code == 302
    first.refresh_from_db()
    published_at = first.published_at
    assert client.post(f"{url}action/", form).status_code == 302  # the second click
    first.refresh_from_db()
    assert first.published_at == published_at
    assert AuditEntry.objects.filter(action="assessment.publish").count() == 1
    # Another manager corrects a score and publishes the new run; the old page publishes the first.
    assessment.manual_score_enter(
        item=data.manual_item, area=data.district_b, points=D("20"),
        evidence=SimpleUploadedFile("e.pdf", b"%PDF"), actor=data.city_officer_2,
    )  # fmt: skip
    second = assessment.assessment_compute(scheme=data.scheme)
    assessment.assessment_publish(run=second, actor=data.city_officer_2)
    stale = client.post(f"{url}action/", {**form, "published": str(first.pk)}, follow=True)
    assert stale.status_code == 400 and f"Run {second.pk} has been published since" in stale.content.decode()
    data.scheme.refresh_from_db()
    assert data.scheme.published_run_id == second.pk
    # Going back to it on purpose, from a page that showed the second published, still works.
    assert client.post(f"{url}action/", {**form, "published": str(second.pk)}).status_code == 302
    data.scheme.refresh_from_db()
    assert data.scheme.published_run_id == first.pk


def _score_and_compute(data, points: str):
    """Enter district A's hand score (with evidence) and compute the scheme: the run it gives."""
    from dashboards import assessment

    assessment.manual_score_enter(
        item=data.manual_item, area=data.district_a, points=D(points),
        evidence=SimpleUploadedFile("e.pdf", b"%PDF"), actor=data.city_officer,
    )  # fmt: skip
    return assessment.assessment_compute(scheme=data.scheme)


def test_a_score_corrected_and_put_back_is_no_newer_result_that_differs(client, data):
    from dashboards import assessment

    def enter(points):
        return _score_and_compute(data, points)

    published = enter("10")
    assessment.assessment_publish(run=published, actor=data.city_officer)
    enter("15")
    client.force_login(data.city_officer)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    assert "differs from the published result" in client.get(url).content.decode()
    back = enter("10")
    assert back.pk != published.pk and back.fingerprint == published.fingerprint
    assert "differs from the published result" not in client.get(url).content.decode()


def test_the_language_switch_on_a_refused_action_returns_to_the_assessment_page(client, data):
    # Its "next" was the POST-only action address: switching language ended on a blank 405.
    client.force_login(data.city_officer)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    refused = client.post(f"{url}action/", {"action": "sing"})
    assert refused.status_code == 400
    next_url = re.search(r'name="next" type="hidden" value="([^"]*)"', refused.content.decode()).group(1)
    assert next_url == url
    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": next_url}, follow=True)
    assert switched.status_code == 200


def _withdraw(veto, reason: str = "记错了区") -> dict:
    return {"form": "withdraw", "veto": veto.pk, "reason": reason}


def test_a_veto_is_withdrawn_from_the_page_by_someone_else_with_a_reason(client, data):
    from dashboards import assessment

    veto = assessment.veto_record(
        scheme=data.scheme, area=data.district_c, event="重大事故", actor=data.city_officer
    )
    # Who recorded it sees no withdrawal form, and is refused one sent anyway.
    client.force_login(data.city_officer)
    page = client.get(data.url).content.decode()
    assert 'value="withdraw"' not in page and "data-own-veto" in page
    assert client.post(data.url, _withdraw(veto)).status_code == 403
    client.force_login(data.city_officer_2)
    page = client.get(data.url).content.decode()
    assert 'value="withdraw"' in page and "data-own-veto" not in page
    # The reason is required, and named; a veto that is no number is named too.
    response = client.post(data.url, _withdraw(veto, "  "))
    assert response.status_code == 400 and response.context["withdraw"]["field"] == "reason"
    response = client.post(data.url, {**_withdraw(veto), "veto": "x"})
    assert response.status_code == 400 and response.context["field"] == "veto"
    veto.refresh_from_db()
    assert veto.withdrawn_at is None
    response = client.post(data.url, _withdraw(veto), follow=True)
    assert _messages(response) == ["Veto withdrawn for 丙区: 重大事故."]
    veto.refresh_from_db()
    assert veto.withdrawn_by == data.city_officer_2 and veto.withdrawal_reason == "记错了区"
    # Still listed, as withdrawn, with who, when and why; no second withdrawal offered.
    page = response.content.decode()
    assert "data-withdrawn-veto" in page and "记错了区" in page and 'value="withdraw"' not in page
    response = client.post(data.url, _withdraw(veto))
    assert response.status_code == 400 and response.context["field"] == "veto"


def _veto_line(page: str, veto) -> str:
    return re.search(rf'<li class="overdue" data-veto="{veto.pk}">.*?</li>', page, re.S)[0]


def test_a_withdrawal_without_its_reason_comes_back_to_the_entry_page_at_the_reason_box(client, data):
    # It ended on the bare bad-request page, away from the list, with what was typed lost.
    from dashboards import assessment

    veto = assessment.veto_record(
        scheme=data.scheme, area=data.district_c, event="重大事故", actor=data.city_officer
    )
    other = assessment.veto_record(
        scheme=data.scheme, area=data.district_b, event="安全事故", actor=data.city_officer
    )
    client.force_login(data.city_officer_2)
    response = client.post(data.url, _withdraw(veto, "   "))
    assert response.status_code == 400
    assert [t.name for t in response.templates][0] == "dashboards/assessment_entries.html"
    assert response.context["withdraw"] == {
        "veto": veto.pk, "field": "reason", "reason": "   ", "message": "Give the reason for the withdrawal.",
    }  # fmt: skip
    page = response.content.decode()
    box = _veto_line(page, veto)
    assert 'aria-invalid="true"' in box and "Give the reason for the withdrawal." in box
    assert f'aria-describedby="withdraw-{veto.pk}-reason_error"' in box
    other_box = _veto_line(page, other)
    assert "aria-invalid" not in other_box and "Give the reason" not in other_box
    # Too long: what was typed comes back in the box, to be shortened rather than typed again.
    typed = "记" * 501
    response = client.post(data.url, _withdraw(veto, typed))
    assert response.status_code == 400 and response.context["withdraw"]["field"] == "reason"
    box = _veto_line(response.content.decode(), veto)
    assert f'value="{typed}"' in box and "At most 500 characters." in box
    assert not VetoEvent.objects.filter(withdrawn_at__isnull=False).exists()
    assert not AuditEntry.objects.filter(action="assessment.veto_withdraw").exists()
    # Who may not withdraw is still refused as before, reason or not.
    client.force_login(data.city_officer)
    assert client.post(data.url, _withdraw(veto, "")).status_code == 403


def test_a_veto_of_another_scheme_is_not_found_and_the_wrong_role_is_refused(client, data):
    from dashboards import assessment

    street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=data.district_a, level="street"
    )
    street_veto = assessment.veto_record(
        scheme=street_scheme, area=data.street_a1, event="重大事故", actor=data.district_officer
    )
    # Sent to the city scheme's page: not one of its vetoes.
    client.force_login(data.city_officer_2)
    assert client.post(data.url, _withdraw(street_veto)).status_code == 404
    # Nor found by the staff of a street, outside whose area the district's scheme is.
    url = f"/dashboards/assessments/{street_scheme.pk}/entries/"
    client.force_login(data.street_handler)
    assert client.post(url, _withdraw(street_veto)).status_code == 404
    # A street's managers keep its own scheme of its communities but do not withdraw its vetoes.
    community_scheme = AssessmentScheme.objects.create(
        year=2026, name="社区考核", area=data.street_a1, level="community"
    )
    community_veto = assessment.veto_record(
        scheme=community_scheme, area=data.community_a1a, event="重大事故", actor=data.district_officer
    )
    url = f"/dashboards/assessments/{community_scheme.pk}/entries/"
    assert client.get(url).status_code == 200
    assert client.post(url, _withdraw(community_veto)).status_code == 403
    for veto in (street_veto, community_veto):
        veto.refresh_from_db()
        assert veto.withdrawn_at is None


def test_the_veto_form_is_shown_only_to_those_who_may_record_one(client, data):
    # A street manager on a street scheme was shown the form and refused (403) on sending it.
    street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=data.street_a1, level="community"
    )
    url = f"/dashboards/assessments/{street_scheme.pk}/entries/"
    client.force_login(data.street_handler)
    page = client.get(url).content.decode()
    assert 'id="form-veto"' not in page and 'id="form-adjustment"' in page
    assert "Only district level or above may decide a veto." in page
    client.force_login(data.district_officer)
    assert 'id="form-veto"' in client.get(url).content.decode()


def test_a_bonus_past_the_room_left_under_the_cap_is_refused_at_points(client, data):
    adjustment_enter(
        scheme=data.scheme,
        area=data.district_b,
        kind="bonus",
        item=data.manual_item,
        points=D("3"),
        reason="排名上升",
        actor=data.city_officer_2,
    )
    client.force_login(data.city_officer)
    post = {
        "form": "adjustment",
        "adjustment-kind": "bonus",
        "adjustment-area": "340103000000",
        "adjustment-item": data.manual_item.pk,
        "adjustment-points": "3",
        "adjustment-reason": "经验推广",
    }
    response = client.post(data.url, post)
    assert response.status_code == 400
    assert response.context["adjustment"].errors["points"] == [
        "This item's bonus cap is 5 for each area: 3 already entered (approved or awaiting approval), 2 left."
    ]
    assert 'name="adjustment-points" value="3"' in response.content.decode()
    assert Adjustment.objects.count() == 1
    assert client.post(data.url, {**post, "adjustment-points": "2"}).status_code == 302


def test_approving_a_bonus_past_the_cap_comes_back_to_the_page_with_the_error_at_its_row(client, data):
    """Two pending bonuses of 3 points (stored before the cap held at entry), each within the cap of 5:
    the second approval is refused at ``points`` on the entry page, at that bonus's row, nothing
    changed; it can still be rejected."""
    first, second = (
        Adjustment.objects.create(
            scheme=data.scheme,
            area=data.district_b,
            kind="bonus",
            item=data.manual_item,
            points=D("3"),
            reason=reason,
            entered_by=data.city_officer,
            entered_at=timezone.now(),
        )
        for reason in ("排名上升", "经验推广")
    )
    client.force_login(data.city_officer_2)
    decide = {"form": "decide", "approve": "1"}
    assert client.post(data.url, {**decide, "adjustment": first.pk}).status_code == 302
    response = client.post(data.url, {**decide, "adjustment": second.pk})
    assert response.status_code == 400
    assert response.templates[0].name == "dashboards/assessment_entries.html"
    page = response.content.decode()
    row = re.search(rf'<li data-adjustment="{second.pk}".*?</li>', page, re.S).group(0)
    assert 'data-field="points"' in row and 'role="alert"' in row
    assert (
        "Approving this bonus of 3 points would take the item past its bonus cap of 5 for this area: "
        "3 already approved, 2 left." in row
    )
    assert "past its bonus cap" not in page.replace(row, "")
    second.refresh_from_db()
    assert (second.status, second.approved_by) == ("pending", None)
    assert AuditEntry.objects.filter(action="assessment.approve").count() == 1
    assert (
        client.post(
            data.url, {**decide, "adjustment": second.pk, "approve": "0", "reason": "超出上限"}
        ).status_code
        == 302
    )
    second.refresh_from_db()
    assert second.status == "rejected"


@pytest.mark.parametrize(
    ("language", "lead"), [("en", "Not approved. Approving this bonus"), ("zh-hans", "未批准。批准")]
)
def test_a_refused_approval_reads_with_no_space_after_a_full_width_stop(
    client, data, settings, language, lead
):
    """The refusal at a bonus's row read "未批准。 批准…": its sentences were joined with a space,
    which English wants and Chinese does not after its full-width 。."""
    settings.LANGUAGE_CODE = language
    bonuses = [
        Adjustment.objects.create(
            scheme=data.scheme, area=data.district_b, kind="bonus", item=data.manual_item, points=D("3"),
            reason=reason, entered_by=data.city_officer, entered_at=timezone.now(),
        )
        for reason in ("排名上升", "经验推广")
    ]  # fmt: skip
    client.force_login(data.city_officer_2)
    decide = {"form": "decide", "approve": "1"}
    assert client.post(data.url, {**decide, "adjustment": bonuses[0].pk}).status_code == 302
    response = client.post(data.url, {**decide, "adjustment": bonuses[1].pk})
    assert response.status_code == 400
    alert = re.search(
        r'<p class="error" role="alert" data-field="points">(.*?)</p>', response.content.decode(), re.S
    )
    assert alert.group(1).startswith(lead), alert.group(1)


def test_the_entry_page_offers_and_takes_only_areas_in_service_in_the_schemes_year(client, data):
    # District C drawn in 2027 is not assessed by the 2026 scheme: neither offered nor taken.
    import datetime as dt
    import re

    from governance.models import Area

    Area.objects.filter(pk=data.district_c.pk).update(in_service_from=dt.date(2027, 1, 1))
    client.force_login(data.city_officer)
    html = client.get(data.url).content.decode()
    select = re.search(r'<select name="manual-area".*?</select>', html, re.S).group(0)
    assert "340104000000" not in select and "340102000000" in select
    response = client.post(
        data.url,
        {
            "form": "manual",
            "manual-item": data.manual_item.pk,
            "manual-area": "340104000000",
            "manual-points": "17.5",
            "manual-evidence": SimpleUploadedFile("ledger.pdf", b"%PDF-1.4"),
        },
    )
    assert response.status_code == 400 and not ManualScore.objects.exists()


def test_decided_adjustments_are_listed_with_reason_author_and_approver(client, data):
    """DOMAIN.md: each deduction and bonus has a reason and an approver. Once decided it left the
    "awaiting approval" list and no page said which adjustments the scores counted, nor who approved
    them: the entry page lists them, approved and rejected, with who entered and who decided."""
    client.force_login(data.city_officer)
    client.post(data.url, _deduction(data, occurrences="3", reason="三起重大事件"))
    client.post(data.url, _deduction(data, occurrences="1", reason="误报的事件"))
    first, second = Adjustment.objects.order_by("pk")
    client.force_login(data.city_officer_2)
    client.post(data.url, {"form": "decide", "adjustment": first.pk, "approve": "1"})
    client.post(
        data.url, {"form": "decide", "adjustment": second.pk, "approve": "0", "reason": "事件已核实为误报"}
    )
    page = client.get(data.url).content.decode()
    decided = page.split('id="decided-adjustments"', 1)[1].split("</section>", 1)[0]
    row = decided.split(f'data-decided="{first.pk}"', 1)[1].split("</li>", 1)[0]
    # What it was (entry × occurrences = points), why, who entered it, who approved it.
    assert "乙区" in row and "重大事件" in row and "× 3" in row and "6.00" in row
    assert "三起重大事件" in row and "city_officer" in row and "city_officer_2" in row
    assert "approved by city_officer_2" in row or "city_officer_2 于" in row
    rejected = decided.split(f'data-decided="{second.pk}"', 1)[1].split("</li>", 1)[0]
    assert "误报的事件" in rejected and 'class="decided-rejected"' in decided
    # Why it was rejected, to those who see the entry.
    assert "事件已核实为误报" in rejected and "事件已核实为误报" not in row
    # No query per row: more decided adjustments cost the same.
    client.get(data.url)
    with CaptureQueriesContext(connection) as before:
        client.get(data.url)
    for n in range(3):
        _one_point_bonus(data, f"进步 {n}")
    for a in Adjustment.objects.filter(status="pending"):
        client.post(data.url, {"form": "decide", "adjustment": a.pk, "approve": "1"})
    assert Adjustment.objects.filter(status="approved").count() == 4
    with CaptureQueriesContext(connection) as after:
        assert client.get(data.url).content.decode().count("data-decided=") == 5
    assert len(before.captured_queries) > 0 and len(after.captured_queries) == len(before.captured_queries)


def _legend(client, data, language: str = "en") -> str:
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    return html.split('id="assessment-rules"', 1)[1].split("</div>", 1)[0]


def test_the_results_state_the_grade_thresholds_the_veto_effect_and_the_excellent_cap(client, data, settings):
    """The page said "excellent, good, pass, fail by total" without the thresholds, nor what a veto
    does (a setting), nor the scheme's cap on the share rated excellent: with 2 districts and a cap
    of 30 %, none can be excellent, and nothing on the page said why a 91 read "good"."""
    from dashboards import assessment

    settings.ASSESSMENT_GRADE_THRESHOLDS = (85, 72.5, 50)
    settings.ASSESSMENT_VETO_EFFECT = "no_excellent"
    assessment.assessment_compute(scheme=data.scheme)
    client.force_login(data.analyst)
    legend = _legend(client, data)
    assert "excellent from 85, good from 72.5, pass from 50, fail below 50" in legend
    assert "A one-vote veto bars the area from excellent: good at most." in legend
    # The scheme's cap (0.34) over the run's three districts: floor(1.02) = 1.
    assert "At most 34% of the areas are rated excellent: 1 of 3." in legend
    assert "not recorded" not in legend
    legend = _legend(client, data, "zh-hans")
    assert "优秀 ≥ 85" in legend and "良好 ≥ 72.5" in legend and "合格 ≥ 50" in legend
    assert "。 " not in legend  # no space after a full-width stop


def test_a_run_states_the_rules_it_was_graded_by_not_those_in_force_now(client, data):
    """The page stated the settings and the cap as they are now: after a threshold changed, last
    year's published grades were explained by rules they were not graded by. A run states its own;
    recomputed under the new ones, the scheme gets a new run that states those."""
    from django.test import override_settings

    from dashboards import assessment

    run = assessment.assessment_compute(scheme=data.scheme)
    assessment.assessment_publish(run=run, actor=data.city_officer)
    grades = {r.area_id: (r.grade, r.capped) for r in run.results.all()}
    client.force_login(data.analyst)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    AssessmentScheme.objects.filter(pk=data.scheme.pk).update(excellent_share_cap=None)
    with override_settings(ASSESSMENT_GRADE_THRESHOLDS=(95, 85, 70), ASSESSMENT_VETO_EFFECT="no_excellent"):
        with CaptureQueriesContext(connection) as after:
            legend = _legend(client, data)
        assert len(after.captured_queries) == len(before.captured_queries)
        assert "excellent from 90, good from 80, pass from 60, fail below 60" in legend
        assert "A one-vote veto makes the grade fail." in legend
        assert "At most 34% of the areas are rated excellent: 1 of 3." in legend
        assert {r.area_id: (r.grade, r.capped) for r in run.results.all()} == grades
        newer = assessment.assessment_compute(scheme=data.scheme)
        assert newer.pk != run.pk
        assert newer.rules["thresholds"] == {"excellent": "95", "good": "85", "pass": "70"}
        assert newer.rules["excellent_share_cap"] is None and newer.rules["veto_effect"] == "no_excellent"
        assert assessment.assessment_compute(scheme=data.scheme).pk == newer.pk  # nothing new since
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'href="?run={newer.pk}"' in html  # the published one no longer the newest
        legend = html.split('id="assessment-rules"', 1)[1].split("</div>", 1)[0]
        assert "excellent from 90" in legend  # still the published run's
        html = client.get(f"{url}?run={newer.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        legend = html.split('id="assessment-rules"', 1)[1].split("</div>", 1)[0]
        assert "excellent from 95, good from 85, pass from 70, fail below 70" in legend
        assert "bars the area from excellent" in legend and "At most" not in legend


def test_a_run_that_did_not_record_its_rules_says_so_over_the_current_ones(client, data):
    """A run computed before runs recorded their rules: nobody can know them (no backfill). The
    page gives the rules in force now, marked as such."""
    from dashboards import assessment

    run = assessment.assessment_compute(scheme=data.scheme)
    AssessmentRun.objects.filter(pk=run.pk).update(rules=None)
    client.force_login(data.analyst)
    legend = _legend(client, data)
    assert 'id="rules-not-recorded"' in legend
    assert "This run did not record the rules it was graded by" in legend
    assert "excellent from 90, good from 80, pass from 60, fail below 60" in legend
    assert "At most 34% of the areas are rated excellent: 1 of 3." in legend
    legend = _legend(client, data, "zh-hans")
    assert "本次计算未记录其评定所依据的规则" in legend and "优秀 ≥ 90" in legend
    # Never computed: the rules a computation would use, and nothing to mark.
    AssessmentRun.objects.filter(scheme=data.scheme).delete()
    legend = _legend(client, data)
    assert 'id="rules-not-recorded"' not in legend and "excellent from 90" in legend


def test_a_scheme_of_a_year_not_over_yet_says_its_indicator_scores_are_to_date(client, data):
    """The league tables flag a period not over yet; the assessment scored from the same year's values
    did not: a result computed and published on 6 December read as the year's, its indicator items
    scored on eleven months and a week. The page and its CSV say so; a past year's do not."""
    from django.utils import timezone

    from dashboards import assessment

    year = timezone.localdate().year
    current = data.scheme
    current.year = year
    current.save()
    assessment.assessment_compute(scheme=current)
    past = assessment_data.build(data, year=year - 1)
    assessment.assessment_compute(scheme=past)
    client.force_login(data.analyst)
    running = f"{year} is not over yet: the items scored from indicators use its values so far"
    html = client.get(f"/dashboards/assessments/{current.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="year-running"' in html and running in html
    zh = client.get(f"/dashboards/assessments/{current.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="year-running"' in zh and f"{year}年" in zh
    response = client.get(f"/dashboards/assessments/{current.pk}/?format=csv", HTTP_ACCEPT_LANGUAGE="en")
    first = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any(running in cell for cell in first)
    html = client.get(f"/dashboards/assessments/{past.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="year-running"' not in html and "is not over yet" not in html
    response = client.get(f"/dashboards/assessments/{past.pk}/?format=csv", HTTP_ACCEPT_LANGUAGE="en")
    assert "is not over yet" not in response.content.decode("utf-8-sig")


def test_an_items_deductions_and_bonus_are_written_in_its_cell_not_only_on_hover(client, data):
    """The base score, deductions and bonus of an item were in the cell's hover text only: on a phone
    (no hover) a reader saw 安全感 52.13 beside a base of 56.13 and could not check the arithmetic,
    nor, in the stacked cards, the item's maximum. The cell writes "56.13 − 4.00" when an adjustment
    changed the item, and each card label names the maximum."""
    from dashboards import assessment

    client.force_login(data.city_officer)
    client.post(data.url, _deduction(data))  # district B, 2 × 2 points on 安全感
    client.force_login(data.city_officer_2)
    client.post(data.url, {"form": "decide", "adjustment": Adjustment.objects.get().pk, "approve": "1"})
    assessment.assessment_compute(scheme=data.scheme)
    result = AssessmentRun.objects.latest("pk").results.get(area__code="340103000000")
    item = next(i for i in result.items if i["name"] == "安全感")
    assert item["deductions"] == "4.00"
    client.force_login(data.analyst)
    html = client.get(f"/dashboards/assessments/{data.scheme.pk}/").content.decode()
    row = html.split('data-area="340103000000"', 1)[1].split("</tr>", 1)[0]
    cell = row.split('data-label="安全感 (60.00)"', 1)[1].split("</td>", 1)[0]
    assert f'<small class="dash-breakdown">{item["base"]} − 4.00</small>' in cell
    # An item no adjustment changed has no such line; its label names its maximum too.
    other = row.split('data-label="排名 (20.00)"', 1)[1].split("</td>", 1)[0]
    assert "dash-breakdown" not in other


def test_a_pending_deduction_names_its_entry_and_occurrences_for_the_approver(client, data):
    """ "Awaiting approval" gave a deduction's points and reason but not the negative-list entry nor
    the number of occurrences they came from: the approver could not check 6.00 = 2 points × 3."""
    client.force_login(data.city_officer)
    client.post(data.url, _deduction(data, occurrences="3", reason="三起"))
    pending = Adjustment.objects.get()
    client.force_login(data.city_officer_2)
    html = client.get(data.url).content.decode()
    row = html.split(f'data-adjustment="{pending.pk}"', 1)[1].split("</li>", 1)[0]
    assert "6.00" in row and "重大事件 × 3" in row and "三起" in row


def test_the_entries_page_gives_the_year_once(client, data):
    # As the results page: "评分录入 · 2026 年度平安建设考核（街道） 2026 · 瑶海区" said the year twice.
    # A name without its year still gets it.
    client.force_login(data.city_officer)
    heading = re.search(r"<h1>(.*?)</h1>", client.get(data.url).content.decode(), re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading) == f"Entries · {data.scheme.name} {data.city.name}"
    AssessmentScheme.objects.filter(pk=data.scheme.pk).update(name="平安建设考核")
    heading = re.search(r"<h1>(.*?)</h1>", client.get(data.url).content.decode(), re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading) == f"Entries · 平安建设考核 {data.scheme.year} · {data.city.name}"


def test_the_results_state_the_runs_tie_rule_at_the_cap(client, data):
    """The rules under the table gave the cap but not which of the areas tied at it the cap moved
    down: the run's own tie rule (AssessmentRun.rules), not the scheme's as it is now."""
    from dashboards import assessment

    run = assessment.assessment_compute(scheme=data.scheme)
    assert run.rules["tie_rule"] == "fewer_deductions"
    client.force_login(data.analyst)
    tie = "Areas tied at the cap: fewer approved deduction points keep excellent, then the lower area code."
    assert tie in _legend(client, data)
    legend = _legend(client, data, "zh-hans")
    assert "在限额处总分相同的，核准扣分较少者保留优秀，再相同的按区划代码较小者。" in legend
    assert "。 " not in legend
    AssessmentScheme.objects.filter(pk=data.scheme.pk).update(tie_rule="area_code")
    assert tie in _legend(client, data)  # the run's rule, not the scheme's now
    newer = assessment.assessment_compute(scheme=data.scheme)
    html = client.get(f"/dashboards/assessments/{data.scheme.pk}/?run={newer.pk}", HTTP_ACCEPT_LANGUAGE="en")
    legend = html.content.decode().split('id="assessment-rules"', 1)[1].split("</div>", 1)[0]
    assert "Areas tied at the cap: the lower area code keeps excellent." in legend
    # No cap, no tie at it: nothing said.
    AssessmentScheme.objects.filter(pk=data.scheme.pk).update(excellent_share_cap=None)
    uncapped = assessment.assessment_compute(scheme=data.scheme)
    html = client.get(
        f"/dashboards/assessments/{data.scheme.pk}/?run={uncapped.pk}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "tied at the cap" not in html.content.decode()


def test_compute_now_opens_the_new_draft_with_its_publish_button_and_no_note_about_itself(client, data):
    # "Compute now" came back to the published result, the new draft behind a "See it" link; and the
    # draft's own page then said that it, "a newer computation (run 4)", "is not shown until it is
    # published", linking to itself.
    from dashboards import assessment

    published = _score_and_compute(data, "10")
    assessment.assessment_publish(run=published, actor=data.city_officer)
    assessment.manual_score_enter(
        item=data.manual_item, area=data.district_a, points=D("15"),
        evidence=SimpleUploadedFile("e.pdf", b"%PDF"), actor=data.city_officer,
    )  # fmt: skip
    client.force_login(data.city_officer)
    page = f"/dashboards/assessments/{data.scheme.pk}/"
    response = client.post(f"{page}action/", {"action": "compute"}, HTTP_ACCEPT_LANGUAGE="en")
    draft = data.scheme.runs.latest("pk")
    assert draft.pk != published.pk
    assert response.status_code == 302 and response["Location"] == f"{page}?run={draft.pk}"
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Draft result (run {draft.pk}" in html and "Publish this result" in html
    assert "differs from the published result" not in html
    # The published result still points at the draft.
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "differs from the published result" in html and f'href="?run={draft.pk}"' in html
    # Nothing new to show: back to the page as it was.
    response = client.post(f"{page}action/", {"action": "compute"})
    assert response.status_code == 302 and response["Location"] == page


@pytest.mark.parametrize("reason", ["", "  ", "否", "驳" * 501])
def test_rejecting_without_a_proper_reason_is_refused_at_reason_and_saves_nothing(client, data, reason):
    """A rejection told its entrant nothing of why: it now takes a reason of 2 to 500 characters.
    Refused, the page comes back (400) with the error at the row's reason box and what was typed."""
    from governance.models import Notification

    adjustment = adjustment_enter(
        scheme=data.scheme, area=data.district_a, kind="bonus", reason="进步", item=data.manual_item,
        points=D("1"), actor=data.city_officer,
    )  # fmt: skip
    client.force_login(data.city_officer_2)
    response = client.post(
        data.url, {"form": "decide", "adjustment": adjustment.pk, "approve": "0", "reason": reason}
    )
    assert response.status_code == 400
    assert response.context["decide"]["field"] == "reason"
    page = response.content.decode()
    assert f'id="decide-{adjustment.pk}-reason"' in page and 'aria-invalid="true"' in page
    adjustment.refresh_from_db()
    assert (adjustment.status, adjustment.rejection_reason, adjustment.approved_by) == ("pending", "", None)
    assert not Notification.objects.filter(key=f"assessment-decision:{adjustment.pk}").exists()


def test_a_rejection_reason_is_stored_shown_and_approving_takes_none(client, data):
    first = adjustment_enter(
        scheme=data.scheme, area=data.district_a, kind="bonus", reason="进步", item=data.manual_item,
        points=D("1"), actor=data.city_officer,
    )  # fmt: skip
    second = adjustment_enter(
        scheme=data.scheme, area=data.district_a, kind="bonus", reason="创新", item=data.manual_item,
        points=D("1"), actor=data.city_officer,
    )  # fmt: skip
    client.force_login(data.city_officer_2)
    page = client.get(data.url).content.decode()
    assert f'id="decide-{first.pk}-reason"' in page
    assert (
        client.post(data.url, {"form": "decide", "adjustment": first.pk, "approve": "1"}).status_code == 302
    )
    response = client.post(
        data.url, {"form": "decide", "adjustment": second.pk, "approve": "0", "reason": "  材料不全  "}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.rejection_reason) == ("approved", "")
    assert (second.status, second.rejection_reason) == ("rejected", "材料不全")
    # The entrant sees why on the entries page.
    client.force_login(data.city_officer)
    decided = client.get(data.url).content.decode().split('id="decided-adjustments"', 1)[1]
    row = decided.split(f'data-decided="{second.pk}"', 1)[1].split("</li>", 1)[0]
    assert "材料不全" in row


def test_an_old_rejection_without_a_reason_says_it_was_not_recorded(client, data):
    adjustment = adjustment_enter(
        scheme=data.scheme, area=data.district_a, kind="bonus", reason="进步", item=data.manual_item,
        points=D("1"), actor=data.city_officer,
    )  # fmt: skip
    Adjustment.objects.filter(pk=adjustment.pk).update(
        status="rejected", approved_by=data.city_officer_2, approved_at=timezone.now()
    )
    client.force_login(data.city_officer)
    decided = client.get(data.url).content.decode().split('id="decided-adjustments"', 1)[1]
    row = decided.split(f'data-decided="{adjustment.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Reason for the rejection: not recorded" in row


def test_a_target_item_on_a_lower_is_better_indicator_is_described_as_scored(client, data):
    """score_target gives full marks at or BELOW the target of a lower-is-better indicator and
    max x target / value above it; the results table's heads described every target item as
    "达到或超过得满分" (full marks at or above it), the reverse of how 5 preventable cases per 10,000
    are scored. (The assessed areas' list of items: test_assessment_assessed.py.)"""
    AssessmentItem.objects.filter(scheme=data.scheme, order=3).update(max_points=D("10"))
    AssessmentItem.objects.create(
        scheme=data.scheme,
        order=4,
        name="可防性案件",
        max_points=D("10"),
        method="target",
        indicator="police_preventable_cases_per_10k",
        target=5.0,
    )
    client.force_login(data.analyst)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/dashboards/assessments/{data.scheme.pk}/").content.decode()
    lower = "目标值，越低越好（不高于目标值得满分，高于时按“目标值 ÷ 实际值”的比例得分）"
    higher = "目标值（达到或超过得满分，未达到按比例得分）"
    # The column heads' hover text, before a run (the scheme's items) and for a run's stored items.
    heads = {name: title for title, name in re.findall(r'<th title="([^"]*)">([^<]*?) ?<span', html)}
    assert heads["可防性案件"] == lower and heads["安全感"] == higher
    from dashboards import assessment

    assessment.assessment_compute(scheme=data.scheme)
    html = client.get(f"/dashboards/assessments/{data.scheme.pk}/").content.decode()
    heads = {name: title for title, name in re.findall(r'<th title="([^"]*)">([^<]*?) ?<span', html)}
    assert heads["可防性案件"] == lower and heads["安全感"] == higher


def test_the_admin_s_target_method_reads_true_for_either_direction(client, data):
    """The item's method select offered "目标值（达到或超过得满分，未达到按比例得分）", the reverse of how a
    target on a lower-is-better indicator (preventable cases) is scored; it is neutral now and the
    method's help says how each direction is scored. The results page keeps each item's own words."""
    import re

    client.force_login(data.admin)
    url = f"/admin/dashboards/assessmentscheme/{data.scheme.pk}/change/"
    for language, label, help_text in (
        (
            "zh-hans",
            "目标值（达到目标值得满分，高低以指标方向为准）",
            "越低越好的指标（如可防性案件）不高于目标值得满分，高于时按“目标值 ÷ 实际值”的比例得分",
        ),
        (
            "en",
            "Target (full marks on reaching it, see the indicator's direction)",  # the admin's capital
            "one better when lower (such as preventable cases) full marks at or below it and the points"
            " × target ÷ value above it",
        ),
    ):
        client.cookies["django_language"] = language
        html = client.get(url).content.decode()
        select = re.search(r'<select name="items-0-method".*?</select>', html, re.S).group(0)
        assert re.search(r'<option value="target"[^>]*>([^<]*)</option>', select).group(1) == html_escape(
            label
        )
        assert html_escape(help_text) in html
    client.force_login(data.analyst)  # not a superuser: the scheme's admin is not theirs
    assert client.get(url).status_code in (302, 403)


def test_the_results_table_gives_each_items_maximum_in_the_reader_s_brackets(client, data):
    # "安全感 (20.00)": the bracket around an item's maximum was written into the template, half-width
    # in a Chinese heading. It is now the aside of the reader's language, with no space before "（".
    from dashboards import assessment

    assessment.assessment_compute(scheme=data.scheme)
    client.force_login(data.analyst)
    url = f"/dashboards/assessments/{data.scheme.pk}/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    items = list(data.scheme.items.all())
    assert items
    for item in items:
        points = f"{item.max_points}"
        assert f'{item.name} <span class="muted">({points})</span></th>' in english
        assert f'data-label="{item.name} ({points})"' in english
        assert f'{item.name}<span class="muted">（{points}）</span></th>' in chinese
        assert f'data-label="{item.name}（{points}）"' in chinese

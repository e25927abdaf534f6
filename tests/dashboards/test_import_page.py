"""The data import page: a statistics clerk uploads the CSV saved from Excel in the browser (the API
and the command were the only ways in), with every bad line listed and nothing written."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboards import intake
from dashboards.models import AreaPopulation, ImportBatch, PreventableCaseCount, SurveyResponse

URL = "/dashboards/import/"

SURVEY = (
    "area,date,age_group,safety,satisfaction,weight\r\n"
    "340102001001001,2026/11/2,35-44,很安全,满意,\r\n"
    "340102001001002,2026/11/3,65+,不清楚,比较满意,1.5\r\n"
    ",,,,,\r\n"
)
BAD_SURVEY = (
    "area,date,age_group,safety,satisfaction,weight\r\n"
    "340102001001001,2026-11-02,35-44,safe,satisfied,\r\n"
    "999999999999,2026-11-02,35-44,safe,satisfied,\r\n"  # line 3: unknown area
    "340102001001001,2099-11-02,35-44,maybe,satisfied,\r\n"  # line 4: future date, bad answer
)


def csv_file(text: str, name: str = "survey.csv", encoding: str = "utf-8-sig") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


@pytest.fixture
def analyst(client, cast):
    client.force_login(cast.analyst)
    return client


def test_the_page_is_linked_for_an_analyst_and_offers_the_three_imports(analyst):
    home = analyst.get("/")
    assert URL in home.content.decode()
    page = analyst.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    for kind in ("surveys", "case-counts", "populations"):
        assert f'value="{kind}"' in html
    assert 'type="file"' in html and 'name="dry_run"' in html and 'name="again"' in html
    # The columns each file needs are on the page, as docs/statistics.md names them.
    assert "area, date, age_group, safety, satisfaction, weight" in html
    assert "area, month, kind, count" in html
    assert "区域代码, 日期, 年龄段, 安全感, 满意度, 权重" in html  # the header a Chinese sheet may have


@pytest.mark.parametrize(
    "who",
    [
        "district_officer",
        "worker_a",
        "outsider",
        "petition_officer",
        "community_handler",
        "street_handler",
        "mediator",
        "department_user",
    ],
)
def test_roles_that_cannot_import_are_refused_and_not_offered_the_page(client, cast, who):
    client.force_login(getattr(cast, who))
    assert URL not in client.get("/").content.decode()
    assert client.get(URL).status_code == 403
    response = client.post(URL, {"kind": "surveys", "file": csv_file(SURVEY)})
    assert response.status_code == 403 and SurveyResponse.objects.count() == 0


def test_an_excel_csv_in_gbk_is_imported_and_the_page_says_how_many_rows(analyst, cast):
    response = analyst.post(
        URL, {"kind": "surveys", "file": csv_file(SURVEY, encoding="gb18030")}, follow=True
    )
    assert response.status_code == 200
    assert SurveyResponse.objects.count() == 2
    batch = ImportBatch.objects.get()
    assert batch.created_by == cast.analyst and batch.source == "survey.csv"
    html = response.content.decode()
    assert "survey.csv" in html and f"batch {batch.pk}" in html and "2 rows" in html


def test_every_bad_line_is_listed_with_its_number_and_nothing_is_written(analyst):
    response = analyst.post(URL, {"kind": "surveys", "file": csv_file(BAD_SURVEY)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "3 errors; nothing was imported." in html
    for line, field in ((3, "area"), (4, "date"), (4, "safety")):
        assert f'<tr data-line="{line}" data-field="{field}">' in html
    assert "No area with code 999999999999 in your scope." in html
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_one_bad_line_is_one_error_in_english_and_in_chinese(analyst):
    """The summary said "1 error(s)" (and "3 error(s)"): a plural form by the count now, and the
    Chinese one, which has a single form, reads 个错误."""
    one = BAD_SURVEY.rsplit("\r\n", 2)[0] + "\r\n"  # the header, a good line, the unknown area
    for language, said in (
        ("en", "1 error; nothing was imported."),
        ("zh-hans", "1 个错误；未导入任何数据。"),
    ):
        response = analyst.post(
            URL, {"kind": "surveys", "file": csv_file(one)}, HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert said in html and "error(s)" not in html
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_an_area_outside_the_importers_scope_reads_as_unknown(client, cast):
    cast.analyst.memberships.update(area=cast.district_a)
    client.force_login(cast.analyst)
    text = "area,month,kind,count\r\n340103001001,2026-10,burglary,2\r\n"
    response = client.post(URL, {"kind": "case-counts", "file": csv_file(text, "cases.csv")})
    assert response.status_code == 400
    assert "No area with code 340103001001 in your scope." in response.content.decode()
    assert PreventableCaseCount.objects.count() == 0


def test_check_only_validates_and_writes_nothing(analyst):
    response = analyst.post(URL, {"kind": "surveys", "file": csv_file(SURVEY), "dry_run": "on"})
    assert response.status_code == 200
    assert "2 rows are valid (dry run, nothing written)" in response.content.decode()
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_the_same_answers_again_are_refused_unless_asked_for(analyst):
    analyst.post(URL, {"kind": "surveys", "file": csv_file(SURVEY)})
    again = analyst.post(URL, {"kind": "surveys", "file": csv_file(SURVEY)})
    assert again.status_code == 409
    assert "These answers were imported already" in again.content.decode()
    assert SurveyResponse.objects.count() == 2
    analyst.post(URL, {"kind": "surveys", "file": csv_file(SURVEY), "again": "on"})
    assert SurveyResponse.objects.count() == 4


def test_case_counts_are_imported_from_the_page(analyst, cast):
    text = "area,month,kind,count\r\n340102001001,2026/10,burglary,3\r\n\r\n"
    response = analyst.post(URL, {"kind": "case-counts", "file": csv_file(text, "cases.csv")}, follow=True)
    assert response.status_code == 200
    assert list(PreventableCaseCount.objects.values_list("area__code", "kind", "count")) == [
        ("340102001001", "burglary", 3)
    ]


@pytest.mark.parametrize(
    "data, field",
    [({"kind": "surveys"}, "file"), ({"kind": "fraud", "file": None}, "kind")],
)
def test_a_form_without_a_file_or_a_known_kind_names_the_field(analyst, data, field):
    data = {k: (csv_file(SURVEY) if k == "file" else v) for k, v in data.items()}
    response = analyst.post(URL, data)
    assert response.status_code == 400
    assert f'id="id_{field}"' in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_the_url_name_is_dashboards_import():
    assert reverse("dashboards-import") == URL


def test_again_with_case_counts_is_an_error_on_that_box(analyst):
    text = "area,month,kind,count\r\n340102001001,2026-10,burglary,3\r\n"
    response = analyst.post(URL, {"kind": "case-counts", "file": csv_file(text, "cases.csv"), "again": "on"})
    assert response.status_code == 400
    assert "Only for survey answers" in response.content.decode()
    assert PreventableCaseCount.objects.count() == 0


def test_the_allowed_values_keep_each_hyphenated_value_whole(analyst):
    """On a phone the age groups broke across their hyphen ("45-" at a line's end, "54" on the
    next), reading as two values; a date pattern did the same. Each value with a hyphen is kept on
    one line, and the text is the value as typed (a plain hyphen, to copy into the sheet)."""
    html = analyst.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    values = "".join(re.findall(r'<dl class="dash-import-values">.*?</dl>', html, re.S))
    for code in ("16-24", "25-34", "35-44", "45-54", "55-64", "35-44岁", "YYYY-MM-DD", "YYYY-MM"):
        assert f'<span class="nowrap">{code}</span>' in values, code
    # Outside a span no hyphen is left to break at.
    outside = re.sub(r'<span class="nowrap">[^<]*</span>', "", values).replace("dash-import-values", "")
    assert "-" not in outside, outside


def test_a_header_in_any_case_with_spaces_and_padded_values_is_imported_from_the_page(analyst):
    """A sheet exported with ``Area``, `` DATE ``, ``AGE_GROUP`` and values with (ideographic) spaces
    around them: the clerk had to re-head the file in lower case."""
    text = (
        " Area ,DATE,\u3000AGE_GROUP\u3000,Safety,SATISFACTION\r\n"
        "\u3000340102001001001\u3000, 2026-11-02 ,35-44岁\u3000, 很安全 ,满意\u3000\r\n"
    )
    response = analyst.post(URL, {"kind": "surveys", "file": csv_file(text)}, follow=True)
    assert response.status_code == 200
    assert list(SurveyResponse.objects.values_list("area__code", "age_group", "safety")) == [
        ("340102001001001", "35-44", "very_safe")
    ]
    assert "imported 1 row" in response.content.decode()


def test_two_header_names_for_one_column_are_listed_on_line_1_naming_both(analyst):
    text = "area,区域代码,date,age_group,safety,satisfaction\r\n1,340102001001001,2026-11-02,35-44,safe,satisfied\r\n"
    response = analyst.post(URL, {"kind": "surveys", "file": csv_file(text)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    html = response.content.decode()
    assert '<tr data-line="1" data-field="area">' in html
    assert "“area” (column A) and “区域代码” (column B)" in html
    assert SurveyResponse.objects.count() == 0


def test_an_analyst_of_district_a_is_refused_district_b_rows_on_their_lines(client, cast):
    """Per row: the district A area in the same file is fine, district B's line is refused as an
    unknown code (no existence leak), and nothing of the file is written."""
    cast.analyst.memberships.update(area=cast.district_a)
    client.force_login(cast.analyst)
    text = (
        "area,month,kind,count\r\n"
        f"{cast.community_a1a.code},2026-10,burglary,2\r\n"
        f"{cast.grid_d.code},2026-10,burglary,1\r\n"
        f"{cast.district_b.code},2026-10,ebike_theft,4\r\n"
    )
    response = client.post(URL, {"kind": "case-counts", "file": csv_file(text, "cases.csv")})
    assert response.status_code == 400
    html = response.content.decode()
    rows = re.findall(r'<tr data-line="(\d+)" data-field="(\w+)">', html)
    assert rows == [("3", "area"), ("4", "area")]
    assert f"No area with code {cast.district_b.code} in your scope." in html
    assert PreventableCaseCount.objects.count() == 0 and ImportBatch.objects.count() == 0


TEMPLATE = "/dashboards/import/template/"


@pytest.mark.parametrize("kind", ["surveys", "case-counts", "populations"])
def test_each_import_has_a_template_file_with_the_chinese_header(analyst, kind):
    """A clerk starts from a file with the right header rather than typing it from the page."""
    page = analyst.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'href="{TEMPLATE}?kind={kind}"' in page
    response = analyst.get(TEMPLATE, {"kind": kind}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and ".csv" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # so that Excel shows the Chinese names
    columns = intake.IMPORT_COLUMNS[kind]
    assert data.decode("utf-8-sig") == ",".join(intake.COLUMN_NAMES_ZH[c][0] for c in columns) + "\r\n"
    # In English, the English names; the importer reads both.
    english = analyst.get(TEMPLATE, {"kind": kind}, HTTP_ACCEPT_LANGUAGE="en")
    assert b"".join(english.streaming_content).decode("utf-8-sig") == ",".join(columns) + "\r\n"


def test_the_template_filled_in_is_imported(analyst, cast):
    data = b"".join(
        analyst.get(TEMPLATE, {"kind": "populations"}, HTTP_ACCEPT_LANGUAGE="zh-hans").streaming_content
    )
    filled = data + f"{cast.community_a1a.code},2025,1480\r\n".encode()
    response = analyst.post(URL, {"kind": "populations", "file": SimpleUploadedFile("人口.csv", filled)})
    assert response.status_code == 302
    assert list(AreaPopulation.objects.values_list("area", "year", "population")) == [
        (cast.community_a1a.pk, 2025, 1480)
    ]


@pytest.mark.parametrize("query", [{}, {"kind": "fraud"}, {"kind": ["surveys", "populations"]}])
def test_a_template_of_no_known_kind_is_a_400_naming_the_kind(analyst, query):
    response = analyst.get(TEMPLATE, query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert 'data-field="kind"' in response.content.decode()


def test_the_template_is_refused_to_roles_that_cannot_import(client, cast):
    client.force_login(cast.worker_a)
    assert client.get(TEMPLATE, {"kind": "surveys"}).status_code == 403


def test_the_recent_imports_cost_no_query_per_batch(analyst, cast):
    def queries() -> int:
        analyst.get(URL)  # warm up
        with CaptureQueriesContext(connection) as ctx:
            assert analyst.get(URL).status_code == 200
        return len(ctx)

    ImportBatch.objects.create(kind=ImportBatch.Kind.SURVEY, source="a.csv", rows=1, created_by=cast.analyst)
    one = queries()
    for n in range(9):
        ImportBatch.objects.create(
            kind=ImportBatch.Kind.SURVEY, source=f"{n}.csv", rows=1, created_by=cast.analyst
        )
    assert queries() == one


def test_an_error_of_the_whole_file_says_so_rather_than_line_0(analyst):
    """A workbook sent as it is cannot be read at all: its one error is the file's, not a "line 0"
    a clerk would look for in vain."""
    workbook = SimpleUploadedFile("问卷.xlsx", b"PK\x03\x04" + b"\0" * 64)
    response = analyst.post(URL, {"kind": "surveys", "file": workbook}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    row = re.search(r'<tr data-line="0" data-field="file">(.*?)</tr>', response.content.decode(), re.S)
    assert row and '<td class="nowrap">whole file</td>' in row.group(1)
    assert ImportBatch.objects.count() == 0


def test_the_answer_scales_name_each_code_beside_its_chinese_labels(analyst):
    """The safety and satisfaction values were listed as the Chinese labels only (很安全 / 安全 / …): an
    English reader could not read them, nor learn that a file may give the codes (very_safe …),
    which the police kinds beside them already named."""
    html = analyst.get(URL).content.decode()
    values = dict(re.findall(r"<dt><code>(\w+)</code></dt><dd>(.*?)</dd>", html))
    assert values["safety"] == (
        "very_safe 很安全, safe 安全, basically_safe 基本安全, not_very_safe 不太安全, unsafe 不安全, "
        "dont_know 不清楚/不知道"
    )
    assert values["satisfaction"] == (
        "satisfied 满意, fairly_satisfied 比较满意, basically_satisfied 基本满意, "
        "not_very_satisfied 不太满意, dissatisfied 不满意, dont_know 不清楚/不知道"
    )
    text = "area,date,age_group,safety,satisfaction\r\n340102001001001,2026-11-02,35-44,not_very_safe,dont_know\r\n"
    assert analyst.post(URL, {"kind": "surveys", "file": csv_file(text)}).status_code == 302
    assert list(SurveyResponse.objects.values_list("safety", "satisfaction")) == [
        ("not_very_safe", "dont_know")
    ]

"""The statistics API's CSV answers name the file they are saved under (``Content-Disposition``):
a browser or ``curl -OJ`` saved every one as "values" or "rankings", with nothing to tell two apart.
The name is built from the parameters as the read validated them, never the text sent."""

from __future__ import annotations

import pytest

from tests.base import api_client
from tests.dashboards.test_stats_api import data  # noqa: F401  (the hand-built statistics and a run)

SAFE = "survey_safety_rate"


def attachment(response) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    prefix, suffix = 'attachment; filename="', '"'
    assert disposition.startswith(prefix) and disposition.endswith(suffix), disposition
    return disposition.removeprefix(prefix).removesuffix(suffix)


def test_each_endpoint_names_its_csv_after_what_it_holds(data):  # noqa: F811
    client = api_client(data.analyst)
    community, grid = data.community_a1a.code, data.grid_a.code
    cases = [
        ("/api/v1/stats/rankings/", {"indicator": SAFE, "period": "2026-11", "parent": community},
         f"rankings-{SAFE}-2026-11-{community}.csv"),
        ("/api/v1/stats/rankings/", {"indicator": SAFE, "period": "2026Q4", "parent": community},
         f"rankings-{SAFE}-2026Q4-{community}.csv"),
        ("/api/v1/stats/values/", {"indicator": SAFE, "period": "2026-11", "level": "grid", "parent": community},
         f"values-{SAFE}-2026-11-grid-parent_{community}.csv"),
        ("/api/v1/stats/values/", {"indicator": SAFE, "period": "2026Q4", "area": grid},
         f"values-{SAFE}-2026Q4-{grid}.csv"),
        ("/api/v1/stats/values/", {"period_type": "year"}, "values-year.csv"),
        ("/api/v1/stats/values/", {}, "values.csv"),
        ("/api/v1/stats/series/", {"indicator": SAFE, "area": grid, "from": "2025-11", "to": "2026-11"},
         f"series-{SAFE}-{grid}-month-from_2025-11-to_2026-11.csv"),
        ("/api/v1/stats/series/", {"indicator": SAFE, "area": grid, "period_type": "quarter", "to": "2026Q4"},
         f"series-{SAFE}-{grid}-quarter-to_2026Q4.csv"),
        ("/api/v1/stats/indicators/", {}, "indicators.csv"),
        ("/api/v1/stats/rollups/", {}, "rollups.csv"),
        ("/api/v1/assessments/", {}, "assessments.csv"),
    ]  # fmt: skip
    for path, params, name in cases:
        assert attachment(client.get(path, {**params, "format": "csv"})) == name, (path, params)
        # Asked for by Accept, the same name; the JSON answer is no attachment.
        assert attachment(client.get(path, params, HTTP_ACCEPT="text/csv")) == name, (path, params)
        as_json = client.get(path, params)
        assert as_json.status_code == 200 and "Content-Disposition" not in as_json, (path, params)


def test_a_page_after_the_first_says_its_number(data):  # noqa: F811
    client = api_client(data.analyst)
    params = {"indicator": SAFE, "period": "2026-11", "page_size": 2, "format": "csv"}
    assert attachment(client.get("/api/v1/stats/values/", params)) == f"values-{SAFE}-2026-11.csv"
    second = client.get("/api/v1/stats/values/", {**params, "page": 2})
    assert attachment(second) == f"values-{SAFE}-2026-11-page2.csv"


def test_the_name_holds_the_parameters_as_validated_not_as_sent(data):  # noqa: F811
    # A period in full-width digits, or with a CR LF after it, is the period (the reading strips and
    # normalises it): its code is named, not the text. A blank parent is no filter, and not named.
    client = api_client(data.analyst)
    community = data.community_a1a.code
    for period in ("２０２６-１１", "2026-11\r\n", " 2026-11 "):
        response = client.get(
            "/api/v1/stats/rankings/",
            {"indicator": SAFE, "period": period, "parent": community, "format": "csv"},
        )
        assert attachment(response) == f"rankings-{SAFE}-2026-11-{community}.csv"
        response = client.get("/api/v1/stats/values/", {"indicator": f" {SAFE}\n", "period": period,
                                                        "parent": " ", "format": "csv"})  # fmt: skip
        assert attachment(response) == f"values-{SAFE}-2026-11.csv"


def test_a_304_and_every_error_carry_no_attachment(data):  # noqa: F811
    client = api_client(data.analyst)
    params = {"indicator": SAFE, "period": "2026-11", "parent": data.community_a1a.code, "format": "csv"}
    first = client.get("/api/v1/stats/rankings/", params)
    assert attachment(first)
    again = client.get("/api/v1/stats/rankings/", params, HTTP_IF_NONE_MATCH=first["ETag"])
    since = client.get("/api/v1/stats/rankings/", params, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    for unchanged in (again, since):
        assert unchanged.status_code == 304 and "Content-Disposition" not in unchanged
    refused = [
        client.get("/api/v1/stats/rankings/", {**params, "period": "2026-13"}),
        client.get("/api/v1/stats/values/", {"period": "bad", "format": "csv"}),
        client.get("/api/v1/stats/values/", {"perod": "2026-11", "format": "csv"}),
        client.get("/api/v1/stats/rankings/", {**params, "page": 9}),
    ]
    outside = api_client(data.outsider)
    missing = [
        outside.get("/api/v1/stats/rankings/", params),
        outside.get("/api/v1/stats/series/", {"indicator": SAFE, "area": data.grid_a.code}, HTTP_ACCEPT="text/csv"),
    ]  # fmt: skip
    for response in refused + missing:
        assert response.status_code in (400, 404) and "Content-Disposition" not in response, response.content
        assert response["Content-Type"] == "application/json"
    assert [r.status_code for r in missing] == [404, 404]


@pytest.mark.parametrize(
    "text", ['survey_safety_rate"; filename="x.exe', "survey_safety_rate\r\nSet-Cookie: a=b", 'a\\"b']
)
def test_a_quote_cr_or_lf_in_a_parameter_is_refused_before_any_name_is_made(data, text):  # noqa: F811
    # RFC 6266: a quote or a line break in the name would end it or the header. No parameter that
    # reaches the name takes one: an indicator, an area, a level or a period with one is refused.
    client = api_client(data.analyst)
    community, grid = data.community_a1a.code, data.grid_a.code
    asked = [
        ("/api/v1/stats/rankings/", {"indicator": text, "period": "2026-11", "parent": community}, 400),
        ("/api/v1/stats/rankings/", {"indicator": SAFE, "period": "2026-11", "parent": community + text}, 404),
        ("/api/v1/stats/rankings/", {"indicator": SAFE, "period": f"2026-11{text}", "parent": community}, 400),
        ("/api/v1/stats/values/", {"indicator": text}, 400),
        ("/api/v1/stats/values/", {"area": grid + text}, 400),
        ("/api/v1/stats/values/", {"parent": text}, 400),
        ("/api/v1/stats/values/", {"level": text}, 400),
        ("/api/v1/stats/values/", {"period_type": text}, 400),
        ("/api/v1/stats/series/", {"indicator": SAFE, "area": grid + text}, 404),
        ("/api/v1/stats/series/", {"indicator": SAFE, "area": grid, "from": text}, 400),
        ("/api/v1/stats/series/", {"indicator": SAFE, "area": grid, "period_type": text}, 400),
    ]  # fmt: skip
    for path, params, status in asked:
        response = client.get(path, {**params, "format": "csv"})
        assert response.status_code == status, (path, params, response.content)
        assert "Content-Disposition" not in response


def test_whatever_a_part_holds_the_name_stays_a_quoted_ascii_token():
    # The guard behind the validation: were an area's code ever to hold a quote, a line break or a
    # Chinese character, the name would still be safe to quote.
    from django.test import RequestFactory

    from dashboards.api import RankingListApi

    view = RankingListApi()
    view.csv_name_parts = ['34"01\r\n', "网格", "../x"]
    request = RequestFactory().get("/api/v1/stats/rankings/")
    assert view.csv_filename(request) == "rankings-34_01__-__-___x.csv"
    view = RankingListApi()
    view.csv_name = ""
    assert view.csv_filename(RequestFactory().get("/api/v1/assessments/12/results/")) == (
        "assessments-12-results.csv"
    )

"""The assessment reads' CSV answers name what they hold, as the statistics reads' do: the filters
and the run as the read validated them (a year of "２０２６" is 2026, a zero-padded id its number),
not the path alone, which saved every list as "assessments.csv" whatever year or level it held."""

from __future__ import annotations

from dashboards.assessment_models import AssessmentScheme
from tests.base import api_client
from tests.dashboards.test_assessment_api import _publish_then_compute_anew, data  # noqa: F401
from tests.dashboards.test_stats_csv_filenames import attachment

CITY = "340100000000"
DISTRICT = "340102000000"


def test_the_list_names_its_year_level_and_area(data):  # noqa: F811
    client = api_client(data.analyst)
    cases = [
        ({}, "assessments.csv"),
        ({"year": "2026"}, "assessments-2026.csv"),
        ({"year": "２０２６"}, "assessments-2026.csv"),
        ({"year": " 2026 "}, "assessments-2026.csv"),
        ({"level": "street"}, "assessments-street.csv"),
        ({"area": f" {DISTRICT} "}, f"assessments-{DISTRICT}.csv"),
        ({"area": CITY, "level": "district", "year": "2026"}, f"assessments-2026-district-{CITY}.csv"),
        ({"year": "", "level": "", "area": ""}, "assessments.csv"),
    ]
    for params, name in cases:
        assert attachment(client.get("/api/v1/assessments/", {**params, "format": "csv"})) == name, params
        assert attachment(client.get("/api/v1/assessments/", params, HTTP_ACCEPT="text/csv")) == name, params
        as_json = client.get("/api/v1/assessments/", params)
        assert as_json.status_code == 200 and "Content-Disposition" not in as_json, params


def test_the_results_name_the_scheme_and_the_run_they_hold(data):  # noqa: F811
    # Without ?run= the file holds the run shown (the published one, else the newest), and says which:
    # two downloads either side of a publication are told apart.
    client = api_client(data.analyst)
    url = f"/api/v1/assessments/{data.scheme.pk}/results/"
    first = attachment(client.get(url, {"format": "csv"}))
    assert first == f"assessments-{data.scheme.pk}-results-run_{data.run.pk}.csv"
    newer = _publish_then_compute_anew(data)
    assert attachment(client.get(url, {"format": "csv"})) == first  # the published run is still shown
    asked = attachment(client.get(url, {"run": f" {newer.pk} "}, HTTP_ACCEPT="text/csv"))
    assert asked == f"assessments-{data.scheme.pk}-results-run_{newer.pk}.csv"
    # The scheme's id as a number, not the path's text.
    padded = attachment(client.get(f"/api/v1/assessments/000{data.scheme.pk}/results/", {"format": "csv"}))
    assert padded == first
    # No run yet: no run to name.
    empty = AssessmentScheme.objects.create(year=2027, name="空", area=data.city, level="district")
    header = client.get(f"/api/v1/assessments/{empty.pk}/results/", {"format": "csv"})
    assert attachment(header) == f"assessments-{empty.pk}-results.csv"


def test_a_304_and_every_error_carry_no_attachment(data):  # noqa: F811
    client = api_client(data.analyst)
    url = f"/api/v1/assessments/{data.scheme.pk}/results/"
    first = client.get(url, {"format": "csv"})
    assert attachment(first)
    again = client.get(url, {"format": "csv"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and "Content-Disposition" not in again
    refused = [
        client.get("/api/v1/assessments/", {"year": "last", "format": "csv"}),
        client.get("/api/v1/assessments/", {"level": 'street"; filename="x.exe', "format": "csv"}),
        client.get("/api/v1/assessments/", {"area": f"{CITY}\r\nSet-Cookie: a=b", "format": "csv"}),
        client.get(url, {"run": "abc", "format": "csv"}),
        client.get(url, {"run": "999999"}, HTTP_ACCEPT="text/csv"),
    ]
    missing = [
        api_client(data.outsider).get(
            f"/api/v1/assessments/{data.street_scheme.pk}/results/", {"format": "csv"}
        ),
        client.get("/api/v1/assessments/999999/results/", {"format": "csv"}),
    ]
    assert [r.status_code for r in refused + missing] == [400] * len(refused) + [404] * len(missing)
    for response in refused + missing:
        assert "Content-Disposition" not in response and response["Content-Type"] == "application/json"

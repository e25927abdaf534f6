"""The schema describes the query parameters it lists: the `format` of the reads answered in CSV too
(drf-spectacular lists it, from the renderers, with its values and no words), and docs/api.md gives
the ranges of `areas/locate/`'s `lat` and `lng` that the schema gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.base import api_client

FORMAT_EN = (
    "The answer's format: `json` (the default) or `csv`, which `Accept: text/csv` asks for too; any "
    "other value is a 400 keyed `format` listing those the endpoint serves."
)
FORMAT_ZH = "响应格式：`json`（默认）或 `csv`，也可用 `Accept: text/csv` 请求；其他值返回键为 `format` 的 400，并列出该接口支持的格式。"


def _schema(language: str) -> dict:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.json()


def _format_parameters(schema: dict) -> dict[str, dict]:
    return {
        f"{method} {path}": parameter
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "format" and parameter["in"] == "query"
    }


@pytest.mark.django_db
def test_the_format_parameter_of_the_reads_in_csv_is_described_in_both_languages(cast):
    english, chinese = _format_parameters(_schema("en")), _format_parameters(_schema("zh-hans"))
    # The statistics reads and the assessments: every one answering CSV, and none else.
    assert "get /api/v1/stats/values/" in english and "get /api/v1/assessments/" in english
    assert {p["schema"]["enum"] == ["csv", "json"] for p in english.values()} == {True}
    assert {k: p.get("description") for k, p in english.items()} == dict.fromkeys(english, FORMAT_EN)
    assert {k: p.get("description") for k, p in chinese.items()} == dict.fromkeys(english, FORMAT_ZH)
    # What it says is what the reads do.
    client = api_client(cast.analyst)
    assert client.get("/api/v1/stats/indicators/", {"format": "csv"})["Content-Type"].startswith("text/csv")
    assert client.get("/api/v1/stats/indicators/", {"format": "json"})["Content-Type"] == "application/json"
    refused = client.get("/api/v1/stats/indicators/", {"format": "xml"})
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"format"}
    assert {"json", "csv"} <= set(" ".join(refused.json()["errors"]["format"]).replace(",", " ").split())


@pytest.mark.django_db
def test_the_docs_give_the_locate_ranges_the_schema_gives():
    parameters = {
        p["name"]: p["schema"] for p in _schema("en")["paths"]["/api/v1/areas/locate/"]["get"]["parameters"]
    }
    row = next(
        line
        for line in (Path(settings.BASE_DIR) / "docs" / "api.md").read_text().splitlines()
        if line.startswith("| `GET areas/locate/")
    )
    for name in ("lat", "lng"):
        low, high = parameters[name]["minimum"], parameters[name]["maximum"]
        assert f"`{name}` {low} to {high}" in row, (name, low, high)
    assert "a 400 keyed by it" in row

"""The descriptions the indicator registry shows (``GET stats/indicators/``, the pages) say what the
numbers count, also where what they count is a setting."""

from __future__ import annotations

import pytest

from tests.base import api_client

pytestmark = pytest.mark.django_db


def _description(user, code: str, language: str) -> str:
    response = api_client(user).get("/api/v1/stats/indicators/", HTTP_ACCEPT_LANGUAGE=language)
    return next(r for r in response.json()["results"] if r["code"] == code)["description"]


def test_the_preventable_cases_rate_names_the_kinds_the_city_counts(cast, settings):
    """DOMAIN.md: the list of preventable kinds is a setting. The description named the four default
    kinds whatever the setting, so a city counting burglary and fraud read "burglary, robbery at
    home, vehicle and e-bike theft" over a rate of burglaries and frauds."""
    code = "police_preventable_cases_per_10k"
    assert _description(cast.analyst, code, "en") == (
        "Burglary, robbery at home, vehicle and e-bike theft reported by the police, per 10,000 residents."
    )
    settings.PREVENTABLE_CASE_KINDS = ("burglary", "fraud")
    settings.PREVENTABLE_CASE_KIND_LABELS = ("burglary=入室盗窃", "fraud=电信网络诈骗")
    assert _description(cast.analyst, code, "en") == (
        "Preventable cases reported by the police (入室盗窃, 电信网络诈骗), per 10,000 residents."
    )
    assert (
        _description(cast.analyst, code, "zh-hans")
        == "公安机关通报的可防性案件（入室盗窃、电信网络诈骗）数，按每万人计。"
    )
    # A kind without a name in PREVENTABLE_CASE_KIND_LABELS is named by its code, as the import page does.
    settings.PREVENTABLE_CASE_KINDS = ("burglary", "pickpocketing")
    assert (
        _description(cast.analyst, code, "zh-hans")
        == "公安机关通报的可防性案件（入室盗窃、pickpocketing）数，按每万人计。"
    )
    # The defaults in another order are the defaults.
    settings.PREVENTABLE_CASE_KINDS = ("ebike_theft", "burglary", "motor_vehicle_theft", "home_robbery")
    assert _description(cast.analyst, code, "zh-hans") == (
        "公安机关通报的入室盗窃、入户抢劫、盗窃机动车及电动自行车案件数，按每万人计。"
    )

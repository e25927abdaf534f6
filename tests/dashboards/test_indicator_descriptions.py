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


def test_the_survey_rates_name_the_answers_they_count_and_that_answers_are_weighted(cast, settings):
    """DOMAIN.md: safety sense = share of the top three answers among valid ones, which answers count
    being a setting (SURVEY_SAFE_ANSWERS, SURVEY_SATISFIED_ANSWERS); the rollup sums the answers'
    weights. The descriptions said "who feel safe" / "satisfied" whatever the setting, and nothing of
    the weights, so a city counting only the top two read a rate it could not check."""
    safety, satisfaction = "survey_safety_rate", "survey_satisfaction_rate"
    assert _description(cast.analyst, safety, "zh-hans") == (
        "受访群众中回答“很安全”、“安全”、“基本安全”的比例，按有效回答计算（不含“不清楚”），"
        "每份回答按其样本权重计。"
    )
    assert _description(cast.analyst, safety, "en") == (
        "Share of residents surveyed answering “very safe”, “safe”, “basically safe”, among valid "
        "answers (“don't know” excluded), each answer counted by its sample weight."
    )
    assert _description(cast.analyst, satisfaction, "zh-hans") == (
        "受访群众中对社会治安工作回答“满意”、“比较满意”、“基本满意”的比例，按有效回答计算"
        "（不含“不清楚”），每份回答按其样本权重计。"
    )
    # The setting decides, and the answers are named in the order of the scale, not of the setting.
    settings.SURVEY_SAFE_ANSWERS = ("safe", "very_safe")
    settings.SURVEY_SATISFIED_ANSWERS = ("satisfied",)
    assert _description(cast.analyst, safety, "zh-hans") == (
        "受访群众中回答“很安全”、“安全”的比例，按有效回答计算（不含“不清楚”），每份回答按其样本权重计。"
    )
    assert _description(cast.analyst, satisfaction, "en") == (
        "Share of residents surveyed answering “satisfied” about public-security work, among valid "
        "answers (“don't know” excluded), each answer counted by its sample weight."
    )
    # A city asking 安全 / 比较安全 / 一般 / 不太安全 / 不安全 (SURVEY_SAFETY_LABELS) stores its 安全 as
    # very_safe: its answers are named in its own words, in either language, not as 很安全.
    settings.SURVEY_SAFE_ANSWERS = ("very_safe", "safe", "basically_safe")
    settings.SURVEY_SAFETY_LABELS = ("安全", "比较安全", "一般", "不太安全", "不安全")
    assert _description(cast.analyst, safety, "zh-hans") == (
        "受访群众中回答“安全”、“比较安全”、“一般”的比例，按有效回答计算（不含“不清楚”），"
        "每份回答按其样本权重计。"
    )
    assert _description(cast.analyst, safety, "en").startswith(
        "Share of residents surveyed answering “安全”, “比较安全”, “一般”, among valid answers"
    )


def test_person_times_says_a_petition_counts_each_of_its_persons(cast):
    """petitions/indicators.py sums persons_count: a group visit of 20 people is 20 person-times. The
    Chinese description read "每次来访、来信或来电均计入" (each visit counted once) and left out the
    online and fax channels."""
    code = "petitions_person_times"
    assert _description(cast.analyst, code, "zh-hans") == (
        "本期收到的各渠道信访件所涉人数之和（集体访按实际人数计），含重复信访。"
    )
    assert _description(cast.analyst, code, "en") == (
        "Persons on the petitions received through every channel (a group petition counts each of "
        "its people), repeats included."
    )

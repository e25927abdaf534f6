"""``manage.py check`` reports a statistics setting the rollup, the survey import or the assessment
would refuse later (dashboards/checks.py): at deploy time rather than at 02:00."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from dashboards.checks import check_statistics_settings

ROOT = Path(__file__).resolve().parents[2]


def ids(**settings) -> list[str]:
    with override_settings(**settings):
        return [message.id for message in check_statistics_settings()]


def test_the_default_settings_pass():
    assert check_statistics_settings() == []


@pytest.mark.parametrize(
    "value",
    [
        ("very-safe", "safe"),  # not a code of the scale: counted no answer, a wrong rate published
        ("safe", "dont_know"),  # "don't know" is left out of the denominator, it cannot count
        (),  # nothing counts: every rate 0
        "very_safe",  # a bare string (a one-item tuple without its comma), read letter by letter
    ],
)
def test_a_safe_answer_setting_that_names_no_answer_of_the_scale_is_an_error(value):
    with override_settings(SURVEY_SAFE_ANSWERS=value):
        (error,) = check_statistics_settings()
    assert error.id == "dashboards.E001" and error.level == 40  # ERROR: check fails
    assert error.msg.startswith("SURVEY_SAFE_ANSWERS must be a non-empty list of codes from very_safe, safe,")
    assert "SURVEY_SAFE_ANSWERS" in error.hint


def test_each_statistics_setting_has_its_own_error():
    assert ids(SURVEY_SATISFIED_ANSWERS=("satisfied", "happy")) == ["dashboards.E002"]
    assert ids(SURVEY_SAFETY_LABELS=("安全", "比较安全", "一般", "不安全")) == ["dashboards.E003"]
    assert ids(SURVEY_SATISFACTION_LABELS=("满意", "满意", "基本满意", "不太满意", "不满意")) == [
        "dashboards.E004"
    ]
    assert ids(PREVENTABLE_CASE_KINDS=()) == ["dashboards.E005"]
    # Longer than the column the kind is stored in: the import failed with a database error (a 500).
    assert ids(PREVENTABLE_CASE_KINDS=("burglary", "k" * 41)) == ["dashboards.E005"]
    assert ids(ASSESSMENT_GRADE_THRESHOLDS=("60", "80", "90")) == ["dashboards.E006"]
    assert ids(PREVENTABLE_CASE_KIND_LABELS=("burglary=入室盗窃", "ebike_theft=入室盗窃")) == [
        "dashboards.E007"
    ]
    assert ids(SURVEY_SAFE_ANSWERS=(), SURVEY_SATISFIED_ANSWERS=()) == ["dashboards.E001", "dashboards.E002"]


def test_manage_py_check_fails_on_a_misspelt_answer_in_the_environment():
    env = {**os.environ, "SURVEY_SAFE_ANSWERS": "very_safe,safe,basicaly_safe"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "(dashboards.E001) SURVEY_SAFE_ANSWERS must be a non-empty list of codes" in result.stderr
    assert "'basicaly_safe'" in result.stderr

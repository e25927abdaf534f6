"""DOMAIN.md: "where practice differs between places, the rule is a setting with the default given here".

Each such rule's setting defaults to DOMAIN.md's value (read in a process with none of the variables
set), and the settings that no other test varies are shown to change the behaviour here.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from governance.periods import add_working_hours
from tests.governance.test_docs import recorded_defaults

TZ = ZoneInfo("Asia/Shanghai")  # the project's TIME_ZONE


def test_each_varying_rule_of_domain_md_defaults_to_the_value_domain_md_gives(tmp_path):
    defaults = recorded_defaults(tmp_path)
    assert {name: defaults[name] for name in EXPECTED} == EXPECTED


EXPECTED = {
    # Grid incidents: supervision (accept, verify, close) and command (dispatch, feedback) are different roles.
    "INCIDENT_SEPARATE_DUTIES": True,
    # Mediation: "generally concluded within one month (a setting)".
    "MEDIATION_TIME_LIMIT_MONTHS": 1,
    # Petitions: "a group petition is 5 or more people: a setting".
    "PETITION_GROUP_MIN_PERSONS": 5,
    # Safety sense: the top three among valid answers; satisfaction "same method".
    "SURVEY_SAFE_ANSWERS": ["very_safe", "safe", "basically_safe"],
    "SURVEY_SATISFIED_ANSWERS": ["satisfied", "fairly_satisfied", "basically_satisfied"],
    "SURVEY_SAFETY_LABELS": ["很安全", "安全", "基本安全", "不太安全", "不安全"],
    "SURVEY_SATISFACTION_LABELS": ["满意", "比较满意", "基本满意", "不太满意", "不满意"],
    # Preventable cases: "the list is a setting (e.g. burglary, home robbery, motor-vehicle theft, e-bike theft)".
    "PREVENTABLE_CASE_KINDS": ["burglary", "home_robbery", "motor_vehicle_theft", "ebike_theft"],
    # Assessment: "Grades ... by thresholds (settings; default 90 / 80 / 60)"; a veto "by default the grade
    # becomes 'fail'".
    "ASSESSMENT_GRADE_THRESHOLDS": ["90", "80", "60"],
    "ASSESSMENT_VETO_EFFECT": "fail",
}


def test_the_per_category_limits_and_the_excellent_cap_default_to_domain_md():
    """The admin-edited ones: a new incident category's limits (accept within 2 working hours, dispatch
    within 1) and an assessment scheme's "optional cap on the share of units rated excellent" (none)."""
    from dashboards.assessment_models import AssessmentScheme
    from grids.models import IncidentCategory

    category = IncidentCategory()
    assert (category.accept_hours, category.dispatch_hours) == (2, 1)
    assert AssessmentScheme().excellent_share_cap is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "hours", "by_default", "expected"),
    [
        # 09:00-17:00: the half hour after 17:00 is no office time, so 2 hours from 15:30 end at 09:30.
        (
            dt.datetime(2026, 11, 16, 15, 30),
            2,
            dt.datetime(2026, 11, 16, 17, 30),
            dt.datetime(2026, 11, 17, 9, 30),
        ),
        # 08:45 is before opening: the hour starts at 09:00.
        (
            dt.datetime(2026, 11, 16, 8, 45),
            1,
            dt.datetime(2026, 11, 16, 9, 45),
            dt.datetime(2026, 11, 16, 10, 0),
        ),
    ],
)
def test_the_working_hours_setting_moves_a_working_hour_deadline(
    settings, start, hours, by_default, expected
):
    # Pure office-time arithmetic on fixed working days (as tests/governance/test_periods.py): the
    # default 08:30-17:30 first, then a place that works 09:00-17:00.
    assert add_working_hours(start.replace(tzinfo=TZ), hours) == by_default.replace(tzinfo=TZ)
    settings.WORKING_HOURS = ("09:00", "17:00")
    assert add_working_hours(start.replace(tzinfo=TZ), hours) == expected.replace(tzinfo=TZ)

"""The rollup runs in the admin: named in local time, with how each started in the reader's language
("nightly" and "demo" were shown as those codes) and their seconds rounded."""

import datetime as dt

from django.utils import translation

from dashboards.models import RollupRun


def _run(**kwargs) -> RollupRun:
    at = dt.datetime(2026, 11, 30, 18, 5, tzinfo=dt.UTC)  # 02:05 on 1 December in Beijing
    return RollupRun.objects.create(
        started_at=at,
        finished_at=at + dt.timedelta(seconds=3),
        status=RollupRun.Status.SUCCESS,
        kind=RollupRun.Kind.INCREMENTAL,
        seconds=2.512905916999898,
        **kwargs,
    )


def test_a_rollup_run_is_named_in_local_time(cast, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    with translation.override("zh-hans"):
        assert str(_run(trigger="nightly")) == "增量计算 2026-12-01 02:05 成功"


def test_the_rollup_runs_list_shows_how_a_run_started_and_its_seconds_rounded(client, cast, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    _run(trigger="nightly")
    client.force_login(cast.admin)
    html = client.get("/admin/dashboards/rolluprun/").content.decode()
    rows = html.split('id="result_list"')[1].split("</table>")[0]
    assert "每晚定时" in rows and "nightly" not in rows
    assert "2.51" in rows and "2.5129" not in rows


def test_an_assessment_run_is_named_by_how_it_started(cast):
    from dashboards.assessment_models import AssessmentRun

    run = AssessmentRun(pk=3, computed_at=dt.datetime(2026, 11, 30, 18, 5, tzinfo=dt.UTC), trigger="demo")
    with translation.override("zh-hans"):
        assert str(run) == "#3 · 2026-12-01 02:05 · 演示数据"


def test_a_scheme_is_named_with_its_year_once():
    """The admin's titles and the runs' list read "2026 2026 年度平安建设考核（区）"."""
    from dashboards.assessment_models import AssessmentScheme

    assert (
        str(AssessmentScheme(year=2026, name="2026 年度平安建设考核（区）")) == "2026 年度平安建设考核（区）"
    )
    assert str(AssessmentScheme(year=2026, name="平安建设考核")) == "平安建设考核 (2026)"


def test_every_trigger_the_engine_records_has_a_label():
    """The runs a population import queues are recorded with trigger "population": the admin showed
    that code until it was a choice too."""
    from dashboards.models import POPULATION_TRIGGER, TREE_TRIGGER

    labels = dict(RollupRun.Trigger.choices)
    assert {"nightly", "command", "api", TREE_TRIGGER, POPULATION_TRIGGER, "demo"} <= set(labels)
    with translation.override("zh-hans"):
        assert str(labels[POPULATION_TRIGGER]) != "populations imported"

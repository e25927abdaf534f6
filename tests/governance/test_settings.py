"""Settings are read from the environment; production refuses to start without its secrets.
Each case runs Django in a fresh process so the module-level settings are really re-read."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(env_extra: dict, *args: str) -> subprocess.CompletedProcess:
    return run_manage(env_extra, "check", *args)


def run_manage(env_extra: dict, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check({"DEBUG": "0", "FIELD_ENCRYPTION_KEY": "k", "ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_a_field_encryption_key():
    result = run_check({"DEBUG": "0", "SECRET_KEY": "s" * 60, "ALLOWED_HOSTS": "example.org"})
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    """Unset, the list was empty: the site started and answered every request but /healthz with 400."""
    secrets = {"DEBUG": "0", "SECRET_KEY": "s" * 60, "FIELD_ENCRYPTION_KEY": "k"}
    for hosts in ({}, {"ALLOWED_HOSTS": ""}):
        result = run_check({**secrets, **hosts})
        assert result.returncode != 0 and "ALLOWED_HOSTS must be set when DEBUG is off" in result.stderr
    # Outside production the development hosts remain the default.
    assert run_check({"DEBUG": "1"}).returncode == 0


def test_settings_that_cannot_be_read_stop_the_start_naming_the_variable():
    for env, message in [
        ({"ALLOWED_HOSTS": ","}, "ALLOWED_HOSTS must be a comma-separated list such as a,b"),
        ({"SESSION_COOKIE_AGE": "8h"}, "SESSION_COOKIE_AGE must be an integer (digits only"),
        ({"DATABASE_URL": "postgres://gov:pw@db:port/gov"}, "DATABASE_URL must be postgres://user:password@"),
        ({"REDIS_URL": "redis:6379"}, "REDIS_URL must be redis://host:6379/0"),
        ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"TIME_ZONE": "China/Beijing"}, "TIME_ZONE must be an IANA time zone such as Asia/Shanghai"),
        ({"LANGUAGE_CODE": "zh-cn"}, "LANGUAGE_CODE must be one of zh-hans, en"),
        ({"FORWARDED_ALLOW_IPS": "nginx"}, "FORWARDED_ALLOW_IPS must be IP addresses or networks"),
    ]:
        result = run_check(env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr[-300:])


def test_a_malformed_boolean_fails_loudly():
    result = run_check({"DEBUG": "maybe"})
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 30 + "-production-secret-with-enough-entropy-9f8e7d",
    "FIELD_ENCRYPTION_KEY": "a-production-field-key-" + "7Kq2xVd9pLm4Rt8w",
    "ALLOWED_HOSTS": "grid.example.gov.cn",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def test_deploy_checks_are_clean_under_production_settings():
    result = run_check(PRODUCTION, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_urls_are_parsed():
    from governance.env import ConfigError, parse_database_url

    pg = parse_database_url("postgres://u:p%40ss@db.internal:5433/gov?sslmode=require")
    assert pg["ENGINE"].endswith("postgresql") and pg["NAME"] == "gov" and pg["PASSWORD"] == "p@ss"
    assert (
        pg["PORT"] == "5433"
        and pg["OPTIONS"] == {"sslmode": "require", "connect_timeout": "5"}
        and pg["CONN_HEALTH_CHECKS"]
    )
    assert pg["TEST"] == {"CHARSET": "UTF8", "TEMPLATE": "template0"}  # not a SQL_ASCII cluster's default
    assert parse_database_url("sqlite:////tmp/x.db")["NAME"] == "/tmp/x.db"
    try:
        parse_database_url("mysql://x")
    except ConfigError as exc:
        assert "not supported" in str(exc)
    else:
        raise AssertionError("mysql:// should be refused")


def test_a_task_time_limit_too_short_for_its_soft_limit_fails_loudly():
    result = run_check({"CELERY_TASK_TIME_LIMIT": "30"})
    assert result.returncode != 0 and "CELERY_TASK_TIME_LIMIT must be at least 120, got 30" in result.stderr


def test_the_mediation_time_limit_in_months_is_read_from_the_environment():
    result = run_manage({"MEDIATION_TIME_LIMIT_MONTHS": "2"}, "diffsettings")
    assert result.returncode == 0, result.stderr
    # diffsettings marks a setting Django itself does not define with "###".
    lines = [line.split("###")[0].strip() for line in result.stdout.splitlines()]
    assert "MEDIATION_TIME_LIMIT_MONTHS = 2" in lines


def test_a_mediation_time_limit_below_one_month_fails_loudly():
    result = run_check({"MEDIATION_TIME_LIMIT_MONTHS": "0"})
    assert result.returncode != 0 and "MEDIATION_TIME_LIMIT_MONTHS must be at least 1, got 0" in result.stderr
    result = run_check({"MEDIATION_TIME_LIMIT_MONTHS": "30 days"})
    assert result.returncode != 0 and "MEDIATION_TIME_LIMIT_MONTHS must be an integer" in result.stderr


def test_the_group_petition_size_is_read_from_the_environment():
    result = run_manage({"PETITION_GROUP_MIN_PERSONS": "10"}, "diffsettings")
    assert result.returncode == 0, result.stderr
    lines = [line.split("###")[0].strip() for line in result.stdout.splitlines()]
    assert "PETITION_GROUP_MIN_PERSONS = 10" in lines
    result = run_manage({}, "diffsettings")
    assert "PETITION_GROUP_MIN_PERSONS = 5" in [
        line.split("###")[0].strip() for line in result.stdout.splitlines()
    ]


def test_a_group_of_one_person_fails_loudly():
    result = run_check({"PETITION_GROUP_MIN_PERSONS": "1"})
    assert result.returncode != 0 and "PETITION_GROUP_MIN_PERSONS must be at least 2, got 1" in result.stderr


def test_the_domain_settings_are_read_from_the_environment():
    # DOMAIN.md makes these settings; they were Django attributes a deployment could not set.
    env = {
        "WORKING_HOURS": "09:00, 17:00",
        "SURVEY_SAFE_ANSWERS": "very_safe,safe",
        "SURVEY_SAFETY_LABELS": "安全,比较安全,一般,不太安全,不安全",
        "SURVEY_MIN_SAMPLE": "50",
        "PREVENTABLE_CASE_KINDS": "burglary,fraud",
        "ASSESSMENT_GRADE_THRESHOLDS": "95,85,70",
        "ASSESSMENT_VETO_EFFECT": "no_excellent",
    }
    result = run_manage(env, "diffsettings")
    assert result.returncode == 0, result.stderr
    lines = {line.split("###")[0].strip() for line in result.stdout.splitlines()}
    assert {
        "WORKING_HOURS = ('09:00', '17:00')",
        "SURVEY_SAFE_ANSWERS = ('very_safe', 'safe')",
        "SURVEY_SATISFIED_ANSWERS = ('satisfied', 'fairly_satisfied', 'basically_satisfied')",
        "SURVEY_SAFETY_LABELS = ('安全', '比较安全', '一般', '不太安全', '不安全')",
        "SURVEY_MIN_SAMPLE = 50",
        "PREVENTABLE_CASE_KINDS = ('burglary', 'fraud')",
        "ASSESSMENT_GRADE_THRESHOLDS = ('95', '85', '70')",
        "ASSESSMENT_VETO_EFFECT = 'no_excellent'",
    } <= lines


def test_working_hours_and_a_veto_effect_that_cannot_be_read_fail_loudly():
    for env, message in [
        ({"WORKING_HOURS": "8:30"}, "WORKING_HOURS must be two times of day"),
        ({"WORKING_HOURS": "17:30,08:30"}, "WORKING_HOURS must begin before it ends"),
        ({"WORKING_HOURS": "08:30,25:00"}, "WORKING_HOURS must be two times of day"),
        ({"ASSESSMENT_VETO_EFFECT": "demote"}, "ASSESSMENT_VETO_EFFECT must be fail or no_excellent"),
        ({"SURVEY_MIN_SAMPLE": "0"}, "SURVEY_MIN_SAMPLE must be at least 1"),
    ]:
        result = run_check(env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr[-300:])


def test_the_rollup_tuning_is_read_from_the_environment():
    # docs/statistics.md names these settings; they were Django attributes a deployment could not set
    # (a container runs the image's settings.py), so a city could not give its rollup more memory.
    env = {
        "ROLLUP_RECENT_MONTHS": "3",
        "ROLLUP_FULL_WEEKDAY": "none",
        "ROLLUP_FIRST_MONTH": "2024-03",
        "ROLLUP_WORK_MEM": "1GB",
        "ROLLUP_MAINTENANCE_WORK_MEM": "2 GB",
        "ROLLUP_TEMP_BUFFERS": "2GB",
        "ROLLUP_SWAP_LOCK_TIMEOUT": "500ms",
        "INTAKE_MAX_ROWS": "1000",
    }
    result = run_manage(env, "diffsettings")
    assert result.returncode == 0, result.stderr
    lines = {line.split("###")[0].strip() for line in result.stdout.splitlines()}
    assert {
        "ROLLUP_RECENT_MONTHS = 3",
        "ROLLUP_FULL_WEEKDAY = None",
        "ROLLUP_FIRST_MONTH = '2024-03-01'",
        "ROLLUP_WORK_MEM = '1GB'",
        "ROLLUP_MAINTENANCE_WORK_MEM = '2 GB'",
        "ROLLUP_TEMP_BUFFERS = '2GB'",
        "ROLLUP_SWAP_LOCK_TIMEOUT = '500ms'",
        "INTAKE_MAX_ROWS = 1000",
    } <= lines
    result = run_manage({"ROLLUP_FULL_WEEKDAY": "0"}, "diffsettings")
    assert "ROLLUP_FULL_WEEKDAY = 0" in {line.split("###")[0].strip() for line in result.stdout.splitlines()}


def test_rollup_tuning_that_cannot_be_read_fails_loudly():
    # A bad memory size would otherwise be refused by PostgreSQL only when the nightly run starts.
    for env, message in [
        ({"ROLLUP_RECENT_MONTHS": "0"}, "ROLLUP_RECENT_MONTHS must be at least 1"),
        ({"ROLLUP_FULL_WEEKDAY": "7"}, "ROLLUP_FULL_WEEKDAY must be 0 (Monday) to 6 (Sunday) or none"),
        ({"ROLLUP_FULL_WEEKDAY": "sunday"}, "ROLLUP_FULL_WEEKDAY must be 0 (Monday) to 6 (Sunday) or none"),
        ({"ROLLUP_FIRST_MONTH": "2024-03-15"}, "ROLLUP_FIRST_MONTH must be the first day of a month"),
        ({"ROLLUP_FIRST_MONTH": "March 2024"}, "ROLLUP_FIRST_MONTH must be the first day of a month"),
        ({"ROLLUP_WORK_MEM": "1G"}, "ROLLUP_WORK_MEM must be a PostgreSQL amount of memory"),
        ({"ROLLUP_TEMP_BUFFERS": "512MB; SELECT 1"}, "ROLLUP_TEMP_BUFFERS must be a PostgreSQL amount"),
        ({"ROLLUP_SWAP_LOCK_TIMEOUT": "5 seconds"}, "ROLLUP_SWAP_LOCK_TIMEOUT must be a PostgreSQL duration"),
        # Well formed, but outside what PostgreSQL takes for the parameter: refused at 02:00.
        ({"ROLLUP_WORK_MEM": "0MB"}, "ROLLUP_WORK_MEM must be between 64kB and 2147483647kB"),
        ({"ROLLUP_WORK_MEM": "99999999TB"}, "ROLLUP_WORK_MEM must be between 64kB"),
        ({"ROLLUP_TEMP_BUFFERS": "1kB"}, "ROLLUP_TEMP_BUFFERS must be between 800kB"),
        ({"ROLLUP_MAINTENANCE_WORK_MEM": "512kB"}, "ROLLUP_MAINTENANCE_WORK_MEM must be between 1024kB"),
        # A tile template without its scheme made the image source "://": every tile blocked.
        ({"MAP_TILE_URL": "tiles.intranet/{z}/{x}/{y}.png"}, "MAP_TILE_URL must be an http(s) URL template"),
        ({"INTAKE_MAX_ROWS": "0"}, "INTAKE_MAX_ROWS must be at least 1"),
    ]:
        result = run_check(env)
        assert result.returncode != 0 and message in result.stderr, (env, result.stderr[-300:])


def test_the_tile_server_is_the_one_external_image_source_the_policy_allows():
    """Leaflet fills {s} with a, b or c: a whole first label is a wildcard; inside a label each host is
    listed, or the b and c tiles were blocked by the content security policy. And a tile server set at
    all must let the platform start (an unused LEAFLET_CONFIG translated "Map" while the settings were
    read: AppRegistryNotReady)."""
    from governance.env import tile_origins

    assert tile_origins("") == []
    assert tile_origins("https://tiles.intranet:8443/{z}/{x}/{y}.png") == ["https://tiles.intranet:8443"]
    assert tile_origins("http://{s}.tiles.intranet/{z}/{x}/{y}.png") == ["http://*.tiles.intranet"]
    assert tile_origins("https://tiles-{s}.intranet/{z}/{x}/{y}.png") == [
        "https://tiles-a.intranet",
        "https://tiles-b.intranet",
        "https://tiles-c.intranet",
    ]
    check = run_manage(
        {"MAP_TILE_URL": "https://tiles-{s}.intranet/{z}/{x}/{y}.png"},
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'])",
    )
    assert check.returncode == 0, check.stderr
    assert "https://tiles-b.intranet" in check.stdout and "https://tiles-c.intranet" in check.stdout


# --- production takes any personal-data key, however guessable ------------------------------


@pytest.mark.parametrize("key", ["k", "development-only-field-key-do-not-use-in-production"])
def test_deploy_check_refuses_a_guessable_field_encryption_key(key):
    result = run_check({**PRODUCTION, "FIELD_ENCRYPTION_KEY": key}, "--deploy")
    # One SHA-256 of the key is the Fernet key (governance/pii.py _derive): a guessable key makes a
    # database copy readable. Django's --deploy flags a weak SECRET_KEY (W009) but not this one.
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY" in result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("secret", ["short", "s" * 60, "django-insecure-" + "a1b2c3d4e5" * 5])
def test_deploy_check_refuses_a_weak_secret_key(secret):
    # Django's own W009 is a warning, which --fail-level ERROR (the compose web service's) let pass:
    # the service started with SECRET_KEY=short although the README said it was refused.
    result = run_check({**PRODUCTION, "SECRET_KEY": secret}, "--deploy", "--fail-level", "ERROR")
    assert result.returncode != 0 and "governance.E002" in result.stderr, result.stdout + result.stderr


def test_deploy_check_warns_of_production_on_sqlite_or_without_redis(tmp_path):
    """DEBUG=0 with DATABASE_URL or REDIS_URL forgotten passed check --deploy clean: SQLite takes one
    writer at a time (several gunicorn workers meet "database is locked") and the platform is tested
    and measured on PostgreSQL; without Redis tasks ran inside the web request, no beat could run
    (overdue and deadline notices never sent, no nightly rollup) and the token throttle was counted
    in each process apart. Each is named, with the variable to set."""
    for unset, check_id, variable in (
        ("DATABASE_URL", "governance.W003", "DATABASE_URL"),
        ("REDIS_URL", "governance.W004", "REDIS_URL"),
    ):
        result = run_check(
            {**PRODUCTION, unset: "", "VAR_DIR": str(tmp_path)}, "--deploy", "--fail-level", "WARNING"
        )
        output = result.stdout + result.stderr
        assert result.returncode != 0 and check_id in output and variable in output, output
        assert ({"governance.W003", "governance.W004"} - {check_id}).pop() not in output, output
    # Development (DEBUG on, the embedded default) is not production: nothing to say.
    result = run_check(
        {"DATABASE_URL": "", "REDIS_URL": "", "VAR_DIR": str(tmp_path)}, "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_application_log_says_when_how_bad_and_from_where():
    """gunicorn's own lines read "[time] [pid] [LEVEL] ...", the worker's "[time: LEVEL/process]",
    but the application's (a failed outbox send, "Internal Server Error" with its traceback, a failed
    rollup) were the bare message: `docker compose logs web` could not be searched for errors or
    warnings, nor told which part wrote them. Numbers are still masked, the traceback's too."""
    import re

    script = (
        "import logging\n"
        "logging.getLogger('governance.outbox').warning('outbox message %s not sent yet: %s', 5, 'X')\n"
        "try:\n"
        "    raise ValueError('13812345678')\n"
        "except ValueError:\n"
        "    logging.getLogger('django.request').exception('Internal Server Error: /x/')\n"
    )
    env = {**PRODUCTION, "TIME_ZONE": "Asia/Shanghai"}
    result = run_manage(env, "shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    # The offset too: gunicorn's master logs in UTC, the application in TIME_ZONE (Django sets TZ).
    stamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0800\] \[\d+\]"
    assert re.search(rf"^{stamp} \[WARNING\] governance\.outbox: outbox message 5 not sent yet: X$",
                     result.stderr, re.M), result.stderr  # fmt: skip
    assert re.search(rf"^{stamp} \[ERROR\] django\.request: Internal Server Error: /x/\nTraceback",
                     result.stderr, re.M), result.stderr  # fmt: skip
    assert "13812345678" not in result.stderr and "ValueError: 138****5678" in result.stderr


def test_processes_starting_at_once_on_a_fresh_checkout_share_one_dev_secret(tmp_path, monkeypatch):
    """Several processes start at once with no var/dev_secret_key (``pytest -n 2`` on a fresh clone,
    the web and the worker of ``make run``): each must end up with the key the file keeps. Here a
    second process writes the key while the first is making its own (in ``token_urlsafe``): the
    first overwrote it, so the two signed with different keys; and a reader between the file's
    creation and its write read an empty key."""
    from governance import settings as project_settings

    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path / "var")
    real = project_settings.secrets.token_urlsafe
    keys = []

    def token_urlsafe(n):
        if not keys:
            keys.append("other process")
            keys.append(project_settings._dev_secret())  # the other process, meanwhile
        return real(n)

    monkeypatch.setattr(project_settings.secrets, "token_urlsafe", token_urlsafe)
    mine = project_settings._dev_secret()
    assert mine == keys[1] == (tmp_path / "var" / "dev_secret_key").read_text().strip() and mine
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["dev_secret_key"]


def test_every_task_is_acked_late_and_ends_before_the_broker_would_hand_it_out_again():
    # A late-acked task the broker still holds after the visibility timeout is delivered to a second
    # worker while the first still runs it: every task's hard limit, with the limit from the
    # environment, must end before that. Read from the Celery app as the worker configures it.
    code = (
        "import json; from governance.celery import app; app.loader.import_default_modules(); "
        "c = app.conf; limit = lambda t: t.time_limit or c.task_time_limit; "
        "print(json.dumps({'visibility': c.broker_transport_options['visibility_timeout'], "
        "'prefetch': c.worker_prefetch_multiplier, 'reject': c.task_reject_on_worker_lost, "
        "'eager': c.task_always_eager, 'tz': c.timezone, "
        "'tasks': {n: [t.acks_late, limit(t), t.soft_time_limit or c.task_soft_time_limit] "
        "for n, t in app.tasks.items() if not n.startswith('celery.')}}))"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}},
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "CELERY_TASK_TIME_LIMIT": "7200",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    import json

    conf = json.loads(out.stdout)
    assert conf["eager"] is False and conf["prefetch"] == 1 and conf["reject"] is True
    assert conf["tz"] == "Asia/Shanghai"
    assert {"dashboards.rollup", "governance.relay_outbox", "grids.notify_overdue"} <= set(conf["tasks"])
    for name, (acks_late, hard, soft) in conf["tasks"].items():
        assert acks_late is True, name
        assert hard == 7200 and soft == 7200 - 60, (name, hard, soft)
        assert conf["visibility"] >= hard + 3600, (name, conf["visibility"])

"""`make run` on a fresh machine: no variables set -> SQLite, eager tasks, demo data and logins.
This runs the same management commands in a fresh process with an empty VAR_DIR."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_default_migrates_and_seeds_a_demo(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "CI"}}
    env["VAR_DIR"] = str(tmp_path)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    # The first command of `make run` warned "SQLite does not support indexes with non-key columns"
    # (models.W040): the covering indexes' INCLUDE columns are PostgreSQL's speed-up, and SQLite
    # builds the same indexes on their keys, so there is nothing for a newcomer to act on.
    assert "WARNINGS" not in migrate.stdout + migrate.stderr, migrate.stdout + migrate.stderr
    holidays = subprocess.run(
        [sys.executable, "manage.py", "load_holidays"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    # The site speaks Chinese by default (LANGUAGE_CODE), and so do its commands to the operator.
    assert holidays.returncode == 0 and "新增 72 个日期" in holidays.stdout, holidays.stderr
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "small", "--months", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "演示登录账号（密码均为 demo-pass-2026）" in result.stdout and "demo_gridworker" in result.stdout
    assert "网格员" in result.stdout  # the roles, too
    assert (tmp_path / "db.sqlite3").exists()
    # The beat's notices are sent once (no beat runs here): the demo's handlers find what is overdue.
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        (overdue,) = db.execute("SELECT count(*) FROM governance_notification").fetchone()
    assert overdue > 0 and "件逾期事件" in result.stdout
    again = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--scale", "small", "--months", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0 and "区域已存在" in again.stdout and "事件已存在，保留原样" in again.stdout

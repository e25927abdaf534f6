"""The benchmark commands of docs/benchmarks.md still run: ``bench/rollup_bench.py`` and then
``bench/stats_api_bench.py``, at a tiny size, in a throw-away PostgreSQL database of their own. The
timings are not asserted (they are written up in docs/benchmarks.md); what is checked is that every
source gets data, the runs succeed with the same statement count as at city scale, and every API
read answers 200."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.grids.conftest import categories, report  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--districts", "1", "--streets-per-district", "2", "--communities-per-street", "2"]
TINY += ["--grids-per-community", "2", "--answers", "4", "--months", "14"]


@pytest.fixture
def bench_database():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("the benchmarks need PostgreSQL: set DATABASE_URL=postgres://... (make test does)")
    import psycopg2

    name = f"gov_test_bench_{uuid.uuid4().hex[:8]}"  # the scripts create it (the name says "bench")
    yield urlparse(url)._replace(path=f"/{name}").geturl()
    server = psycopg2.connect(urlparse(url)._replace(path="/postgres").geturl())
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.close()


def run(script: str, database: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_rollup_and_statistics_api_benchmarks_run(bench_database):
    out = run("rollup_bench.py", bench_database, *TINY)
    counts = dict(re.findall(r"^  (\w+): ([\d,]+)$", out, re.M))
    assert set(counts) == {
        "dashboards_surveyresponse", "dashboards_preventablecasecount", "grids_incident",
        "grids_incidentevent", "mediation_disputecase", "petitions_petition", "petitions_petitionevent",
    }  # fmt: skip
    assert all(int(n.replace(",", "")) > 0 for n in counts.values())
    assert re.search(r"^full rollup: [\d.]+ s, [\d,]+ values, 104 statements$", out, re.M)
    # The current and the previous month, and a third when the generated records include a step taken
    # within the run's change margin (10 minutes) on an item of an earlier month: that depends on the
    # clock, and the test failed at some hours of the day.
    assert re.search(r"^incremental: [\d.]+ s, [\d,]+ values, [23] months, \d+ statements$", out, re.M)
    assert re.search(r"^\| 8 \| [\d,]+ \| ", out, re.M)  # the summary line: 8 grids

    # Again on the same data, then the API reads of the published values.
    assert "full rollup" in run("rollup_bench.py", bench_database, *TINY, "--reuse")
    reads = [line for line in run("stats_api_bench.py", bench_database).splitlines() if line.startswith("| ")]
    assert len(reads) == 1 + 2 * 16  # the header, 16 reads as admin and as analyst
    assert all(line.split(" | ")[2] == "200" for line in reads[1:])

    # The deadline refresh after a calendar change, on the same records, left as they were: a second
    # invocation finds the same work to do.
    changed = re.compile(r"^refresh: ([\d,]+) records changed in [\d.]+ s, \d+ queries$", re.M)
    first, second = (run("deadlines_bench.py", bench_database) for _ in range(2))
    assert "rolled back: the database is as it was" in first
    assert changed.search(first).group(1) == changed.search(second).group(1)


@pytest.mark.django_db
def test_the_list_plans_script_times_a_page_and_explains_its_slowest_query(cast, capsys, monkeypatch):
    import runpy

    url = "/grids/inbox/?open=false"
    monkeypatch.setattr(sys, "argv", ["lists_explain.py", cast.district_officer.username, url])
    runpy.run_path(str(ROOT / "bench" / "lists_explain.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert re.search(rf"^{re.escape(url)} as district_officer: 200, \d+ ms, \d+ queries$", out, re.M), out
    assert "Execution Time:" in out


@pytest.mark.django_db
def test_the_list_plans_script_summarises_several_lists_a_line_each(cast, capsys, monkeypatch):
    import runpy

    urls = ["/grids/inbox/?open=false", "/api/v1/incidents/?page_size=2"]
    monkeypatch.setattr(sys, "argv", ["lists_explain.py", "--summary", cast.district_officer.username, *urls])
    runpy.run_path(str(ROOT / "bench" / "lists_explain.py"), run_name="__main__")
    lines = [line for line in capsys.readouterr().out.splitlines() if " as district_officer: " in line]
    assert [line.split(" as ")[0] for line in lines] == urls
    assert all(
        re.search(r": 200, \d+ ms, \d+ queries; slowest SELECT [\d.]+ ms, Execution Time: ", line)
        for line in lines
    )


@pytest.mark.django_db
def test_the_list_plans_script_explains_the_matching_statement_as_often_as_asked(
    cast,
    capsys,
    monkeypatch,
    report,  # noqa: F811
):
    """``--match 'LIMIT 3'`` explains the page itself (the count is often the slowest statement),
    ``--repeat 3`` three times, each execution and planning time given, and the pages it read."""
    import runpy

    for _ in range(4):  # a page of 3 with a page after it (a last page is cut to the count)
        report()

    argv = ["--summary", "--match", "LIMIT 3", "--repeat", "3", cast.district_officer.username]
    monkeypatch.setattr(sys, "argv", ["lists_explain.py", *argv, "/api/v1/incidents/?page_size=3"])
    runpy.run_path(str(ROOT / "bench" / "lists_explain.py"), run_name="__main__")
    (line,) = [line for line in capsys.readouterr().out.splitlines() if " as district_officer: " in line]
    assert re.search(
        r"; slowest SELECT with 'LIMIT 3' [\d.]+ ms, Execution Time: [\d.]+ ms, shared hit=\d+[^(]* \(of 3: ([\d.]+, ){2}[\d.]+; planning ([\d.]+, ){2}[\d.]+\); ",
        line,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("plain", [False, True], ids=["keys first", "plain"])
def test_the_list_plans_script_pages_plainly_when_asked(
    cast,
    monkeypatch,
    plain,
    report,  # noqa: F811
):
    """``--plain``: the page's statement as the plain paginator wrote it, to measure what the keys
    first save or cost on the same page."""
    import runpy

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance import pagination

    monkeypatch.setattr(pagination, "deferred_slice", pagination.deferred_slice)  # --plain replaces it
    for _ in range(4):
        report()
    argv = [
        "--summary",
        "--match",
        "LIMIT 3",
        *(["--plain"] if plain else []),
        cast.district_officer.username,
    ]
    monkeypatch.setattr(sys, "argv", ["lists_explain.py", *argv, "/api/v1/incidents/?page_size=3"])
    with CaptureQueriesContext(connection) as captured:
        runpy.run_path(str(ROOT / "bench" / "lists_explain.py"), run_name="__main__")
    (explained,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("EXPLAIN")]
    assert ("LIMIT 3" in explained) and (('"grids_incident"."id" IN (SELECT' in explained) is not plain)

"""City-scale benchmark of the rollup engine (issue 6; results in docs/benchmarks.md).

Generates, with set-based SQL on PostgreSQL (generate_series, nothing built in Python):
  * a city: 12 districts, 132 streets, ~1,700 communities, ~6,600 grids, with populations;
  * three years of survey answers at grid level (``--answers`` per grid and month: 20 -> ~4.8 M rows);
  * police preventable-case counts per community, month and 4 kinds (~245 k rows);
then times
  * the floor: one bare SQL GROUP BY (area, month) scan over the same records;
  * a full rollup (``run_rollup(full=True)``), twice (cold and warm);
  * a nightly incremental run after 2,000 new answers in the current month;
and reports peak memory (RSS) and the number of SQL statements, with 1,700 and 6,600 grids.

Run it against a throw-away database whose name contains "bench" (it is wiped):

    createdb -h 127.0.0.1 -U postgres gov_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_bench .venv/bin/python bench/rollup_bench.py

Options: ``--grids-per-community 4 --answers 20 --months 36``. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--districts", type=int, default=12)
    parser.add_argument("--streets-per-district", type=int, default=11)
    parser.add_argument("--communities-per-street", type=int, default=13)
    parser.add_argument("--grids-per-community", type=int, default=4)
    parser.add_argument("--answers", type=int, default=20, help="survey answers per grid and month")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--only-own-indicators", action="store_true", help="skip other apps' (empty) sources")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit("run against a PostgreSQL database whose name contains 'bench' (it is wiped)")
    call_command("migrate", verbosity=0)

    from dashboards import rollup
    from governance import indicators as registry_api

    if args.only_own_indicators:
        keep = {"survey_safety_rate", "survey_satisfaction_rate", "police_preventable_cases_per_10k"}
        registry_api._registry = {c: s for c, s in registry_api._registry.items() if c in keep}

    cur = connection.cursor()

    def sql(text: str, params=()) -> float:
        started = time.monotonic()
        cur.execute(text, params)
        return time.monotonic() - started

    print(f"database {name}; generating ...", flush=True)
    sql("TRUNCATE dashboards_indicatorvalue, dashboards_monthlyfact, dashboards_rolluprun, "
        "dashboards_surveyresponse, dashboards_preventablecasecount CASCADE")  # fmt: skip
    sql("DELETE FROM governance_area WHERE code LIKE '99%%'")
    d, s, c, g = (
        args.districts,
        args.streets_per_district,
        args.communities_per_street,
        args.grids_per_community,
    )
    # Codes in a private 99xxxx prefix so the benchmark never collides with demo areas.
    sql("INSERT INTO governance_area (code, name, level, path, depth, population, households, parent_id) "
        "VALUES ('990100000000', 'bench city', 'city', '990100000000/', 0, 0, 0, NULL)")  # fmt: skip
    sql(
        "INSERT INTO governance_area (code, name, level, path, depth, population, households, parent_id) "
        "SELECT '9901' || lpad(i::text, 2, '0') || '000000', 'district ' || i, 'district', "
        "p.path || '9901' || lpad(i::text, 2, '0') || '000000/', 1, 0, 0, p.id "
        "FROM generate_series(1, %s) i, governance_area p WHERE p.code = '990100000000'",
        [d],
    )
    sql(
        "INSERT INTO governance_area (code, name, level, path, depth, population, households, parent_id) "
        "SELECT left(p.code, 6) || lpad(i::text, 3, '0') || '000', p.name || ' street ' || i, 'street', "
        "p.path || left(p.code, 6) || lpad(i::text, 3, '0') || '000/', 2, 0, 0, p.id "
        "FROM generate_series(1, %s) i, governance_area p WHERE p.level = 'district' AND p.code LIKE '99%%'",
        [s],
    )
    sql(
        "INSERT INTO governance_area (code, name, level, path, depth, population, households, parent_id) "
        "SELECT left(p.code, 9) || lpad(i::text, 3, '0'), p.name || ' community ' || i, 'community', "
        "p.path || left(p.code, 9) || lpad(i::text, 3, '0') || '/', 3, 0, 0, p.id "
        "FROM generate_series(1, %s) i, governance_area p WHERE p.level = 'street' AND p.code LIKE '99%%'",
        [c],
    )
    sql(
        "INSERT INTO governance_area (code, name, level, path, depth, population, households, parent_id) "
        "SELECT p.code || lpad(i::text, 3, '0'), p.name || ' grid ' || i, 'grid', "
        "p.path || p.code || lpad(i::text, 3, '0') || '/', 4, 1200 + (hashtext(p.code || i) & 1023), 500, p.id "
        "FROM generate_series(1, %s) i, governance_area p WHERE p.level = 'community' AND p.code LIKE '99%%'",
        [g],
    )
    # Populations add up the tree.
    for child, parent in (
        ("grid", "community"),
        ("community", "street"),
        ("street", "district"),
        ("district", "city"),
    ):
        sql(
            "UPDATE governance_area p SET population = s.pop FROM (SELECT parent_id, sum(population) pop "
            "FROM governance_area WHERE level = %s AND code LIKE '99%%' GROUP BY parent_id) s "
            "WHERE p.id = s.parent_id AND p.level = %s",
            [child, parent],
        )
    cur.execute("SELECT count(*) FROM governance_area WHERE level = 'grid' AND code LIKE '99%%'")
    grids = cur.fetchone()[0]
    first_month = "date_trunc('month', (now() AT TIME ZONE 'Asia/Shanghai')) - make_interval(months => %s)"
    seconds = sql(
        "INSERT INTO dashboards_surveyresponse (area_id, date, age_group, safety, satisfaction, weight, created_at) "
        "SELECT a.id, (m.month + ((hashtext(a.code || n) & 1023) %% 28) * interval '1 day')::date, "
        "(ARRAY['16-24','25-34','35-44','45-54','55-64','65+'])[1 + (n %% 6)], "
        "CASE WHEN random() < 0.03 THEN 'dont_know' WHEN random() < 0.93 THEN "
        "(ARRAY['very_safe','safe','basically_safe'])[1 + (n %% 3)] ELSE 'not_very_safe' END, "
        "CASE WHEN random() < 0.04 THEN 'dont_know' WHEN random() < 0.90 THEN 'satisfied' ELSE 'dissatisfied' END, "
        "1, now() - interval '1 day' "
        f"FROM governance_area a, generate_series({first_month}, {first_month.replace('%s', '1')}, "
        "interval '1 month') AS m(month), generate_series(1, %s) n "
        "WHERE a.level = 'grid' AND a.code LIKE '99%%'",
        [args.months, args.answers],
    )
    cur.execute("SELECT count(*) FROM dashboards_surveyresponse")
    answers = cur.fetchone()[0]
    print(f"  {grids} grids; {answers:,} survey answers in {seconds:.1f} s", flush=True)
    sql(
        "INSERT INTO dashboards_preventablecasecount (area_id, month, kind, count, updated_at) "
        "SELECT a.id, m.month::date, k, (hashtext(a.code || k || m.month::text) & 7), now() - interval '1 day' "
        f"FROM governance_area a, generate_series({first_month}, {first_month.replace('%s', '1')}, "
        "interval '1 month') AS m(month), unnest(ARRAY['burglary','home_robbery','motor_vehicle_theft','ebike_theft']) k "
        "WHERE a.level = 'community' AND a.code LIKE '99%%'",
        [args.months],
    )
    cur.execute("SELECT count(*) FROM dashboards_preventablecasecount")
    counts = cur.fetchone()[0]
    sql("VACUUM ANALYZE")
    print(f"  {counts:,} police counts", flush=True)

    # The floor: one bare GROUP BY (area, month) scan over the same records.
    floors = []
    for _ in range(2):
        floors.append(
            sql(
                "SELECT count(*) FROM (SELECT area_id, date_trunc('month', date), count(*), sum(weight) "
                "FROM dashboards_surveyresponse GROUP BY 1, 2) s"
            )
            + sql(
                "SELECT count(*) FROM (SELECT area_id, month, sum(count) FROM dashboards_preventablecasecount GROUP BY 1, 2) s"
            )
        )
    floor = min(floors)
    print(f"floor (bare GROUP BY scan): {floor:.2f} s", flush=True)

    before = rss_mb()
    fulls = []
    for _ in range(2):
        run = rollup.run_rollup(full=True, trigger="bench")
        fulls.append(run)
        print(
            f"full rollup: {run.seconds:.2f} s, {run.rows:,} values, {run.statements} statements", flush=True
        )
    full = min(fulls, key=lambda r: r.seconds)
    sql(
        "INSERT INTO dashboards_surveyresponse (area_id, date, age_group, safety, satisfaction, weight, created_at) "
        "SELECT a.id, (now() AT TIME ZONE 'Asia/Shanghai')::date, '35-44', 'safe', 'satisfied', 1, now() "
        "FROM governance_area a, generate_series(1, 1) n WHERE a.level = 'grid' AND a.code LIKE '99%%' "
        "ORDER BY a.id LIMIT 2000"
    )
    incs = [rollup.run_rollup(trigger="bench") for _ in range(2)]
    inc = min(incs, key=lambda r: r.seconds)
    for r in incs:
        print(
            f"incremental: {r.seconds:.2f} s, {r.rows:,} values, {r.months} months, {r.statements} statements"
        )
    after = rss_mb()
    print()
    print(
        f"| grids | records | floor | full | full/floor | incremental | incr/full | statements | peak RSS |"
    )
    print(
        f"| {grids:,} | {answers + counts:,} | {floor:.2f} s | {full.seconds:.2f} s | {full.seconds / floor:.1f}x "
        f"| {inc.seconds:.2f} s | {100 * inc.seconds / full.seconds:.1f}% | {full.statements} | "
        f"{before:.0f} -> {after:.0f} MB |"
    )


if __name__ == "__main__":
    main()

"""The league table's sparklines: a period without a value is a gap in the line, not a straight
stroke across it, and a line that never moves is drawn across the middle, not along the floor."""

from __future__ import annotations

import re

from dashboards import ranking
from tests.dashboards.assessment_data import indicator_value

SAFE = "survey_safety_rate"


def _row(html: str, code: str) -> str:
    row = html[html.index(f'data-area="{code}"') :]
    return row[: row.index("</tr>")]


def _polylines(row: str) -> list[list[tuple[float, float]]]:
    return [
        [tuple(float(n) for n in point.split(",")) for point in points.split()]
        for points in re.findall(r'<polyline points="([^"]*)"', row)
    ]


def test_a_gap_in_the_values_breaks_the_line():
    # Eight periods, step 80/7: nothing in the 1st, 2nd and 5th.
    segments = ranking.sparkline_segments([None, None, 90.0, 92.0, None, 94.0, 96.0, 98.0])
    assert segments == [
        "22.9,18.0 34.3,14.0",
        "57.1,10.0 68.6,6.0 80.0,2.0",
    ]


def test_a_value_alone_between_gaps_is_a_dot_and_one_value_draws_nothing():
    # A lone point is a zero-length line, which the round line cap draws as a dot: dropped, it
    # read as no value that period; joined to the next, as a value every period between.
    assert ranking.sparkline_segments([80.0, None, 90.0, 100.0]) == [
        "0.0,18.0 0.0,18.0",
        "53.3,10.0 80.0,2.0",
    ]
    assert ranking.sparkline_segments([None, 90.0, None]) == []
    assert ranking.sparkline_segments([None, None]) == []


def test_a_line_that_never_moves_lies_across_the_middle():
    # 100% every month sat on the floor of the cell, as the lowest line of the table does.
    assert ranking.sparkline_segments([100.0, 100.0, 100.0]) == ["0.0,10.0 40.0,10.0 80.0,10.0"]


def test_the_league_row_draws_no_line_across_a_month_without_a_value(client, cast):
    """甲区 has a value in 2026-08, none in 2026-09 (no answers that month), then 2026-10 and
    2026-11: its trend was one line from August to October, a value in September to the eye,
    beside a "Change" column that said "—" for want of one."""
    for period, value in (("2026-08", 91.0), ("2026-10", 90.53), ("2026-11", 93.2)):
        indicator_value(SAFE, cast.district_a, period, value, value * 10, 1000, rank=1, rank_of=2)
    for period, value in (("2026-10", 89.0), ("2026-11", 88.0)):
        indicator_value(SAFE, cast.district_b, period, value, value * 10, 1000, rank=2, rank_of=2)
    client.force_login(cast.analyst)
    html = client.get(
        f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent=340100000000"
    ).content.decode()
    august, after = _polylines(_row(html, "340102000000"))
    # Periods 2026-04 to 2026-11, step 80/7: August is the 5th (x 45.7), October the 7th (x 68.6).
    assert len(august) == 2 and august[0] == august[1] and august[0][0] == 45.7
    assert [x for x, _y in after] == [68.6, 80.0]
    assert _polylines(_row(html, "340103000000")) == [[(68.6, 2.0), (80.0, 18.0)]]

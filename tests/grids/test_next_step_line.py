"""The incident's page says, under its number, what comes next and who has it now (docs/incidents.md
"Pages"). After a step the page said "Feedback: done" and showed the new status; a department that fed
back, or a grid worker who had just checked the result, had no "Next step" section and nothing saying
whose turn it was. A rejected report showed "Rejected" with the reason at the foot of the timeline,
below the map, and no word of what the reporter could do."""

from __future__ import annotations

import re

import pytest

from grids import services


def next_line(html: str) -> str:
    found = re.search(r'<p class="grids-next" id="next-step">(.*?)</p>', html, re.S)
    assert found, "no next-step line"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("reported", "Next: the community centre accepts it, or rejects or escalates it."),
        ("accepted", "Next: the community centre dispatches it to a department."),
        ("dispatched", "Next: 公安分局 handles it and reports back."),
        ("handling", "Next: 公安分局 handles it and reports back."),
        ("fed_back", "Next: the result is checked on site in Grid A."),
        ("verified", "Next: the community centre closes it."),
        ("closed", "Next: the handling is rated, by a grid worker of the grid or a centre."),
    ],
)
def test_the_page_says_what_comes_next_and_who_has_it(cast, client, incident_in, state, expected):
    incident = incident_in(state)
    client.force_login(cast.department_user if state in ("dispatched", "handling") else cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert next_line(html) == expected.replace("公安分局", cast.police.name).replace(
        "Grid A", cast.grid_a.name
    )


@pytest.mark.django_db
def test_a_finished_item_says_nothing_comes_next(cast, client, incident_in):
    incident = incident_in("evaluated")
    client.force_login(cast.worker_a)
    assert 'id="next-step"' not in client.get(f"/grids/incidents/{incident.code}/").content.decode()


@pytest.mark.django_db
def test_a_rejected_report_says_why_and_offers_the_reporter_to_report_again(cast, client, report):
    incident = report()
    services.incident_transition(
        incident=incident, actor=cast.community_handler, action="reject", note="已由环卫所处理，不属于本网格"
    )
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    line = next_line(html)
    assert line.startswith(f"Rejected by {cast.community_handler}: 已由环卫所处理，不属于本网格")
    assert "If the problem is still there, report it again with what was missing. Report again" in line
    assert '<a class="button" href="/grids/report/" id="report-again">Report again</a>' in html
    client.cookies["django_language"] = "zh-hans"
    line = next_line(client.get(f"/grids/incidents/{incident.code}/").content.decode())
    assert line.startswith(f"已被{cast.community_handler}驳回：已由环卫所处理，不属于本网格")
    assert "如问题仍然存在，请补充所缺情况后重新上报。" in line
    # The centre's handler reads why, without the reporter's link.
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert "已由环卫所处理" in next_line(html) and 'id="report-again"' not in html


@pytest.mark.django_db
def test_another_grids_worker_still_gets_404(cast, client, incident_in):
    incident = incident_in("fed_back")
    client.force_login(cast.worker_b)
    assert client.get(f"/grids/incidents/{incident.code}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("steps", "viewer", "expected"),
    [
        # The department hands it back: the centre that dispatches it again reads why first.
        (
            [("admin", "accept", {}), ("admin", "dispatch", {"department": "police"}),
             ("department_user", "return", {"note": "应由城管处理"})],
            "community_handler",
            "Returned by department_user: 应由城管处理 Next: the community centre dispatches it to a department.",
        ),
        # Escalated: the street centre reads why the community sent it up.
        (
            [("community_handler", "escalate", {"note": "涉及多个小区"})],
            "street_handler",
            "Escalated by community_handler: 涉及多个小区 Next: the street centre accepts it, or rejects or escalates it.",
        ),
        # The check failed: the department reads what is still wrong on site.
        (
            [("admin", "accept", {}), ("admin", "dispatch", {"department": "police"}),
             ("admin", "handle", {}), ("admin", "feedback", {"resolution": "清理完毕"}),
             ("worker_a", "verify", {"result": "fail", "note": "东侧仍有垃圾"})],
            "department_user",
            "The on-site check by worker_a failed: 东侧仍有垃圾 Next: 公安分局 handles it and reports back.",
        ),
    ],
)  # fmt: skip
def test_a_step_that_hands_the_item_back_or_up_says_why(cast, client, report, steps, viewer, expected):
    incident = report()
    for actor, action, fields in steps:
        fields = {k: getattr(cast, v).pk if k == "department" else v for k, v in fields.items()}
        services.incident_transition(incident=incident, actor=getattr(cast, actor), action=action, **fields)
    client.force_login(getattr(cast, viewer))
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert next_line(html) == expected.replace("公安分局", cast.police.name)

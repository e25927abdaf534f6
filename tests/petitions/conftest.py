"""Petition fixtures on top of the cast.

cast.petition_officer (district A, 信访局) registers and routes; cast.department_user (district A,
公安分局 = cast.police) handles routed items; ``pet.urban_user`` works in 城市管理局 (cast.urban), the
unit complained about in ``pet.register(complained=True)``; ``pet.approver`` is the head of the
police department petitions are routed to.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from governance.models import Holiday, Role, SequenceCounter
from petitions import services
from petitions.models import REPLY_DAYS, Petition, deadlines
from tests.base import make_user

# Valid resident ID numbers (GB 11643 check digits).
ID_1 = "11010519491231002X"
ID_2 = "340104199003071235"


def petitioners(n: int = 1) -> list[dict]:
    rows = [
        {"name": "王建国", "id_number": ID_1, "phone": "13812345678", "address": "甲区春晖路12号3栋"},
        {"name": "刘秀英", "id_number": ID_2, "phone": "13987654321", "address": "甲区春晖路14号"},
    ]
    return [dict(r) for r in rows[:n]]


@pytest.fixture
def pet(cast):
    p = SimpleNamespace(cast=cast)
    p.urban_user = make_user("urban_user", Role.HANDLER, cast.district_a, cast.urban)
    # The head of the police department (the department ``routed`` sends to), who approves extensions.
    p.approver = make_user("approver", Role.HANDLER, cast.district_a, cast.police)
    p.approver.memberships.update(is_head=True)

    def register(complained: bool = False, **kw):
        defaults = dict(
            actor=cast.petition_officer,
            channel="visit",
            category="urban",
            content="小区旁工地夜间施工噪音扰民，多次反映未解决。",
            area=cast.grid_a,
            petitioners=petitioners(1),
            complained_unit=cast.urban if complained else None,
        )
        defaults.update(kw)
        return services.petition_register(**defaults)

    def routed(**kw):
        petition = register(**kw)
        petition.transition(action="assign", actor=cast.petition_officer, department=cast.police.pk)
        return petition

    def accepted(**kw):
        petition = routed(**kw)
        petition.transition(action="accept", actor=cast.department_user, note="书面告知已受理")
        return petition

    def replied(**kw):
        petition = accepted(**kw)
        petition.transition(
            action="reply", actor=cast.department_user, opinion="support", text="已责令施工单位夜间停工。"
        )
        return petition

    def reviewed(**kw):
        """Replied, its review asked for and decided (upheld): the re-review window is open."""
        petition = replied(**kw)
        petition.transition(action="request_review", actor=cast.petition_officer)
        petition.transition(
            action="decide_review", actor=cast.petition_officer, decision="upheld", note="维持原意见"
        )
        return petition

    p.register, p.routed, p.accepted, p.replied = register, routed, accepted, replied
    p.reviewed = reviewed
    return p


def rest_days_at_reply_end(petition: Petition, days: int = 10) -> dt.date:
    """Make the ``days`` days from the 60th after ``petition``'s acceptance public holidays (as the
    National Day week may be) and give it the reply limit the calendar then sets: the first working
    day after them. Returns the 60th day."""
    sixtieth = timezone.localdate(petition.accepted_at) + dt.timedelta(days=REPLY_DAYS)
    for n in range(days):
        Holiday.objects.create(date=sixtieth + dt.timedelta(days=n), name="国庆节")
    SequenceCounter.bump("calendar")
    due = deadlines.reply_due(petition.accepted_at)
    Petition.objects.filter(pk=petition.pk).update(reply_due_at=due, due_at=due)
    petition.refresh_from_db()
    return sixtieth

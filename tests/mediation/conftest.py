"""Mediation fixtures on top of the cast: two organisations in district A and one in district B.

org_x  甲一街道调解中心 (street A1): cast.mediator (mediator), head_x (head), mediator_x2
org_y  园丁社区人民调解委员会 (community A1b): mediator_y (head)
org_b  乙一街道调解中心 (street B1): mediator_b
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from governance.models import Role
from mediation import services
from mediation.models import MediationOrganisation, OrganisationMember
from tests.base import make_user

# Valid resident ID numbers (GB 11643 check digits).
ID_1 = "11010519491231002X"
ID_2 = "340104199003071235"


def make_org(name, kind, area, members):
    org = MediationOrganisation.objects.create(name=name, kind=kind, area=area)
    for user, head in members:
        OrganisationMember.objects.create(organisation=org, user=user, is_head=head)
    return org


def parties(**over):
    rows = [
        {
            "role": "applicant",
            "name": "张三丰",
            "id_number": ID_1,
            "phone": "13812345678",
            "address": "甲区春晖路12号3栋",
        },
        {
            "role": "respondent",
            "name": "李四",
            "id_number": ID_2,
            "phone": "13987654321",
            "address": "甲区春晖路14号",
        },
    ]
    for key, value in over.items():
        index, field = key.split("__")
        rows[int(index[1:])][field] = value
    return rows


@pytest.fixture
def med(cast):
    m = SimpleNamespace(cast=cast)
    m.head_x = make_user("head_x", Role.MEDIATOR, cast.street_a1)
    m.mediator_x2 = make_user("mediator_x2", Role.MEDIATOR, cast.street_a1)
    m.mediator_y = make_user("mediator_y", Role.MEDIATOR, cast.community_a1b)
    m.mediator_b = make_user("mediator_b", Role.MEDIATOR, cast.street_b1)
    m.org_x = make_org(
        "甲一街道调解中心",
        MediationOrganisation.Kind.STREET_CENTRE,
        cast.street_a1,
        [(cast.mediator, False), (m.head_x, True), (m.mediator_x2, False)],
    )
    m.org_y = make_org(
        "园丁社区人民调解委员会",
        MediationOrganisation.Kind.COMMITTEE,
        cast.community_a1b,
        [(m.mediator_y, True)],
    )
    m.org_b = make_org(
        "乙一街道调解中心", MediationOrganisation.Kind.STREET_CENTRE, cast.street_b1, [(m.mediator_b, True)]
    )

    def register(org=None, actor=None, area=None, **kw):
        org = org or m.org_x
        defaults = dict(
            actor=actor or (cast.mediator if org == m.org_x else org.memberships.first().user),
            category="neighbours",
            area=area or cast.grid_a,
            origin="application",
            description="楼上漏水导致楼下天花板受损，双方就赔偿发生争执。",
            parties=parties(),
            organisation=org,
        )
        defaults.update(kw)
        return services.dispute_register(**defaults)

    def accepted(org=None, mediator=None, **kw):
        case = register(org=org, **kw)
        org = org or m.org_x
        mediator = mediator or (cast.mediator if org == m.org_x else org.memberships.first().user)
        case.transition(action="accept", actor=mediator, mediator=mediator.pk)
        return case

    def in_mediation(**kw):
        case = accepted(**kw)
        case.transition(action="start", actor=case.mediator)
        return case

    def agreed(*, effective_days_ago: int):
        """A case concluded with a written agreement that took effect ``effective_days_ago`` days
        ago (received five days before that), its judicial-confirmation window running from then."""
        case = in_mediation(received_at=timezone.now() - dt.timedelta(days=effective_days_ago + 5))
        case.transition(
            action="conclude",
            actor=case.mediator,
            outcome="success_written",
            agreement_facts="楼上漏水，责任在李四",
            agreement_terms="李四赔偿张三丰维修费2000元",
            performance_method="银行转账",
            performance_due=timezone.localdate(),
            agreement_effective_on=timezone.localdate() - dt.timedelta(days=effective_days_ago),
        )
        return case

    m.register, m.accepted, m.in_mediation, m.agreed = register, accepted, in_mediation, agreed
    return m

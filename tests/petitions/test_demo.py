"""The demo loader: realistic petitions in bulk, numbering continued, idempotent."""

from __future__ import annotations

import io
import random

import pytest

from governance import demo as demo_city
from governance.models import Membership
from petitions import demo, services
from petitions.models import Petition, Petitioner, PetitionEvent

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_petitions_over_the_months_and_is_idempotent(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    city = demo_city.build_city("small", 7)
    demo_city.create_demo_users(city, with_passwords=False)
    out = io.StringIO()
    demo.seed(demo=city, rng=random.Random(3), scale="small", months=15, stdout=out)
    count = Petition.objects.count()
    assert count > 100, out.getvalue()
    assert Petitioner.objects.filter(id_hash="").count() == 0
    assert PetitionEvent.objects.filter(action="register").count() == count
    assert Petition.objects.filter(is_repeat=True, repeat_of__isnull=False).exists()
    assert Petition.objects.filter(is_group=True).exists()
    assert Petition.objects.values("status").distinct().count() >= 6
    # Every repeat shares an identity hash with the petition it repeats.
    repeat = Petition.objects.filter(is_repeat=True).first()
    assert set(repeat.petitioners.values_list("id_hash", flat=True)) & set(
        repeat.repeat_of.petitioners.values_list("id_hash", flat=True)
    )
    # The department's steps are done by a user of that department, never by the petition office,
    # and every extension is approved by the department's head, not by the person who asked for it.
    department_steps = PetitionEvent.objects.filter(action__in=["accept", "decline", "reply", "extend"])
    assert department_steps.count() > 50
    members = set(Membership.objects.filter(department__isnull=False).values_list("user_id", "department_id"))
    assert {
        (e.actor_id, e.petition.department_id) for e in department_steps.select_related("petition")
    } <= members
    # Every reply states what its handling type takes: a claim's opinion, a suggestion's adoption,
    # nothing for a report.
    replied = Petition.objects.exclude(replied_at=None)

    def stated(handling_type):
        return set(replied.filter(handling_type=handling_type).values_list("reply_opinion", flat=True))

    assert stated("claim") == set(Petition.Opinion.values)
    assert stated("suggestion") == set(Petition.Adoption.values)
    assert stated("report") == {""}
    # A step that takes a reason has one in the timeline, as Petition.transition requires: the
    # demo's declines, extensions and review decisions read unexplained.
    reasoned = PetitionEvent.objects.filter(action__in=["decline", "extend", "decide_review"])
    assert reasoned.count() > 3 and not reasoned.filter(note="").exists()
    heads = set(Membership.objects.filter(is_head=True).values_list("user_id", "department_id"))
    extensions = PetitionEvent.objects.filter(action="extend").select_related("petition__extension_approver")
    assert extensions.exists()
    for event in extensions:
        p = event.petition
        assert event.actor_id != p.extension_approver_id
        assert (p.extension_approver_id, p.department_id) in heads  # the head of the department handling it
        assert event.data["approver"] == p.extension_approver.username
    demo.seed(demo=city, rng=random.Random(3), scale="small", months=15, stdout=out)
    assert Petition.objects.count() == count
    # Numbers continue without a gap after the demo.
    officer = city.users["demo_petition"]
    latest = Petition.objects.order_by("-received_at").first()
    new = services.petition_register(
        actor=officer, channel="phone", category="other", content="咨询政策问题。",
        area=city.communities[0], petitioners=[{"name": "测试人", "phone": "13800000000"}],
    )  # fmt: skip
    year = new.code.split("-")[1]
    assert int(new.code.split("-")[2]) == Petition.objects.filter(code__startswith=f"PET-{year}-").count()
    assert latest.code != new.code

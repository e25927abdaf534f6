"""The demo adds organisations, mediators and months of realistic cases, once."""

from __future__ import annotations

import io
import random

from django.db.models import Count, F, Q

from governance import demo as demo_city
from mediation import demo
from mediation.models import DisputeCase, MediationOrganisation, OrganisationMember
from mediation.services import dispute_register


def test_the_demo_seeds_varied_cases_with_success_rates_between_90_and_98_percent_once(db):
    city = demo_city.build_city("small", seed=3)
    demo_city.create_demo_users(city, with_passwords=False)
    out = io.StringIO()
    demo.seed(demo=city, rng=random.Random(3), scale="small", months=6, stdout=out)
    assert MediationOrganisation.objects.filter(kind="committee").count() == len(city.communities)
    assert MediationOrganisation.objects.filter(kind="street_centre").count() == len(city.streets)
    mediator = city.users["demo_mediator"]
    assert OrganisationMember.objects.filter(user=mediator, is_head=True).count() == 1
    total = DisputeCase.objects.count()
    assert total > 100
    rated = DisputeCase.objects.filter(outcome__in=DisputeCase.RATED_OUTCOMES)
    success = rated.filter(outcome__in=DisputeCase.SUCCESS_OUTCOMES).count()
    assert 0.88 <= success / rated.count() <= 0.99
    per_org = (
        rated.values("organisation")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(outcome__in=DisputeCase.SUCCESS_OUTCOMES)))
        .filter(n__gte=6)
    )
    rates = {round(r["ok"] / r["n"], 3) for r in per_org}
    assert len(rates) > 3  # organisations differ
    # demo_mediator's desk has overdue work and a closing confirmation window.
    mine = DisputeCase.objects.filter(mediator=mediator)
    assert mine.overdue().exists() and mine.confirmation_closing().exists()
    assert DisputeCase.objects.filter(status="registered").exists()
    # A timeline that says a session was recorded shows it (the desk cases had the event only), and
    # every case mediated on was accepted first.
    sessions_short = DisputeCase.objects.annotate(
        logged=Count("events", filter=Q(events__action="record_session"), distinct=True),
        held=Count("sessions", distinct=True),
    ).filter(logged__gt=F("held"))
    assert list(sessions_short.values_list("code", flat=True)) == []
    unaccepted = mine.exclude(status="registered").exclude(events__action="accept")
    assert list(unaccepted.values_list("code", flat=True)) == []
    # An extended case shows the extension in its timeline, once.
    extended = DisputeCase.objects.filter(extended=True)
    assert extended.exists()
    unlogged = extended.annotate(n=Count("events", filter=Q(events__action="extend"))).exclude(n=1)
    assert list(unlogged.values_list("code", flat=True)) == []
    assert not DisputeCase.objects.filter(extended=False, events__action="extend").exists()
    # Every written agreement is one the conclude step would take: facts and responsibility, terms,
    # how and by when it is carried out, never before it took effect, no more than was claimed.
    # The desk's closing agreements lacked the facts and the date, under terms about another dispute.
    written = DisputeCase.objects.filter(outcome="success_written")
    incomplete = written.filter(
        Q(agreement_facts="")
        | Q(agreement_terms="")
        | Q(performance_method="")
        | Q(performance_due__isnull=True)
        | Q(performance_due__lt=F("agreement_effective_on"))
        | Q(agreement_amount__gt=F("amount"))
    )
    assert list(incomplete.values_list("code", flat=True)) == []
    # The desk's two closing agreements (25 and 27 days old) are in their window with the facts and
    # terms of their own dispute. Other cases of the desk may be closing as well, depending on the
    # day the demo is seeded (their terms are the generic ones of the demo's other cases), but no
    # agreement carries the desk's terms under another dispute.
    closing = mine.confirmation_closing()
    desk = closing.filter(agreement_terms=demo.DESK_AGREEMENT["terms"])
    assert desk.count() == 2
    for case in desk:
        assert case.description == demo.DESK_AGREEMENT["description"]
        assert case.agreement_facts == demo.DESK_AGREEMENT["facts"]
    for case in closing:
        assert "空调" not in case.agreement_terms or "空调" in case.description
    # Idempotent, and the numbering continues without a gap.
    demo.seed(demo=city, rng=random.Random(3), scale="small", months=6, stdout=out)
    assert DisputeCase.objects.count() == total
    case = dispute_register(
        actor=mediator,
        category="neighbours",
        area=city.grids[0],
        origin="application",
        description="新纠纷",
        parties=[{"role": "applicant", "name": "甲"}, {"role": "respondent", "name": "乙"}],
    )
    year_count = DisputeCase.objects.filter(code__startswith=case.code[:9]).count()
    assert case.code.endswith(f"{year_count:06d}")


def test_the_desks_closing_windows_stay_within_the_warning_over_a_long_holiday(db):
    # An agreement 25 days old has its window end in 5 days; a holiday week over that day moved it
    # to the first working day after (11 days or more), past the 7-day warning: the desk showed none.
    import datetime as dt

    from django.utils import timezone

    from governance.models import Holiday
    from mediation import demo
    from mediation.models import CONFIRMATION_WARN_DAYS, confirmation_window_end

    today = timezone.localdate()
    for d in range(3, 11):  # one by one: each bumps the calendar's counter, as the admin does
        Holiday.objects.create(date=today + dt.timedelta(days=d), name="长假", is_workday=False)
    for days_ago in (25, 27):
        effective = demo._closing_effective(today, days_ago)
        assert effective <= today - dt.timedelta(days=days_ago)
        assert 0 <= (confirmation_window_end(effective) - today).days <= CONFIRMATION_WARN_DAYS

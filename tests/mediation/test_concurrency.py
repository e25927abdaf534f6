"""PostgreSQL row locks: two people converting the same incident at once create one case, and two
mediators acting on the same case at once serialise (the second sees the new state)."""

from __future__ import annotations

import importlib
import threading
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone

from governance.models import SequenceCounter
from governance.workflow import TransitionNotAllowed
from grids import services as grid_services
from mediation import services
from mediation.models import DisputeCase, DisputeEvent, DisputeParty
from tests.base import race
from tests.mediation.conftest import parties


@pytest.fixture(autouse=True)
def _categories(transactional_db):
    """Transactional tests truncate tables at teardown, data migrations' rows included: re-seed them."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    importlib.import_module("mediation.migrations.0002_default_categories").seed(apps, None)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_conversions_of_one_incident_create_one_case(postgres, med):
    incident = grid_services.incident_report(
        actor=med.cast.worker_a, category="dispute", description="两户争吵", grid=med.cast.grid_a.code
    )
    results = race(
        lambda: services.dispute_from_incident(
            actor=med.cast.community_handler, incident=incident, organisation=med.org_x.pk
        ),
        lambda: services.dispute_from_incident(
            actor=med.cast.street_handler, incident=incident, organisation=med.org_x.pk
        ),
    )
    assert DisputeCase.objects.filter(incident=incident).count() == 1
    assert sum(isinstance(r, DisputeCase) for r in results) == 1
    assert sum(isinstance(r, ValidationError) for r in results) == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_conclusions_serialise(postgres, med):
    case = med.in_mediation()

    def conclude(actor, outcome):
        fresh = DisputeCase.objects.get(pk=case.pk)
        return fresh.transition(action="conclude", actor=actor, outcome=outcome)

    results = race(lambda: conclude(med.cast.mediator, "withdrawn"), lambda: conclude(med.head_x, "refused"))
    assert sum(isinstance(r, DisputeEvent) for r in results) == 1
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1
    assert DisputeEvent.objects.filter(case=case, action="conclude").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_registration_sent_three_times_at_once_with_one_key_takes_one_number(postgres, med):
    """docs/mediation.md "Sending a registration or a session twice": the sends take turns on the
    registrar's row, and the later ones find the first's case."""
    key = uuid.uuid4()
    results = race(*[lambda: med.register(submission=key)] * 3)
    assert all(isinstance(r, DisputeCase) for r in results), results
    assert len({r.code for r in results}) == 1 and DisputeCase.objects.count() == 1
    assert SequenceCounter.objects.get(key="DSP").value == 1


def _deadlocks(results) -> list:
    return [r for r in results if isinstance(r, OperationalError)]


@pytest.mark.django_db(transaction=True)
def test_a_referral_and_the_receiving_head_s_own_registration_at_once_both_succeed(postgres, med):
    """The referral takes the DSP number, then notifies org_y's head, which needs a key-share lock on
    the head's user row; the head's own registration held that row FOR UPDATE (its submission key)
    and waited for the number: a PostgreSQL deadlock, a 500. Rows are locked FOR NO KEY UPDATE."""
    for _ in range(8):
        results = race(
            lambda: med.register(
                org=med.org_y, actor=med.cast.street_handler, area=med.cast.grid_c, submission=uuid.uuid4()
            ),
            lambda: med.register(
                org=med.org_y, actor=med.mediator_y, area=med.cast.grid_c, submission=uuid.uuid4()
            ),
        )
        assert not _deadlocks(results), results
        assert all(isinstance(r, DisputeCase) for r in results), results


@pytest.mark.django_db(transaction=True)
def test_a_session_and_an_extension_of_one_mediator_at_once_both_succeed(postgres, med):
    for _ in range(8):
        case = med.accepted()

        def session():
            return services.dispute_record_session(
                case=DisputeCase.objects.get(pk=case.pk),
                actor=case.mediator,
                held_at=timezone.now(),
                place="调解室",
                attendees="双方",
                summary="第一次调解",
                submission=uuid.uuid4(),
            )

        def extend():
            return services.dispute_transition(
                case=DisputeCase.objects.get(pk=case.pk),
                actor=case.mediator,
                action="extend",
                consent=True,
                note="双方同意延期",
            )

        results = race(session, extend)
        assert not _deadlocks(results), results


def _edit(case, party, actor, **changes):
    return services.dispute_party_update(
        case=DisputeCase.objects.get(pk=case.pk),
        party=DisputeParty.objects.get(pk=party.pk),
        actor=actor,
        **changes,
    )


@pytest.mark.django_db(transaction=True)
def test_two_party_edits_at_once_are_checked_against_each_other(postgres, med):
    """Each edit was checked against the other parties as they were before either wrote: the mediator
    and the head gave two parties one ID number, or made both respondents applicants."""
    for _ in range(6):
        case = med.in_mediation()
        first, second = case.parties.get(position=0), case.parties.get(position=1)
        race(
            lambda: _edit(case, first, case.mediator, id_number="340104198506121236"),
            lambda: _edit(case, second, med.head_x, id_number="340104198506121236"),
        )
        hashes = [h for h in case.parties.values_list("id_hash", flat=True) if h]
        assert len(hashes) == len(set(hashes)), "two parties of one case hold one ID number"

        case = med.in_mediation(parties=[*parties(), {"role": "respondent", "name": "王五"}])
        first, second = case.parties.get(position=1), case.parties.get(position=2)
        results = race(
            lambda: _edit(case, first, case.mediator, role="applicant"),
            lambda: _edit(case, second, med.head_x, role="applicant"),
        )
        assert set(case.parties.values_list("role", flat=True)) != {"applicant"}, "a case with one side"
        assert sum(isinstance(r, ValidationError) for r in results) == 1, results


@pytest.mark.django_db(transaction=True)
def test_a_party_edit_checked_while_the_case_was_open_is_not_written_after_it_concluded(
    postgres, med, monkeypatch
):
    """The edit's write is held back until the conclusion has run (or two seconds): checked without
    the case locked, it was written after the conclusion, on a concluded case."""
    case = med.in_mediation()
    party = case.parties.get(position=0)
    concluded = threading.Event()
    save = services._save_party_update

    def slow_save(*args, **kwargs):
        concluded.wait(2)
        return save(*args, **kwargs)

    monkeypatch.setattr(services, "_save_party_update", slow_save)

    def conclude():
        try:
            return services.dispute_transition(
                case=DisputeCase.objects.get(pk=case.pk),
                actor=case.mediator,
                action="conclude",
                outcome="withdrawn",
                note="撤回",
            )
        finally:
            concluded.set()

    edited, _concluded = race(lambda: _edit(case, party, med.head_x, address="新地址1号"), conclude)
    actions = list(case.events.order_by("at", "id").values_list("action", flat=True))
    # Either the edit went first and the conclusion after it, or the conclusion went first and the
    # edit, seeing the case concluded, was refused; never an edit written onto a concluded case.
    if isinstance(edited, DisputeParty):
        assert actions[-2:] == ["update_party", "conclude"], actions
    else:
        assert isinstance(edited, TransitionNotAllowed) and "concluded" in edited.message, edited
        assert "update_party" not in actions


@pytest.mark.django_db(transaction=True)
def test_two_members_taking_over_one_case_at_once_serialise(postgres, med):
    """docs/mediation.md "An organisation without a head": the second member to take over finds the
    case taken by the first, whose case it now is, and is refused; one reassignment is written."""
    from governance.models import User
    from governance.workflow import ActionForbidden
    from mediation.models import OrganisationMember

    OrganisationMember.objects.filter(organisation=med.org_x).update(is_head=False)
    case = med.in_mediation()
    OrganisationMember.objects.filter(organisation=med.org_x, user=med.cast.mediator).delete()

    def take_over(user):
        fresh = DisputeCase.objects.get(pk=case.pk)
        return fresh.transition(action="reassign", actor=User.objects.get(pk=user.pk))

    results = race(lambda: take_over(med.head_x), lambda: take_over(med.mediator_x2))
    assert sum(isinstance(r, DisputeEvent) for r in results) == 1, results
    assert sum(isinstance(r, ActionForbidden) for r in results) == 1, results
    assert DisputeEvent.objects.filter(case=case, action="reassign").count() == 1
    assert DisputeCase.objects.get(pk=case.pk).mediator_id in {med.head_x.pk, med.mediator_x2.pk}

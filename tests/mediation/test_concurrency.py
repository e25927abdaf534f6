"""PostgreSQL row locks: two people converting the same incident at once create one case, and two
mediators acting on the same case at once serialise (the second sees the new state)."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from governance.models import SequenceCounter
from governance.workflow import TransitionNotAllowed
from grids import services as grid_services
from mediation import services
from mediation.models import DisputeCase, DisputeEvent
from tests.base import race


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

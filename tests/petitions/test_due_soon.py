""" "Due within 3 days" counts the days the countdown counts. A limit ends at 24:00 of its last day,
so one due three days from today reads "3 days left"; the registry's legend says items due within 3
days are highlighted, yet the window was 72 hours from now, which such an item only entered in the
last minutes of today: the "3 days left" row was never highlighted, the "Due within 3 days" list and
the department's inbox left it out, and the deadline notice came a day later than its words say."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.periods import end_of_local_day
from petitions import services
from petitions.models import Petition
from tests.base import api_client, listed_codes

pytestmark = pytest.mark.django_db


def due_in_days(petition: Petition, days: int) -> Petition:
    """Due at the end of the local day ``days`` days from today, as every limit ends."""
    due = end_of_local_day(timezone.now() + dt.timedelta(days=days))
    Petition.objects.filter(pk=petition.pk).update(due_at=due)
    petition.refresh_from_db()
    return petition


def test_a_petition_showing_three_days_left_is_due_within_three_days(pet):
    third = due_in_days(pet.register(), 3)
    fourth = due_in_days(pet.register(), 4)
    assert third.days_left == 3 and third.is_due_soon
    assert fourth.days_left == 4 and not fourth.is_due_soon
    assert set(Petition.objects.due_soon().values_list("code", flat=True)) == {third.code}


def test_the_registry_highlights_the_three_days_left_row_and_lists_it_as_due_soon(client, pet):
    third, fourth = due_in_days(pet.register(), 3), due_in_days(pet.register(), 4)
    client.force_login(pet.cast.petition_officer)
    html = client.get("/petitions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = html.split(f'data-code="{third.code}"')[0].rsplit("<tr", 1)[1]
    assert "pet-row-soon" in row
    later = html.split(f'data-code="{fourth.code}"')[0].rsplit("<tr", 1)[1]
    assert "pet-row-soon" not in later
    officer = api_client(pet.cast.petition_officer)
    assert listed_codes(officer, "/api/v1/petitions/", due_soon="true") == {third.code}
    # Nobody outside the area is shown it, due soon or not.
    assert listed_codes(api_client(pet.cast.outsider), "/api/v1/petitions/", due_soon="true") == set()


def test_the_notice_comes_when_three_days_are_left(pet):
    third, fourth = due_in_days(pet.register(), 3), due_in_days(pet.register(), 4)
    assert services.petition_notify_deadlines() == 1
    (notice,) = pet.cast.petition_officer.notifications.all()
    assert notice.link == f"/petitions/{third.code}/" and "due within 3 days" in notice.texts["en"]
    assert not pet.cast.petition_officer.notifications.filter(link__contains=fourth.code).exists()

"""Retiring an encryption key: manage.py reencrypt_personal_data moves every stored value (petitioners
here; dispute parties are the same columns) onto the first key of FIELD_ENCRYPTION_KEY."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from petitions.models import Petitioner
from tests.petitions.conftest import petitioners


def _run(*args) -> str:
    out = io.StringIO()
    call_command("reencrypt_personal_data", *args, stdout=out)
    return out.getvalue()


def _stored() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, name, id_number, phone, address FROM petitions_petitioner ORDER BY id")
        return cursor.fetchall()


def test_after_reencrypting_the_old_key_can_go_and_everything_still_reads(pet, settings):
    old_key = settings.FIELD_ENCRYPTION_KEY
    pet.register(petitioners=petitioners(2))
    pet.register(petitioners=petitioners(1))
    before = _stored()
    settings.FIELD_ENCRYPTION_KEY = f"the-new-key,{old_key}"
    assert "petitions.Petitioner: 12 values under older keys" in _run("--check")
    assert _stored() == before  # --check changes nothing
    output = _run("--batch-size", "2")  # several batches
    assert "petitions.Petitioner: 12 values re-encrypted" in output
    assert "mediation.DisputeParty: 0 values re-encrypted" in output
    after = _stored()
    assert all(a != b for a, b in zip(after, before, strict=True))
    settings.FIELD_ENCRYPTION_KEY = "the-new-key"  # the old key is gone
    names = sorted(Petitioner.objects.values_list("name", flat=True))
    assert names == ["刘秀英", "王建国", "王建国"]
    assert Petitioner.objects.filter(phone="").count() == 0
    # Run again: nothing left to do, nothing rewritten.
    settings.FIELD_ENCRYPTION_KEY = f"the-new-key,{old_key}"
    assert "12 values" not in _run() and _stored() == after


def test_a_value_no_key_opens_stops_the_run_and_says_where(pet, settings):
    petition = pet.register(petitioners=petitioners(1))
    settings.FIELD_ENCRYPTION_KEY = "an-unrelated-key"
    with pytest.raises(CommandError, match="petitions.Petitioner .*: name cannot be decrypted"):
        _run()
    assert Petitioner.objects.filter(petition=petition).exists()


def test_a_zero_batch_size_is_refused(db):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        _run("--batch-size", "0")

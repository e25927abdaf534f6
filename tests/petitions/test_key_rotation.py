"""Retiring an encryption key: manage.py reencrypt_personal_data moves every stored value (petitioners
here; dispute parties are the same columns) onto the first key of FIELD_ENCRYPTION_KEY."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from governance import pii
from petitions.models import Petitioner
from tests.petitions.conftest import petitioners


def _run(*args, out=None) -> str:
    out = out or io.StringIO()
    call_command("reencrypt_personal_data", *args, stdout=out)
    return out.getvalue()


def _check_fails(match: str) -> str:
    """``--check`` with something left: exit status 1 (a rotation script waits on it)."""
    out = io.StringIO()
    with pytest.raises(CommandError, match=match):
        _run("--check", out=out)
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
    assert "petitions.Petitioner: 12 values under older keys" in _check_fails("12 values still need")
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


@pytest.mark.parametrize("size", ["0", "99999999999999999999"])
def test_a_batch_size_out_of_range_is_refused(db, size):
    # Past a bigint it reached the database: DataError, a traceback.
    with pytest.raises(CommandError, match="--batch-size: must be from 1 to 100000"):
        _run("--batch-size", size)


def test_after_the_hash_key_changes_the_hashes_follow_it_and_repeats_match_again(pet, settings):
    """The keyed hashes were said never to change; a new FIELD_HASH_KEY left every stored one stale
    (repeat matching stopped without a word) while the command said everything was current."""
    from petitions.services import likely_repeats

    first = pet.register(petitioners=petitioners(1))
    before = list(Petitioner.objects.values_list("id_hash", "phone_hash"))
    settings.FIELD_HASH_KEY = "a-new-hash-key-of-enough-length-and-entropy-7c1d"
    output = _check_fails("2 values still need")
    assert "petitions.Petitioner: 2 hashes under an older hash key" in output
    assert "petitions.Petitioner: 2 hashes rehashed" in _run("--batch-size", "1")
    after = list(Petitioner.objects.values_list("id_hash", "phone_hash"))
    assert all(a != b for a, b in zip(after[0], before[0], strict=True))
    assert "Every value is under the current key" in _run("--check")
    # The same person is found again under the new key.
    person = petitioners(1)[0]
    found = likely_repeats(
        category=first.category,
        area=first.area,
        id_hashes=[pii.keyed_hash(person["id_number"])],
        phone_hashes=[],
        user=pet.cast.petition_officer,
    )
    assert list(found) == [first]

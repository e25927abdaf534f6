import threading

import pytest
from django.db import connection, transaction

from governance.models import SequenceCounter, next_number


@pytest.mark.django_db
def test_numbers_have_the_documented_format():
    with transaction.atomic():
        first = next_number("INC")
        second = next_number("INC")
    year = first.split("-")[1]
    assert first == f"INC-{year}-000001" and second == f"INC-{year}-000002"


@pytest.mark.django_db(transaction=True)
def test_a_number_must_be_taken_inside_the_creating_transaction():
    with pytest.raises(RuntimeError):
        SequenceCounter.next_value("INC", 2026)


@pytest.mark.django_db
def test_a_rolled_back_creation_gives_its_number_back():
    with transaction.atomic():
        next_number("PET")
    try:
        with transaction.atomic():
            next_number("PET")
            raise RuntimeError("creation failed")
    except RuntimeError:
        pass
    with transaction.atomic():
        assert next_number("PET").endswith("-000002")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creators_get_distinct_gapless_numbers_on_postgres():
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (make test sets DATABASE_URL)")
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker():
        from django.db import connections

        try:
            barrier.wait()
            for _ in range(10):
                with transaction.atomic():
                    results.append(next_number("DSP"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in results)
    assert numbers == list(range(1, 81))

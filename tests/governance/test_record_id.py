"""record_id: a primary key from user input, or None."""

from __future__ import annotations

import pytest

from governance.models import record_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), ("42", 42), (" 42 ", 42), ("²", None), ("١٢", None), ("9" * 19, None), (2**63, None),
     (0, None), (-3, None), (True, None), ("", None), (None, None), ("4.0", None), ("abc", None)],
)  # fmt: skip
def test_record_id_takes_ascii_digits_within_a_bigint(value, expected):
    assert record_id(value) == expected

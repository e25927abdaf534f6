"""The fault tests' private Redis is the one this test started: with several xdist workers, another
test's server can take the free port between the pick and the bind."""

from __future__ import annotations

import pytest

from tests.reliability import conftest
from tests.reliability.conftest import PrivateRedis


def test_a_private_redis_whose_port_was_taken_meanwhile_is_not_taken_for_started(tmp_path, monkeypatch):
    other = PrivateRedis(tmp_path / "other")
    (tmp_path / "other").mkdir()
    other.start()
    try:
        monkeypatch.setattr(conftest, "_free_port", lambda: other.port)
        mine = PrivateRedis(tmp_path)
        with pytest.raises(pytest.fail.Exception, match="taken by another redis-server"):
            mine.start()
        mine.stop()
    finally:
        other.stop()

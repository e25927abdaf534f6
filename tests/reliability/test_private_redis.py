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


def test_a_first_start_whose_port_was_taken_meanwhile_takes_another_port(tmp_path, monkeypatch):
    """Under xdist the race is another worker's, not a fault of this test: a first start moves to a
    fresh port (nothing names the old one yet) instead of failing the test."""
    import redis

    other = PrivateRedis(tmp_path / "other")
    (tmp_path / "other").mkdir()
    other.start()
    try:
        ports = iter([other.port, conftest._free_port()])
        monkeypatch.setattr(conftest, "_free_port", lambda: next(ports))
        mine = PrivateRedis(tmp_path)
        try:
            mine.start()
            assert mine.port != other.port and mine.url == f"redis://127.0.0.1:{mine.port}/0"
            assert redis.Redis.from_url(mine.url).info("server")["process_id"] == mine.process.pid
            # A restart keeps its port: the broker URL set for the test names it.
            port = mine.port
            mine.stop()
            mine.start()
            assert mine.port == port
        finally:
            mine.stop()
    finally:
        other.stop()

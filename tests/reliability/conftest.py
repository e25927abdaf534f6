"""Fault-injection fixtures: a private Redis this test suite may stop and start at will (the shared
one on 6379 is never touched)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest

from tests.base import reset_broker_connections


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    def __init__(self, tmp_path) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None
        self.started = False  # once started, the port is named in the broker URL: it stays

    def start(self) -> None:
        """Start the server on ``port``. Another test's server (another xdist worker's) can take the
        port in the moment between ``_free_port()`` and this one's bind, which then fails: a first
        start moves to a fresh port, as nothing names this one yet; a restart keeps its port (the
        broker URL the test set names it) and fails the test, saying so."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("fault tests need redis-server on the PATH (apt-get install redis-server)")
        for _attempt in range(5):
            other = self._run(binary)
            if other is None:
                self.started = True
                return
            self.stop()
            if self.started:
                break
            self.port = _free_port()
            self.url = f"redis://127.0.0.1:{self.port}/0"
        taker = f"another redis-server (pid {other})" if other else "another server"
        pytest.fail(f"port {self.port} was taken by {taker}")

    def _run(self, binary: str) -> int | None:
        """Start redis-server on ``port``; None once it answers, else the pid of the other server that
        answers there (0 when ours exited and no Redis answers: another kind of server has the port)."""
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        # Up to 30 s (it answers within milliseconds on an idle machine, not always on a loaded CI
        # machine, where 100 tries 50 ms apart ran out): a slow answer is a TimeoutError, not a
        # ConnectionError, and is tried again too.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                pid = redis.Redis(port=self.port, socket_timeout=2).info("server")["process_id"]
            except (redis.ConnectionError, redis.TimeoutError):
                if self.process.poll() is not None:
                    return 0  # it exited: the port was taken, by something that is not a Redis
                time.sleep(0.05)
                continue
            return None if pid == self.process.pid else pid
        pytest.fail("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def queue_length(self, queue: str = "celery") -> int:
        import redis

        return redis.Redis.from_url(self.url).llen(queue)

    def queued_tasks(self, queue: str = "celery") -> list[str]:
        import json

        import redis

        raw = redis.Redis.from_url(self.url).lrange(queue, 0, -1)
        return [json.loads(item)["headers"]["task"] for item in raw]


@pytest.fixture
def private_redis(tmp_path, real_celery):
    """A Redis of our own, used as the Celery broker for the duration of the test."""
    server = PrivateRedis(tmp_path)
    server.start()
    previous = real_celery.conf.broker_url
    real_celery.conf.broker_url = server.url
    reset_broker_connections(real_celery)
    yield server
    server.stop()
    real_celery.conf.broker_url = previous
    reset_broker_connections(real_celery)

"""A gunicorn of the test's own, on a loopback port that no other server can hold.

A port picked free beforehand (bind port 0, close, hand the number to gunicorn) could be taken by
another test's server in between (parallel workers, the CI next door): gunicorn then failed to bind,
retried and gave up, while the test's requests were answered by the other server. Here gunicorn binds
port 0 itself, and the port is read from its own "Listening at" line, of its own pid."""

from __future__ import annotations

import contextlib
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+) \((\d+)\)")


@contextlib.contextmanager
def gunicorn_server(args: list[str], env: dict) -> Iterator[int]:
    """gunicorn run with ``args`` (what follows ``python -m gunicorn``; its ``--bind`` becomes
    127.0.0.1:0) for the duration of the block, which gets the port it listens on. The error log goes
    to a pipe read here, at info level (whatever ``args`` say), for the "Listening at" line; the pipe
    is read to the end, so that gunicorn never blocks on it."""
    args = list(args)
    args[args.index("--bind") + 1] = "127.0.0.1:0"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *args, "--error-logfile", "-", "--log-level", "info"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ports: queue.Queue[int | None] = queue.Queue()

    def read() -> None:
        for line in server.stderr:
            found = LISTENING.search(line)
            if found and int(found[2]) == server.pid:
                ports.put(int(found[1]))
        ports.put(None)  # it exited

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            port = ports.get(timeout=60)
        except queue.Empty:
            pytest.fail("gunicorn did not start")
        if port is None:
            pytest.fail(f"gunicorn exited before it listened (exit status {server.wait(timeout=20)})")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=20)

"""Behind the proxy every request reaches gunicorn from the proxy's address, and its access log
showed that address for everyone. gunicorn runs here as the compose file, the image and the README start it, a
request carries the X-Forwarded-For the proxy appends, and the access log line names the client."""

import json
import os
import re
import shlex
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.gunicorn_server import gunicorn_server

ROOT = Path(__file__).resolve().parents[2]


def _compose_gunicorn_args() -> list[str]:
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    inner = shlex.split(command)[2]  # sh -c "<...>"
    return shlex.split(inner.split("exec ", 1)[1])


def _image_gunicorn_args() -> list[str]:
    line = next(line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    return json.loads(line[len("CMD ") :])


def _readme_gunicorn_args() -> list[str]:
    line = next(
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith(".venv/bin/gunicorn ")
    )
    return shlex.split(line)


def _gunicorn(args: list[str], env: dict):
    """gunicorn run with the given command line on a loopback port of its own (one worker), for the
    duration of the block, which gets the port."""
    assert args[0].endswith("gunicorn"), args
    args = list(args[1:])
    args[args.index("--workers") + 1] = "1"
    return gunicorn_server(args, env)


def _retried(attempt):
    """``attempt()``'s answer once gunicorn accepts connections (up to 30 s)."""
    for _ in range(150):
        try:
            return attempt()
        except OSError:
            time.sleep(0.2)
    pytest.fail("gunicorn did not start")


def _serve_and_log(args: list[str], tmp_path, headers: dict) -> str:
    """The access log line of one request to /healthz, gunicorn run with the given command line."""
    log = tmp_path / "access.log"
    env = {**os.environ, "DEBUG": "1"}
    env.pop("FORWARDED_ALLOW_IPS", None)

    def healthz(port):
        request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers=headers)
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (loopback only)
            pass

    with _gunicorn([*args, "--access-logfile", str(log)], env) as port:
        _retried(lambda: healthz(port))
        for _ in range(50):
            if log.exists() and "/healthz" in log.read_text():
                break
            time.sleep(0.1)
    return next(line for line in log.read_text().splitlines() if "/healthz" in line)


@pytest.mark.parametrize("command", [_compose_gunicorn_args, _image_gunicorn_args, _readme_gunicorn_args])
def test_the_access_log_names_the_client_the_proxy_forwards(command, tmp_path):
    # The proxy appends the address it saw; what the client wrote before it is unchecked.
    line = _serve_and_log(
        command(), tmp_path, {"X-Forwarded-For": "198.51.100.9, 203.0.113.7", "X-Forwarded-Proto": "https"}
    )
    assert re.match(r"203\.0\.113\.7 ", line), line


def test_the_access_log_keeps_the_peer_without_a_forwarded_address(tmp_path):
    line = _serve_and_log(_compose_gunicorn_args(), tmp_path, {})
    assert re.match(r"127\.0\.0\.1 ", line), line


def test_a_peer_that_is_not_the_proxy_cannot_choose_the_logged_address():
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from governance.gunicorn_logging import ForwardedForLogger

    cfg = Config()
    cfg.set("forwarded_allow_ips", "10.0.0.1")
    logger = ForwardedForLogger(cfg)
    response = SimpleNamespace(status="200 OK", headers=[], sent=2)
    environ = {
        "REMOTE_ADDR": "192.0.2.44",
        "HTTP_X_FORWARDED_FOR": "203.0.113.7",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    headers = [("X-FORWARDED-FOR", "203.0.113.7")]
    assert logger.atoms(response, headers, environ, timedelta(0))["h"] == "192.0.2.44"
    environ["REMOTE_ADDR"] = "10.0.0.1"
    assert logger.atoms(response, headers, environ, timedelta(0))["h"] == "203.0.113.7"
    # Not an address (a proxy that does not append, or a forged header): the peer stays.
    environ["HTTP_X_FORWARDED_FOR"] = "203.0.113.7, <script>"
    assert logger.atoms(response, headers, environ, timedelta(0))["h"] == "10.0.0.1"


def _status_behind(allowed: str, headers: dict) -> tuple[int, str]:
    """Runs gunicorn as compose does, with the stack's TLS switches and ``FORWARDED_ALLOW_IPS=allowed``,
    and returns the status and Location of one request (from 127.0.0.1) to the login page."""
    import http.client

    env = {
        **os.environ,
        "DEBUG": "1",
        "BEHIND_TLS_PROXY": "1",
        "SECURE_SSL_REDIRECT": "1",
        "FORWARDED_ALLOW_IPS": allowed,
    }

    def login_page(port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/accounts/login/", headers={"Host": "localhost", **headers})
        response = connection.getresponse()
        return response.status, response.getheader("Location", "")

    with _gunicorn(_compose_gunicorn_args(), env) as port:
        return _retried(lambda: login_page(port))


def test_gunicorn_and_the_application_agree_on_https_from_the_proxy_only():
    # From the proxy (the peer is in FORWARDED_ALLOW_IPS): the proxy said https, no redirect.
    assert _status_behind("127.0.0.1", {"X-Forwarded-Proto": "https"})[0] == 200
    # From any other peer the header is the client's own: gunicorn's wsgi.url_scheme stays http and the
    # application no longer overrides it (SECURE_PROXY_SSL_HEADER did), so it is redirected to HTTPS.
    status, location = _status_behind("10.9.9.9", {"X-Forwarded-Proto": "https"})
    assert status == 301 and location.startswith("https://"), (status, location)


def _access_atoms(environ: dict, headers: list) -> dict:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from governance.gunicorn_logging import ForwardedForLogger

    response = SimpleNamespace(status="200 OK", headers=[], sent=2)
    base = {"REMOTE_ADDR": "192.0.2.44", "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1"}
    return ForwardedForLogger(Config()).atoms(response, headers, {**base, **environ}, timedelta(0))


def test_the_access_log_masks_personal_numbers_in_the_address_and_the_referer():
    """gunicorn writes its access log apart from the application's masked logging: an ID number or a
    phone in a URL (typed into the admin's search, sent as a parameter, a page's address in the
    referer) reached the log whole."""
    query = "q=11010519491231002X&phone=138+0013+8000&tel=0551-62345678"
    referer = "http://gov.example/admin/grids/incident/?q=13987654321"
    atoms = _access_atoms(
        {
            "RAW_URI": f"/admin/grids/incident/?{query}",
            "PATH_INFO": "/admin/grids/incident/",
            "QUERY_STRING": query,
            "HTTP_REFERER": referer,
        },
        [("REFERER", referer)],
    )
    logged = repr(
        {key: atoms[key] for key in ("r", "U", "q", "f", "{referer}i", "{query_string}e", "{raw_uri}e")}
    )
    for whole in ("11010519491231002X", "0013", "62345678", "13987654321"):
        assert whole not in logged, logged
    assert "1101**********002X" in atoms["r"] and "138****8000" in atoms["q"], atoms
    assert atoms["f"] == "http://gov.example/admin/grids/incident/?q=139****4321"
    # An address with nothing personal in it is logged as it came, still encoded.
    plain = _access_atoms({"RAW_URI": "/grids/?page=2&q=%E5%8F%B0", "QUERY_STRING": "page=2&q=%E5%8F%B0"}, [])
    assert plain["r"] == "GET /grids/?page=2&q=%E5%8F%B0 HTTP/1.1" and plain["q"] == "page=2&q=%E5%8F%B0"


def test_gunicorn_as_compose_starts_it_logs_no_phone_from_a_query(tmp_path):
    log = tmp_path / "access.log"
    env = {**os.environ, "DEBUG": "1"}

    def healthz(port):
        url = f"http://127.0.0.1:{port}/healthz?phone=13812345678"
        with urllib.request.urlopen(url, timeout=10):  # noqa: S310 (loopback only)
            pass

    with _gunicorn([*_compose_gunicorn_args(), "--access-logfile", str(log)], env) as port:
        _retried(lambda: healthz(port))
        for _ in range(50):
            if log.exists() and "/healthz" in log.read_text():
                break
            time.sleep(0.1)
    line = next(line for line in log.read_text().splitlines() if "/healthz" in line)
    assert "13812345678" not in line and "phone=138****5678" in line, line

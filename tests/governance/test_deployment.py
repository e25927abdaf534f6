"""docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading, and what
its services run is exercised by other means: the same commands in a subprocess."""

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_describes_exactly_the_full_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"db", "redis", "web", "worker", "beat"}
    web, worker, beat = (compose["services"][name] for name in ("web", "worker", "beat"))
    for service in (web, worker, beat):
        env = service["environment"]
        assert env["DEBUG"] == "0"
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
        assert "SECRET_KEY" in env and "FIELD_ENCRYPTION_KEY" in env
        # No default host: "localhost" let the stack start and answer every real request with 400.
        assert env["ALLOWED_HOSTS"] == "${ALLOWED_HOSTS:?set ALLOWED_HOSTS}"
    assert "gunicorn governance.wsgi:application" in web["command"] and "migrate" in web["command"]
    assert worker["command"][:4] == ["celery", "-A", "governance", "worker"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in beat["command"]
    # Only the proxy on the host reaches gunicorn, whose forwarded headers it trusts; no other service
    # is published at all.
    assert web["ports"] == ["${WEB_BIND:-127.0.0.1}:8000:8000"]
    assert not any("ports" in compose["services"][name] for name in ("db", "redis", "worker", "beat"))
    # Queued tasks survive "down" and "up" (Redis's append-only file in a named volume), and a worker
    # stopped for a redeploy finishes its notices instead of being killed after docker's 10 s.
    assert (
        compose["services"]["redis"]["volumes"] == ["redisdata:/data"] and "redisdata" in compose["volumes"]
    )
    assert worker["stop_grace_period"] == "2m"


def test_compose_passes_every_variable_the_settings_read_to_the_services():
    """docker compose reads the .env file and the shell only to fill in ``${...}`` in the compose
    file: a variable the services' ``environment`` does not name never reaches them. An operator who
    sets MAP_TILE_ATTRIBUTION or WORKING_HOURS there (the README's configuration table) must not be
    silently ignored. Only the image's own layout is left out: STATIC_ROOT is where the build collected
    the static files, VAR_DIR the embedded default's folder (MEDIA_ROOT is set to the volume)."""
    import re

    read = set(re.findall(r'env_\w+\(\s*"([A-Z0-9_]+)"', (ROOT / "governance" / "settings.py").read_text()))
    assert {"DEBUG", "SECRET_KEY", "WORKING_HOURS", "MAP_TILE_ATTRIBUTION"} <= read
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in ("web", "worker", "beat"):
        passed = set(compose["services"][name]["environment"])
        assert read - passed == {"STATIC_ROOT", "VAR_DIR"}, name
        # Nothing is passed that the settings do not read (a misspelt name would be ignored as well).
        assert passed <= read, (name, passed - read)
    # And each is documented for the operator.
    readme = (ROOT / "README.md").read_text()
    assert [v for v in sorted(read) if f"`{v}`" not in readme] == []


def test_the_image_build_step_collectstatic_works_under_production_settings(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "build-only",
        "FIELD_ENCRYPTION_KEY": "build-only",
        "ALLOWED_HOSTS": "localhost",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert list((tmp_path / "static" / "leaflet").glob("leaflet.*.js"))


def test_the_image_build_context_leaves_out_secrets_and_local_state():
    """Dockerfile copies the checkout with ``COPY . .``: the .env file docker-compose reads secrets
    from, the embedded default's var/ (SQLite with demo logins, the dev secret key) and host-built
    node_modules/.venv must not reach the image."""
    import fnmatch

    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or path.startswith(p + "/") for p in patterns)

    for path in (
        ".env",
        "var/db.sqlite3",
        "var/dev_secret_key",
        "node_modules/htmx.org",
        ".venv/bin",
        ".git",
    ):
        assert ignored(path), path
    # What the image needs is still sent.
    for path in ("manage.py", "governance/settings.py", "static/js/app.js", "locale", "templates"):
        assert not ignored(path), path
    # Every COPY source of the Dockerfile exists and is not excluded.
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert source == "." or ((ROOT / source).exists() and not ignored(source)), source


def _compose_environment(service: str, given: dict[str, str]) -> dict[str, str]:
    """The environment docker compose would give ``service``: ``${VAR:-default}`` and ``${VAR:?msg}``
    resolved from ``given`` (the operator's shell or .env), as compose does."""
    import re

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    def resolve(value: str) -> str:
        def one(match: re.Match) -> str:
            name, op, rest = match.group(1), match.group(2), match.group(3)
            if given.get(name):
                return given[name]
            if op == ":?":
                raise AssertionError(f"compose requires {name}: {rest}")
            return rest

        return re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", one, str(value))

    return {k: resolve(v) for k, v in compose["services"][service]["environment"].items()}


def test_compose_refuses_to_start_without_the_secrets_and_the_host_name():
    import pytest

    given = {
        "SECRET_KEY": "s",
        "FIELD_ENCRYPTION_KEY": "k",
        "ALLOWED_HOSTS": "grid.example.gov.cn",
        # The database password had a default everyone could read in this file.
        "POSTGRES_PASSWORD": "p-4f9",
    }
    web = _compose_environment("web", given)
    assert web["ALLOWED_HOSTS"] == "grid.example.gov.cn"
    assert web["DATABASE_URL"] == "postgres://governance:p-4f9@db:5432/governance"
    assert _compose_environment("db", given)["POSTGRES_PASSWORD"] == "p-4f9"
    for name in given:
        for service in ("web", "worker", "beat"):
            with pytest.raises(AssertionError, match=f"compose requires {name}"):
                _compose_environment(service, {k: v for k, v in given.items() if k != name})
    with pytest.raises(AssertionError, match="compose requires POSTGRES_PASSWORD"):
        _compose_environment("db", {})


def test_the_compose_production_environment_passes_the_deploy_checks_for_tls():
    """The compose stack declares itself behind a TLS proxy (Secure cookies, X-Forwarded-Proto), so
    `check --deploy` must not find HTTP left open (W008) or HSTS off (W004). Only the HSTS preload
    list (W021), an irreversible opt-in, is left to the operator."""
    env = _compose_environment(
        "web",
        {
            "SECRET_KEY": "x" * 30 + "-production-secret-with-enough-entropy-9f8e7d",
            "FIELD_ENCRYPTION_KEY": "a-production-field-key-" + "7Kq2xVd9pLm4Rt8w",
            "ALLOWED_HOSTS": "grid.example.gov.cn",
            "POSTGRES_PASSWORD": "p-4f9",
        },
    )
    # Run against this test run's services rather than the compose hostnames.
    env["DATABASE_URL"], env["REDIS_URL"] = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    env.pop("MEDIA_ROOT")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "security.W" not in output.replace("security.W021", ""), output


def test_worker_and_beat_start_only_after_web_has_migrated_the_database():
    """On a fresh database beat's DatabaseScheduler exits ("relation django_celery_beat_crontabschedule
    does not exist") if it starts before web's `migrate`: both wait for web to be healthy, and web's
    healthcheck allows for the migrations."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["web"] == {"condition": "service_healthy"}, name
        assert depends["db"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
    web = services["web"]
    assert web["command"].index("migrate") < web["command"].index("gunicorn")
    assert "/healthz" in " ".join(web["healthcheck"]["test"]) and web["healthcheck"]["start_period"]


def test_gunicorn_gives_the_longest_request_five_minutes_in_compose_and_in_the_image():
    """gunicorn's default 30 s kills a sync worker in the middle of a 200,000-row survey import or a
    slow 80 MB photo upload (docs/benchmarks.md, "The longest request")."""
    import json
    import re

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]["command"]
    assert re.search(r"gunicorn .*--timeout 300\b", web), web
    cmd_line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    cmd = json.loads(cmd_line[len("CMD ") :])
    assert cmd[0] == "gunicorn" and cmd[cmd.index("--timeout") + 1] == "300", cmd


def test_the_worker_is_pinged_through_the_broker_and_beat_says_why_it_is_not():
    compose_text = (ROOT / "docker-compose.yml").read_text()
    services = yaml.safe_load(compose_text)["services"]
    check = services["worker"]["healthcheck"]
    # $$ is compose's escape: the shell of the container expands $HOSTNAME, the worker's node name.
    assert check["test"] == [
        "CMD-SHELL",
        "celery -A governance inspect ping --destination celery@$$HOSTNAME --timeout 10",
    ]
    assert check["timeout"] == "30s" and check["start_period"]
    assert "healthcheck" not in services["beat"]
    beat_block = compose_text[compose_text.index("\n  beat:") :]
    assert "No healthcheck: beat has no remote-control channel" in beat_block


def test_the_worker_healthcheck_command_answers_for_a_live_worker_and_fails_for_a_missing_one(tmp_path):
    """The compose healthcheck run for real against a worker on this test run's Redis. In a container
    $HOSTNAME is the host name, which names the worker's node by default; here both are set. The worker
    listens on a queue of its own, so it takes no task meant for another test's worker."""
    env = {**os.environ, "HOSTNAME": "healthcheck-probe", "DEBUG": "1"}
    celery = str(Path(sys.executable).with_name("celery"))
    worker = subprocess.Popen(
        [celery, "-A", "governance", "worker", "--concurrency=1", "--loglevel=WARNING"]
        + ["-n", "celery@healthcheck-probe", "-Q", "healthcheck-probe-only"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        probe = "{} -A governance inspect ping --destination celery@$HOSTNAME --timeout {}"
        deadline = time.monotonic() + 60
        while True:
            result = subprocess.run(
                ["sh", "-c", probe.format(celery, 3)], cwd=ROOT, env=env, capture_output=True, text=True
            )
            if result.returncode == 0 or time.monotonic() > deadline:
                break
        assert result.returncode == 0, result.stdout + result.stderr
        assert "celery@healthcheck-probe: OK" in result.stdout
        missing = subprocess.run(
            ["sh", "-c", probe.format(celery, 2)],
            cwd=ROOT,
            env={**env, "HOSTNAME": "no-such-worker"},
            capture_output=True,
            text=True,
        )
        assert missing.returncode != 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_the_web_service_checks_the_deployment_first_and_gunicorn_takes_docker_s_signals():
    # A weak FIELD_ENCRYPTION_KEY was refused only by check --deploy, which nothing ran; and gunicorn,
    # a child of sh, never got docker's SIGTERM (killed after 10 s, requests cut off).
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["web"]["command"]
    assert command.split("&&")[0].strip().endswith("check --deploy --fail-level ERROR")
    assert "exec gunicorn" in command and compose["services"]["web"]["stop_grace_period"]


def test_the_database_container_has_shared_memory_for_the_rollup_s_parallel_hash_joins():
    """Docker gives a container 64 MB of /dev/shm, where PostgreSQL keeps the hash table a parallel
    hash join builds (dynamic shared memory). The rollup runs with work_mem = ROLLUP_WORK_MEM (256MB)
    and merge joins off: a hash over a city's records outgrows 64 MB, and the statement, so the nightly
    run, fails ("could not resize shared memory segment ... No space left on device"). A 3-million-row parallel hash
    join with that work_mem took 166 MB of /dev/shm on this machine. The cap must cover one such hash
    at the default: work_mem x hash_mem_multiplier (2) x the leader and 2 parallel workers."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    size = str(compose["services"]["db"].get("shm_size", "64m")).lower()
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    number = size.rstrip("bkmg")
    value = int(number) * units.get(size[len(number) :].rstrip("b")[:1], 1)
    assert value >= 256 * 1024**2 * 2 * 3, size


def test_the_readme_shows_a_proxy_that_lets_the_largest_request_through():
    """The stack expects a TLS proxy in front, and nginx, the usual one, refuses bodies over 1 MB and
    gives up on an upstream after 60 s by default: one phone photo (2-5 MB) made every report with a
    photo a 413, and the largest survey import, which gunicorn gives 300 s, a 504. The README's example
    lets through what the application accepts, and passes the headers the settings trust."""
    import re

    from django.conf import settings

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", readme, re.S)
    assert block, "README has no nginx example"
    conf = block.group(1)
    body = re.search(r"client_max_body_size (\d+)m;", conf)
    assert body and int(body.group(1)) * 1024 * 1024 == settings.DATA_UPLOAD_MAX_MEMORY_SIZE, conf
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    gunicorn_timeout = int(re.search(r"--timeout (\d+)", compose["services"]["web"]["command"]).group(1))
    for directive in ("proxy_read_timeout", "proxy_send_timeout"):
        found = re.search(rf"{directive} (\d+)s;", conf)
        assert found and int(found.group(1)) >= gunicorn_timeout, directive
    for line in (
        "proxy_pass http://127.0.0.1:8000;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        # Appended: the settings take the client's address from the last entry (BEHIND_TLS_PROXY).
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    ):
        assert line in conf, line


def test_every_dependency_is_pinned_at_a_version_its_range_allows_and_installed_with_the_pins():
    """pyproject.toml keeps ranges ("celery>=5.4"): without the pins an image built next month took
    whatever was newest, not what CI had tested."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for requirement in declared:
        version = pins.get(canonicalize_name(requirement.name))
        assert version, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(version), f"{requirement.name}=={version} outside {requirement}"
    assert "pip install . -c constraints.txt" in (ROOT / "Dockerfile").read_text()
    assert '-e ".[dev]" -c constraints.txt' in (ROOT / "Makefile").read_text()


def test_gunicorn_and_the_application_trust_forwarded_headers_from_the_proxy_only():
    """gunicorn ran with --forwarded-allow-ips '*' and the application believed X-Forwarded-For from
    any peer: whatever reached port 8000 around the proxy (another container, a host on WEB_BIND's
    network) chose the address logged for each reveal of personal data and dodged the login lockout
    with a new address per guess. Both now read FORWARDED_ALLOW_IPS, which compose sets to the
    gateway of its own network (where a proxy on the host comes from)."""
    import ipaddress

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]
    assert "--forwarded-allow-ips" not in web["command"]
    assert "--forwarded-allow-ips" not in (ROOT / "Dockerfile").read_text()
    default = web["environment"]["FORWARDED_ALLOW_IPS"]
    assert default.startswith("${FORWARDED_ALLOW_IPS:-"), default
    trusted = default[len("${FORWARDED_ALLOW_IPS:-") : -1]
    network = compose["networks"]["default"]["ipam"]["config"][0]
    subnet = ipaddress.ip_network(network["subnet"].split(":-")[1].rstrip("}"))
    gateway = network["gateway"].split(":-")[1].rstrip("}")
    assert trusted == gateway and ipaddress.ip_address(gateway) in subnet


def test_make_test_and_make_lint_check_the_format_of_every_python_folder():
    # The format check named the apps only: tests/ and bench/ could drift from ruff format with
    # make test (and so CI) still green.
    makefile = (ROOT / "Makefile").read_text()
    folders = {
        path.name
        for path in ROOT.iterdir()
        if path.is_dir() and path.name not in {".venv", "node_modules"} and any(path.rglob("*.py"))
    }
    checks = [line for line in makefile.splitlines() if "ruff format --check" in line]
    assert len(checks) == 2, checks  # test and lint
    for line in checks:
        named = set(line.split("ruff format --check", 1)[1].split("&&")[0].split())
        assert folders <= named, (line, folders - named)


def test_the_readme_starts_gunicorn_by_hand_as_the_image_does_but_on_the_loopback():
    """The README's full stack by hand started gunicorn without the image's --no-control-socket:
    gunicorn (25.1 and later) then opened its control socket in the home folder of whoever ran it, a
    second way to stop or reload the server that the image and compose never open, and a second
    gunicorn on the same account (another port, a second instance) took over the first's. The
    command by hand is the image's, with the address a proxy on the same host reaches."""
    import json
    import shlex

    cmd_line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    image = json.loads(cmd_line[len("CMD ") :])
    by_hand = next(
        shlex.split(line)
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith(".venv/bin/gunicorn ")
    )
    assert by_hand[0] == ".venv/bin/gunicorn" and image[0] == "gunicorn"
    assert by_hand[by_hand.index("--bind") + 1] == "127.0.0.1:8000"
    assert image[image.index("--bind") + 1] == "0.0.0.0:8000"

    def without_bind(args: list[str]) -> list[str]:
        at = args.index("--bind")
        return args[1:at] + args[at + 2 :]

    assert without_bind(by_hand) == without_bind(image)


def test_web_is_healthy_by_the_status_code_of_healthz_and_the_worker_by_its_ping():
    """A broker outage leaves web healthy (/healthz is 200 "degraded" then, 503 only without the
    database): web's healthcheck goes by the status code alone, not the body's broker, and the
    broker's loss shows on the worker, whose ping travels through it."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    web = " ".join(services["web"]["healthcheck"]["test"])
    assert "urlopen('http://127.0.0.1:8000/healthz'" in web  # raises, so fails, on a 503 only
    assert "broker" not in web and "json" not in web
    worker = " ".join(services["worker"]["healthcheck"]["test"])
    assert "celery -A governance inspect ping" in worker

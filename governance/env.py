"""Small typed readers for environment variables that fail loudly on bad values."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from urllib.parse import parse_qs, unquote, urlparse


class ConfigError(RuntimeError):
    """A setting in the environment is missing or malformed."""


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer (digits only, such as 30), got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_optional_int(name: str, default: int | None = None, *, minimum: int | None = None) -> int | None:
    """``env_int`` for a number that may be left out: unset or empty gives ``default`` (None, "never")."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return env_int(name, 0, minimum=minimum)


def env_list(name: str, default: list[str]) -> list[str]:
    """Comma-separated items; unset or empty gives ``default``. A value that is set but names nothing
    (``","`` or blanks) is refused: read as an empty list it silently meant "no hosts" (every request
    a 400) or "no safe answers" rather than the default the operator probably expected."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ConfigError(f"{name} must be a comma-separated list such as a,b (or unset), got {raw!r}")
    return items


def env_networks(name: str, default: list[str]) -> list[str]:
    """Comma-separated IP addresses or networks (``172.31.250.1,10.8.0.0/16``), or ``*`` for any, as
    gunicorn reads its ``FORWARDED_ALLOW_IPS``. A host name is refused: neither gunicorn nor the
    application looks one up, so a proxy named ``nginx`` would silently never be trusted."""
    items = env_list(name, default)
    if items == ["*"]:
        return items
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(
                f"{name} must be IP addresses or networks, comma-separated, such as "
                f"172.31.250.1,10.8.0.0/16 (or *); got {item!r}"
            ) from None
    return items


def env_origins(name: str, default: list[str]) -> list[str]:
    """Comma-separated origins as a browser sends them in ``Origin``: http or https, a host (or
    ``*.`` and a domain, Django's wildcard for its subdomains), an optional port, nothing after it.
    Unset or empty gives ``default``. Django's own check catches only a missing scheme, and only
    where a check runs (not under gunicorn); an origin with a path or a final slash was never matched,
    and every sign-in and form from that origin was refused as a cross-site request."""
    items = env_list(name, default)
    for item in items:
        parsed = urlparse(item)
        try:
            port_ok = parsed.port is None or parsed.port > 0
        except ValueError:
            port_ok = False
        host = parsed.hostname or ""
        if (
            parsed.scheme not in {"http", "https"}
            or not host.removeprefix("*.")
            or "*" in host.removeprefix("*.")
            or not port_ok
            or parsed.username is not None
            or parsed.path
            or parsed.params
            or parsed.query
            or parsed.fragment
        ):
            raise ConfigError(
                f"{name} must be origins such as https://grid.example.gov.cn:8443 (http or https, the "
                f"host, an optional port, no path or final slash), comma-separated; got {item!r}"
            )
    return items


def env_choice(name: str, default: str, choices: list[str]) -> str:
    """One of ``choices`` (compared case-insensitively, returned as spelt in ``choices``)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    by_lower = {choice.lower(): choice for choice in choices}
    try:
        return by_lower[raw.strip().lower()]
    except KeyError:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {raw!r}") from None


def env_clock_range(name: str, default: tuple[str, str]) -> tuple[str, str]:
    """Two times of day, ``begin,end`` (``08:30,17:30``), begin before end."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    parts = [item.strip() for item in raw.split(",")]
    try:
        begin, end = (dt.datetime.strptime(part, "%H:%M").time() for part in parts)
    except ValueError as exc:
        raise ConfigError(
            f"{name} must be two times of day, begin,end such as 08:30,17:30; got {raw!r}"
        ) from exc
    if not begin < end:
        raise ConfigError(f"{name} must begin before it ends, got {raw!r}")
    return begin.strftime("%H:%M"), end.strftime("%H:%M")


def env_pattern(name: str, default: str, pattern: str, expected: str) -> str:
    """A string that must match ``pattern`` in full; ``expected`` says what it should look like."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip()
    if not re.fullmatch(pattern, value):
        raise ConfigError(f"{name} must be {expected}, got {raw!r}")
    return value


_PG_UNITS_KB = {"kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}
_PG_MEMORY = r"([0-9]+) ?(kB|MB|GB|TB)"


def env_pg_memory(name: str, default: str, *, minimum_kb: int) -> str:
    """A PostgreSQL amount of memory (``256MB``) within what the server takes for the parameter:
    from ``minimum_kb`` to 2147483647 kB. The format alone let 0MB and 99999999TB through, refused
    by PostgreSQL only when the nightly run set them."""
    value = env_pattern(name, default, _PG_MEMORY, "a PostgreSQL amount of memory such as 256MB or 1GB")
    number, unit = re.fullmatch(_PG_MEMORY, value).groups()
    kb = int(number) * _PG_UNITS_KB[unit]
    if not minimum_kb <= kb <= 2147483647:
        raise ConfigError(f"{name} must be between {minimum_kb}kB and 2147483647kB, got {value!r}")
    return value


def env_month_start(name: str, default: str) -> str:
    """The first day of a month, ``YYYY-MM-01`` (``YYYY-MM`` is read as its first day)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip()
    try:
        day = dt.date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be the first day of a month, YYYY-MM-01; got {raw!r}") from exc
    if day.day != 1:
        raise ConfigError(f"{name} must be the first day of a month, YYYY-MM-01; got {raw!r}")
    return day.isoformat()


def tile_origins(url: str) -> list[str]:
    """The origins the content security policy must allow images from for a map tile URL template.

    Leaflet fills ``{s}`` with one of its default subdomains a, b and c. As a whole first label
    (``https://{s}.tiles.example``) it becomes ``*.tiles.example``; inside a label
    (``https://tiles-{s}.example``) a wildcard cannot express it, so each of the three hosts is listed."""
    if not url:
        return []
    parsed = urlparse(url)
    host = parsed.netloc
    if parsed.scheme not in ("http", "https") or not host:
        # "tiles.intranet/{z}/{x}/{y}.png" made the image source "://": every tile was blocked by
        # the browser, and nothing said why.
        raise ConfigError(
            f"MAP_TILE_URL must be an http(s) URL template such as https://tiles.intranet/{{z}}/{{x}}/{{y}}.png, got {url!r}"
        )
    if "{s}" not in host:
        return [f"{parsed.scheme}://{host}"]
    if host.startswith("{s}.") and host.count("{s}") == 1:
        return [f"{parsed.scheme}://*.{host[4:]}"]
    return [f"{parsed.scheme}://{host.replace('{s}', sub)}" for sub in "abc"]


DATABASE_URL_FORMS = "postgres://user:password@host:5432/name or sqlite:///path/to/db.sqlite3"


def _without_password(url: str) -> str:
    """The URL as an error message may show it: whatever lies between the user name's ``:`` and the
    last ``@`` is starred, even in a URL too malformed to parse."""
    head, at, host = url.rpartition("@")
    if not at:
        return url
    scheme, sep, userinfo = head.rpartition("://") if "://" in head else ("", "", head)
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}{sep}{user}{colon}{'***' if colon else ''}@{host}"


def parse_database_url(url: str) -> dict:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a DATABASES entry.
    Anything else raises ConfigError naming DATABASE_URL and the accepted forms (never the password):
    urllib's own ValueError about a port or a bracket surfaced as a traceback inside Django."""

    def refuse(reason: str) -> ConfigError:
        return ConfigError(
            f"DATABASE_URL must be {DATABASE_URL_FORMS}; {reason} in {_without_password(url)!r}"
        )

    if url.strip() in {"sqlite://", "sqlite://:memory:"}:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    try:
        parsed = urlparse(url.strip())
        port = parsed.port
    except ValueError as exc:  # "Port could not be cast to integer value", "Invalid IPv6 URL"
        raise refuse(str(exc).lower()) from None
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parsed.path.lstrip("/"))
        if "/" in name:
            raise refuse(f"the database name {name!r} contains a slash")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        # A server that takes the connection but never answers (a hung host, a proxy whose database
        # is gone) held a request, /healthz included, for minutes: libpq waits for ever by default.
        # The URL may name another (?connect_timeout=10).
        options.setdefault("connect_timeout", "5")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            # Persistent connections with a health check: a connection lost while idle
            # (database restarted) is noticed and replaced on the next request.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # The test database in UTF-8 whatever the cluster's default: a cluster created without a
            # locale (a bare Debian container) is SQL_ASCII, where a Chinese name fails to convert
            # and a varchar counts bytes, and template1 passes that on.
            "TEST": {"CHARSET": "UTF8", "TEMPLATE": "template0"},
        }
    if parsed.scheme == "sqlite":
        url = url.strip()
        # sqlite://var/db.sqlite3 (two slashes) reads "var" as a host and would open /db.sqlite3.
        if not url.startswith("sqlite:///"):
            raise refuse("a SQLite path follows three slashes")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite:///") :] or ":memory:"}
    raise refuse(f"the scheme {parsed.scheme!r} is not supported")


def check_redis_url(url: str) -> str:
    """REDIS_URL as redis-py reads it; a typo otherwise surfaced at the first cache read or task."""
    try:
        parsed = urlparse(url.strip())
        parsed.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError(
            f"REDIS_URL must be redis://host:6379/0 (or rediss://, unix://); {str(exc).lower()}"
        ) from None
    networked = parsed.scheme in {"redis", "rediss"} and parsed.hostname
    if not (networked or (parsed.scheme == "unix" and parsed.path)):
        raise ConfigError(
            f"REDIS_URL must be redis://host:6379/0 (or rediss://, unix://); got {_without_password(url)!r}"
        )
    return url.strip()

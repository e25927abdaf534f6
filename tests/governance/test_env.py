"""The typed environment readers (governance/env.py): a value that cannot be read stops the start with
an error naming the variable and the form it takes, never a bare ValueError from deep inside Django."""

import pytest

from governance.env import (
    ConfigError,
    check_redis_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_optional_int,
    env_origins,
    parse_database_url,
)


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_a_boolean_that_is_not_one_names_the_variable_and_the_accepted_words(monkeypatch, raw):
    monkeypatch.setenv("DEBUG", raw)
    with pytest.raises(ConfigError, match=r"DEBUG must be a boolean \(1/0, true/false, yes/no, on/off\)"):
        env_bool("DEBUG", True)


def test_booleans_are_read_in_any_case_and_unset_or_empty_is_the_default(monkeypatch):
    monkeypatch.setenv("DEBUG", " Off ")
    assert env_bool("DEBUG", True) is False
    monkeypatch.setenv("DEBUG", "")
    assert env_bool("DEBUG", True) is True
    monkeypatch.delenv("DEBUG")
    assert env_bool("DEBUG", False) is False


@pytest.mark.parametrize("raw", ["5.0", "five", "3600s", "1e3"])
def test_a_number_that_is_not_an_integer_names_the_variable_and_the_form(monkeypatch, raw):
    monkeypatch.setenv("SESSION_COOKIE_AGE", raw)
    with pytest.raises(ConfigError, match=r"SESSION_COOKIE_AGE must be an integer \(digits only"):
        env_int("SESSION_COOKIE_AGE", 28800)


def test_an_integer_below_its_minimum_is_refused(monkeypatch):
    monkeypatch.setenv("AXES_FAILURE_LIMIT", "0")
    with pytest.raises(ConfigError, match="AXES_FAILURE_LIMIT must be at least 1, got 0"):
        env_int("AXES_FAILURE_LIMIT", 5, minimum=1)


@pytest.mark.parametrize("raw", [",", " , ,", "   "])
def test_a_list_that_names_nothing_is_refused_rather_than_read_as_empty(monkeypatch, raw):
    monkeypatch.setenv("ALLOWED_HOSTS", raw)
    with pytest.raises(ConfigError, match="ALLOWED_HOSTS must be a comma-separated list such as a,b"):
        env_list("ALLOWED_HOSTS", ["localhost"])


def test_a_list_drops_blanks_and_unset_or_empty_is_the_default(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " grid.example.gov.cn, ,10.0.0.5,")
    assert env_list("ALLOWED_HOSTS", []) == ["grid.example.gov.cn", "10.0.0.5"]
    monkeypatch.setenv("ALLOWED_HOSTS", "")
    assert env_list("ALLOWED_HOSTS", ["localhost"]) == ["localhost"]


def test_a_choice_is_read_in_any_case_and_anything_else_lists_the_choices(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING"]) == "WARNING"
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    with pytest.raises(ConfigError, match="LOG_LEVEL must be one of DEBUG, INFO, WARNING; got 'verbose'"):
        env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING"])


@pytest.mark.parametrize(
    "url, reason",
    [
        ("postgres://gov:s3cret@db:notaport/gov", "port could not be cast to integer"),
        ("postgres://gov:s3cret@db:99999/gov", "port out of range"),
        ("postgres://gov:s3cret@[db/gov", "invalid ipv6 url"),
        ("postgres://gov:s3cret@db:5432/gov/extra", "contains a slash"),
        ("db.internal:5432/gov", "scheme 'db.internal' is not supported"),
        ("postgres//gov:s3cret@db/gov", "scheme '' is not supported"),
        ("mysql://gov:s3cret@db/gov", "scheme 'mysql' is not supported"),
        ("sqlite://var/db.sqlite3", "three slashes"),
    ],
)
def test_a_malformed_database_url_names_the_variable_and_the_forms_but_not_the_password(url, reason):
    with pytest.raises(ConfigError) as caught:
        parse_database_url(url)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL must be postgres://user:password@host:5432/name or sqlite:///")
    assert reason in message
    assert "s3cret" not in message


def test_the_accepted_database_urls_still_parse():
    pg = parse_database_url("postgresql://gov@/gov")  # Unix socket, no password
    assert pg["OPTIONS"] == {"connect_timeout": "5"}  # a hung server is given up, not waited for
    assert parse_database_url("postgres://h/d?connect_timeout=12")["OPTIONS"]["connect_timeout"] == "12"
    assert pg["NAME"] == "gov" and pg["HOST"] == "" and pg["PORT"] == ""
    assert parse_database_url("sqlite:///var/db.sqlite3")["NAME"] == "var/db.sqlite3"
    assert parse_database_url("sqlite://:memory:")["NAME"] == ":memory:"


@pytest.mark.parametrize(
    "url", ["localhost:6379", "redis:6379", "http://redis:6379/0", "redis://redis:port/0", "redis://"]
)
def test_a_malformed_redis_url_names_the_variable_and_the_form(url):
    with pytest.raises(ConfigError, match=r"REDIS_URL must be redis://host:6379/0 \(or rediss://, unix://\)"):
        check_redis_url(url)


def test_the_accepted_redis_urls_pass():
    for url in ("redis://redis:6379/0", "rediss://:pw@cache.internal:6380/1", "unix:///run/redis.sock"):
        assert check_redis_url(url) == url


def test_a_retention_period_left_out_means_never_and_a_bad_one_names_the_variable(monkeypatch):
    monkeypatch.delenv("PERSONAL_DATA_RETENTION_DAYS", raising=False)
    assert env_optional_int("PERSONAL_DATA_RETENTION_DAYS", minimum=1) is None
    monkeypatch.setenv("PERSONAL_DATA_RETENTION_DAYS", "")
    assert env_optional_int("PERSONAL_DATA_RETENTION_DAYS", minimum=1) is None
    monkeypatch.setenv("PERSONAL_DATA_RETENTION_DAYS", "3650")
    assert env_optional_int("PERSONAL_DATA_RETENTION_DAYS", minimum=1) == 3650
    for raw, said in (("10y", "must be an integer"), ("0", "must be at least 1")):
        monkeypatch.setenv("PERSONAL_DATA_RETENTION_DAYS", raw)
        with pytest.raises(ConfigError, match=f"PERSONAL_DATA_RETENTION_DAYS {said}"):
            env_optional_int("PERSONAL_DATA_RETENTION_DAYS", minimum=1)


@pytest.mark.parametrize(
    "raw",
    [
        "grid.example.gov.cn",  # no scheme: Django's own check says so, but only when a check runs
        "https://grid.example.gov.cn/",  # a path: the browser's Origin never has one, so never matched
        "https://grid.example.gov.cn/grid",
        "https://",
        "ftp://grid.example.gov.cn",
        "https://user@grid.example.gov.cn",
        "https://grid.example.gov.cn:port",
    ],
)
def test_a_trusted_origin_that_no_browser_would_send_names_the_variable_and_the_form(monkeypatch, raw):
    monkeypatch.setenv("CSRF_TRUSTED_ORIGINS", f"https://ok.example.gov.cn,{raw}")
    with pytest.raises(
        ConfigError, match=r"CSRF_TRUSTED_ORIGINS must be origins such as https://grid\.example"
    ):
        env_origins("CSRF_TRUSTED_ORIGINS", [])


def test_trusted_origins_take_a_port_and_a_subdomain_wildcard_and_unset_is_none(monkeypatch):
    monkeypatch.setenv("CSRF_TRUSTED_ORIGINS", "https://grid.example.gov.cn:8443, http://*.example.gov.cn,")
    assert env_origins("CSRF_TRUSTED_ORIGINS", []) == [
        "https://grid.example.gov.cn:8443",
        "http://*.example.gov.cn",
    ]
    monkeypatch.delenv("CSRF_TRUSTED_ORIGINS")
    assert env_origins("CSRF_TRUSTED_ORIGINS", []) == []

"""Failed token authentications are limited per client address (governance.rest): a client could try
keys without limit, 401 after 401. After TOKEN_AUTH_FAILURE_LIMIT failures within
TOKEN_AUTH_FAILURE_MINUTES the address gets 429 with Retry-After for the rest of that time, whatever
key it sends; other addresses, and requests without a token, are unaffected."""

import time

import pytest

from tests.base import api_client

GUESSER = "198.51.100.23"
ELSEWHERE = "203.0.113.40"


@pytest.fixture
def limit(settings):
    from governance.rest import token_failures_reset

    settings.TOKEN_AUTH_FAILURE_LIMIT = 3
    addresses = [GUESSER, ELSEWHERE, "172.31.250.1", "192.0.2.44"]
    for address in addresses:
        token_failures_reset(address)
    yield settings.TOKEN_AUTH_FAILURE_LIMIT
    for address in addresses:
        token_failures_reset(address)


def _get(key: str, address: str, **extra):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/areas/", REMOTE_ADDR=address, **extra)


@pytest.fixture
def token(cast):
    from governance.services import user_token_issue

    return user_token_issue(user=cast.analyst)


def test_failures_up_to_the_limit_are_401_then_the_address_gets_429(cast, token, limit, settings):
    for n in range(limit):
        response = _get(f"guess{n:036d}", GUESSER)
        assert response.status_code == 401, n
    refused = _get("guess-after-the-limit", GUESSER)
    assert refused.status_code == 429
    window = settings.TOKEN_AUTH_FAILURE_WINDOW.total_seconds()
    assert 0 < int(refused["Retry-After"]) <= window
    detail = refused.json()["detail"]
    assert "Too many failed token authentications" in detail and refused["Retry-After"] in detail
    # The right key from that address is refused too: a guesser would otherwise learn from a 200
    # which guess was right, whatever the failures were answered.
    assert _get(token, GUESSER).status_code == 429
    # Another address, with the same key, is served.
    assert _get(token, ELSEWHERE).status_code == 200


def test_successful_requests_neither_count_nor_reset_the_failures(cast, token, limit):
    assert _get("wrong-one", GUESSER).status_code == 401
    for _ in range(limit + 2):
        assert _get(token, GUESSER).status_code == 200
    for n in range(limit - 1):
        assert _get(f"wrong-{n}", GUESSER).status_code == 401
    assert _get(token, GUESSER).status_code == 429


def test_a_malformed_token_header_is_a_failure_too(cast, limit):
    client = api_client()
    for _ in range(limit):
        client.credentials(HTTP_AUTHORIZATION="Token two parts")
        assert client.get("/api/v1/areas/", REMOTE_ADDR=GUESSER).status_code == 401
    assert _get("anything", GUESSER).status_code == 429


def test_requests_without_a_token_are_not_held_up(client, cast, limit):
    for n in range(limit + 1):
        _get(f"wrong-{n}", GUESSER)
    # Session (the browser) and the token endpoint are not token authentication.
    client.force_login(cast.analyst)
    assert client.get("/api/v1/areas/", REMOTE_ADDR=GUESSER).status_code == 200
    unauthenticated = api_client().get("/api/v1/areas/", REMOTE_ADDR=GUESSER)
    assert unauthenticated.status_code == 401


def test_behind_the_proxy_the_limit_is_per_client_not_for_everyone(cast, token, limit, settings):
    # REMOTE_ADDR is the proxy's for every client: the limit counts the address the proxy appended.
    settings.BEHIND_TLS_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["172.31.250.1"]
    for n in range(limit + 1):
        _get(f"wrong-{n}", "172.31.250.1", HTTP_X_FORWARDED_FOR=GUESSER)
    assert _get(token, "172.31.250.1", HTTP_X_FORWARDED_FOR=GUESSER).status_code == 429
    assert _get(token, "172.31.250.1", HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 200
    # A peer that is not the proxy cannot dodge the limit with a new X-Forwarded-For per guess.
    for n in range(limit):
        _get(f"wrong-{n}", "192.0.2.44", HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 100}")
    assert _get(token, "192.0.2.44", HTTP_X_FORWARDED_FOR="198.51.100.200").status_code == 429


def test_the_limit_is_in_the_shared_cache(cast, limit, settings):
    # Every gunicorn worker and web container counts together: in the full stack the cache is Redis.
    from django.core.cache import caches

    from governance.rest import token_failures_count

    _get("wrong", GUESSER)
    assert token_failures_count(GUESSER) == 1
    if settings.REDIS_URL:
        assert type(caches["default"]).__name__ == "RedisCache"


def test_with_the_cache_down_token_authentication_goes_on_unlimited(cast, token, settings):
    # Redis down: the limit is not enforced (logged), rather than every token request failing.
    settings.TOKEN_AUTH_FAILURE_LIMIT = 1
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    for _ in range(3):
        assert _get("wrong", GUESSER).status_code == 401
    assert _get(token, GUESSER).status_code == 200


def test_the_schema_documents_the_429_of_token_authenticated_endpoints(cast):
    response = api_client(cast.analyst).get("/api/schema/", {"format": "json"})
    responses = response.json()["paths"]["/api/v1/areas/"]["get"]["responses"]
    assert "429" in responses and "Retry-After" in responses["429"]["description"]


def test_the_429_is_worded_in_the_client_s_language(cast, limit):
    for n in range(limit):
        _get(f"wrong-{n}", GUESSER)
    refused = _get("wrong", GUESSER, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 429
    assert (
        "令牌认证失败次数过多" in refused.json()["detail"]
        and refused["Retry-After"] in refused.json()["detail"]
    )


@pytest.mark.parametrize("name", ["grids-photo", "grids-photo-thumbnail"])
def test_the_photo_urls_answer_the_limit_with_429_not_a_server_error(cast, limit, name):
    # The photo views authenticate tokens outside DRF, whose handler turns the refusal into a 429.
    from django.urls import reverse

    url = reverse(name, kwargs={"pk": 999999})
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token wrong-key")
    codes = [client.get(url, REMOTE_ADDR=GUESSER).status_code for _ in range(limit + 2)]
    assert codes == [401] * limit + [429, 429]
    refused = client.get(url, REMOTE_ADDR=GUESSER)
    assert int(refused["Retry-After"]) > 0 and "Too many failed" in refused.json()["detail"]


def _redis_keys(redis_url: str, address: str):
    """The real Redis client and the stored names of ``address``'s failure keys: the counter of its
    current window and the window's start."""
    import redis
    from django.core.cache import cache

    from governance.rest import _count_key, _failure_keys

    since_key = _failure_keys(address)[1]
    count_key = _count_key(address, cache.get(since_key))
    return redis.Redis.from_url(redis_url), [cache.make_key(k) for k in (count_key, since_key)]


def _refused_until_the_window_passes(cast, token, limit, redis_url) -> tuple:
    for n in range(limit):
        assert _get(f"wrong-{n}", GUESSER).status_code == 401
    assert _get(token, GUESSER).status_code == 429
    client, (count_key, since_key) = _redis_keys(redis_url, GUESSER)
    # Both kept for the window only (the counter a minute longer: rest._count_expiry).
    assert 0 < client.ttl(since_key) <= 15 * 60 and 0 < client.ttl(count_key) <= 16 * 60
    return client, [count_key, since_key]


def test_the_limit_lifts_once_the_window_has_passed(cast, token, limit, redis_url):
    # The window is minutes long; its end is brought near by shortening what Redis keeps, as time
    # passing would: both keys were stored with the window's expiry at the first failure.
    client, keys = _refused_until_the_window_passes(cast, token, limit, redis_url)
    for key in keys:
        client.pexpire(key, 300)
    time.sleep(0.5)
    assert not any(client.exists(key) for key in keys)
    assert _get(token, GUESSER).status_code == 200  # the right key is served again
    assert _get("wrong-again", GUESSER).status_code == 401  # a new window, counted from 1
    for n in range(limit - 2):
        assert _get(f"wrong-again-{n}", GUESSER).status_code == 401
    assert _get(token, GUESSER).status_code == 200  # limit - 1 failures in the new window
    assert _get("one-more", GUESSER).status_code == 401
    assert _get(token, GUESSER).status_code == 429


def test_the_limit_lifts_with_its_window_even_when_the_counter_lost_its_expiry(cast, token, limit, redis_url):
    # Django's RedisCache.incr checks the key EXISTS and then INCRs it: a counter expiring between the
    # two is created again by INCR with no expiry. The window's start (the "since" key, never
    # incremented) still expires on time; the address must then be served again, not refused for ever
    # with a Retry-After of a whole window each time, and counted from 1 on a counter of its own.
    client, (count_key, since_key) = _refused_until_the_window_passes(cast, token, limit, redis_url)
    client.persist(count_key)
    client.pexpire(since_key, 300)
    time.sleep(0.5)
    assert _get(token, GUESSER).status_code == 200
    assert _get("wrong-again", GUESSER).status_code == 401
    assert _get(token, GUESSER).status_code == 200  # one failure in the new window, not limit + 1
    _, (new_count_key, _) = _redis_keys(redis_url, GUESSER)
    assert new_count_key != count_key and 0 < client.ttl(new_count_key) <= 16 * 60
    client.delete(count_key)


class _FailureDuringTheCounterWrite:
    """The real cache (Redis), with one more failure from the same address recorded just before the
    first failure of a new window creates its counter: the interleaving of two requests arriving
    together that a test can reproduce step by step."""

    def __init__(self, real, address: str) -> None:
        from governance.rest import _failure_keys

        self.real, self.address, self.fired = real, address, False
        self.counters = _failure_keys(address)[0] + ":"

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def _before_creating(self, key: str) -> None:
        if key.startswith(self.counters) and not self.fired:
            self.fired = True
            from governance.rest import _token_failure_recorded

            _token_failure_recorded(self.address)  # the other request, its every step on Redis

    def add(self, key, *args, **kwargs):
        self._before_creating(key)
        return self.real.add(key, *args, **kwargs)

    def set(self, key, *args, **kwargs):
        self._before_creating(key)
        return self.real.set(key, *args, **kwargs)


@pytest.mark.parametrize("stale", [None, 7], ids=["no-counter", "a-past-counter-without-expiry"])
def test_two_failures_at_a_window_s_start_count_two(cast, limit, redis_url, monkeypatch, stale):
    """The first failure of a window wrote its counter with ``set(count, 1)``: a second failure that
    had meanwhile found the window started, and counted 1, was overwritten, both ending as 1: one
    more guess per window. The counter is created with ``add``, and counts what is there if it
    exists. A past window's counter (``stale``, recreated by INCR without an expiry) is not counted:
    each window has its own."""
    from django.core.cache import cache

    from governance import rest

    past = rest._count_key(GUESSER, time.time() - 3600)
    if stale is not None:
        cache.set(past, stale, None)
    interleaved = _FailureDuringTheCounterWrite(cache, GUESSER)
    monkeypatch.setattr(rest, "cache", interleaved)
    rest._token_failure_recorded(GUESSER)
    monkeypatch.undo()
    cache.delete(past)
    assert interleaved.fired
    assert rest.token_failures_count(GUESSER) == 2
    client, (count_key, since_key) = _redis_keys(redis_url, GUESSER)
    assert 0 < client.ttl(count_key) <= 16 * 60 and 0 < client.ttl(since_key) <= 15 * 60
    # limit - 2 more failures reach the limit: the address is refused after limit failures, not limit + 1.
    for n in range(limit - 2):
        assert _get(f"wrong-{n}", GUESSER).status_code == 401
    assert _get("anything", GUESSER).status_code == 429


class _FailureAfterTheWindowOpens:
    """The real cache (Redis), with one more failure from the same address recorded right after the
    first failure of a new window has stored the window's start, before it counts itself: the other
    request of two arriving together, every step of it on Redis."""

    def __init__(self, real, address: str) -> None:
        from governance.rest import _failure_keys

        self.real, self.address, self.fired = real, address, False
        self.since_key = _failure_keys(address)[1]

    def __getattr__(self, name: str):
        return getattr(self.real, name)

    def add(self, key, *args, **kwargs):
        added = self.real.add(key, *args, **kwargs)
        if added and key == self.since_key and not self.fired:
            self.fired = True
            from governance.rest import _token_failure_recorded

            _token_failure_recorded(self.address)
        return added


def test_a_failure_arriving_as_a_window_opens_is_counted(cast, limit, monkeypatch):
    """The first failure of a window stored its start, then deleted the counter of the window before
    (it may have lost its expiry) and counted itself from 1: a failure counted between the two, on
    the old counter or on a new one, was deleted with it. Both are counted now."""
    from django.core.cache import cache

    from governance import rest

    interleaved = _FailureAfterTheWindowOpens(cache, GUESSER)
    monkeypatch.setattr(rest, "cache", interleaved)
    rest._token_failure_recorded(GUESSER)
    monkeypatch.undo()
    assert interleaved.fired
    assert rest.token_failures_count(GUESSER) == 2
    for n in range(limit - 2):
        assert _get(f"wrong-{n}", GUESSER).status_code == 401
    assert _get("anything", GUESSER).status_code == 429


def test_failures_arriving_together_are_each_counted(cast, settings, limit):
    """Threads, each with its own connection to the real Redis, fail together as a window opens,
    then all together again inside it: the count is exactly the number of failures."""
    import threading

    from governance import rest

    settings.TOKEN_AUTH_FAILURE_LIMIT = 10_000
    threads, rounds = 8, 3
    for attempt in range(5):  # a new window each time, opened by whichever thread comes first
        rest.token_failures_reset(GUESSER)
        barrier = threading.Barrier(threads)

        def fail() -> None:
            for _ in range(rounds):
                barrier.wait()
                rest._token_failure_recorded(GUESSER)

        workers = [threading.Thread(target=fail) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert rest.token_failures_count(GUESSER) == threads * rounds, attempt

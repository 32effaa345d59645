"""Platform JWKS cache against a real HTTP server on loopback; time comes from a fake clock."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwks_server import FakeClock, JwksServer

from lmsbridge.core.http import JWKS_LIMIT
from lmsbridge.core.lti.jwks import JwksCache, JwksError, public_jwk, public_jwks


@pytest.fixture
def server() -> Iterator[JwksServer]:
    srv = JwksServer()
    yield srv.start()
    srv.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> JwksCache:
    return JwksCache(clock=clock, default_ttl=600, min_ttl=60, max_ttl=3600, refetch_interval=30)


@pytest.fixture(scope="module")
def keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]


def jwk(kid: str, key: rsa.RSAPrivateKey, **extra: str) -> dict[str, Any]:
    d: dict[str, Any] = public_jwk(kid, key)
    del d["alg"], d["use"]  # D2L-style: neither alg nor use
    d.update(extra)
    return d


def b64int(i: int) -> str:
    return (
        base64.urlsafe_b64encode(i.to_bytes((i.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    )


def test_fetches_once_and_finds_key_by_kid(server, cache, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0]), jwk("k2", keys[1])])
    k2 = cache.get_key(url, "k2")
    assert k2 is not None
    assert k2.public_key.public_numbers() == keys[1].public_key().public_numbers()
    assert cache.get_key(url, "k1") is not None
    assert server.hits["/jwks"] == 1


def test_honours_max_age(server, cache, clock, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])], Cache_Control="public, max-age=120")
    cache.get_key(url, "k1")
    clock.t += 119
    cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 1
    clock.t += 2
    cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 2


def test_age_header_shortens_lifetime(server, cache, clock, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])], Cache_Control="max-age=300", Age="200")
    cache.get_key(url, "k1")
    clock.t += 101
    cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 2


@pytest.mark.parametrize(
    ("cache_control", "fresh_for"),
    [
        (None, 600),  # default TTL
        ("no-cache", 600),  # no max-age: default
        ("max-age=0", 60),  # floor
        ("max-age=5, must-revalidate", 60),  # floor
        ("max-age=999999999", 3600),  # ceiling
        ("s-maxage=30", 600),  # not max-age
    ],
)
def test_ttl_default_floor_and_ceiling(server, cache, clock, keys, cache_control, fresh_for):
    headers = {"Cache_Control": cache_control} if cache_control else {}
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])], **headers)
    cache.get_key(url, "k1")
    clock.t += fresh_for - 1
    cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 1
    clock.t += 1
    cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 2


def test_unknown_kid_refetches_at_most_once_per_interval(server, cache, clock, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])])
    assert cache.get_key(url, "k1") is not None
    assert cache.get_key(url, "bogus-0") is None  # fetched just now: no refetch yet
    assert server.hits["/jwks"] == 1
    clock.t += 30
    for i in range(50):  # a flood of made-up kids
        assert cache.get_key(url, f"bogus-{i}") is None
    assert server.hits["/jwks"] == 2
    clock.t += 29
    assert cache.get_key(url, "bogus-x") is None
    assert server.hits["/jwks"] == 2
    clock.t += 1
    assert cache.get_key(url, "bogus-y") is None
    assert server.hits["/jwks"] == 3
    assert cache.get_key(url, "k1") is not None  # known kids unaffected
    assert server.hits["/jwks"] == 3


def test_rotated_key_found_by_refetch_on_unknown_kid(server, cache, clock, keys):
    url = server.serve_jwks("/jwks", [jwk("old", keys[0])], Cache_Control="max-age=3600")
    assert cache.get_key(url, "old") is not None
    clock.t += 45  # past the refetch interval, well within max-age
    server.serve_jwks("/jwks", [jwk("old", keys[0]), jwk("new", keys[1])])
    new = cache.get_key(url, "new")
    assert new is not None and new.kid == "new"
    assert server.hits["/jwks"] == 2


def test_caches_are_per_url(server, cache, keys):
    a = server.serve_jwks("/a", [jwk("k", keys[0])])
    b = server.serve_jwks("/b", [jwk("k", keys[1])])
    ka, kb = cache.get_key(a, "k"), cache.get_key(b, "k")
    assert ka is not None and kb is not None
    assert ka.public_key.public_numbers() != kb.public_key.public_numbers()
    assert (server.hits["/a"], server.hits["/b"]) == (1, 1)


def test_key_filtering(server, cache, keys):
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_jwk = {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"}
    priv_nums = keys[2].private_numbers()
    with_private = jwk("priv", keys[2], d=base64.urlsafe_b64encode(b"x" * 8).decode())
    url = server.serve_jwks(
        "/jwks",
        [
            jwk("plain", keys[0]),  # no alg, no use: accepted
            jwk("rs256", keys[0], alg="RS256", use="sig"),
            jwk("enc", keys[0], use="enc"),
            jwk("rs512", keys[0], alg="RS512"),
            {
                "kty": "RSA",
                "kid": "short",
                "n": b64int(small.public_key().public_numbers().n),
                "e": "AQAB",
            },
            {k: v for k, v in jwk("nokid", keys[0]).items() if k != "kid"},
            {"kty": "RSA", "kid": "broken", "n": 5, "e": "AQAB"},
            ec_jwk,
            with_private,
            "not an object",
        ],
    )
    found = {kid: cache.get_key(url, kid) for kid in ["plain", "rs256", "priv"]}
    assert all(found.values())
    assert not found["priv"].is_private  # only n and e are ever imported
    assert found["priv"].public_key.public_numbers() == priv_nums.public_numbers
    for kid in ["enc", "rs512", "short", "nokid", "broken", "ec"]:
        assert cache.get_key(url, kid) is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"oops"),
        (200, b"<html>not json</html>"),
        (200, b'{"no": "keys"}'),
        (200, b"[]"),
        (200, b"x" * (JWKS_LIMIT + 1)),
    ],
)
def test_unusable_response_raises(server, cache, status, body):
    server.routes["/jwks"] = (status, {"Content-Type": "application/json"}, body)
    with pytest.raises(JwksError) as exc:
        cache.get_key(server.url("/jwks"), "k1")
    assert "/jwks" in str(exc.value)


def test_unreachable_url_raises(cache):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = srv.server_port
    srv.server_close()  # nothing listens there any more
    with pytest.raises(JwksError, match="could not be fetched"):
        cache.get_key(f"http://127.0.0.1:{port}/jwks", "k1")


def test_failed_first_fetch_is_not_retried_within_interval(server, cache, clock, keys):
    server.routes["/jwks"] = (503, {}, b"")
    url = server.url("/jwks")
    for _ in range(5):
        with pytest.raises(JwksError):
            cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 1
    server.serve_jwks("/jwks", [jwk("k1", keys[0])])
    clock.t += 30
    assert cache.get_key(url, "k1") is not None
    assert server.hits["/jwks"] == 2


def test_failed_refresh_keeps_serving_previous_keys(server, cache, clock, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])], Cache_Control="max-age=60")
    assert cache.get_key(url, "k1") is not None
    server.routes["/jwks"] = (500, {}, b"")
    clock.t += 61
    assert cache.get_key(url, "k1") is not None  # stale but usable
    assert cache.get_key(url, "k1") is not None  # and no retry storm meanwhile
    assert server.hits["/jwks"] == 2
    clock.t += 30
    server.serve_jwks("/jwks", [jwk("k2", keys[1])])
    assert cache.get_key(url, "k2") is not None
    assert server.hits["/jwks"] == 3


def test_concurrent_cold_lookups_fetch_once(server, cache, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])])
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def worker() -> None:
        barrier.wait()
        results.append(cache.get_key(url, "k1"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(results)
    assert server.hits["/jwks"] == 1


def test_invalidate_forgets_a_url(server, cache, keys):
    url = server.serve_jwks("/jwks", [jwk("k1", keys[0])])
    cache.get_key(url, "k1")
    cache.invalidate(url)
    cache.get_key(url, "k1")
    assert server.hits["/jwks"] == 2


def test_rejects_inconsistent_ttls():
    with pytest.raises(ValueError):
        JwksCache(min_ttl=600, default_ttl=60)


def test_public_jwks_for_the_tool(keys):
    doc = public_jwks([("current", keys[0]), ("next", keys[1].public_key())])
    assert [k["kid"] for k in doc["keys"]] == ["current", "next"]
    for entry, key in zip(doc["keys"], keys[:2], strict=True):
        assert set(entry) == {"kid", "kty", "alg", "use", "n", "e"}  # nothing private
        assert (entry["kty"], entry["alg"], entry["use"]) == ("RSA", "RS256", "sig")
        n = int.from_bytes(base64.urlsafe_b64decode(entry["n"] + "=="), "big")
        assert n == key.public_key().public_numbers().n
        assert entry["e"] == "AQAB"
    json.dumps(doc)  # serialisable as is


def test_tool_jwks_round_trips_through_the_cache(server, cache, keys):
    url = server.url("/tool-jwks")
    server.routes["/tool-jwks"] = (200, {}, json.dumps(public_jwks([("t1", keys[0])])).encode())
    key = cache.get_key(url, "t1")
    assert key is not None
    assert key.public_key.public_numbers() == keys[0].public_key().public_numbers()

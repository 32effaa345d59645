"""Hostile input never reaches a 5xx: the Host header, request parameters, a busy or full
database, and a fuzz run over every web route on each database backend.

The fuzz corpus is generated (fixed seed) from the strings, hosts and tokens in
hostile_fixtures.py; every request must be answered below 500 (or 503 with Retry-After for
a busy database) and leave every table as it was. A summary of requests tried and handled
per route and database is printed and written to ``hostile_input_summary.txt`` in pytest's
base temp directory.
"""

from __future__ import annotations

import json
import random
import sqlite3
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from hostile_fixtures import (
    HOSTS,
    LONG_ID,
    NUL,
    RAW_QUERIES,
    SURROGATE,
    TEXT,
    FuzzTally,
    b64,
    compact,
    nested,
    row_counts,
    rule_of,
    signed,
)
from lti_web_fixtures import (
    CLIENT_ID,
    DEPLOYMENT,
    ISS,
    KID,
    TOOL,
    JwksServer,
    add_catalog,
    deep_link_claims,
    launch_claims,
    login,
    setup_tenant,
)
from sqlalchemy import create_engine, event, text

from lmsbridge.core.cli import cli
from lmsbridge.core.lti.claims import AGS_CLAIM, DL, LTI, NRPS_CLAIM
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.tool_urls import is_loopback, parse_allowed_hosts, split_host
from lmsbridge.core.store import Store
from lmsbridge.core.store.database import SQLITE_BUSY_TIMEOUT_MS, WEB_LOCK_WAIT_MS, make_engine
from lmsbridge.core.web import create_app
from lmsbridge.core.web.app import web_store

LOGIN_BASE = {"iss": ISS, "login_hint": "user-1", "target_link_uri": TOOL + "/lti/launch",
              "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT}
# Refusals that come after the launch's nonce was consumed (its one legitimate write).
AFTER_NONCE = {"program_not_activated", "content_unknown", "content_unavailable",
               "link_unrouted", "custom_malformed", "no_seat_left", "sub_missing"}


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def tool(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks")
    add_catalog(store)
    return create_app(store, jwks=JwksCache(), secret_key="k")


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _web_app(store: Store, lock_wait_ms: int, **kw: Any):
    """The tool on its own engine, as ``create_app()`` and ``serve`` build it, with a wait
    short enough for a test."""
    web = Store(make_engine(_url(store), lock_wait_ms=lock_wait_ms), store._key_file)
    return web, create_app(web, jwks=JwksCache(), secret_key="k", **kw)


# -- Host ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "expected"), [
    ("localhost", ("localhost", None)), ("LocalHost.:8000", ("localhost", 8000)),
    ("127.0.0.1:5000", ("127.0.0.1", 5000)), ("[::1]:80", ("[::1]", 80)),
    ("tool.example.edu", ("tool.example.edu", None)), ("my_service:80", ("my_service", 80)),
    ("", None), ("bad host", None), ("[::1", None), ("a:99999", None), ("x@y", None),
    ("localhost:abc", None), ("localhost:0", None), ("[zz::1]", None), ("a" * 300, None),
    ("-a.example", None), ("a..b", None),
])
def test_split_host(host, expected):
    assert split_host(host) == expected


def test_loopback_hosts():
    assert all(map(is_loopback, ["localhost", "app.localhost", "127.0.0.1", "127.9.9.9",
                                 "[::1]"]))
    assert not any(map(is_loopback, ["localhost.example", "10.0.0.1", "[::2]", "tool.edu"]))


def test_allowed_hosts_parse_and_name_a_bad_entry():
    assert parse_allowed_hosts(" A.example , b.example:8443,,") == {"a.example",
                                                                     "b.example:8443"}
    assert parse_allowed_hosts("") is None and parse_allowed_hosts(None) is None
    with pytest.raises(ValueError, match="'bad host'"):
        parse_allowed_hosts("ok.example,bad host")


# The six Host headers that were a 500 (or a wrong URL) without a configured base URL.
BAD_HOSTS = ["", "bad host", "[::1", "a:99999", "exa mple:80", "localhost:abc"]


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_host_that_cannot_be_a_url_is_a_400(tool, host):
    client = tool.test_client()
    for path in ("/lti/login", "/.well-known/jwks.json", "/lti/picker"):
        resp = client.get(path, query_string=LOGIN_BASE, headers={"Host": host})
        assert resp.status_code == 400, (path, resp.status_code)
        assert rule_of(resp.get_data(as_text=True)) == "host_malformed"


def test_without_a_base_url_only_loopback_hosts_are_served(tool):
    client = tool.test_client()
    resp = client.get("/lti/login", query_string=LOGIN_BASE,
                      headers={"Host": "evil.example"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and rule_of(body) == "host_not_allowed"
    assert "evil.example" in body and "Set-Cookie" not in resp.headers
    for host in ("localhost:8000", "127.0.0.1", "[::1]:5000"):
        launch_url = f"http://{host}/lti/launch"
        ok = client.get("/lti/login", headers={"Host": host},
                        query_string={**LOGIN_BASE, "target_link_uri": launch_url})
        assert ok.status_code == 302, host
        assert parse_qs(urlsplit(ok.headers["Location"]).query)["redirect_uri"] == [launch_url]


def test_an_allow_list_admits_its_hosts_and_only_those(store, jwks_server, monkeypatch):
    setup_tenant(store, jwks_server.url + "/jwks")
    params = {**LOGIN_BASE, "target_link_uri": "http://tool.example.edu/lti/launch"}
    for app in (create_app(store, secret_key="k", allowed_hosts=["tool.example.edu"]),
                _env_app(store, monkeypatch, "tool.example.edu, other.example:8443")):
        client = app.test_client()
        assert client.get("/lti/login", query_string=params,
                          headers={"Host": "tool.example.edu"}).status_code == 302
        for host in ("localhost", "evil.example", "other.example"):
            resp = client.get("/.well-known/jwks.json", headers={"Host": host})
            assert resp.status_code == 400, host
            assert rule_of(resp.get_data(as_text=True)) == "host_not_allowed"


def _env_app(store, monkeypatch, hosts: str):
    monkeypatch.setenv("LMSBRIDGE_ALLOWED_HOSTS", hosts)
    return create_app(store, secret_key="k")


def test_with_a_base_url_any_valid_host_is_served_and_urls_ignore_it(store, jwks_server):
    setup_tenant(store, jwks_server.url + "/jwks")
    client = create_app(store, base_url="https://tool.example", secret_key="k").test_client()
    resp = client.get("/lti/login", headers={"Host": "internal-name:8000"},
                      query_string={**LOGIN_BASE,
                                    "target_link_uri": "https://tool.example/lti/launch"})
    assert resp.status_code == 302
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["redirect_uri"] == [
        "https://tool.example/lti/launch"]
    assert client.get("/.well-known/jwks.json", headers={"Host": "bad host"}).status_code == 400


def test_a_bad_allow_list_fails_at_start_up(store, tmp_path):
    with pytest.raises(ValueError, match="'bad host'"):
        create_app(store, secret_key="k", allowed_hosts="bad host")
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "serve",
                                      "--allowed-hosts", "a.example,bad host"])
    assert result.exit_code == 2 and "--allowed-hosts" in result.output


# -- parameters ----------------------------------------------------------------------------

def test_nul_in_picker_parameters_is_a_400_on_every_database(tool, store):
    s = _picker_token(tool)
    client = tool.test_client()
    before = row_counts(store.engine)
    for resp in (client.post("/lti/picker/submit", data={"s": s, "program": "prog-1",
                                                         "course": ["c1", NUL]}),
                 client.get("/lti/picker", query_string={"s": s, "course": NUL}),
                 client.get("/lti/login", query_string={**LOGIN_BASE, "login_hint": NUL})):
        assert resp.status_code == 400
        assert rule_of(resp.get_data(as_text=True)) == "parameter_malformed"
    too_many = client.post("/lti/picker/submit",
                           data={"s": s, "program": "prog-1", "course": ["zz"] * 20_000})
    assert too_many.status_code == 400
    assert row_counts(store.engine) == before


def _picker_token(app, deployment: str = DEPLOYMENT) -> str:
    """A picker session, from a real deep-linking launch."""
    client = app.test_client()
    _, state, nonce = login(client, lti_deployment_id=deployment)
    claims = deep_link_claims(nonce, "https://lms.example.edu/dl/return")
    claims[LTI + "deployment_id"] = deployment
    resp = client.post("/lti/launch", data={"id_token": signed(claims), "state": state})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return parse_qs(urlsplit(resp.headers["Location"]).query)["s"][0]


# -- busy, full, broken database -----------------------------------------------------------

def test_the_web_store_waits_less_for_locks_than_the_engine(store):
    web = web_store(_url(store), store._key_file)
    with web.engine.connect() as conn:
        if web.engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == WEB_LOCK_WAIT_MS
        else:
            assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == "2s"
    web.dispose()
    if store.engine.dialect.name == "sqlite":  # the CLI's and the nightly engine's store
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == \
                SQLITE_BUSY_TIMEOUT_MS


@pytest.fixture
def write_lock(store):
    """Another connection holding the write lock the launch needs (SQLite: the database's,
    PostgreSQL: the nonces table's), until the test ends."""
    if store.engine.dialect.name == "sqlite":
        holder = sqlite3.connect(store.engine.url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
        holder.close()
    else:
        engine = create_engine(store.engine.url)
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE nonces IN EXCLUSIVE MODE"))
            yield
            conn.rollback()
        engine.dispose()


def test_a_launch_while_another_writer_holds_the_lock_is_a_503(tool, store, request):
    web, app = _web_app(store, lock_wait_ms=50)
    client = app.test_client()
    _, state, nonce = login(client)
    token = signed(launch_claims(nonce))
    before = row_counts(store.engine)
    request.getfixturevalue("write_lock")
    resp = client.post("/lti/launch", data={"id_token": token, "state": state})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503, body
    assert resp.headers["Retry-After"] == "5" and rule_of(body) == "database_busy"
    assert "Traceback" not in body and "INSERT" not in body
    assert row_counts(store.engine) == before
    web.dispose()


def test_a_launch_on_a_full_sqlite_database_is_a_503(tool, store):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("max_page_count is SQLite's")
    with closing(sqlite3.connect(store.engine.url.database, isolation_level=None)) as conn:
        conn.execute("VACUUM")  # no free pages left for the launch to take
    web = Store(make_engine(_url(store)), store._key_file)
    # SQLite keeps max_page_count at least the current size: so the file cannot grow.
    event.listen(web.engine, "connect",
                 lambda dbapi, _: dbapi.execute("PRAGMA max_page_count=1").close())
    client = create_app(web, jwks=JwksCache(), secret_key="k").test_client()
    _, state, nonce = login(client)
    # 30 KB of roles in the launches row: overflow pages that cannot be had.
    token = signed(launch_claims(nonce, **{LTI + "roles": ["r" * 1000] * 30}))
    before = row_counts(store.engine)
    resp = client.post("/lti/launch", data={"id_token": token, "state": state})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503, body
    assert resp.headers["Retry-After"] == "60" and rule_of(body) == "database_full"
    after = row_counts(store.engine)
    assert {k: after[k] - before[k] for k in after if after[k] != before[k]} in (
        {}, {"nonces": 1})  # the nonce is consumed before single sign-on starts
    web.dispose()


def test_any_other_database_error_is_a_500_page_without_detail(tool, store, caplog):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("drops a table of the per-test SQLite file")
    client = tool.test_client()
    _, state, nonce = login(client)
    with closing(sqlite3.connect(store.engine.url.database, isolation_level=None)) as conn:
        conn.execute("DROP TABLE launches")
    resp = client.post("/lti/launch", data={"id_token": signed(launch_claims(nonce)),
                                            "state": state})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500 and rule_of(body) == "internal_error"
    assert "Retry-After" not in resp.headers
    assert "launches" not in body and "Traceback" not in body and "sqlite" not in body.lower()
    assert any("no such table" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


# -- the fuzz run --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def fuzz_tally(tmp_path_factory):
    tally = FuzzTally()
    yield tally
    if tally.tried:
        lines = tally.lines()
        path = tmp_path_factory.getbasetemp() / "hostile_input_summary.txt"
        path.write_text("\n".join(lines) + "\n")
        print("\n" + "\n".join(lines))


class Fuzzer:
    """Sends requests and checks them: no 5xx but a 503 with Retry-After, and no row
    written. Rows are counted around each request to a route that writes when it succeeds
    (launch, picker submission), and around each batch of up to BATCH others."""

    WRITERS = frozenset({"POST /lti/launch", "POST /lti/picker/submit"})
    BATCH = 50

    def __init__(self, app, store, backend: str, tally: FuzzTally) -> None:
        self.app, self.store, self.backend, self.tally = app, store, backend, tally
        self.failures: list[str] = []
        self.sessions: list[str] = []
        self._counts: dict[str, int] | None = None  # at the last check
        self._pending: list[tuple[str, int, bool, str]] = []  # sent since then

    def send(self, route: str, method: str, path: str, *, client=None, **kw: Any) -> None:
        if route in self.WRITERS or self._counts is None:
            self.flush()
        client = client or self.app.test_client()
        resp = client.open(path, method=method, **kw)
        status = resp.status_code
        answered = status < 500 or (status == 503 and "Retry-After" in resp.headers)
        what = f"{route}: {status} {rule_of(resp.get_data(as_text=True))} {repr(kw)[:300]}"
        if route not in self.WRITERS:
            self._pending.append((route, status, answered, what))
            if len(self._pending) >= self.BATCH:
                self.flush()
            return
        after = row_counts(self.store.engine)
        written = {k: after[k] - self._counts[k] for k in after if after[k] != self._counts[k]}
        if written == {"nonces": 1} and rule_of(resp.get_data(as_text=True)) in AFTER_NONCE:
            written = {}
        self._counts = after
        self._record(route, status, answered and not written, what, written)

    def flush(self) -> None:
        after = row_counts(self.store.engine)
        if self._counts is not None:
            written = {k: after[k] - self._counts[k] for k in after
                       if after[k] != self._counts[k]}
            for route, status, answered, what in self._pending:
                self._record(route, status, answered and not written, what,
                             written and f"by one of {len(self._pending)}: {written}")
        self._counts, self._pending = after, []

    def _record(self, route: str, status: int, ok: bool, what: str, written: Any) -> None:
        if not ok:
            self.failures.append(f"{what} written={written}")
        self.tally.add(route, self.backend, status, ok)


def _set(path: tuple[str, ...], value: Any):
    """An edit of the claims: ``value`` at ``path`` (a missing parent becomes an object);
    ``...`` removes it."""
    def edit(claims: dict[str, Any]) -> None:
        obj = claims
        for key in path[:-1]:
            if not isinstance(obj.get(key), dict):
                obj[key] = {}
            obj = obj[key]
        if value is ...:
            obj.pop(path[-1], None)
        else:
            obj[path[-1]] = value
    return edit


# Values no claim of that kind may have; every signed launch below must be refused.
_BAD_STRINGS = [NUL, SURROGATE, "\x00", LONG_ID, "x" * 5000, 123, 1.5, True, [], {}, ""]
_BAD_TIMES = [float("nan"), float("inf"), float("-inf"), 10**400, -1, 1e300, 253402300800,
              "1800000000", True, [], {}, None]
_CLAIM_EDITS: list[tuple[tuple[str, ...], list[Any]]] = [
    (("iss",), [*_BAD_STRINGS, None, "https://evil.example"]),
    (("aud",), [*_BAD_STRINGS, None, [CLIENT_ID, 5], [CLIENT_ID, "x"], ["x"]]),
    (("azp",), [NUL, SURROGATE, "x", 5]),
    (("sub",), [*_BAD_STRINGS, ...]),
    (("exp",), _BAD_TIMES), (("iat",), _BAD_TIMES),
    (("nbf",), [v for v in _BAD_TIMES if v is not None and v != -1] + [4_000_000_000]),
    (("nonce",), [*_BAD_STRINGS, ..., "other"]),
    ((LTI + "version",), [*_BAD_STRINGS, ..., "1.1.0"]),
    ((LTI + "message_type",), [*_BAD_STRINGS, ..., "LtiFooRequest"]),
    ((LTI + "deployment_id",), [*_BAD_STRINGS, ..., "dep-x"]),
    ((LTI + "target_link_uri",), [*_BAD_STRINGS, ..., TOOL + "/lti/launch?provider_program_id=%00",
                                  "https://evil.example/lti/launch", "x" * 3000]),
    ((LTI + "resource_link",), ["x", [], None, {}]),
    ((LTI + "resource_link", "id"), [*_BAD_STRINGS, ...]),
    ((LTI + "resource_link", "title"), [NUL, SURROGATE]),
    ((LTI + "context",), ["x", [], {}]),
    ((LTI + "context", "id"), [*_BAD_STRINGS, ...]),
    ((LTI + "context", "title"), [NUL, SURROGATE]),
    ((LTI + "context", "label"), [NUL, SURROGATE]),
    ((LTI + "roles",), [[NUL], [SURROGATE], ["r" * 1025], ["r"] * 257, "Learner", [1], [None],
                        {}, None]),
    ((LTI + "custom",), ["x", [], 5, {NUL: "v"}, {"k" * 256: "v"}, {"v": "x" * 4097},
                         {"provider_program_id": NUL}, {"provider_program_id": SURROGATE},
                         {"provider_program_id": LONG_ID}, {"provider_program_id": 1.5},
                         {"provider_program_id": True}, {"provider_program_id": ["prog-1"]},
                         {"provider_program_id": "prog-2", "provider_course_id": "w1"},
                         {"provider_program_id": "prog-1", "provider_course_id": NUL},
                         {"provider_program_id": "prog-1", "provider_course_id": "nope"},
                         {"provider_program_id": "prog-1", "provider_course_id": LONG_ID},
                         {"provider_program_id": "prog-1", "provider_item_id": "q1"}, {}]),
    (("email",), [NUL, SURROGATE, "a" * 400 + "@example.edu"]),
    (("name",), [NUL, SURROGATE]), (("given_name",), [NUL]), (("family_name",), [SURROGATE]),
    ((AGS_CLAIM,), ["x", [], {"scope": "x"}, {"scope": [NUL]}, {"scope": [], "lineitems": NUL},
                    {"scope": [], "lineitems": "x" * 3000}, {"scope": [], "lineitem": 5}]),
    ((NRPS_CLAIM,), ["x", {}, {"context_memberships_url": NUL},
                     {"context_memberships_url": "u", "service_versions": [NUL]}]),
]
_DL_EDITS: list[tuple[tuple[str, ...], list[Any]]] = [
    ((DL + "deep_linking_settings",), ["x", [], None]),
    ((DL + "deep_linking_settings", "deep_link_return_url"),
     [*_BAD_STRINGS, ..., "javascript:alert(1)", "data:text/html,x"]),
    ((DL + "deep_linking_settings", "accept_types"), [[NUL], [], "x", [LONG_ID], [5], None]),
    ((DL + "deep_linking_settings", "title"), [NUL, SURROGATE]),
    ((DL + "deep_linking_settings", "text"), [NUL]),
    ((DL + "deep_linking_settings", "accept_presentation_document_targets"), [[NUL]]),
]


def _raw_payloads(nonce: str) -> list[bytes]:
    """Signed payloads that are no JSON object the tool can use."""
    good = json.dumps(launch_claims(nonce))[:-1]
    return [
        nested(30_000), good.encode() + b', "x": ' + nested(5_000) + b"}",
        good.encode() + b', "x": ' + nested(33, b"{}") + b"}",
        good.encode() + b', "exp": NaN}', good.encode() + b', "iat": -Infinity}',
        good.encode() + b', "exp": 1e400}', good.encode() + b', "exp": ' + b"9" * 5000 + b"}",
        good.encode() + b', "name": "\\ud800"}', good.encode() + b', "\\udfff": 1}',
        good.encode() + b', "sub": "\\u0000"}',
        good.encode() + b', "x": "' + b"\\\\" * 10 + b'", "sub": "\\u0000"}',
        b'["not", "an", "object"]', b"null", b"", b"\xff\xfe{}", b"\xef\xbb\xbf{}",
        good.encode() + b"", good.encode().replace(b'"sub"', b'"sub": "' + b'"' * 3 + b'", "s'),
        good.encode() + b', "y": ' + nested(40) + b', "x": "' + b'\\"' * 20_000 + b"}",
    ]


def _headers() -> list[bytes]:
    return [
        b'{"alg": "RS256", "kid": "' + KID.encode() + b'", "x": ' + nested(900) + b"}",
        b'{"alg": "none", "kid": "' + KID.encode() + b'"}', b'{"alg": "HS256"}', b"[]",
        b'{"alg": NaN}', b'{"alg": "RS256", "kid": "\\ud800"}', b'{"alg": "RS256", "kid": 5}',
        b'{"alg": "RS256", "kid": "' + KID.encode() + b'", "crit": ["b64"], "b64": false}',
        b'{"alg": "RS256", "kid": "' + KID.encode() + b'", "jku": "https://evil.example"}',
        b'{"alg": "RS256", "kid": "' + KID.encode() + b'", "x5c": [1]}', b"{" * 600,
    ]


def _unsigned_tokens(rng: random.Random) -> list[str]:
    junk = "".join(rng.choice("ABCxyz019-_.=+/ \x00é") for _ in range(400))
    body = b64(b'{"iss": "' + ISS.encode() + b'", "aud": "' + CLIENT_ID.encode() + b'"}')
    rs256 = b64(b'{"alg": "RS256"}')
    tokens = ["", ".", "..", "...", "a.b.c", "a.b", "a.b.c.d", junk, "x" * 70_000,
              "é.é.é", f"{b64(b'{}')}.{body}.", f"{b64(nested(40))}.{body}.sig",
              f"{rs256}.{b64(nested(20_000))}.sig", f"{'A' * 3000}.{body}.sig",
              f"{rs256}.{body}.{'A' * 2000}", f"{rs256}.{body}=.sig", f"{rs256}.A.sig"]
    for _ in range(40):
        parts = ["".join(rng.choice("ABCDEFGHIJabcdefgh0123456789-_") for _ in
                         range(rng.randint(0, 60))) for _ in range(rng.choice((1, 2, 3, 3, 4)))]
        tokens.append(".".join(parts))
    return tokens


def _fuzz_login(fz: Fuzzer, rng: random.Random) -> None:
    for method in ("GET", "POST"):
        route = f"{method} /lti/login"
        where = "query_string" if method == "GET" else "data"
        for name in [*LOGIN_BASE, "lti_message_hint", "lti_storage_target", "unknown"]:
            for value in TEXT:
                fz.send(route, method, "/lti/login", **{where: {**LOGIN_BASE, name: value}})
        for _ in range(40):
            params = {name: rng.choice(TEXT) for name in rng.sample(
                [*LOGIN_BASE, "lti_storage_target"], rng.randint(0, 6))}
            fz.send(route, method, "/lti/login", **{where: params})
    for raw in RAW_QUERIES:
        fz.send("GET /lti/login", "GET", "/lti/login?" + raw)
        fz.send("POST /lti/login", "POST", "/lti/login", data=raw,
                content_type="application/x-www-form-urlencoded")
    for body, ctype in [(b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
                        (b"--x\r\n" * 2000, "multipart/form-data; boundary=x"),
                        (b'{"iss": 1}', "application/json"), (b"x" * 300_000, "text/plain"),
                        ("&".join(f"iss={i}" for i in range(2000)).encode(),
                         "application/x-www-form-urlencoded")]:
        fz.send("POST /lti/login", "POST", "/lti/login", data=body, content_type=ctype)


def _fuzz_launch(fz: Fuzzer, rng: random.Random) -> None:
    route = "POST /lti/launch"
    client = fz.app.test_client()
    _, state, nonce = login(client)
    for token in _unsigned_tokens(rng):
        fz.send(route, "POST", "/lti/launch", client=client,
                data={"id_token": token, "state": state})
        fz.send(route, "POST", "/lti/launch",  # platform storage: no cookie came back
                data={"id_token": token, "state": state, "lti_storage_target": "_parent"})
    for header in _headers():  # a header that passes still meets a nonce that does not
        fz.send(route, "POST", "/lti/launch", client=client, data={
            "id_token": compact(header, json.dumps(launch_claims("not-" + nonce)).encode()),
            "state": state})
    for value in TEXT:
        for form in ({"id_token": value, "state": state}, {"id_token": "a.b.c", "state": value},
                     {"id_token": value, "state": "s", "lti_storage_target": value},
                     {"id_token": "a.b.c", "state": "s", "lti_storage_nonce": value}):
            fz.send(route, "POST", "/lti/launch", client=client, data=form)
    for origin in ["null", "", "http://[::1", "http://localhost:99999", "javascript:alert(1)",
                   "http://localhost", "http://evil.example", "x" * 5000, "\x7f\xff"]:
        fz.send(route, "POST", "/lti/launch", headers={"Origin": origin}, data={
            "id_token": signed(launch_claims("not-" + nonce)), "state": state,
            "lti_storage_nonce": nonce})
    for cookie in ["lmsbridge_lti_" + state + "=" + "x" * 5000, ";;;=;", "a=\x7f\xff",
                   "lmsbridge_lti_" + state + '="\\"\\\\"']:
        fz.send(route, "POST", "/lti/launch", headers={"Cookie": cookie},
                data={"id_token": "a.b.c", "state": state})

    def signed_case(make_token) -> None:
        c = fz.app.test_client()
        _, st, nc = login(c)
        fz.send(route, "POST", "/lti/launch", client=c,
                data={"id_token": make_token(nc), "state": st})

    for edits, base in ((_CLAIM_EDITS, launch_claims), (_DL_EDITS, _dl_claims)):
        for path, values in edits:
            for value in values:
                def token(nc, path=path, value=value, base=base):
                    claims = base(nc)
                    _set(path, value)(claims)
                    return signed(claims)
                signed_case(token)
    for i in range(len(_raw_payloads("n"))):
        signed_case(lambda nc, i=i: compact(
            json.dumps({"alg": "RS256", "kid": KID}).encode(), _raw_payloads(nc)[i]))


def _dl_claims(nonce: str) -> dict[str, Any]:
    return deep_link_claims(nonce, "https://lms.example.edu/dl/return")


def _fuzz_picker(fz: Fuzzer, rng: random.Random) -> None:
    sessions = fz.sessions  # valid: every parameter is tried with many values
    forged = [None, "", "x", sessions[0][:-3] + "abc", sessions[0] + "x", "." * 300,
              "x" * 70_000, NUL]  # refused before any parameter is read: a few values
    for s in [*sessions, *forged]:
        values = rng.sample(TEXT, 10 if s in sessions else 2)
        for name in ("program", "course", "unknown"):
            for value in values:
                fz.send("GET /lti/picker", "GET", "/lti/picker",
                        query_string={k: v for k, v in (("s", s), (name, value)) if v is not None})
        # Course c1 is publishable from the course tenant's session: only its items are not.
        course = "c1" if s == sessions[1] else "c9"
        for value in values:
            for form in ({"program": value}, {"program": "prog-1", "course": value},
                         {"program": "prog-1", "course": course, "item": [value, value]},
                         {"program": "prog-1", "course": [value] * 3},
                         {"program": "prog-1", "course": value, "item": value}, {}):
                data = {**form, **({"s": s} if s is not None else {})}
                fz.send("POST /lti/picker/submit", "POST", "/lti/picker/submit", data=data)
        fz.send("POST /lti/picker/submit", "POST", "/lti/picker/submit",
                data={"s": s or "", "program": "prog-1", "course": ["zz"] * 1500})
    for raw in RAW_QUERIES:
        fz.send("GET /lti/picker", "GET", "/lti/picker?s=" + sessions[0] + "&" + raw)


def _fuzz_jwks_and_hosts(fz: Fuzzer, rng: random.Random) -> None:
    for raw in [*RAW_QUERIES, "x=" + "y" * 10_000]:
        fz.send("GET /.well-known/jwks.json", "GET", "/.well-known/jwks.json?" + raw)
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
        fz.send(f"{method} jwks, bare launch", method, "/.well-known/jwks.json")
        fz.send(f"{method} jwks, bare launch", method, "/lti/launch")
    for host in HOSTS:
        for method, path in (("GET", "/lti/login"), ("POST", "/lti/login"),
                             ("POST", "/lti/launch"), ("GET", "/lti/picker"),
                             ("POST", "/lti/picker/submit"), ("GET", "/.well-known/jwks.json")):
            kw = {"query_string": LOGIN_BASE} if method == "GET" else {"data": LOGIN_BASE}
            fz.send("Host header, every route", method, path, headers={"Host": host}, **kw)


def test_fuzz_every_route_on_every_database(store, jwks_server, fuzz_tally, request):
    setup_tenant(store, jwks_server.url + "/jwks")
    setup_tenant(store, jwks_server.url + "/jwks", tenant="uni-b", deployment="dep-2",
                 grade_sync="item")
    add_catalog(store)
    app = create_app(store, jwks=JwksCache(), secret_key="fuzz")
    backend = store.engine.dialect.name
    fz = Fuzzer(app, store, backend, fuzz_tally)
    fz.sessions = [_picker_token(app), _picker_token(app, "dep-2")]  # course, item tenant
    rng = random.Random(20261122)
    for part in (_fuzz_login, _fuzz_launch, _fuzz_picker, _fuzz_jwks_and_hosts):
        part(fz, rng)
    fz.flush()
    mine = {k: v for k, v in fuzz_tally.tried.items() if k[1] == backend}
    print("\n" + "\n".join(line for line in fuzz_tally.lines()
                           if backend in line or line.startswith("route")))
    assert sum(mine.values()) > 1000
    assert not fz.failures, "\n".join(fz.failures[:20])

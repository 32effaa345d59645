"""A mock Oracle Learning pod: inbound JWT/OAuth auth, the provider resource, an xAPI LRS.

Behaves as an Oracle pod set up per Oracle's setup guide would, as far as public facts go:

- **Auth**: a bearer JWT checked by :class:`~.auth.JwtVerifier` (trusted issuer, certificate
  uploaded for it and found by ``x5t``, known user holding the provider duty role), or an
  opaque bearer token from the OCI IAM-like token endpoint (client credentials). Refusals are
  401/403 with an ADF error body whose ``o:errorCode`` says why (a real pod says less).
- **Provider resource** (``digitalLearningProviders`` and its ``content`` child) with ADF
  conventions: ``limit``/``offset``/``hasMore``/``totalResults``, ``q=`` finder, ADF media
  types (PATCH requires ``application/vnd.oracle.adf.resourceitem+json``), ``Upsert-Mode``.
- **Statements** with LRS semantics: same id + same content is a no-op (204 when nothing in
  the POST was new), a different statement under a stored id is 409, two statements sharing
  an id in one batch are 400, and ``X-Experience-API-Version`` is required.

Configure it from Python (:meth:`trust`, :meth:`add_user`, :meth:`add_oauth_client`,
:meth:`add_provider`) or over HTTP (``POST /_mock/oracle/{trust,users,oauth_clients,providers}``)
when run with ``lmsbridge mock oracle``.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from cryptography import x509
from flask import Flask, Response, request

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.auth import (
    PROVIDER_ROLE,
    AuthError,
    JwtVerifier,
    certificate_x5t,
    load_certificate,
)
from lmsbridge.adapters.oracle.mapping import ORACLE_ATTRIBUTE_NAMES, ORACLE_STATUS_CODES
from lmsbridge.adapters.oracle.mock_suite import OracleSuitePlatform
from lmsbridge.adapters.oracle.xapi import XAPI_VERSION
from lmsbridge.conformance.mock import FaultRule, MockServer

__all__ = ["MockOracle"]

_CONTENT_ATTRIBUTES = frozenset(ORACLE_ATTRIBUTE_NAMES.values()) | {r.PROVIDER_CONTENT_ID}
_REQUIRED_ON_CREATE = (
    r.PROVIDER_CONTENT_ID, ORACLE_ATTRIBUTE_NAMES["content_url"], ORACLE_ATTRIBUTE_NAMES["title"],
)  # fmt: skip
_STATUS = ORACLE_ATTRIBUTE_NAMES["status"]
_DEACTIVATION = ORACLE_ATTRIBUTE_NAMES["deactivation_date"]
_Q_TERM = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(?:'((?:[^']|'')*)'|([^;']*))\s*")
_TOKEN_LIFETIME = 3600


class _Refused(Exception):
    """An ADF error answer raised from inside a handler."""

    def __init__(self, status: int, title: str, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code = status, title, detail, code


def _adf_response(status: int, title: str, detail: str, code: str | None = None) -> Response:
    response = Response(
        json.dumps(r.adf_error(status, title, detail, code)),
        status=status,
        mimetype=r.ERROR_MEDIA_TYPE,
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="oracle"'
    return response


def _json(body: Any, status: int = 200, mimetype: str = "application/json") -> Response:
    return Response(json.dumps(body), status=status, mimetype=mimetype)


class MockOracle(OracleSuitePlatform, MockServer):
    """See the module docstring; the conformance suite's protocol is in :mod:`.mock_suite`."""

    name = "oracle"

    def __init__(self, *, clock: Callable[[], float] = time.time, log_size: int = 1000) -> None:
        self.clock = clock
        self._ids = itertools.count(300000000001001)
        super().__init__(log_size=log_size)

    # ------------------------------------------------------------------ configuration

    def reset(self) -> None:
        super().reset()
        self.trusted: dict[str, list[x509.Certificate]] = {}
        self.users: dict[str, set[str]] = {}
        self.oauth_clients: dict[str, tuple[str, str]] = {}  # client_id -> (secret, user)
        self.oauth_tokens: dict[str, tuple[str, float]] = {}  # token -> (user, expires_at)
        self.providers: dict[str, dict[str, Any]] = {}
        self.content: dict[str, dict[str, Any]] = {}  # ContentId -> record (with provider id)
        self.statements: dict[str, dict[str, Any]] = {}
        self.learners: dict[str, Any] = {}  # user name -> SeedMember (suite seeding)
        self.user_agents: set[str] = set()
        self._verifier: JwtVerifier | None = None
        self.add_provider("COURSERA", "Coursera")

    def trust(self, issuer: str, certificate: bytes | x509.Certificate) -> str:
        """Setup guide step 9: a trusted issuer with an uploaded inbound certificate; returns x5t."""
        cert = load_certificate(certificate)
        with self.lock:
            self.trusted.setdefault(issuer, []).append(cert)
            self._verifier = None
        return certificate_x5t(cert)

    def add_user(self, name: str, roles: Iterable[str] = (PROVIDER_ROLE,)) -> None:
        """Setup guide steps 5-6: a user account with its roles (the provider duty by default)."""
        with self.lock:
            self.users[name] = set(roles)
            self._verifier = None

    def add_oauth_client(self, client_id: str, client_secret: str, user: str) -> None:
        """An OCI IAM confidential app whose tokens act as ``user``."""
        with self.lock:
            self.oauth_clients[client_id] = (client_secret, user)

    def add_provider(self, code: str, name: str) -> str:
        with self.lock:
            for provider in self.providers.values():
                if provider[r.PROVIDER_CODE] == code:
                    return str(provider[r.PROVIDER_ID])
            pid = str(next(self._ids))
            self.providers[pid] = {r.PROVIDER_ID: pid, r.PROVIDER_CODE: code, "Name": name}
            return pid

    def credentials(self) -> dict[str, Any]:
        with self.lock:
            return {"oauth_clients": [{"client_id": cid, "client_secret": secret, "user": user}
                                      for cid, (secret, user) in self.oauth_clients.items()],
                    "token_url": r.OAUTH_TOKEN_PATH,
                    "trusted_issuers": sorted(self.trusted)}

    def seed_world(self) -> None:
        """An integration user with the provider duty, an OAuth client for it, and one
        course already pushed under the Coursera provider."""
        self.add_user("lmsbridge.integration")
        self.add_oauth_client("lmsbridge-demo", "demo-secret", "lmsbridge.integration")
        pid = self.add_provider("COURSERA", "Coursera")
        with self.lock:
            cid = str(next(self._ids))
            self.content[cid] = {
                r.CONTENT_ID: cid, "_provider": pid, r.PROVIDER_CONTENT_ID: "course:c1",
                _STATUS: ORACLE_STATUS_CODES["active"],
                ORACLE_ATTRIBUTE_NAMES["title"]: "Statistics with Python",
                ORACLE_ATTRIBUTE_NAMES["content_url"]: "https://www.coursera.org/learn/stats"}

    def content_items(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self.content.values()))

    def state(self) -> dict[str, Any]:
        data = super().state()
        data.update(
            trusted_issuers={i: [certificate_x5t(c) for c in cs] for i, cs in self.trusted.items()},
            users={name: sorted(roles) for name, roles in self.users.items()},
            oauth_clients=sorted(self.oauth_clients),
            providers=list(self.providers.values()),
            content=list(self.content.values()),
            statements=list(self.statements.values()),
            user_agents=sorted(self.user_agents),
        )
        return copy.deepcopy(data)

    # ------------------------------------------------------------------ fault answers

    def status_response(self, rule: FaultRule) -> Response:
        status = rule.status or 500
        response = _adf_response(status, "Error", f"injected HTTP {status}")
        if rule.retry_after is not None:
            response.headers["Retry-After"] = str(rule.retry_after)
        return response

    def throttle_response(self, rule: FaultRule) -> Response:
        response = _adf_response(429, "Too Many Requests", "request rate limit exceeded")
        if rule.retry_after is not None:
            response.headers["Retry-After"] = str(rule.retry_after)
        return response

    def expired_token_response(self, rule: FaultRule) -> Response:
        return _adf_response(401, "Unauthorized", "the token has expired", "expired")

    # ------------------------------------------------------------------ auth

    def _authenticate(self) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        with self.lock:
            held = self.oauth_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if held is not None:
                user, expires_at = held
                if self.clock() >= expires_at:
                    raise AuthError(401, "expired", "the access token has expired")
                if PROVIDER_ROLE not in self.users.get(user, set()):
                    raise AuthError(403, "missing_role", f"user {user!r} lacks role {PROVIDER_ROLE}")
                return user
            if self._verifier is None:
                self._verifier = JwtVerifier(
                    issuers=self.trusted, users=self.users, clock=self.clock
                )
            verifier = self._verifier
        return verifier.verify_header(header)

    def _token_endpoint(self) -> Response:
        auth = request.authorization
        form = request.form
        client_id = auth.username if auth else form.get("client_id")
        client_secret = auth.password if auth else form.get("client_secret")

        def oauth_error(status: int, error: str, description: str) -> Response:
            return _json({"error": error, "error_description": description}, status)

        if form.get("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "only client_credentials is served")
        with self.lock:
            known = self.oauth_clients.get(client_id or "")
            if known is None or not secrets.compare_digest(known[0], client_secret or ""):
                return oauth_error(401, "invalid_client", "client authentication failed")
            token = secrets.token_urlsafe(24)
            self.oauth_tokens[token] = (known[1], self.clock() + _TOKEN_LIFETIME)
        return _json(
            {"access_token": token, "token_type": "Bearer", "expires_in": _TOKEN_LIFETIME}
        )

    # ------------------------------------------------------------------ routes

    def routes(self, app: Flask) -> None:
        @app.before_request
        def check_auth() -> Response | None:
            with self.lock:
                self.user_agents.add(request.headers.get("User-Agent", ""))
            if request.path == r.OAUTH_TOKEN_PATH:
                return None
            try:
                request.environ["oracle.user"] = self._authenticate()
            except AuthError as err:
                title = "Forbidden" if err.status == 403 else "Unauthorized"
                return _adf_response(err.status, title, err.reason, err.code)
            return None

        @app.errorhandler(_Refused)
        def refused(err: _Refused) -> Response:
            return _adf_response(err.status, err.title, err.detail, err.code)

        @app.errorhandler(404)
        def not_found(_err: Exception) -> Response:
            return _adf_response(404, "Not Found", f"no resource at {request.path}")

        @app.errorhandler(405)
        def not_allowed(_err: Exception) -> Response:
            return _adf_response(405, "Method Not Allowed", f"{request.method} not allowed here")

        app.add_url_rule(r.OAUTH_TOKEN_PATH, "token", self._token_endpoint, methods=["POST"])
        app.add_url_rule(r.PROVIDERS_PATH, "providers", self._list_providers, methods=["GET"])
        app.add_url_rule(
            r.provider_path("<pid>"), "provider", self._get_provider, methods=["GET"]
        )
        app.add_url_rule(
            r.content_path("<pid>"), "contents", self._contents, methods=["GET", "POST"]
        )
        app.add_url_rule(
            r.content_path("<pid>", "<cid>"), "content", self._content, methods=["GET", "PATCH"]
        )
        app.add_url_rule(
            r.STATEMENTS_PATH, "statements", self._statements, methods=["GET", "POST", "PUT"]
        )

    # --- provider resource

    def _list_providers(self) -> Response:
        with self.lock:
            rows = list(self.providers.values())
        return self._collection(rows, r.PROVIDERS_PATH)

    def _provider(self, pid: str) -> dict[str, Any]:
        provider = self.providers.get(pid)
        if provider is None:
            raise _Refused(404, "Not Found", f"no learning provider {pid}")
        return provider

    def _get_provider(self, pid: str) -> Response:
        with self.lock:
            return _json(self._provider(pid), mimetype=r.ITEM_MEDIA_TYPE)

    def _contents(self, pid: str) -> Response:
        with self.lock:
            self._provider(pid)
            if request.method == "GET":
                rows = [self._public(c) for c in self.content.values() if c["_provider"] == pid]
                return self._collection(rows, r.content_path(pid))
            return self._create_content(pid)

    def _content(self, pid: str, cid: str) -> Response:
        with self.lock:
            self._provider(pid)
            record = self.content.get(cid)
            if record is None or record["_provider"] != pid:
                raise _Refused(404, "Not Found", f"no content {cid} for provider {pid}")
            if request.method == "GET":
                return _json(self._public(record), mimetype=r.ITEM_MEDIA_TYPE)
            if request.mimetype != r.ITEM_MEDIA_TYPE:
                raise _Refused(
                    415, "Unsupported Media Type", f"PATCH needs Content-Type {r.ITEM_MEDIA_TYPE}"
                )
            changes = self._payload(partial=True)
            if changes.get(r.PROVIDER_CONTENT_ID, record[r.PROVIDER_CONTENT_ID]) != record[
                r.PROVIDER_CONTENT_ID
            ]:
                raise _Refused(400, "Bad Request", f"{r.PROVIDER_CONTENT_ID} cannot be changed")
            record.update(changes)
            return _json(self._public(record), mimetype=r.ITEM_MEDIA_TYPE)

    def _create_content(self, pid: str) -> Response:
        if request.mimetype not in ("application/json", r.ITEM_MEDIA_TYPE):
            raise _Refused(415, "Unsupported Media Type", f"POST needs {r.ITEM_MEDIA_TYPE}")
        payload = self._payload(partial=False)
        key = payload[r.PROVIDER_CONTENT_ID]
        existing = next(
            (
                c for c in self.content.values()
                if c["_provider"] == pid and c[r.PROVIDER_CONTENT_ID] == key
            ),
            None,
        )  # fmt: skip
        if existing is not None:
            if request.headers.get(r.UPSERT_MODE, "").lower() != "true":
                raise _Refused(
                    400, "Bad Request",
                    f"content with {r.PROVIDER_CONTENT_ID} {key!r} already exists",
                    "duplicate_key",
                )  # fmt: skip
            existing.update(payload)
            return _json(self._public(existing), 200, r.ITEM_MEDIA_TYPE)
        cid = str(next(self._ids))
        record = {r.CONTENT_ID: cid, "_provider": pid, _STATUS: ORACLE_STATUS_CODES["active"]}
        record.update(payload)
        self.content[cid] = record
        response = _json(self._public(record), 201, r.ITEM_MEDIA_TYPE)
        response.headers["Location"] = request.host_url.rstrip("/") + r.content_path(pid, cid)
        return response

    def _payload(self, *, partial: bool) -> dict[str, Any]:
        body = request.get_json(force=True, silent=True)
        if not isinstance(body, dict):
            raise _Refused(400, "Bad Request", "body must be a JSON object")
        unknown = sorted(set(body) - _CONTENT_ATTRIBUTES)
        if unknown:
            raise _Refused(400, "Bad Request", f"attribute(s) not found: {', '.join(unknown)}")
        if not partial:
            missing = [a for a in _REQUIRED_ON_CREATE if not body.get(a)]
            if missing:
                raise _Refused(400, "Bad Request", f"missing required {', '.join(missing)}")
        if _STATUS in body and body[_STATUS] not in ORACLE_STATUS_CODES.values():
            raise _Refused(400, "Bad Request", f"{_STATUS} {body[_STATUS]!r} is not a valid code")
        if body.get(_DEACTIVATION) is not None:
            try:
                dt.date.fromisoformat(str(body[_DEACTIVATION]))
            except ValueError:
                raise _Refused(400, "Bad Request", f"{_DEACTIVATION} is not a date") from None
        return body

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _collection(self, rows: list[dict[str, Any]], path: str) -> Response:
        """ADF collection answer: ``q=`` filter, ``limit``/``offset``, ``hasMore``."""
        args = request.args
        rows = [row for row in rows if _q_matches(row, args.get("q"))]
        try:
            limit = int(args.get("limit", r.DEFAULT_LIMIT))
            offset = int(args.get("offset", 0))
        except ValueError:
            raise _Refused(400, "Bad Request", "limit and offset must be integers") from None
        if limit < 1 or offset < 0:
            raise _Refused(400, "Bad Request", "limit must be >= 1 and offset >= 0")
        limit = min(limit, r.MAX_LIMIT, self.max_page_size)
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {
            "items": page,
            "count": len(page),
            "hasMore": offset + len(page) < len(rows),
            "limit": limit,
            "offset": offset,
            "links": [{"rel": "self", "href": request.host_url.rstrip("/") + path}],
        }
        if args.get("totalResults", "").lower() == "true":
            body["totalResults"] = len(rows)
        return _json(body, mimetype=r.COLLECTION_MEDIA_TYPE)

    # --- statements (LRS)

    def _statements(self) -> Response:
        version = request.headers.get("X-Experience-API-Version", "")
        if not version.startswith("1.0"):
            raise _Refused(400, "Bad Request", "X-Experience-API-Version header is required")
        with self.lock:
            if request.method == "GET":
                sid = request.args.get("statementId")
                if sid not in self.statements:
                    raise _Refused(404, "Not Found", f"no statement {sid}")
                return self._xapi(_json(self.statements[sid]))
            body = request.get_json(force=True, silent=True)
            if request.method == "PUT":
                sid = request.args.get("statementId", "")
                if not isinstance(body, dict) or body.get("id", sid) != sid:
                    raise _Refused(400, "Bad Request", "statementId must match the statement id")
                batch = [{**body, "id": sid}]
            else:
                batch = body if isinstance(body, list) else [body]
            new = self._check_batch(batch)
            for statement in new:
                self.statements[statement["id"]] = self._stored(statement)
            if request.method == "PUT" or not new:
                return self._xapi(Response(status=204))
            return self._xapi(_json([s["id"] for s in new]))

    def _check_batch(self, batch: list[Any]) -> list[dict[str, Any]]:
        """New statements of an atomic batch; raises for the whole batch like an LRS."""
        seen: set[str] = set()
        new = []
        for statement in batch:
            problem = _statement_problem(statement)
            if problem:
                raise _Refused(400, "Bad Request", problem)
            sid = statement["id"]
            if sid in seen:
                raise _Refused(400, "Bad Request", f"statement id {sid} appears twice in the batch")
            seen.add(sid)
            stored = self.statements.get(sid)
            if stored is None:
                new.append(statement)
            elif _comparable(stored) != _comparable(statement):
                raise _Refused(409, "Conflict", f"statement {sid} exists with different content")
        return new

    def _stored(self, statement: dict[str, Any]) -> dict[str, Any]:
        stored = copy.deepcopy(statement)
        stored["stored"] = dt.datetime.fromtimestamp(self.clock(), dt.UTC).isoformat()
        stored["version"] = XAPI_VERSION
        stored["authority"] = {
            "objectType": "Agent",
            "account": {"homePage": request.host_url.rstrip("/"), "name": request.environ.get(
                "oracle.user", "")},
        }
        return stored

    @staticmethod
    def _xapi(response: Response) -> Response:
        response.headers["X-Experience-API-Version"] = XAPI_VERSION
        return response

    # ------------------------------------------------------------------ control endpoints

    def _control_app(self) -> Flask:
        control = super()._control_app()
        prefix = "/_mock/oracle"

        def body() -> dict[str, Any]:
            data = request.get_json(force=True, silent=True)
            if not isinstance(data, dict):
                raise ValueError("body must be a JSON object")
            return data

        def seeded(fn: Callable[[dict[str, Any]], Any]) -> Callable[[], Any]:
            def view() -> Any:
                try:
                    result = fn(body())
                except (KeyError, TypeError, ValueError) as exc:
                    return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)
                return _json({"ok": True, "result": result}, 201)

            view.__name__ = f"seed_{fn.__name__}"
            return view

        def trust(data: dict[str, Any]) -> str:
            return self.trust(data["issuer"], str(data["certificate"]).encode())

        def users(data: dict[str, Any]) -> None:
            self.add_user(data["name"], data.get("roles", [PROVIDER_ROLE]))

        def oauth_clients(data: dict[str, Any]) -> None:
            self.add_oauth_client(data["client_id"], data["client_secret"], data["user"])

        def providers(data: dict[str, Any]) -> str:
            return self.add_provider(data["code"], data.get("name", data["code"]))

        for fn in (trust, users, oauth_clients, providers):
            control.add_url_rule(f"{prefix}/{fn.__name__}", view_func=seeded(fn), methods=["POST"])
        return control


def _q_matches(row: dict[str, Any], q: str | None) -> bool:
    if not q:
        return True
    for term in q.split(";"):
        match = _Q_TERM.fullmatch(term)
        if match is None:
            raise _Refused(400, "Bad Request", f"unsupported q expression {term!r}")
        attribute, quoted, bare = match.groups()
        value = quoted.replace("''", "'") if quoted is not None else (bare or "").strip()
        if str(row.get(attribute, "")) != value:
            return False
    return True


def _statement_problem(statement: Any) -> str | None:
    if not isinstance(statement, dict):
        return "each statement must be a JSON object"
    try:
        uuid.UUID(str(statement.get("id")))
    except ValueError:
        return f"statement id {statement.get('id')!r} is not a UUID (this LRS needs ids)"
    for key in ("actor", "verb", "object"):
        if not isinstance(statement.get(key), dict):
            return f"statement {statement['id']} has no {key}"
    actor = statement["actor"]
    if sum(k in actor for k in ("mbox", "mbox_sha1sum", "openid", "account")) != 1:
        return f"statement {statement['id']}: actor needs exactly one identifier"
    return None


def _comparable(statement: dict[str, Any]) -> dict[str, Any]:
    # What the LRS adds on storing is not part of the statement's identity.
    return {k: v for k, v in statement.items() if k not in ("stored", "authority", "version")}

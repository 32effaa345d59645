"""HTTP client for an Oracle Learning pod: bearer auth, ADF paging, retries with backoff.

Auth is pluggable (:class:`JwtAuth` or :class:`OAuthClientCredentials`, chosen per tenant);
on a 401 the credential is renewed once and the request repeated. 429/502/503/504, resets,
timeouts and unreadable answers (cut short, reset mid-body, larger than
:data:`~lmsbridge.core.http.JSON_LIMIT`, or declared JSON and not parsing, a 4xx included)
are retried with exponential backoff, honouring Retry-After.
Every request the adapter makes is safe to repeat (content POSTs carry ``Upsert-Mode``,
statements have deterministic ids), which is what makes retrying after a reset correct.

No token, key or client secret ever appears in an exception or log line from here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import requests
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error

from lmsbridge.adapters.oracle import resources as r
from lmsbridge.adapters.oracle.auth import JwtMinter
from lmsbridge.core.api import (
    JSON_LIMIT,
    TOKEN_LIMIT,
    LmsbridgeError,
    Secret,
    UnreadableAnswer,
    failure,
    parse_retry_after,
    read_capped,
    unreadable_json,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class OracleError(LmsbridgeError):
    """Oracle refused a request for good (or could not be reached after retries)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.retry_after = status, code, retry_after

    @property
    def transient(self) -> bool:
        """True when trying again later may succeed (throttled, 5xx, unreachable)."""
        return self.status is None or self.status in RETRY_STATUSES or self.status >= 500


class Auth(Protocol):
    def header(self) -> dict[str, str]: ...

    def renew(self) -> None: ...


class JwtAuth:
    """Oracle's inbound JWT: one token per call batch (cached by the minter), re-minted on 401."""

    def __init__(self, minter: JwtMinter) -> None:
        self.minter = minter

    def header(self) -> dict[str, str]:
        return self.minter.authorization_header()

    def renew(self) -> None:
        self.minter.invalidate()

    def __repr__(self) -> str:
        return f"JwtAuth({self.minter!r})"


class OAuthClientCredentials:
    """OCI IAM confidential app: client-credentials token, cached until shortly before expiry."""

    def __init__(self, *, token_url: str, client_id: str, client_secret: Secret,
                 scope: str | None, session: requests.Session, timeout: float = 30.0,
                 clock: Callable[[], float] = time.time, margin: float = 60.0) -> None:
        self.token_url, self.client_id, self.scope = token_url, client_id, scope
        self._secret = client_secret
        self._session, self._timeout, self._clock, self._margin = session, timeout, clock, margin
        self._token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"OAuthClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def header(self) -> dict[str, str]:
        if self._token is None or self._clock() >= self._expires_at - self._margin:
            self._fetch()
        return {"Authorization": f"Bearer {self._token}"}

    def renew(self) -> None:
        self._token = None

    def _fetch(self) -> None:
        client = BackendApplicationClient(client_id=self.client_id)
        body = client.prepare_request_body(scope=self.scope, include_client_id=False)
        try:
            response = self._session.post(
                self.token_url, data=body, timeout=self._timeout, stream=True,
                auth=(self.client_id, self._secret.reveal()),
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "Accept": "application/json"},
            )  # fmt: skip
            read_capped(response, TOKEN_LIMIT)
        except requests.RequestException as exc:
            what = "could not be read" if isinstance(exc, UnreadableAnswer) else "unreachable"
            raise OracleError(f"token endpoint {self.token_url} {what}: "
                              f"{failure(exc)}") from None
        if response.status_code != 200 and unreadable_json(response):
            # Left without a status: unreadable, so transient.
            raise OracleError(f"token endpoint {self.token_url} answered "
                              f"{response.status_code} with a body that is not JSON (cut short "
                              "or garbled)")
        if response.status_code != 200:
            code, detail = _oauth_error(response)
            raise OracleError(f"token endpoint refused client {self.client_id!r}: "
                              f"{response.status_code} {code or ''} {detail}".strip(),
                              status=response.status_code, code=code)
        try:
            token = client.parse_request_body_response(response.text, scope=self.scope)
        except (OAuth2Error, ValueError) as exc:
            raise OracleError(f"token endpoint answered an unusable token response: "
                              f"{type(exc).__name__}") from None
        self._token = token["access_token"]
        self._expires_at = self._clock() + float(token.get("expires_in", 300))


def _oauth_error(response: requests.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if isinstance(body, Mapping):
        return body.get("error"), str(body.get("error_description", ""))[:300]
    return None, ""


class OracleClient:
    """Calls on one pod. ``sleep``/``clock`` are injectable so tests never really wait."""

    def __init__(self, base_url: str, auth: Auth, session: requests.Session, *,
                 timeout: float = 30.0, max_attempts: int = 5, backoff: float = 1.0,
                 max_backoff: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth, self.session, self.timeout = auth, session, timeout
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff, max_backoff
        self._sleep, self._clock = sleep, clock

    def __repr__(self) -> str:
        return f"OracleClient({self.base_url!r}, {self.auth!r})"

    # ------------------------------------------------------------------ core

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, headers: Mapping[str, str] | None = None,
                ok: tuple[int, ...] = (200, 201, 204)) -> requests.Response:
        """One logical call: retried on transient failures, re-authenticated once on 401."""
        url = self.base_url + path
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            all_headers = {"Accept": "application/json", **(headers or {}), **self.auth.header()}
            problem: str
            retry_after: float | None = None
            status: int | None = None
            try:
                response = self.session.request(method, url, params=params, json=json,
                                                headers=all_headers, timeout=self.timeout,
                                                stream=True)
                read_capped(response, JSON_LIMIT)
            except requests.RequestException as exc:
                problem = failure(exc)
            else:
                status = response.status_code
                if status in ok:
                    if not _json_ok(response):
                        problem = "answer was cut short (malformed JSON)"
                        status = None  # the request may or may not have applied: transient
                    else:
                        return response
                elif status == 401 and not renewed:
                    renewed = True
                    self.auth.renew()
                    attempt -= 1  # a re-authentication is not a retry
                    continue
                elif status in RETRY_STATUSES or status >= 500:
                    problem = f"HTTP {status}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"),
                                                    self._clock())
                elif unreadable_json(response):
                    # A refusal we cannot read may be a 409 "already held" as well as a 400.
                    problem = f"HTTP {status} with a body cut short (malformed JSON)"
                    status = None
                else:
                    code, detail = r.error_detail(_body(response))
                    raise OracleError(f"{method} {path} refused: {status} "
                                      f"{code + ': ' if code else ''}{detail}".rstrip(),
                                      status=status, code=code)
            if attempt >= self.max_attempts:
                raise OracleError(f"{method} {path} failed after {attempt} attempts: {problem}",
                                  status=status, retry_after=retry_after)
            wait = retry_after if retry_after is not None else min(
                self.max_backoff, self.backoff * 2 ** (attempt - 1))
            log.info("oracle %s %s: %s; retrying in %.1fs (attempt %d of %d)",
                     method, path, problem, wait, attempt + 1, self.max_attempts)
            self._sleep(wait)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params, ok=(200,)).json()

    def iter_collection(self, path: str, *, q: str | None = None,
                        limit: int = 100) -> Iterator[dict[str, Any]]:
        """Every item of an ADF collection, page by page until ``hasMore`` is false."""
        offset = 0
        while True:
            params: dict[str, Any] = {"limit": limit, "offset": offset, "onlyData": "true"}
            if q:
                params["q"] = q
            page = self.get_json(path, params)
            items = page.get("items") or []
            yield from items
            if not page.get("hasMore") or not items:
                return
            offset += len(items)

    def find_one(self, path: str, attribute: str, value: str) -> dict[str, Any] | None:
        """The single item whose ``attribute`` equals ``value`` (ADF ``q=`` finder), or None."""
        found = list(self.iter_collection(path, q=r.q_equals(attribute, value), limit=2))
        if len(found) > 1:
            raise OracleError(f"{len(found)} records at {path} have {attribute} {value!r}")
        return found[0] if found else None


def _json_ok(response: requests.Response) -> bool:
    if response.status_code == 204 or not response.content:
        return True
    try:
        response.json()
    except ValueError:
        return False
    return True


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text

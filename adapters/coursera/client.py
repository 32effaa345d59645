"""Client of the provider's business API (Coursera for Business, as publicly described).

OAuth2 client credentials for a bearer token; JSON resources under
``/api/businesses.v1/{orgId}/``; lists paged with ``start``/``limit`` until the answer has no
``paging.next``; 429 and 5xx retried with backoff that honours ``Retry-After``, and so is an
answer that cannot be read: larger than :data:`~lmsbridge.core.http.JSON_LIMIT`, cut short,
or declared JSON and not parsing (a 4xx included).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from lmsbridge.adapters.coursera.retry import (
    ProviderError,
    TransientError,
    retrying,
)
from lmsbridge.core.api import (
    JSON_LIMIT,
    TOKEN_LIMIT,
    Secret,
    UnreadableAnswer,
    failure,
    parse_retry_after,
    read_capped,
    unreadable_json,
)

TOKEN_PATH = "/oauth2/client_credentials/token"
PAGE_SIZE = 100
# Renew the token this long before the server says it expires.
TOKEN_MARGIN = 60.0


class CourseraClient:
    def __init__(self, base_url: str, org_id: str, client_id: str, client_secret: Secret,
                 session: requests.Session | None = None, *, timeout: float = 30.0,
                 attempts: int = 5, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, page_size: int = PAGE_SIZE):
        self.base_url = base_url.rstrip("/")
        self.org_id = org_id
        self._client_id, self._client_secret = client_id, client_secret
        self.session = session or requests.Session()
        self.timeout, self.page_size = timeout, page_size
        self._retrying = lambda: retrying(attempts, sleep)
        self._monotonic = monotonic
        self._token: Secret | None = None
        self._token_expires = 0.0

    def __repr__(self) -> str:
        return f"<CourseraClient {self.base_url} org={self.org_id}>"

    # --- resources ---------------------------------------------------------------------

    def programs(self) -> Iterator[dict[str, Any]]:
        return self.paged(f"/api/businesses.v1/{self.org_id}/programs")

    def contents(self, program_id: str) -> Iterator[dict[str, Any]]:
        return self.paged(f"/api/businesses.v1/{self.org_id}/programs/{program_id}/contents")

    def enrollment_reports(self, since_ms: int | None = None) -> Iterator[dict[str, Any]]:
        params = {} if since_ms is None else {"modifiedSince": str(since_ms)}
        return self.paged(f"/api/businesses.v1/{self.org_id}/enrollmentReports", params)

    # --- plumbing ----------------------------------------------------------------------

    def paged(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every element of a paged list, following ``paging.next`` to the last page."""
        start: str | None = "0"
        while start is not None:
            body = self.get(path, {**(params or {}), "start": start,
                                   "limit": str(self.page_size)})
            elements = body.get("elements")
            if not isinstance(elements, list):
                raise ProviderError(f"GET {path}: answer has no 'elements' list")
            yield from elements
            nxt = (body.get("paging") or {}).get("next")
            start = None if nxt in (None, "") else str(nxt)

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            return self._retrying()(self._get_once, path, params or {})
        except TransientError as exc:
            raise ProviderError(f"provider API at {self.base_url} still failing after "
                                f"retries: {exc}") from None

    def _get_once(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._bearer().reveal()}"}
        response = self._send("GET", path, params=params, headers=headers)
        if response.status_code == 401:
            self._token = None  # expired or revoked: the retry fetches a new one
            raise TransientError(f"GET {path}: 401, token refused")
        return _json(response, f"GET {path}")

    def _bearer(self) -> Secret:
        if self._token is None or self._monotonic() >= self._token_expires:
            response = self._send(
                "POST", TOKEN_PATH, data={"grant_type": "client_credentials"},
                auth=(self._client_id, self._client_secret.reveal()), limit=TOKEN_LIMIT)
            if response.status_code in (400, 401):
                raise ProviderError(f"provider at {self.base_url} refused client id "
                                    f"{self._client_id!r}: check the client id and secret "
                                    "(`lmsbridge provider add`)")
            body = _json(response, "token request")
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise ProviderError("token answer has no access_token")
            lifetime = float(body.get("expires_in") or 1800)
            self._token = Secret(token)
            self._token_expires = self._monotonic() + max(0.0, lifetime - TOKEN_MARGIN)
        return self._token

    def _send(self, method: str, path: str, *, limit: int = JSON_LIMIT,
              **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, self.base_url + path,
                                            timeout=self.timeout, stream=True, **kwargs)
            read_capped(response, limit)
        except (requests.ConnectionError, requests.Timeout, UnreadableAnswer) as exc:
            raise TransientError(f"{method} {path}: {failure(exc)}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"{method} {path}: {response.status_code}",
                                 parse_retry_after(response.headers.get("Retry-After")))
        return response


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400 and unreadable_json(response):
        raise TransientError(f"{what}: {response.status_code} with a body that is not JSON")
    if response.status_code >= 400:
        raise ProviderError(f"{what}: {response.status_code} {_reason(response)}")
    try:
        body = response.json()
    except ValueError:
        # A body cut short by a proxy: worth another try.
        raise TransientError(f"{what}: answer is not valid JSON") from None
    if not isinstance(body, dict):
        raise ProviderError(f"{what}: answer is not a JSON object")
    return body


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error")
                   or "")
    return ""

"""Authorized requests to a platform's LTI Advantage services (AGS, NRPS, …).

:class:`ServiceClient` is what the AGS and NRPS clients stand on. For one registration it:

- gets a bearer token for the scopes a call needs from a shared
  :class:`~lmsbridge.core.lti.token.TokenService` (cached per registration and scopes);
- on a 401 answer, forgets that token, mints a new one and sends the request once more
  (platforms revoke or expire tokens before ``expires_in``);
- retries idempotent requests (GET, PUT, DELETE) on 429, 5xx and network errors up to
  ``RetryPolicy.attempts`` times, waiting what ``Retry-After`` says (or an exponential
  backoff) but never longer than ``RetryPolicy.max_wait``: a longer wait is the engine's
  business, so the error is raised with ``retry_after`` set instead. POSTs are not retried
  here: the caller reports them (``Outcome.RETRY``) and the engine sends them again later;
- raises :class:`~lmsbridge.core.lti.errors.ServiceError` for any other non-2xx answer, with
  the platform's message (scrubbed of tokens), ``status``, ``transient`` and ``retry_after``;
- reads every answer whole but at most :data:`~lmsbridge.core.http.JSON_LIMIT` bytes: one
  larger, cut short or reset mid-body is ``transient`` (status None), like an answer lost on
  the way, and so is an error answer declared JSON whose body does not parse (a garbled 400
  is no refusal we can act on).

Example::

    client = ServiceClient(registration, runtime.tokens, runtime.session())
    response = client.request("GET", url, scopes=[SCOPE], accept=MEDIA_TYPE)
    for page in client.pages(url, scopes=[SCOPE], accept=MEDIA_TYPE):
        ...
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs
import requests

from lmsbridge.core.http import (
    JSON_LIMIT,
    failure,
    is_transient,
    platform_message,
    read_capped,
    retry_after,
    unreadable_json,
)
from lmsbridge.core.lti.paging import iter_pages
from lmsbridge.core.lti.service_errors import ServiceError
from lmsbridge.core.lti.token import TokenService
from lmsbridge.core.model import PlatformRegistration

log = logging.getLogger(__name__)

__all__ = ["RetryPolicy", "ServiceClient", "with_query"]

_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@attrs.frozen
class RetryPolicy:
    """How long an idempotent request may be retried in place before the error goes up."""

    attempts: int = 3  # tries in all, the first included
    max_wait: float = 10.0  # never sleep longer than this at once
    backoff: float = 0.5  # first wait when the platform gives no Retry-After; doubles
    sleep: Callable[[float], None] = time.sleep


NO_RETRY = RetryPolicy(attempts=1)


def with_query(url: str, params: Mapping[str, Any] | None) -> str:
    """``url`` with ``params`` added to its query string (existing parameters kept; None
    values left out). Moodle's service URLs already carry ``?type_id=…``."""
    extra = [(k, str(v)) for k, v in (params or {}).items() if v is not None]
    if not extra:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + extra
    return urlunsplit(parts._replace(query=urlencode(query)))


class ServiceClient:
    """Sends authorized requests for one platform registration."""

    def __init__(
        self,
        registration: PlatformRegistration,
        tokens: TokenService,
        session: requests.Session | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
    ) -> None:
        self.registration = registration
        self.tokens = tokens
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = retry

    def request(
        self,
        method: str,
        url: str,
        *,
        scopes: Iterable[str],
        accept: str | None = None,
        json_body: Any = None,
        content_type: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        """Send one request and return its 2xx response; raise ServiceError otherwise."""
        method = method.upper()
        scopes = tuple(scopes)
        url = with_query(url, params)
        headers = {}
        if accept:
            headers["Accept"] = accept
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = content_type or "application/json"
        attempts = self.retry.attempts if method in _IDEMPOTENT else 1
        wait = self.retry.backoff
        reminted = False
        attempt = 1
        while True:
            token = self.tokens.token(self.registration, scopes)
            try:
                response = self.session.request(
                    method, url, data=data, timeout=self.timeout, stream=True,
                    headers={**headers, "Authorization": token.authorization},
                )
                read_capped(response, JSON_LIMIT)
            except requests.RequestException as exc:
                error = ServiceError(f"{method} {url} failed: {failure(exc)}",
                                     transient=True, url=url)
                delay = wait
            else:
                status = response.status_code
                log.debug("%s %s -> %s", method, url, status)
                if 200 <= status < 300:
                    return response
                if status == 401 and not reminted:
                    # The platform no longer accepts this token (expired early, revoked):
                    # one fresh token, one more try, not counted as a retry.
                    reminted = True
                    self.tokens.invalidate(self.registration, scopes, token)
                    continue
                error = self._error(method, url, response)
                delay = error.retry_after if error.retry_after is not None else wait
            if not error.transient or attempt >= attempts or delay > self.retry.max_wait:
                raise error
            self.retry.sleep(delay)
            wait *= 2
            attempt += 1

    def get_json(self, url: str, *, scopes: Iterable[str], accept: str,
                 params: Mapping[str, Any] | None = None) -> Any:
        return self.json_of(self.request("GET", url, scopes=scopes, accept=accept, params=params))

    def pages(
        self,
        url: str,
        *,
        scopes: Iterable[str],
        accept: str,
        params: Mapping[str, Any] | None = None,
    ) -> Iterator[requests.Response]:
        """GET ``url`` (with ``params``) and every ``rel="next"`` page after it."""
        scopes = tuple(scopes)
        return iter_pages(
            lambda page: self.request("GET", page, scopes=scopes, accept=accept),
            with_query(url, params),
        )

    @staticmethod
    def json_of(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ServiceError(
                f"{response.request.method} {response.url} answered HTTP "
                f"{response.status_code} with a body that is not JSON",
                status=response.status_code, transient=True, url=response.url,
            ) from None

    def _error(self, method: str, url: str, response: requests.Response) -> ServiceError:
        status = response.status_code
        message = f"{method} {url} answered HTTP {status}"
        garbled = unreadable_json(response)
        said = "a body that is not JSON (cut short or garbled)" if garbled \
            else platform_message(response)
        if said:
            message += f": {said}"
        return ServiceError(message, status=status, transient=garbled or is_transient(status),
                            retry_after=retry_after(response), url=url)

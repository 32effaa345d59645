"""RFC 8288 ``Link`` headers and a generic paged GET iterator (AGS containers, NRPS, Canvas).

Parsing follows RFC 8288 section 3 leniently, as platforms write it::

    <https://lms/x?page=2>; rel="next", <https://lms/x?page=1>;rel=first
    <https://lms/x?page=9>; rel="last next"; title="a, b"

- the target is whatever stands between ``<`` and ``>`` (commas and semicolons in it are fine)
  and is resolved against the URL of the response (relative targets are legal);
- parameter values may be tokens or quoted strings (with ``\\`` escapes); names are
  case-insensitive and only the first occurrence of a parameter counts (section 3.3);
- ``rel`` is a space-separated list of relation types compared case-insensitively, so one
  link may be both ``next`` and ``last``; the URL itself is never case-folded (pylti1p3
  lowercases the whole header, which breaks opaque page tokens);
- garbage between links is skipped up to the next top-level comma instead of failing.

Example (``fetch`` reads each page with a cap, see :func:`lmsbridge.core.http.read_capped`)::

    def fetch(url):
        response = session.get(url, timeout=30, stream=True)
        read_capped(response, JSON_LIMIT)
        return response

    for response in iter_pages(fetch, first_url):
        body = response.json()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urljoin

import attrs
import requests

__all__ = ["Link", "PagingError", "find_link", "iter_pages", "links_of", "parse_link_header"]

_WS = " \t\r\n"


class PagingError(Exception):
    """The platform's paging cannot be followed (a loop, or too many pages)."""


@attrs.frozen
class Link:
    """One link: absolute ``url``, lowercased relation types, and every parameter as sent
    (names lowercased; values unquoted)."""

    url: str
    rels: tuple[str, ...]
    params: Mapping[str, str] = attrs.field(factory=dict)

    def has_rel(self, rel: str) -> bool:
        return rel.lower() in self.rels


def parse_link_header(value: str | None, base_url: str = "") -> list[Link]:
    """Every link in a ``Link`` header value (several header lines may be joined by commas)."""
    links: list[Link] = []
    if not value:
        return links
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i] in _WS or value[i] == ","):
            i += 1
        if i >= n:
            break
        if value[i] != "<":
            i = _skip_link(value, i)
            continue
        end = value.find(">", i + 1)
        if end < 0:
            break
        target = value[i + 1 : end].strip()
        params, i = _params(value, end + 1)
        rels = tuple(params.get("rel", "").lower().split())
        links.append(Link(urljoin(base_url, target), rels, params))
    return links


def _params(value: str, i: int) -> tuple[dict[str, str], int]:
    """Parse ``*( OWS ";" OWS link-param )`` from ``i``; returns params and the index after."""
    params: dict[str, str] = {}
    n = len(value)
    while True:
        while i < n and value[i] in _WS:
            i += 1
        if i >= n or value[i] == ",":
            return params, i
        if value[i] != ";":
            return params, _skip_link(value, i)
        i += 1
        while i < n and value[i] in _WS:
            i += 1
        start = i
        while i < n and value[i] not in "=;," + _WS:
            i += 1
        name = value[start:i].lower()
        while i < n and value[i] in _WS:
            i += 1
        param_value = ""
        if i < n and value[i] == "=":
            i += 1
            while i < n and value[i] in _WS:
                i += 1
            if i < n and value[i] == '"':
                param_value, i = _quoted(value, i)
            else:
                start = i
                while i < n and value[i] not in ";," + _WS:
                    i += 1
                param_value = value[start:i]
        if name and name not in params:
            params[name] = param_value


def _quoted(value: str, i: int) -> tuple[str, int]:
    """A quoted-string starting at ``value[i] == '"'``; returns its text and the index after."""
    out: list[str] = []
    i += 1
    n = len(value)
    while i < n:
        c = value[i]
        if c == "\\" and i + 1 < n:
            out.append(value[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: take the rest


def _skip_link(value: str, i: int) -> int:
    """Index of the next comma outside quotes and angle brackets (or the end)."""
    n = len(value)
    while i < n:
        c = value[i]
        if c == ",":
            return i
        if c == '"':
            _, i = _quoted(value, i)
            continue
        if c == "<":
            end = value.find(">", i + 1)
            i = n if end < 0 else end + 1
            continue
        i += 1
    return i


def find_link(links: list[Link], rel: str) -> str | None:
    """URL of the first link carrying relation ``rel`` (case-insensitive), or None."""
    for link in links:
        if link.has_rel(rel):
            return link.url
    return None


def links_of(response: requests.Response) -> list[Link]:
    """The links of a response, relative targets resolved against the URL it answered."""
    return parse_link_header(response.headers.get("Link"), response.url)


def iter_pages(
    fetch: Callable[[str], requests.Response],
    url: str,
    *,
    rel: str = "next",
    max_pages: int = 10_000,
) -> Iterator[requests.Response]:
    """Yield the response for ``url``, then for each ``rel="next"`` link, to the last page.

    ``fetch`` does the GET (auth, Accept, retries, a bounded read of the body) and raises on
    an error status. Filters go
    in the first URL only: next links are opaque and carry them. A next link that points at
    a page already read (a platform bug) or more than ``max_pages`` pages raise PagingError
    rather than looping forever.
    """
    seen: set[str] = set()
    next_url: str | None = url
    while next_url is not None:
        if next_url in seen:
            raise PagingError(f"paging loop: the next page {next_url} was already read")
        if len(seen) >= max_pages:
            raise PagingError(f"more than {max_pages} pages at {url}")
        seen.add(next_url)
        response = fetch(next_url)
        yield response
        next_url = find_link(links_of(response), rel)

"""Wire helpers of the mock LTI platform: error answers, JSON bodies, paging, encodings."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request


class MockError(Exception):
    """Answered as ``{"error": code, "error_description": message}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def answer_errors(app: Flask) -> None:
    """Answer a :class:`MockError` raised in ``app``'s routes as JSON (RFC 6750 for tokens)."""

    @app.errorhandler(MockError)
    def mock_error(exc: MockError) -> Response:
        if exc.code in ("invalid_token", "insufficient_scope"):
            return bearer_error(exc.status, exc.code, exc.message)
        response = jsonify(error=exc.code, error_description=exc.message)
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response


def bearer_error(status: int, code: str, description: str) -> Response:
    response = jsonify(error=code, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{code}", error_description="{description}"'
    return response


def json_response(body: Any, content_type: str, status: int = 200,
                  links: list[tuple[str, str]] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, content_type=content_type)
    if links:
        # Canvas writes them comma-joined without a space; clients must cope.
        response.headers["Link"] = ",".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    return response


def body_json(*types: str) -> Any:
    content_type = (request.mimetype or "").lower()
    if content_type not in types:
        raise MockError(415, "unsupported_media_type",
                        f"Content-Type must be {' or '.join(types)}, got {content_type or 'none'}")
    try:
        return json.loads(request.get_data(as_text=True))
    except ValueError:
        raise MockError(400, "invalid_request", "the body is not JSON") from None


def page_limit(page_size: int, max_page_size: int) -> int:
    """The request's ``limit``, capped at ``max_page_size``; without one, the platform's
    default page (within the cap a test may lower)."""
    raw = request.args.get("limit")
    if raw is None:
        return min(page_size, max_page_size)
    if not raw.isdigit() or int(raw) < 1:
        raise MockError(400, "invalid_request", "limit must be a positive integer")
    return min(int(raw), max_page_size)


def page_url(**changes: Any) -> str:
    args = dict(request.args.items(multi=False))
    args.update({k: str(v) for k, v in changes.items()})
    return f"{request.base_url}?{urlencode(args)}"


def numbered_page(rows: list[Any], size: int) -> tuple[list[Any], list]:
    """Slice ``rows`` by ``page``; Canvas-style Link rels current/next/first/last."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise MockError(400, "invalid_request", "page must be a positive integer")
    page = int(raw)
    last = max(1, -(-len(rows) // size))
    chunk = rows[(page - 1) * size : page * size]
    links = [(page_url(page=page), "current")]
    if page < last:
        links.append((page_url(page=page + 1), "next"))
    links += [(page_url(page=1), "first"), (page_url(page=last), "last")]
    return chunk, links


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date-time with a time zone, else None."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def auto_submit_form(action: str, fields: Mapping[str, str], title: str = "LTI") -> str:
    """An HTML page that POSTs ``fields`` to ``action`` as soon as it loads."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items())
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
            f"</title></head><body><form id=\"lti\" method=\"post\" "
            f"action=\"{html.escape(action)}\">{inputs}<noscript><button>Continue</button>"
            f"</noscript></form><script>document.getElementById('lti').submit()</script>"
            f"</body></html>")

"""Names and Role Provisioning Services on the mock LTI platform: context memberships paged
by opaque, case-sensitive bookmarks, filtered by role and resource link, with a
differences link (``since``) that lists changes including removed members."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Flask, Response, request

from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.token import bearer
from lmsbridge.conformance.lti.vocab import MEMBERSHIPS_TYPE, NRPS_SCOPE, role_uri
from lmsbridge.conformance.lti.wire import (
    MockError,
    b64,
    json_response,
    page_limit,
    page_url,
    unb64,
)


def register(p: PlatformState, app: Flask) -> None:
    @app.get("/lti/contexts/<ctx>/memberships")
    def memberships(ctx: str) -> Response:
        bearer(p, NRPS_SCOPE)
        return _memberships(p, ctx)


def _bookmark(offset: int) -> str:
    return "bookmark:" + b64(json.dumps({"offset": offset, "v": 1}).encode())


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        if not raw.startswith("bookmark:"):
            raise ValueError
        offset = json.loads(unb64(raw[len("bookmark:"):]))["offset"]
    except (ValueError, KeyError, TypeError):
        raise MockError(400, "invalid_request", "page is not a valid bookmark") from None
    if not isinstance(offset, int) or offset < 0:
        raise MockError(400, "invalid_request", "page is not a valid bookmark")
    return offset


def _memberships(p: PlatformState, ctx: str) -> Response:
    role = request.args.get("role")
    rlid = request.args.get("rlid")
    since_raw = request.args.get("since")
    if since_raw is not None and not since_raw.isdigit():
        raise MockError(400, "invalid_request", "since must be a number from a differences link")
    size = page_limit(p.page_size, p.max_page_size)
    offset = _offset(request.args.get("page"))
    with p.lock:
        if ctx not in p.contexts:
            raise MockError(404, "not_found", f"no context {ctx!r}")
        context = p.contexts[ctx]
        allowed: set[str] | None = None
        if rlid is not None:
            link = p.resource_links[ctx].get(rlid)
            if link is None:
                raise MockError(404, "not_found", f"no resource link {rlid!r} in {ctx!r}")
            allowed = set(link["members"]) if link["members"] is not None else None
        rows = []
        for uid, member in p.members[ctx].items():
            if since_raw is None and member.get("removed"):
                continue
            if since_raw is not None and member["seq"] <= int(since_raw):
                continue
            if allowed is not None and uid not in allowed:
                continue
            if role is not None and role_uri(role) not in member["roles"]:
                continue
            user = p.users.get(uid, {"id": uid})
            row = {"user_id": uid, "roles": member["roles"], "status": member["status"]}
            for key in ("name", "given_name", "family_name", "email"):
                if key in user:
                    row[key] = user[key]
            if "sourcedid" in user:
                row["lis_person_sourcedid"] = user["sourcedid"]
            rows.append(row)
        seq = p.member_seq
    chunk = rows[offset : offset + size]
    links = []
    if offset + size < len(rows):
        links.append((page_url(page=_bookmark(offset + size)), "next"))
    diff_args = {k: v for k, v in request.args.items() if k in ("role", "rlid", "limit")}
    diff_args["since"] = str(seq)
    links.append((f"{request.base_url}?{urlencode(diff_args)}", "differences"))
    body = {"id": request.url, "context": {k: context[k] for k in ("id", "label", "title")},
            "members": chunk}
    return json_response(body, MEMBERSHIPS_TYPE, links=links)

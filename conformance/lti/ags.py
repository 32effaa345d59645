"""Assignment and Grade Services on the mock LTI platform: line items (paged, filtered),
scores with the stale-timestamp refusal Canvas and Moodle answer, and results."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.lti.records import LINE_ITEM_FIELDS, line_item_problem
from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.token import bearer
from lmsbridge.conformance.lti.vocab import (
    ACTIVITY,
    CONTAINER_TYPE,
    GRADING,
    LINEITEM_TYPE,
    RESULTS_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT,
    SCOPE_SCORE,
    SCORE_TYPE,
)
from lmsbridge.conformance.lti.wire import (
    MockError,
    body_json,
    is_number,
    json_response,
    numbered_page,
    page_limit,
    parse_time,
)


def register(p: PlatformState, app: Flask) -> None:
    def context_items(ctx: str) -> dict[int, dict[str, Any]]:
        if ctx not in p.contexts:
            raise MockError(404, "not_found", f"no context {ctx!r}")
        return p.line_items[ctx]

    def line_item(ctx: str, n: int) -> dict[str, Any]:
        item = context_items(ctx).get(n)
        if item is None:
            raise MockError(404, "not_found", f"no line item {n} in context {ctx!r}")
        return item

    def page(rows: list[Any]) -> tuple[list[Any], list]:
        return numbered_page(rows, page_limit(p.page_size, p.max_page_size))

    @app.get("/lti/contexts/<ctx>/lineitems")
    def list_line_items(ctx: str) -> Response:
        bearer(p, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        filters = {"resourceLinkId": request.args.get("resource_link_id"),
                   "resourceId": request.args.get("resource_id"),
                   "tag": request.args.get("tag")}
        with p.lock:
            rows = [p.line_item_json(ctx, item) for item in context_items(ctx).values()
                    if all(v is None or item.get(k) == v for k, v in filters.items())]
        chunk, links = page(rows)
        return json_response(chunk, CONTAINER_TYPE, links=links)

    @app.post("/lti/contexts/<ctx>/lineitems")
    def create_line_item(ctx: str) -> Response:
        bearer(p, SCOPE_LINEITEM)
        body = body_json(LINEITEM_TYPE, "application/json")
        with p.lock:
            context_items(ctx)
            _check_line_item(p, ctx, body)
            item = p.create_line_item(ctx, body)
            return json_response(p.line_item_json(ctx, item), LINEITEM_TYPE, 201)

    @app.get("/lti/contexts/<ctx>/lineitems/<int:n>")
    def get_line_item(ctx: str, n: int) -> Response:
        bearer(p, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        with p.lock:
            return json_response(p.line_item_json(ctx, line_item(ctx, n)), LINEITEM_TYPE)

    @app.put("/lti/contexts/<ctx>/lineitems/<int:n>")
    def update_line_item(ctx: str, n: int) -> Response:
        bearer(p, SCOPE_LINEITEM)
        body = body_json(LINEITEM_TYPE, "application/json")
        with p.lock:
            item = line_item(ctx, n)
            if "id" in body and body["id"] != p.lineitem_url(ctx, n):
                raise MockError(400, "invalid_request", "the line item id cannot change")
            _check_line_item(p, ctx, body)
            for key in LINE_ITEM_FIELDS:
                if body.get(key) is not None:
                    item[key] = body[key]
                else:
                    item.pop(key, None)
            return json_response(p.line_item_json(ctx, item), LINEITEM_TYPE)

    @app.delete("/lti/contexts/<ctx>/lineitems/<int:n>")
    def delete_line_item(ctx: str, n: int) -> tuple[str, int]:
        bearer(p, SCOPE_LINEITEM)
        with p.lock:
            line_item(ctx, n)
            del p.line_items[ctx][n]
            for link in p.resource_links[ctx].values():
                if link["line_item"] == n:
                    link["line_item"] = None
        return "", 204

    @app.post("/lti/contexts/<ctx>/lineitems/<int:n>/scores")
    def post_score(ctx: str, n: int) -> Response:
        bearer(p, SCOPE_SCORE)
        body = body_json(SCORE_TYPE)
        with p.lock:
            item = line_item(ctx, n)
            result_url = _record_score(p, ctx, n, item, body)
        return jsonify(resultUrl=result_url)

    @app.get("/lti/contexts/<ctx>/lineitems/<int:n>/results")
    def results(ctx: str, n: int) -> Response:
        bearer(p, SCOPE_RESULT)
        user = request.args.get("user_id")
        with p.lock:
            item = line_item(ctx, n)
            url = p.lineitem_url(ctx, n)
            rows = [
                {"id": f"{url.split('?')[0]}/results/{uid}", "scoreOf": url, "userId": uid,
                 **{k: v for k, v in result.items() if v is not None}}
                for uid, result in item["results"].items() if user is None or uid == user
            ]
        chunk, links = page(rows)
        return json_response(chunk, RESULTS_TYPE, links=links)


def _check_line_item(p: PlatformState, ctx: str, body: Any) -> None:
    problem = line_item_problem(body)
    if problem:
        raise MockError(400, "invalid_request", problem)
    link = body.get("resourceLinkId")
    if link is not None and link not in p.resource_links[ctx]:
        raise MockError(400, "invalid_request", f"resourceLinkId {link!r} is not a link here")


def _record_score(p: PlatformState, ctx: str, n: int, item: dict[str, Any],
                  body: Any) -> str:
    if not isinstance(body, dict):
        raise MockError(400, "invalid_request", "a score must be a JSON object")
    user = body.get("userId")
    if not isinstance(user, str) or not user:
        raise MockError(400, "invalid_request", "The parameter userId is missing")
    raw = body.get("timestamp")
    when = parse_time(raw)
    if when is None:
        raise MockError(400, "invalid_request",
                        f"Provided timestamp of {raw} not a valid timestamp")
    if body.get("activityProgress") not in ACTIVITY:
        raise MockError(400, "invalid_request", f"activityProgress must be one of {ACTIVITY}")
    if body.get("gradingProgress") not in GRADING:
        raise MockError(400, "invalid_request", f"gradingProgress must be one of {GRADING}")
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if not is_number(given) or given < 0:
            raise MockError(400, "invalid_request", "scoreGiven must be a number >= 0")
        if maximum is None:
            raise MockError(422, "unprocessable_entity",
                            "ScoreMaximum not supplied when ScoreGiven present.")
    if maximum is not None and (not is_number(maximum) or maximum <= 0):
        raise MockError(400, "invalid_request", "scoreMaximum must be a number > 0")
    member = p.members[ctx].get(user)
    if member is None or member.get("removed"):
        raise MockError(422, "unprocessable_entity", "User not found in course or is not a student")
    held = item["results"].get(user)
    if held is not None and parse_time(held["timestamp"]) >= when:
        if p.stale_score_style == "moodle":
            raise MockError(409, "conflict", f"Refusing score with an earlier timestamp for "
                                             f"item {n} and user {user}")
        raise MockError(400, "bad_request", f"Provided timestamp of {raw} before last updated "
                                            f"timestamp of {held['timestamp']}")
    item["scores"].setdefault(user, []).append(body)
    item["results"][user] = {
        "resultScore": given, "resultMaximum": maximum, "comment": body.get("comment"),
        "timestamp": raw, "activityProgress": body["activityProgress"],
        "gradingProgress": body["gradingProgress"],
    }
    return f"{p.lineitem_url(ctx, n).split('?')[0]}/results/{user}"

"""Deep linking on the mock LTI platform: the return URL that takes the tool's
LtiDeepLinkingResponse, checks it against the request it answers, and places the returned
LTI resource links (with their line items) in the launch's context."""

from __future__ import annotations

import html
import secrets
from typing import Any

from flask import Flask, Response, request

from lmsbridge.conformance.lti.records import Launch, line_item_problem
from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.vocab import DEEP_LINKING, DL, LTI, REMOVE
from lmsbridge.conformance.lti.wire import MockError


def register(p: PlatformState, app: Flask) -> None:
    @app.post("/deep_linking/<launch_id>")
    def deep_linking_return(launch_id: str) -> Response:
        record: dict[str, Any] = {"launch_id": launch_id, "accepted": False}
        try:
            record.update(_check_response(p, launch_id, request.form.get("JWT", "")))
            record["accepted"] = True
        except MockError as exc:
            record.update(error=exc.message)
            with p.lock:
                p.dl_responses.append(record)
            return Response(f"<!doctype html><p>Deep linking response refused: "
                            f"{html.escape(exc.message)}</p>", status=400,
                            content_type="text/html; charset=utf-8")
        with p.lock:
            p.dl_responses.append(record)
        count = len(record["content_items"])
        return Response(f"<!doctype html><p id=\"result\">{count} item(s) added.</p>",
                        content_type="text/html; charset=utf-8")


def _check_response(p: PlatformState, launch_id: str, token: str) -> dict[str, Any]:
    with p.lock:
        launch = p.launches.get(launch_id)
    if launch is None or launch.message_type != DEEP_LINKING:
        raise MockError(404, "not_found", "no deep linking launch with this id")
    if not token:
        raise MockError(400, "invalid_request", "the form has no JWT field")
    claims = p.verify_tool_jwt(token, "invalid_request")
    tool = p.tool
    if claims.get("iss") != tool.client_id:
        raise MockError(400, "invalid_request", "iss must be the tool's client_id")
    aud = claims.get("aud")
    if aud != p.issuer and not (isinstance(aud, list) and p.issuer in aud):
        raise MockError(400, "invalid_request", "aud must be the platform's issuer")
    p.check_times(claims, "invalid_request")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise MockError(400, "invalid_request", "nonce is required")
    with p.lock:
        if nonce in p.dl_nonces:
            raise MockError(400, "invalid_request", "nonce was already used")
        p.dl_nonces.add(nonce)
    if claims.get(LTI + "deployment_id") != launch.deployment_id:
        raise MockError(400, "invalid_request", "deployment_id does not match the launch")
    if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
        raise MockError(400, "invalid_request", "message_type must be LtiDeepLinkingResponse")
    if claims.get(LTI + "version") != "1.3.0":
        raise MockError(400, "invalid_request", "version must be 1.3.0")
    settings = {"accept_types": ["ltiResourceLink"], "accept_multiple": True,
                "accept_lineitem": True, **(launch.deep_linking or {})}
    if "data" in settings and settings["data"] is not REMOVE:
        if claims.get(DL + "data") != settings["data"]:
            raise MockError(400, "invalid_request", "data must echo the request's data exactly")
    elif claims.get(DL + "data") is not None:
        # A null data claim is tolerated as absent, as LMSs do (pylti1p3 always sends one).
        raise MockError(400, "invalid_request", "data was sent but the request had none")
    items = claims.get(DL + "content_items", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MockError(400, "invalid_request", "content_items must be a list of objects")
    if len(items) > 1 and settings.get("accept_multiple") is False:
        raise MockError(400, "invalid_request", "several items but accept_multiple is false")
    for item in items:
        if item.get("type") not in settings["accept_types"]:
            raise MockError(400, "invalid_request",
                            f"content item type {item.get('type')!r} is not accepted")
    created = _create_links(p, launch, items, bool(settings.get("accept_lineitem")))
    return {"content_items": items, "resource_links": created,
            **{k: claims[DL + k] for k in ("msg", "log", "errormsg", "errorlog", "data")
               if DL + k in claims}}


def _create_links(p: PlatformState, launch: Launch, items: list[dict[str, Any]],
                  accept_lineitem: bool) -> list[str]:
    """Place returned LTI resource links in the launch's context, as an LMS does."""
    created: list[str] = []
    if launch.context_id is None:
        return created
    for item in items:
        if item.get("type") != "ltiResourceLink":
            continue
        link_id = f"rl-{secrets.token_hex(4)}"
        line_item = item.get("lineItem") if accept_lineitem else None
        if isinstance(line_item, dict):
            line_item = {"label": item.get("title") or "Untitled", **line_item}
            if line_item_problem(line_item):
                line_item = None
        p.add_resource_link(launch.context_id, link_id, title=item.get("title"),
                            custom=item.get("custom") if isinstance(item.get("custom"), dict)
                            else None, url=item.get("url"),
                            line_item=line_item if isinstance(line_item, dict) else None)
        created.append(link_id)
    return created

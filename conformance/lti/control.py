"""Seeding routes of the mock LTI platform, under ``/_mock/`` (no faults, no auth): each
POST takes a JSON object (or a list of them) with the keyword arguments of the Python
method of the same name and answers what it returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.lti import oidc, outcomes11, token
from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.wire import auto_submit_form


def register(p: PlatformState, control: Flask) -> None:
    def each(handler: Callable[..., Any], **fixed: Any) -> tuple[Response, int]:
        data = request.get_json(force=True, silent=True)
        specs = data if isinstance(data, list) else [data]
        if data is None or not all(isinstance(s, dict) for s in specs):
            return jsonify(error="body must be a JSON object or a list of them"), 400
        try:
            done = [handler(**fixed, **spec) for spec in specs]
        except (TypeError, ValueError, KeyError) as exc:
            return jsonify(error=str(exc).strip("'\"")), 400
        return jsonify(done if isinstance(data, list) else done[0]), 201

    @control.post("/_mock/tool")
    def post_tool() -> tuple[Response, int]:
        return each(lambda **kw: attrs.asdict(p.register_tool(**kw)))

    @control.post("/_mock/users")
    def post_users() -> tuple[Response, int]:
        return each(p.add_user)

    @control.post("/_mock/contexts")
    def post_contexts() -> tuple[Response, int]:
        return each(p.add_context)

    @control.post("/_mock/contexts/<ctx>/members")
    def post_members(ctx: str) -> tuple[Response, int]:
        return each(p.add_member, context_id=ctx)

    @control.delete("/_mock/contexts/<ctx>/members/<user>")
    def delete_member(ctx: str, user: str) -> tuple[Any, int]:
        try:
            p.remove_member(ctx, user)
        except KeyError as exc:
            return jsonify(error=str(exc).strip("'\"")), 404
        return "", 204

    @control.post("/_mock/contexts/<ctx>/resource_links")
    def post_links(ctx: str) -> tuple[Response, int]:
        return each(p.add_resource_link, context_id=ctx)

    @control.post("/_mock/contexts/<ctx>/line_items")
    def post_line_items(ctx: str) -> tuple[Response, int]:
        return each(p.add_line_item, context_id=ctx)

    @control.post("/_mock/launches")
    def post_launch() -> tuple[Response, int]:
        def start(**kw: Any) -> dict[str, Any]:
            login = oidc.start_launch(p, kw.pop("user", None), **kw)
            return {"url": login.url, "params": login.params, "launch_id": login.launch_id,
                    "get_url": login.get_url(),
                    "start_url": f"{p.url}/_mock/launches/{login.launch_id}/login"}

        return each(start)

    @control.get("/_mock/launches/<launch_id>/login")
    def launch_page(launch_id: str) -> Response:
        # A browser starts here: the page POSTs the login initiation to the tool.
        with p.lock:
            launch = p.launches.get(launch_id)
            tool = p.tool
        if launch is None or not tool.login_url:
            return Response("no such launch", status=404)
        return Response(auto_submit_form(tool.login_url, oidc.login_params(p, launch),
                                         "Starting launch…"),
                        content_type="text/html; charset=utf-8")

    @control.post("/_mock/tokens/expire")
    def post_expire() -> Response:
        return jsonify(expired=token.expire_tokens(p))

    @control.post("/_mock/keys/rotate")
    def post_rotate() -> Response:
        with p.lock:
            return jsonify(kid=p.rotate_keys())

    @control.post("/_mock/lti11/consumers")
    def post_consumers() -> tuple[Response, int]:
        return each(lambda key, secret: outcomes11.add_consumer(p, key, secret) or {"key": key})

    @control.post("/_mock/lti11/sourcedids")
    def post_sourcedids() -> tuple[Response, int]:
        return each(lambda **kw: {"sourcedid": outcomes11.sourcedid(p, **kw)})

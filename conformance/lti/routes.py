"""HTTP routes of :class:`~lmsbridge.conformance.lti.platform.MockLtiPlatform`."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import attrs
from flask import Flask, Response, jsonify, request

from lmsbridge.conformance.lti import outcomes11
from lmsbridge.conformance.lti.platform import (
    ACTIVITY,
    AGS_CLAIM,
    ASSERTION_TYPE,
    CONTAINER_TYPE,
    DEEP_LINKING,
    DL,
    GRADING,
    LINEITEM_TYPE,
    LTI,
    MEMBERSHIPS_TYPE,
    NRPS_CLAIM,
    NRPS_SCOPE,
    REMOVE,
    RESOURCE_LINK,
    RESULTS_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT,
    SCOPE_SCORE,
    SCORE_TYPE,
    MockError,
    _b64,
    _bearer_error,
    _is_number,
    _line_item_problem,
    _parse_time,
    _unb64,
    auto_submit_form,
    role_uri,
)

if TYPE_CHECKING:
    from lmsbridge.conformance.lti.platform import MockLtiPlatform, _Launch


def _json_response(body: Any, content_type: str, status: int = 200,
                   links: list[tuple[str, str]] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, content_type=content_type)
    if links:
        # Canvas writes them comma-joined without a space; clients must cope.
        response.headers["Link"] = ",".join(f'<{url}>; rel="{rel}"' for url, rel in links)
    return response


def _body_json(*types: str) -> Any:
    content_type = (request.mimetype or "").lower()
    if content_type not in types:
        raise MockError(415, "unsupported_media_type",
                        f"Content-Type must be {' or '.join(types)}, got {content_type or 'none'}")
    try:
        return json.loads(request.get_data(as_text=True))
    except ValueError:
        raise MockError(400, "invalid_request", "the body is not JSON") from None


def _limit(platform: MockLtiPlatform) -> int:
    raw = request.args.get("limit")
    if raw is None:  # the platform's default page, within the cap a test may lower
        return min(platform.page_size, platform.max_page_size)
    if not raw.isdigit() or int(raw) < 1:
        raise MockError(400, "invalid_request", "limit must be a positive integer")
    return min(int(raw), platform.max_page_size)


def _page_url(**changes: Any) -> str:
    args = dict(request.args.items(multi=False))
    args.update({k: str(v) for k, v in changes.items()})
    return f"{request.base_url}?{urlencode(args)}"


def _numbered_page(platform: MockLtiPlatform, rows: list[Any]) -> tuple[list[Any], list]:
    """Slice ``rows`` by ``page``/``limit``; Canvas-style Link rels current/next/first/last."""
    size = _limit(platform)
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1:
        raise MockError(400, "invalid_request", "page must be a positive integer")
    page = int(raw)
    last = max(1, -(-len(rows) // size))
    chunk = rows[(page - 1) * size : page * size]
    links = [(_page_url(page=page), "current")]
    if page < last:
        links.append((_page_url(page=page + 1), "next"))
    links += [(_page_url(page=1), "first"), (_page_url(page=last), "last")]
    return chunk, links


def register(p: MockLtiPlatform, app: Flask) -> None:
    @app.errorhandler(MockError)
    def mock_error(exc: MockError) -> Response:
        if exc.code in ("invalid_token", "insufficient_scope"):
            return _bearer_error(exc.status, exc.code, exc.message)
        response = jsonify(error=exc.code, error_description=exc.message)
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response

    def bearer(*any_of: str) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise MockError(401, "invalid_token", "a bearer access token is required")
        with p.lock:
            token = p.tokens.get(value.strip())
            if token is None:
                raise MockError(401, "invalid_token", "unknown access token")
            if p.clock() >= token["expires_at"]:
                raise MockError(401, "invalid_token", "the access token expired")
            if not set(any_of) & set(token["scopes"]):
                raise MockError(403, "insufficient_scope",
                                f"this call needs one of the scopes {' '.join(any_of)}")
            return token

    # ------------------------------------------------------------------- keys

    @app.get("/jwks")
    def jwks() -> Response:
        response = jsonify(p.public_jwks())
        response.headers["Cache-Control"] = f"max-age={p.jwks_max_age}"
        return response

    # ------------------------------------------------------------- OIDC launch

    @app.route("/auth", methods=["GET", "POST"])
    def authorize() -> Response:
        params = request.values
        try:
            launch, redirect_uri = _check_auth_request(p, params)
        except MockError as exc:
            with p.lock:
                p.auth_errors.append({"error": exc.code, "description": exc.message})
            raise
        token = p.sign(_id_token_claims(p, launch, params["nonce"]), launch.headers)
        page = auto_submit_form(redirect_uri, {"id_token": token, "state": params["state"]},
                                title="Launching…")
        return Response(page, content_type="text/html; charset=utf-8")

    # --------------------------------------------------------------- deep link

    @app.post("/deep_linking/<launch_id>")
    def deep_linking_return(launch_id: str) -> Response:
        record: dict[str, Any] = {"launch_id": launch_id, "accepted": False}
        try:
            record.update(_check_dl_response(p, launch_id, request.form.get("JWT", "")))
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

    # ------------------------------------------------------------------ token

    @app.post("/token")
    def token() -> Response:
        try:
            body = _issue_token(p, request.form)
        except MockError as exc:
            with p.lock:
                p.token_errors.append({"error": exc.code, "description": exc.message})
            raise
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    # -------------------------------------------------------------------- AGS

    def context_items(ctx: str) -> dict[int, dict[str, Any]]:
        if ctx not in p.contexts:
            raise MockError(404, "not_found", f"no context {ctx!r}")
        return p.line_items[ctx]

    def line_item(ctx: str, n: int) -> dict[str, Any]:
        item = context_items(ctx).get(n)
        if item is None:
            raise MockError(404, "not_found", f"no line item {n} in context {ctx!r}")
        return item

    @app.get("/lti/contexts/<ctx>/lineitems")
    def list_line_items(ctx: str) -> Response:
        bearer(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        filters = {"resourceLinkId": request.args.get("resource_link_id"),
                   "resourceId": request.args.get("resource_id"),
                   "tag": request.args.get("tag")}
        with p.lock:
            rows = [p._line_item_json(ctx, item) for item in context_items(ctx).values()
                    if all(v is None or item.get(k) == v for k, v in filters.items())]
        chunk, links = _numbered_page(p, rows)
        return _json_response(chunk, CONTAINER_TYPE, links=links)

    @app.post("/lti/contexts/<ctx>/lineitems")
    def create_line_item(ctx: str) -> Response:
        bearer(SCOPE_LINEITEM)
        body = _body_json(LINEITEM_TYPE, "application/json")
        with p.lock:
            context_items(ctx)
            _check_line_item(p, ctx, body)
            item = p._create_line_item(ctx, body)
            return _json_response(p._line_item_json(ctx, item), LINEITEM_TYPE, 201)

    @app.get("/lti/contexts/<ctx>/lineitems/<int:n>")
    def get_line_item(ctx: str, n: int) -> Response:
        bearer(SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY)
        with p.lock:
            return _json_response(p._line_item_json(ctx, line_item(ctx, n)), LINEITEM_TYPE)

    @app.put("/lti/contexts/<ctx>/lineitems/<int:n>")
    def update_line_item(ctx: str, n: int) -> Response:
        bearer(SCOPE_LINEITEM)
        body = _body_json(LINEITEM_TYPE, "application/json")
        with p.lock:
            item = line_item(ctx, n)
            if "id" in body and body["id"] != p.lineitem_url(ctx, n):
                raise MockError(400, "invalid_request", "the line item id cannot change")
            _check_line_item(p, ctx, body)
            for key in ("scoreMaximum", "label", "resourceId", "tag", "resourceLinkId",
                        "startDateTime", "endDateTime", "gradesReleased"):
                if body.get(key) is not None:
                    item[key] = body[key]
                else:
                    item.pop(key, None)
            return _json_response(p._line_item_json(ctx, item), LINEITEM_TYPE)

    @app.delete("/lti/contexts/<ctx>/lineitems/<int:n>")
    def delete_line_item(ctx: str, n: int) -> tuple[str, int]:
        bearer(SCOPE_LINEITEM)
        with p.lock:
            line_item(ctx, n)
            del p.line_items[ctx][n]
            for link in p.resource_links[ctx].values():
                if link["line_item"] == n:
                    link["line_item"] = None
        return "", 204

    @app.post("/lti/contexts/<ctx>/lineitems/<int:n>/scores")
    def post_score(ctx: str, n: int) -> Response:
        bearer(SCOPE_SCORE)
        body = _body_json(SCORE_TYPE)
        with p.lock:
            item = line_item(ctx, n)
            result_url = _record_score(p, ctx, n, item, body)
        return jsonify(resultUrl=result_url)

    @app.get("/lti/contexts/<ctx>/lineitems/<int:n>/results")
    def results(ctx: str, n: int) -> Response:
        bearer(SCOPE_RESULT)
        user = request.args.get("user_id")
        with p.lock:
            item = line_item(ctx, n)
            url = p.lineitem_url(ctx, n)
            rows = [
                {"id": f"{url.split('?')[0]}/results/{uid}", "scoreOf": url, "userId": uid,
                 **{k: v for k, v in result.items() if v is not None}}
                for uid, result in item["results"].items() if user is None or uid == user
            ]
        chunk, links = _numbered_page(p, rows)
        return _json_response(chunk, RESULTS_TYPE, links=links)

    # ------------------------------------------------------------------- NRPS

    @app.get("/lti/contexts/<ctx>/memberships")
    def memberships(ctx: str) -> Response:
        bearer(NRPS_SCOPE)
        return _memberships(p, ctx)

    # ------------------------------------------------------------ LTI 1.1 POX

    @app.post("/lti11/outcomes")
    def lti11_outcomes() -> Response:
        return outcomes11.handle(p)


# =================================================================== OIDC and launch


def _check_auth_request(p: MockLtiPlatform, params: Mapping[str, str]) -> tuple[_Launch, str]:
    def need(name: str, expected: str | None = None) -> str:
        value = params.get(name)
        if not value:
            raise MockError(400, "invalid_request", f"{name} is required")
        if expected is not None and value != expected:
            raise MockError(400, "invalid_request", f"{name} must be {expected!r}, got {value!r}")
        return value

    tool = p.tool
    if "openid" not in need("scope").split():
        raise MockError(400, "invalid_scope", "scope must include openid")
    need("response_type", "id_token")
    need("response_mode", "form_post")
    need("prompt", "none")
    need("client_id", tool.client_id)
    redirect_uri = need("redirect_uri")
    if redirect_uri not in tool.allowed_redirects():
        raise MockError(400, "invalid_request",
                        f"redirect_uri {redirect_uri!r} is not registered for the tool")
    login_hint = need("login_hint")
    hint = need("lti_message_hint")
    need("state")
    nonce = need("nonce")
    with p.lock:
        launch = p.launches.get(hint)
        if launch is None:
            raise MockError(400, "invalid_request", "lti_message_hint names no launch")
        if launch.used:
            raise MockError(400, "invalid_request", "this launch was already used")
        if login_hint != (launch.user_id or "anonymous"):
            raise MockError(400, "invalid_request", "login_hint does not match the launch's user")
        launch.used = True
        launch.nonce = nonce
    return launch, redirect_uri


def _id_token_claims(p: MockLtiPlatform, launch: _Launch, nonce: str) -> dict[str, Any]:
    now = int(p.clock())
    tool = p.tool
    claims: dict[str, Any] = {
        "iss": p.issuer, "aud": tool.client_id, "azp": tool.client_id,
        "iat": now, "exp": now + p.id_token_lifetime, "nonce": nonce,
        LTI + "version": "1.3.0",
        LTI + "message_type": launch.message_type,
        LTI + "deployment_id": launch.deployment_id,
        LTI + "target_link_uri": launch.target_link_uri,
        LTI + "roles": [role_uri(r) for r in launch.roles],
        "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
            "guid": "mock-lti-platform", "name": "lmsbridge mock LTI platform",
            "product_family_code": "lmsbridge-mock", "version": "1"},
        LTI + "launch_presentation": {"document_target": "iframe",
                                      "return_url": f"{p.url}/return"},
    }
    with p.lock:
        user = p.users.get(launch.user_id) if launch.user_id else None
        if user is not None:
            claims["sub"] = user["id"]
            for key in ("name", "given_name", "family_name", "email"):
                if key in user:
                    claims[key] = user[key]
            if "sourcedid" in user:
                claims[LTI + "lis"] = {"person_sourcedid": user["sourcedid"]}
        custom = {}
        if launch.context_id:
            context = p.contexts[launch.context_id]
            claims[LTI + "context"] = {k: context[k] for k in ("id", "label", "title", "type")}
            scopes = [s for s in tool.scopes if s != NRPS_SCOPE]
            ags: dict[str, Any] = {"scope": scopes, "lineitems": p.lineitems_url(context["id"])}
            link = (p.resource_links[context["id"]].get(launch.resource_link_id)
                    if launch.resource_link_id else None)
            if link is not None:
                custom.update(link["custom"])
                if link["line_item"] is not None:
                    ags["lineitem"] = p.lineitem_url(context["id"], link["line_item"])
            if scopes:
                claims[AGS_CLAIM] = ags
            if NRPS_SCOPE in tool.scopes:
                claims[NRPS_CLAIM] = {"context_memberships_url": p.memberships_url(context["id"]),
                                      "service_versions": ["2.0"]}
        if launch.message_type == RESOURCE_LINK and launch.resource_link_id:
            link = p.resource_links[launch.context_id][launch.resource_link_id]
            claims[LTI + "resource_link"] = {"id": link["id"], "title": link["title"]}
    custom.update(launch.custom)
    if custom:
        claims[LTI + "custom"] = custom
    if launch.message_type == DEEP_LINKING:
        settings = {
            "deep_link_return_url": f"{p.url}/deep_linking/{launch.id}",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": True,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Add content",
        }
        settings.update(launch.deep_linking or {})
        claims[DL + "deep_linking_settings"] = {k: v for k, v in settings.items()
                                                if v is not REMOVE}
        claims.pop(LTI + "resource_link", None)
    for name, value in launch.claims.items():
        if value is REMOVE:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _check_dl_response(p: MockLtiPlatform, launch_id: str, token: str) -> dict[str, Any]:
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
    created = _create_dl_links(p, launch, items, bool(settings.get("accept_lineitem")))
    return {"content_items": items, "resource_links": created,
            **{k: claims[DL + k] for k in ("msg", "log", "errormsg", "errorlog", "data")
               if DL + k in claims}}


def _create_dl_links(p: MockLtiPlatform, launch: _Launch, items: list[dict[str, Any]],
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
            if _line_item_problem(line_item):
                line_item = None
        p.add_resource_link(launch.context_id, link_id, title=item.get("title"),
                            custom=item.get("custom") if isinstance(item.get("custom"), dict)
                            else None, url=item.get("url"),
                            line_item=line_item if isinstance(line_item, dict) else None)
        created.append(link_id)
    return created


# ======================================================================== token


def _issue_token(p: MockLtiPlatform, form: Mapping[str, str]) -> dict[str, Any]:
    if form.get("grant_type") != "client_credentials":
        raise MockError(400, "unsupported_grant_type", "grant_type must be client_credentials")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise MockError(400, "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    assertion = form.get("client_assertion", "")
    if not assertion:
        raise MockError(400, "invalid_request", "client_assertion is required")
    claims = p.verify_tool_jwt(assertion, "invalid_client")
    tool = p.tool
    if claims.get("iss") != tool.client_id or claims.get("sub") != tool.client_id:
        raise MockError(401, "invalid_client", "iss and sub must be the tool's client_id")
    aud = claims.get("aud")
    if aud != p.token_audience and not (isinstance(aud, list) and p.token_audience in aud):
        raise MockError(400, "invalid_grant", f"aud must be {p.token_audience}")
    exp = p.check_times(claims, "invalid_grant")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise MockError(400, "invalid_grant", "jti is required")
    requested = form.get("scope", "").split()
    if not requested:
        raise MockError(400, "invalid_scope", "scope is required")
    refused = [s for s in requested if s not in tool.scopes]
    if refused:
        raise MockError(400, "invalid_scope", f"scope not allowed for this tool: {refused[0]}")
    with p.lock:
        now = p.clock()
        p.assertion_jtis = {j: e for j, e in p.assertion_jtis.items() if e + p.leeway > now}
        if jti in p.assertion_jtis:
            raise MockError(400, "invalid_grant", "the assertion's jti was already used")
        p.assertion_jtis[jti] = exp
        value = secrets.token_urlsafe(24)
        p.tokens[value] = {"fingerprint": p._fingerprint(value), "client_id": tool.client_id,
                           "scopes": requested, "issued_at": now,
                           "expires_at": now + p.token_lifetime, "jti": jti}
    return {"access_token": value, "token_type": "Bearer", "expires_in": p.token_lifetime,
            "scope": " ".join(requested)}


# ========================================================================== AGS


def _check_line_item(p: MockLtiPlatform, ctx: str, body: Any) -> None:
    problem = _line_item_problem(body)
    if problem:
        raise MockError(400, "invalid_request", problem)
    link = body.get("resourceLinkId")
    if link is not None and link not in p.resource_links[ctx]:
        raise MockError(400, "invalid_request", f"resourceLinkId {link!r} is not a link here")


def _record_score(p: MockLtiPlatform, ctx: str, n: int, item: dict[str, Any],
                  body: Any) -> str:
    if not isinstance(body, dict):
        raise MockError(400, "invalid_request", "a score must be a JSON object")
    user = body.get("userId")
    if not isinstance(user, str) or not user:
        raise MockError(400, "invalid_request", "The parameter userId is missing")
    raw = body.get("timestamp")
    when = _parse_time(raw)
    if when is None:
        raise MockError(400, "invalid_request",
                        f"Provided timestamp of {raw} not a valid timestamp")
    if body.get("activityProgress") not in ACTIVITY:
        raise MockError(400, "invalid_request", f"activityProgress must be one of {ACTIVITY}")
    if body.get("gradingProgress") not in GRADING:
        raise MockError(400, "invalid_request", f"gradingProgress must be one of {GRADING}")
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if not _is_number(given) or given < 0:
            raise MockError(400, "invalid_request", "scoreGiven must be a number >= 0")
        if maximum is None:
            raise MockError(422, "unprocessable_entity",
                            "ScoreMaximum not supplied when ScoreGiven present.")
    if maximum is not None and (not _is_number(maximum) or maximum <= 0):
        raise MockError(400, "invalid_request", "scoreMaximum must be a number > 0")
    member = p.members[ctx].get(user)
    if member is None or member.get("removed"):
        raise MockError(422, "unprocessable_entity", "User not found in course or is not a student")
    held = item["results"].get(user)
    if held is not None and _parse_time(held["timestamp"]) >= when:
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


# ========================================================================= NRPS


def _bookmark(offset: int) -> str:
    return "bookmark:" + _b64(json.dumps({"offset": offset, "v": 1}).encode())


def _offset(raw: str | None) -> int:
    if raw is None:
        return 0
    try:
        if not raw.startswith("bookmark:"):
            raise ValueError
        offset = json.loads(_unb64(raw[len("bookmark:"):]))["offset"]
    except (ValueError, KeyError, TypeError):
        raise MockError(400, "invalid_request", "page is not a valid bookmark") from None
    if not isinstance(offset, int) or offset < 0:
        raise MockError(400, "invalid_request", "page is not a valid bookmark")
    return offset


def _memberships(p: MockLtiPlatform, ctx: str) -> Response:
    role = request.args.get("role")
    rlid = request.args.get("rlid")
    since_raw = request.args.get("since")
    if since_raw is not None and not since_raw.isdigit():
        raise MockError(400, "invalid_request", "since must be a number from a differences link")
    size = _limit(p)
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
        links.append((_page_url(page=_bookmark(offset + size)), "next"))
    diff_args = {k: v for k, v in request.args.items() if k in ("role", "rlid", "limit")}
    diff_args["since"] = str(seq)
    links.append((f"{request.base_url}?{urlencode(diff_args)}", "differences"))
    body = {"id": request.url, "context": {k: context[k] for k in ("id", "label", "title")},
            "members": chunk}
    return _json_response(body, MEMBERSHIPS_TYPE, links=links)


# ====================================================================== control


def register_control(p: MockLtiPlatform, control: Flask) -> None:
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
            login = p.start_launch(kw.pop("user", None), **kw)
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
        params = {"iss": p.issuer, "login_hint": launch.user_id or "anonymous",
                  "target_link_uri": launch.target_link_uri, "lti_message_hint": launch.id,
                  "lti_deployment_id": launch.deployment_id, "client_id": tool.client_id}
        return Response(auto_submit_form(tool.login_url, params, "Starting launch…"),
                        content_type="text/html; charset=utf-8")

    @control.post("/_mock/tokens/expire")
    def post_expire() -> Response:
        return jsonify(expired=p.expire_tokens())

    @control.post("/_mock/keys/rotate")
    def post_rotate() -> Response:
        with p.lock:
            return jsonify(kid=p.rotate_keys())

    @control.post("/_mock/lti11/consumers")
    def post_consumers() -> tuple[Response, int]:
        return each(lambda key, secret: p.add_lti11_consumer(key, secret) or {"key": key})

    @control.post("/_mock/lti11/sourcedids")
    def post_sourcedids() -> tuple[Response, int]:
        return each(lambda **kw: {"sourcedid": p.lti11_sourcedid(**kw)})

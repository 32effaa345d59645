"""OIDC login, launch and the tool's JWKS."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from lmsbridge.core.lti.claims import DEEP_LINKING
from lmsbridge.core.lti.deeplinking import session_from_launch
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.launch import _unverified_routing
from lmsbridge.core.lti.oidc import LOGIN_TTL, begin_login, parse_login
from lmsbridge.core.lti.registrations import find_registration
from lmsbridge.core.lti.sso import complete_sso, program_courses
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.store.licenses import NoSeatLeft
from lmsbridge.core.web.context import tool
from lmsbridge.core.web.pages import log, refusal

bp = Blueprint("lti", __name__)

STATE_COOKIE = "lmsbridge_lti_"  # + state: one cookie per login, so parallel frames coexist
STATE_TTL = LOGIN_TTL
STORAGE_KEY = "lmsbridge_state_"  # + state, in the platform's postMessage storage


def _params() -> dict[str, str]:
    return {**request.args.to_dict(), **request.form.to_dict()}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _origin_key(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"https": 443, "http": 80}.get(
        scheme)


def _posted_by_our_page(urls: ToolUrls) -> bool:
    """Whether the request's Origin header is the tool's own origin (scheme, host, port).
    Browsers send Origin with every form POST; "null" or none is not ours."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    try:
        return _origin_key(origin) == _origin_key(urls.launch)
    except ValueError:  # a bad port
        return False


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    ctx = tool()
    urls = ctx.urls()
    try:
        redirect_to = begin_login(parse_login(_params()), ctx.store.platforms, urls,
                                  ctx.codec.login_binding(ctx.clock))
    except LaunchError as exc:
        return refusal(exc, "login")
    if redirect_to.storage_target is not None:
        resp = Response(render_template(
            "login_storage.html", target=redirect_to.storage_target,
            origin=_origin(redirect_to.registration.auth_login_url), next=redirect_to.url,
            key=STORAGE_KEY + redirect_to.state, value=redirect_to.nonce))
    else:
        resp = redirect(redirect_to.url, 302)
    # Always set the cookie too: where third-party cookies work it is the simpler path.
    secure = urls.secure
    resp.set_cookie(STATE_COOKIE + redirect_to.state, redirect_to.nonce, max_age=STATE_TTL,
                    path=urlsplit(urls.launch).path, httponly=True, secure=secure,
                    samesite="None" if secure else "Lax")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.post("/lti/launch")
def launch() -> Response:
    ctx = tool()
    urls = ctx.urls()
    id_token, state = request.form.get("id_token"), request.form.get("state")
    browser_nonce = request.cookies.get(STATE_COOKIE + state) if state else None
    if browser_nonce is None and state:
        browser_nonce = request.form.get("lti_storage_nonce") or None
        target = request.form.get("lti_storage_target")
        if browser_nonce is None and target and id_token and "lti_storage_nonce" not in request.form:
            try:
                return _fetch_from_platform_storage(id_token, state, target)
            except LaunchError as exc:
                return refusal(exc)
        if browser_nonce is not None and not _posted_by_our_page(urls):
            # Only our launch_storage page, same-origin, posts a nonce read from the platform's
            # storage in this browser. A form on another site could post a genuine pair our
            # login issued to the attacker's browser; the browser names that site as Origin.
            return refusal(LaunchError(
                "storage_cross_site", "the platform-storage launch was not posted by this "
                f"tool's page (Origin {request.headers.get('Origin')!r:.80})", 401))
    try:
        validated = ctx.validator.validate(id_token=id_token, state=state,
                                           browser_nonce=browser_nonce, urls=urls,
                                           login=ctx.codec.login_binding(ctx.clock))
    except LaunchError as exc:
        return refusal(exc)
    claims = validated.claims
    if claims.message_type == DEEP_LINKING:
        token = ctx.codec.dumps(session_from_launch(validated))
        resp = redirect(f"{urls.root}/lti/picker?s={token}", 303)
    else:
        try:
            result = complete_sso(ctx.store, validated)
        except NoSeatLeft as exc:
            return refusal(LaunchError("no_seat_left", str(exc), 409))
        except LaunchError as exc:
            return refusal(exc)
        log.info("launch: tenant %s learner %s program %s course %s item %s", result.tenant,
                 result.learner_id, result.target.program_id, result.target.course_id,
                 result.target.item_id)
        if result.redirect_url is None:
            resp = Response(render_template(
                "program.html", courses=program_courses(ctx.store, result.target.program_id)))
        else:
            resp = redirect(result.redirect_url, 302)
    if state:
        resp.delete_cookie(STATE_COOKIE + state, path=urlsplit(urls.launch).path,
                           secure=urls.secure, samesite="None" if urls.secure else "Lax")
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _fetch_from_platform_storage(id_token: str, state: str, target: str) -> Response:
    """No cookie came back (blocked in the iframe): ask the platform's storage frame for the
    nonce this browser stored at login, then post the launch again with it."""
    if not set(target) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."):
        raise LaunchError("lti_storage_target_malformed", "lti_storage_target is not a frame name",
                          400)
    iss, client_id, deployment_id = _unverified_routing(id_token)
    reg = find_registration(tool().store.platforms, iss, client_id, deployment_id)
    body = render_template("launch_storage.html", action=request.path, id_token=id_token,
                           state=state, target=target, origin=_origin(reg.auth_login_url),
                           key=STORAGE_KEY + state)
    resp = Response(body)
    resp.headers["Cache-Control"] = "no-store"
    # Its form's POST must carry our Origin (launch() checks it); under a no-referrer policy
    # a browser sends Origin "null", so the page names its own policy.
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    resp = jsonify(tool().keyring.jwks())
    # Platforms cache it; short enough that a rotation is seen well within the grace period.
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp

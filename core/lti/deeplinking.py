"""Deep linking (LTI-DL 2.0): the picker's session and the LtiDeepLinkingResponse it returns.

A validated LtiDeepLinkingRequest becomes a ``PickerSession`` the picker pages carry as a
signed, time-limited token (no cookie: pickers live in iframes where cookies are blocked).
The selection goes back as a JWT signed with the tool key: iss = our client_id, aud = the
platform issuer, a fresh nonce, the request's deployment_id, ``data`` echoed iff it came.
A session sends one response: its id is used up (nonces table, "dl-session:" + id, kept until
the token expires) in the transaction that records its links, so a replayed or doubled
submission is refused and writes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from attrs import asdict, frozen
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Connection

from lmsbridge.core.lti.claims import DL, LTI, LTI_VERSION
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.launch import ValidatedLaunch
from lmsbridge.core.lti.oidc import LoginBinding
from lmsbridge.core.lti.routing import COURSE, ITEM, LINK_REF, PENDING, PROGRAM
from lmsbridge.core.store import Store
from lmsbridge.core.store.links import NewLink

RESPONSE_TYPE = "LtiDeepLinkingResponse"
LINK_TYPE = "ltiResourceLink"
SESSION_MAX_AGE = 3600  # an instructor may take a while to choose
RESPONSE_LIFETIME = 600
_SALT = "lmsbridge.picker"
SESSION_PREFIX = "dl-session:"  # + PickerSession.id, in the shared nonces table


@frozen
class PickerSession:
    tenant: str
    issuer: str
    client_id: str
    deployment_id: str
    context_id: str | None
    return_url: str
    has_data: bool
    data: Any
    accept_types: tuple[str, ...]
    accept_multiple: bool
    accept_lineitem: bool
    id: str  # random; used up by the one submission that sends the response
    # When the token stops being accepted: set by SessionCodec.loads, never in the token.
    expires_at: float = 0.0


@frozen
class Pick:
    """One chosen piece of content (an item only in Option A)."""

    program_id: str
    course_id: str
    title: str
    item_id: str | None = None
    score_maximum: float | None = None  # set when the link gets a gradebook column


def session_from_launch(launch: ValidatedLaunch) -> PickerSession:
    claims = launch.claims
    dl = claims.deep_linking
    assert dl is not None
    raw = claims.raw.get(DL + "deep_linking_settings", {})
    return PickerSession(
        tenant=launch.registration.tenant, issuer=claims.iss, client_id=claims.client_id,
        deployment_id=claims.deployment_id, context_id=claims.context_id,
        return_url=dl.deep_link_return_url, has_data="data" in raw, data=dl.data,
        accept_types=dl.accept_types,
        # Only an explicit true allows several items; absent, send one.
        accept_multiple=dl.accept_multiple is True,
        accept_lineitem=dl.accept_lineitem is not False,
        id=secrets.token_urlsafe(16))


class SessionCodec:
    """The tool's tokens signed with its web secret: picker sessions, and (``login_binding``)
    the OIDC login's state and nonce."""

    def __init__(self, secret_key: str):
        self._secret = secret_key
        self._s = URLSafeTimedSerializer(secret_key, salt=_SALT)

    def login_binding(self, clock: Callable[[], float] = time.time) -> LoginBinding:
        return LoginBinding(self._secret, clock)

    def dumps(self, session: PickerSession) -> str:
        values = asdict(session, filter=lambda a, _: a.name != "expires_at")
        values["accept_types"] = list(session.accept_types)
        return self._s.dumps(values)

    def loads(self, token: str | None) -> PickerSession:
        if not token:
            raise LaunchError("picker_session_missing", "the picker lost its session", 400)
        invalid = LaunchError("picker_session_invalid", "the picker session is invalid or "
                              "expired; open the content picker again from the LMS", 401)
        try:
            values, signed_at = self._s.loads(token, max_age=SESSION_MAX_AGE,
                                              return_timestamp=True)
        except BadSignature:
            raise invalid from None
        values["accept_types"] = tuple(values["accept_types"])
        # itsdangerous accepts it while int(now) - signed <= max age: until signed + max + 1.
        values["expires_at"] = signed_at.timestamp() + SESSION_MAX_AGE + 1
        try:
            return PickerSession(**values)
        except TypeError:  # signed before sessions had an id: it could not be used up
            raise invalid from None


def content_items(session: PickerSession, picks: Sequence[Pick], launch_url: str,
                  refs: Sequence[str]) -> list[dict[str, Any]]:
    if LINK_TYPE not in session.accept_types:
        raise LaunchError("accept_types", "the platform does not accept LTI resource links "
                          f"here (it accepts {', '.join(session.accept_types)})", 400)
    if len(picks) > 1 and not session.accept_multiple:
        raise LaunchError("accept_multiple", "the platform accepts one item here; choose one",
                          400)
    result = []
    for pick, ref in zip(picks, refs, strict=True):
        custom = {PROGRAM: pick.program_id, COURSE: pick.course_id, LINK_REF: ref}
        if pick.item_id is not None:
            custom[ITEM] = pick.item_id
        item: dict[str, Any] = {"type": LINK_TYPE, "title": pick.title, "url": launch_url,
                                "custom": custom}
        if pick.score_maximum is not None and session.accept_lineitem:
            item["lineItem"] = {
                "scoreMaximum": pick.score_maximum, "label": pick.title,
                "resourceId": pick.course_id + (f"/{pick.item_id}" if pick.item_id else ""),
                "tag": "item" if pick.item_id else "final"}
        result.append(item)
    return result


def response_jwt(keyring: ToolKeyring, session: PickerSession, items: list[dict[str, Any]],
                 now: float, message: str | None = None) -> str:
    claims: dict[str, Any] = {
        "iss": session.client_id, "aud": session.issuer,
        "iat": int(now), "exp": int(now) + RESPONSE_LIFETIME,
        "nonce": secrets.token_urlsafe(24),
        LTI + "deployment_id": session.deployment_id,
        LTI + "message_type": RESPONSE_TYPE,
        LTI + "version": LTI_VERSION,
        DL + "content_items": items,
    }
    if session.has_data:
        claims[DL + "data"] = session.data
    if message:
        claims[DL + "msg"] = message
    return keyring.sign(claims)


def use_session(store: Store, conn: Connection, session: PickerSession) -> None:
    """Use up ``session`` in ``conn``'s transaction: call first, before the links are written,
    so they commit or roll back together. Raises LaunchError (the transaction must then be
    rolled back) if it was already used, or a concurrent submission is using it and commits."""
    if not session.expires_at:
        raise ValueError("only a session read back by SessionCodec.loads can be used up")
    keep_until = datetime.fromtimestamp(session.expires_at, UTC)
    if not store.nonces.use_once(conn, SESSION_PREFIX + session.id, keep_until=keep_until):
        raise LaunchError("picker_session_used", "this content picker session already sent "
                          "its links to the LMS; open the picker again from the LMS to add "
                          "more", 400)


def record_published(store: Store, conn: Connection, session: PickerSession,
                     picks: Sequence[Pick], refs: Sequence[str], grade_sync: str) -> None:
    """published_links rows under a pending id, bound to the platform's at first launch."""
    store.links.publish(conn, session.tenant, [
        NewLink(context_id=session.context_id or "", resource_link_id=PENDING + ref,
                program_id=pick.program_id, course_id=pick.course_id, item_id=pick.item_id,
                grade_sync=grade_sync)
        for pick, ref in zip(picks, refs, strict=True)])


def new_refs(count: int, token: Callable[[int], str] = secrets.token_urlsafe) -> list[str]:
    return [token(12) for _ in range(count)]



"""Validate the claims of a verified LTI 1.3 message (research/lti.md checklist items 4-12).

A pure function of the claims, the expected registration and the time: no I/O, no store.
JWT-level problems (issuer, audience, times, nonce) are 401; LTI claims that are missing or
malformed are 400; a launch from a deployment we don't know is 401 (the token is
well-formed but not for us: the contract fixes failed launches at 401 or 400). Unknown
claims, unknown roles, an empty role list, missing PII and a missing context are all valid.
Nonce *consumption* (single use) is the caller's job after this passes: ``LaunchClaims.nonce``
and ``LaunchClaims.valid_until`` are what it needs to store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import attrs

from lmsbridge.core.lti.errors import LaunchError

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
SUPPORTED_MESSAGE_TYPES = frozenset({RESOURCE_LINK, DEEP_LINKING})
LTI_VERSION = "1.3.0"


@attrs.frozen
class AgsEndpoint:
    scope: tuple[str, ...]
    lineitems: str | None
    lineitem: str | None


@attrs.frozen
class NrpsService:
    context_memberships_url: str
    service_versions: tuple[str, ...]


@attrs.frozen
class DeepLinkingSettings:
    deep_link_return_url: str
    accept_types: tuple[str, ...]
    accept_presentation_document_targets: tuple[str, ...]
    accept_media_types: str | None
    accept_multiple: bool | None
    accept_lineitem: bool | None
    auto_create: bool | None
    title: str | None
    text: str | None
    data: Any  # must be echoed back unchanged in the response, so kept as sent


@attrs.frozen
class LaunchClaims:
    """What a tool needs from a validated launch; ``raw`` has everything else."""

    iss: str
    client_id: str
    aud: tuple[str, ...]
    deployment_id: str
    message_type: str
    sub: str | None
    roles: tuple[str, ...]
    nonce: str
    valid_until: float  # epoch seconds after which this token is refused; keep the nonce until then
    target_link_uri: str | None
    resource_link_id: str | None
    resource_link_title: str | None
    context_id: str | None
    context_title: str | None
    context_label: str | None
    custom: Mapping[str, Any]
    name: str | None
    given_name: str | None
    family_name: str | None
    email: str | None
    ags: AgsEndpoint | None
    nrps: NrpsService | None
    deep_linking: DeepLinkingSettings | None
    raw: Mapping[str, Any] = attrs.field(repr=False)


def _unauthorized(rule: str, reason: str) -> LaunchError:
    return LaunchError(rule, reason, 401)


def _bad(rule: str, reason: str) -> LaunchError:
    return LaunchError(rule, reason, 400)


# Claim names built once: a concatenation per launch also re-hashes the new string on lookup.
_VERSION, _MESSAGE_TYPE = LTI + "version", LTI + "message_type"
_DEPLOYMENT_ID, _ROLES = LTI + "deployment_id", LTI + "roles"
_RESOURCE_LINK, _TARGET_LINK_URI = LTI + "resource_link", LTI + "target_link_uri"
_CONTEXT, _CUSTOM = LTI + "context", LTI + "custom"
_DL_SETTINGS = DL + "deep_linking_settings"
# isinstance against a tuple: a dict (what JSON gives) matches on the first entry without
# the ABC machinery (16 ns against 94 for Mapping alone); other Mappings still pass.
_MAPPING = (dict, Mapping)
_NUMBER = (int, float)  # bool is an int: excluded separately


def _is_num(v: Any) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def _nonempty_str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    v = obj.get(key)
    return v if isinstance(v, str) else None


def _opt_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    v = obj.get(key)
    return v if isinstance(v, bool) else None


def _str_list(v: Any) -> tuple[str, ...] | None:
    if not isinstance(v, list):
        return None
    for x in v:  # a plain loop: half the cost of all() over a generator on short lists
        if not isinstance(x, str):
            return None
    return tuple(v)


def validate_launch_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    deployment_ids: Collection[str],
    now: float,
    leeway: float = 60.0,
    max_age: float = 300.0,
    message_types: Collection[str] = SUPPORTED_MESSAGE_TYPES,
    require_sub: bool = True,
) -> LaunchClaims:
    """Check ``claims`` (from a signature-verified id_token) and return the typed view.

    ``now`` is epoch seconds; ``leeway`` absorbs clock skew on exp/iat/nbf; ``max_age``
    bounds how long after ``iat`` a token is accepted (with leeway), which also bounds how
    long the caller must remember its nonce. ``require_sub=False`` admits anonymous launches.
    Raises LaunchError naming the first failed rule.
    """
    aud = _check_jwt(claims, issuer, client_id, now, leeway, max_age)
    exp, iat = float(claims["exp"]), float(claims["iat"])
    valid_until = min(exp, iat + max_age) + leeway

    if claims.get(_VERSION) != LTI_VERSION:
        raise _bad("version", f"LTI version claim must be {LTI_VERSION!r}")
    message_type = claims.get(_MESSAGE_TYPE)
    if not _nonempty_str(message_type):
        raise _bad("message_type_missing", "message_type claim is missing")
    if message_type not in message_types:
        raise _bad(
            "message_type_unsupported", f"message type {message_type!r:.60} is not supported"
        )
    deployment_id = claims.get(_DEPLOYMENT_ID)
    if not _nonempty_str(deployment_id):
        raise _bad("deployment_id_missing", "deployment_id claim is missing")
    if deployment_id not in deployment_ids:
        raise LaunchError(
            "deployment_unknown", f"deployment {deployment_id!r:.120} is not registered", 401
        )

    sub = claims.get("sub")
    if not _nonempty_str(sub) and (sub is not None or require_sub):
        raise _bad("sub_missing", "sub (user id) claim is missing or empty")

    roles_claim = claims.get(_ROLES)
    roles = _str_list(roles_claim)
    if roles_claim is not None and roles is None:
        raise _bad("roles_malformed", "roles claim must be a list of strings")

    resource_link_id = resource_link_title = None
    if message_type == RESOURCE_LINK:
        if roles is None:
            raise _bad("roles_missing", "roles claim is missing")
        rl = claims.get(_RESOURCE_LINK)
        if not isinstance(rl, _MAPPING) or not _nonempty_str(rl.get("id")):
            raise _bad("resource_link_id_missing", "resource_link claim with an id is missing")
        resource_link_id, resource_link_title = rl["id"], _opt_str(rl, "title")
    target_link_uri = claims.get(_TARGET_LINK_URI)
    if not _nonempty_str(target_link_uri) and (
        target_link_uri is not None or message_type == RESOURCE_LINK
    ):
        raise _bad("target_link_uri_missing", "target_link_uri claim is missing or empty")

    context = claims.get(_CONTEXT)
    if context is not None and (
        not isinstance(context, _MAPPING) or not _nonempty_str(context.get("id"))
    ):
        raise _bad("context_id_missing", "context claim is present without an id")
    custom = claims.get(_CUSTOM, {})
    if not isinstance(custom, _MAPPING):
        raise _bad("custom_malformed", "custom claim must be an object")

    return LaunchClaims(
        iss=issuer,
        client_id=client_id,
        aud=aud,
        deployment_id=deployment_id,
        message_type=message_type,
        sub=sub,
        roles=roles or (),
        nonce=claims["nonce"],
        valid_until=valid_until,
        target_link_uri=target_link_uri,
        resource_link_id=resource_link_id,
        resource_link_title=resource_link_title,
        context_id=context["id"] if context else None,
        context_title=_opt_str(context, "title") if context else None,
        context_label=_opt_str(context, "label") if context else None,
        custom=custom,
        name=_opt_str(claims, "name"),
        given_name=_opt_str(claims, "given_name"),
        family_name=_opt_str(claims, "family_name"),
        email=_opt_str(claims, "email"),
        ags=_ags(claims.get(AGS_CLAIM)),
        nrps=_nrps(claims.get(NRPS_CLAIM)),
        deep_linking=_dl_settings(claims) if message_type == DEEP_LINKING else None,
        raw=claims,
    )


def _check_jwt(
    claims: Mapping[str, Any],
    issuer: str,
    client_id: str,
    now: float,
    leeway: float,
    max_age: float,
) -> tuple[str, ...]:
    """The RFC 7519 / OIDC part: all 401. Returns the audience as a tuple."""
    if claims.get("iss") != issuer:
        raise _unauthorized("iss", "issuer does not match the registration")

    raw_aud = claims.get("aud")
    aud = (raw_aud,) if isinstance(raw_aud, str) else _str_list(raw_aud)
    if not aud or client_id not in aud:
        raise _unauthorized("aud", "audience does not contain the tool's client_id")
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise _unauthorized("azp", "authorized party (azp) is not the tool's client_id")
    if len(aud) > 1 and azp is None:
        raise _unauthorized("azp_missing", "multiple audiences without an authorized party (azp)")

    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if not _is_num(exp):
        raise _unauthorized("exp_missing", "exp claim is missing or not a number")
    if not _is_num(iat):
        raise _unauthorized("iat_missing", "iat claim is missing or not a number")
    if now > exp + leeway:
        raise _unauthorized("expired", "the id_token has expired")
    if iat > now + leeway:
        raise _unauthorized("iat_future", "the id_token was issued in the future")
    if now - iat > max_age + leeway:
        raise _unauthorized("too_old", "the id_token was issued too long ago")
    if nbf is not None and (not _is_num(nbf) or nbf > now + leeway):
        raise _unauthorized("not_yet_valid", "the id_token is not valid yet (nbf)")

    if not _nonempty_str(claims.get("nonce")):
        raise _unauthorized("nonce_missing", "nonce claim is missing")
    return aud


def _ags(claim: Any) -> AgsEndpoint | None:
    if claim is None:
        return None
    scope = _str_list(claim.get("scope", [])) if isinstance(claim, _MAPPING) else None
    if scope is None:
        raise _bad("ags_malformed", "AGS endpoint claim must be an object with a scope list")
    lineitems, lineitem = claim.get("lineitems"), claim.get("lineitem")
    if (lineitems is not None and not _nonempty_str(lineitems)) or (
        lineitem is not None and not _nonempty_str(lineitem)
    ):
        raise _bad("ags_malformed", "AGS lineitems/lineitem must be URLs")
    return AgsEndpoint(scope=scope, lineitems=lineitems, lineitem=lineitem)


def _nrps(claim: Any) -> NrpsService | None:
    if claim is None:
        return None
    if not isinstance(claim, _MAPPING) or not _nonempty_str(claim.get("context_memberships_url")):
        raise _bad("nrps_malformed", "NRPS claim must carry context_memberships_url")
    versions = _str_list(claim.get("service_versions", [])) or ()
    return NrpsService(claim["context_memberships_url"], versions)


def _dl_settings(claims: Mapping[str, Any]) -> DeepLinkingSettings:
    s = claims.get(_DL_SETTINGS)
    if not isinstance(s, _MAPPING):
        raise _bad("deep_linking_settings_missing", "deep_linking_settings claim is missing")
    if not _nonempty_str(s.get("deep_link_return_url")):
        raise _bad("deep_link_return_url_missing", "deep_link_return_url is missing")
    accept_types = _str_list(s.get("accept_types"))
    if not accept_types:
        raise _bad("accept_types_missing", "accept_types must be a non-empty list of strings")
    return DeepLinkingSettings(
        deep_link_return_url=s["deep_link_return_url"],
        accept_types=accept_types,
        accept_presentation_document_targets=_str_list(
            s.get("accept_presentation_document_targets")
        )
        or (),
        accept_media_types=_opt_str(s, "accept_media_types"),
        accept_multiple=_opt_bool(s, "accept_multiple"),
        accept_lineitem=_opt_bool(s, "accept_lineitem"),
        auto_create=_opt_bool(s, "auto_create"),
        title=_opt_str(s, "title"),
        text=_opt_str(s, "text"),
        data=s.get("data"),
    )

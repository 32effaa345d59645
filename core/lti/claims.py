"""Validate the claims of a verified LTI 1.3 message (research/lti.md checklist items 4-12).

A pure function of the claims, the expected registration and the time: no I/O, no store.
JWT-level problems (issuer, audience, times, nonce) are 401; LTI claims that are missing or
malformed are 400; a launch from a deployment we don't know is 401 (the token is
well-formed but not for us: the contract fixes failed launches at 401 or 400). Unknown
claims, unknown roles, an empty role list, missing PII and a missing context are all valid.
Nonce *consumption* (single use) is the caller's job after this passes: ``LaunchClaims.nonce``
and ``LaunchClaims.valid_until`` are what it needs to store.

Every string the typed view hands on is text any store keeps alike: no NUL (PostgreSQL
refuses it), no lone surrogate (no UTF-8 encodes it), and bounded, identifiers at the LTI
limit of 255 characters (what the store's columns hold), URLs at 2048. A claim that breaks
this is refused naming it; names and titles over their bound are cut short instead, since
they are only shown. Times (exp, iat, nbf) are NumericDates (RFC 7519 2: seconds since the
epoch, fractions allowed): finite and between 1970 and the year 9999, else refused.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
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

# LTI 1.3 core 5.3.5, 5.3.6, 5.4.1: sub, resource link id and context id "MUST NOT exceed
# 255 ASCII characters"; the store's columns for them are String(255). Nonces go there too.
MAX_ID = 255
MAX_URL = 2048
MAX_TEXT = 500  # names, titles, labels: longer ones are cut to this
MAX_EMAIL = 320  # learners.email
MAX_ROLES, MAX_ROLE = 256, 1024
MAX_CUSTOM_NAME, MAX_CUSTOM_VALUE = 255, 4096
MAX_NUMERIC_DATE = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second datetime has


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


def _encodable(s: str) -> bool:
    try:
        s.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


# Text SQLite and PostgreSQL both store unchanged: no NUL, no lone surrogate. isascii() first
# spares the common case the UTF-8 bytes; the checks are inlined (a launch makes ~20).
def _bounded(s: str, limit: int) -> bool:
    return len(s) <= limit and "\x00" not in s and (s.isascii() or _encodable(s))


def _all_bounded(values: Iterable[str], limit: int) -> bool:
    for s in values:  # a plain loop: all() over a generator costs twice as much
        if not (len(s) <= limit and "\x00" not in s and (s.isascii() or _encodable(s))):
            return False
    return True


def _check_id(value: str, rule: str, what: str) -> str:
    if len(value) > MAX_ID or "\x00" in value or not (value.isascii() or _encodable(value)):
        raise _bad(rule, f"{what} must be text of at most {MAX_ID} characters, without NUL")
    return value


def _text(obj: Mapping[str, Any], key: str, claim: str) -> str | None:
    """A display string (name, title, label): cut to MAX_TEXT rather than refused, since a
    long course title or name is no reason to turn a learner away; NUL is refused."""
    v = obj.get(key)
    if not isinstance(v, str):
        return None
    if "\x00" in v or not (v.isascii() or _encodable(v)):
        raise _bad(f"{claim}_malformed", f"{claim} contains a NUL character or is not text")
    return v[:MAX_TEXT]


def _url(v: Any, rule: str, what: str) -> str:
    if not isinstance(v, str) or not 0 < len(v) <= MAX_URL or "\x00" in v or not (
            v.isascii() or _encodable(v)):
        raise _bad(rule, f"{what} must be a URL of at most {MAX_URL} characters")
    return v


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
    if sub is not None:
        _check_id(sub, "sub_malformed", "sub (user id)")

    roles_claim = claims.get(_ROLES)
    roles = _str_list(roles_claim)
    if roles_claim is not None and roles is None:
        raise _bad("roles_malformed", "roles claim must be a list of strings")
    if roles is not None and (len(roles) > MAX_ROLES
                              or not _all_bounded(roles, MAX_ROLE)):
        raise _bad("roles_malformed", f"roles claim must be at most {MAX_ROLES} roles of at "
                   f"most {MAX_ROLE} characters, without NUL")

    resource_link_id = resource_link_title = None
    if message_type == RESOURCE_LINK:
        if roles is None:
            raise _bad("roles_missing", "roles claim is missing")
        rl = claims.get(_RESOURCE_LINK)
        if not isinstance(rl, _MAPPING) or not _nonempty_str(rl.get("id")):
            raise _bad("resource_link_id_missing", "resource_link claim with an id is missing")
        resource_link_id = _check_id(rl["id"], "resource_link_id_malformed", "resource_link id")
        resource_link_title = _text(rl, "title", "resource_link_title")
    target_link_uri = claims.get(_TARGET_LINK_URI)
    if not _nonempty_str(target_link_uri) and (
        target_link_uri is not None or message_type == RESOURCE_LINK
    ):
        raise _bad("target_link_uri_missing", "target_link_uri claim is missing or empty")
    # %00 too: routing reads content ids from the URL's query, decoded.
    if target_link_uri is not None and (not _bounded(target_link_uri, MAX_URL)
                                        or "%00" in target_link_uri):
        raise _bad("target_link_uri_malformed",
                   f"target_link_uri must be a URL of at most {MAX_URL} characters, without NUL")

    context = claims.get(_CONTEXT)
    if context is not None and (
        not isinstance(context, _MAPPING) or not _nonempty_str(context.get("id"))
    ):
        raise _bad("context_id_missing", "context claim is present without an id")
    if context is not None:
        _check_id(context["id"], "context_id_malformed", "context id")
    custom = claims.get(_CUSTOM, {})
    if not isinstance(custom, _MAPPING):
        raise _bad("custom_malformed", "custom claim must be an object")
    _check_custom(custom)
    email = claims.get("email")
    if not isinstance(email, str):
        email = None
    # Refused rather than cut or dropped: first SSO links accounts by email.
    elif not _bounded(email, MAX_EMAIL):
        raise _bad("email_malformed",
                   f"email must be at most {MAX_EMAIL} characters, without NUL")

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
        context_title=_text(context, "title", "context_title") if context else None,
        context_label=_text(context, "label", "context_label") if context else None,
        custom=custom,
        name=_text(claims, "name", "name"),
        given_name=_text(claims, "given_name", "given_name"),
        family_name=_text(claims, "family_name", "family_name"),
        email=email,
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
    # NaN fails every comparison; inf and 10**400 are past the bound (an int that big is
    # compared exactly, never turned into a float).
    if not 0 <= exp <= MAX_NUMERIC_DATE:
        raise _not_a_date("exp")
    if not 0 <= iat <= MAX_NUMERIC_DATE:
        raise _not_a_date("iat")
    if nbf is not None and not (_is_num(nbf) and 0 <= nbf <= MAX_NUMERIC_DATE):
        raise _not_a_date("nbf")
    if now > exp + leeway:
        raise _unauthorized("expired", "the id_token has expired")
    if iat > now + leeway:
        raise _unauthorized("iat_future", "the id_token was issued in the future")
    if now - iat > max_age + leeway:
        raise _unauthorized("too_old", "the id_token was issued too long ago")
    if nbf is not None and nbf > now + leeway:
        raise _unauthorized("not_yet_valid", "the id_token is not valid yet (nbf)")

    nonce = claims.get("nonce")
    if not _nonempty_str(nonce):
        raise _unauthorized("nonce_missing", "nonce claim is missing")
    if not _bounded(nonce, MAX_ID):
        raise _unauthorized("nonce_malformed",
                            f"nonce must be at most {MAX_ID} characters, without NUL")
    return aud


def _not_a_date(name: str) -> LaunchError:
    return _unauthorized(f"{name}_malformed", f"{name} claim must be a NumericDate: finite "
                         "seconds since 1970, before the year 10000")


def _check_custom(custom: Mapping[str, Any]) -> None:
    """Names and string values bounded and NUL-free: routing looks content up by them."""
    for name, value in custom.items():
        if not isinstance(name, str) or not _bounded(name, MAX_CUSTOM_NAME) or (
                isinstance(value, str) and not _bounded(value, MAX_CUSTOM_VALUE)):
            shown = repr(name)[:60] if isinstance(name, str) else "name"
            raise _bad("custom_malformed", f"custom parameter {shown} must be a name of at "
                       f"most {MAX_CUSTOM_NAME} and a value of at most {MAX_CUSTOM_VALUE} "
                       "characters, without NUL")


def _ags(claim: Any) -> AgsEndpoint | None:
    if claim is None:
        return None
    scope = _str_list(claim.get("scope", [])) if isinstance(claim, _MAPPING) else None
    if scope is None or not _all_bounded(scope, MAX_URL):
        raise _bad("ags_malformed", "AGS endpoint claim must be an object with a scope list")
    lineitems, lineitem = claim.get("lineitems"), claim.get("lineitem")
    for url in (lineitems, lineitem):
        if url is not None:
            _url(url, "ags_malformed", "AGS lineitems/lineitem")
    return AgsEndpoint(scope=scope, lineitems=lineitems, lineitem=lineitem)


def _nrps(claim: Any) -> NrpsService | None:
    if claim is None:
        return None
    if not isinstance(claim, _MAPPING) or not _nonempty_str(claim.get("context_memberships_url")):
        raise _bad("nrps_malformed", "NRPS claim must carry context_memberships_url")
    url = _url(claim["context_memberships_url"], "nrps_malformed", "context_memberships_url")
    versions = _str_list(claim.get("service_versions", [])) or ()
    if not _all_bounded(versions, MAX_ID):
        raise _bad("nrps_malformed", "NRPS service_versions must be short strings")
    return NrpsService(url, versions)


def _dl_settings(claims: Mapping[str, Any]) -> DeepLinkingSettings:
    s = claims.get(_DL_SETTINGS)
    if not isinstance(s, _MAPPING):
        raise _bad("deep_linking_settings_missing", "deep_linking_settings claim is missing")
    if not _nonempty_str(s.get("deep_link_return_url")):
        raise _bad("deep_link_return_url_missing", "deep_link_return_url is missing")
    return_url = _url(s["deep_link_return_url"], "deep_link_return_url_malformed",
                      "deep_link_return_url")
    # The picker posts its answer to it from our page: a javascript: URL would run there.
    if not return_url.lower().startswith(("https://", "http://")):
        raise _bad("deep_link_return_url_malformed", "deep_link_return_url must be http(s)")
    accept_types = _str_list(s.get("accept_types"))
    if not accept_types:
        raise _bad("accept_types_missing", "accept_types must be a non-empty list of strings")
    targets = _str_list(s.get("accept_presentation_document_targets")) or ()
    media = _opt_str(s, "accept_media_types")
    if not _all_bounded((*accept_types, *targets), MAX_ID) or (
            media is not None and not _bounded(media, MAX_URL)):
        raise _bad("deep_linking_settings_malformed", "accept_types, "
                   "accept_presentation_document_targets and accept_media_types must be short "
                   "strings without NUL")
    return DeepLinkingSettings(
        deep_link_return_url=return_url,
        accept_types=accept_types,
        accept_presentation_document_targets=targets,
        accept_media_types=media,
        accept_multiple=_opt_bool(s, "accept_multiple"),
        accept_lineitem=_opt_bool(s, "accept_lineitem"),
        auto_create=_opt_bool(s, "auto_create"),
        title=_text(s, "title", "deep_linking_title"),
        text=_text(s, "text", "deep_linking_text"),
        data=s.get("data"),
    )

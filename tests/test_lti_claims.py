"""Launch claim rules: the 1EdTech certification payloads plus audience/time probes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from lmsbridge.core.lti.claims import (
    AGS_CLAIM,
    DL,
    LTI,
    NRPS_CLAIM,
    LaunchClaims,
    validate_launch_claims,
)
from lmsbridge.core.lti.errors import LaunchError

NOW = 1_800_000_000.0
ISS = "https://platform.example.edu"
CLIENT = "client-1"
DEPLOYMENT = "deploy-1"


def resource_link_claims() -> dict[str, Any]:
    return {
        "iss": ISS,
        "aud": CLIENT,
        "azp": CLIENT,
        "sub": "user-1",
        "iat": int(NOW) - 5,
        "exp": int(NOW) + 300,
        "nonce": "nonce-1",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.edu",
        LTI + "version": "1.3.0",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "deployment_id": DEPLOYMENT,
        LTI + "target_link_uri": "https://tool.example.com/lti/launch",
        LTI + "resource_link": {"id": "rl-1", "title": "Quiz 1"},
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
        LTI + "context": {"id": "ctx-1", "label": "ML101", "title": "Machine Learning"},
        LTI + "custom": {"item": "42"},
        AGS_CLAIM: {
            "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "lineitems": "https://platform.example.edu/ctx-1/lineitems",
            "lineitem": "https://platform.example.edu/ctx-1/lineitems/7",
        },
        NRPS_CLAIM: {
            "context_memberships_url": "https://platform.example.edu/ctx-1/memberships",
            "service_versions": ["2.0"],
        },
        "https://vendor.example/claim/unknown": {"anything": [1, 2]},
    }


def deep_linking_claims() -> dict[str, Any]:
    c = resource_link_claims()
    for k in ("resource_link", "target_link_uri"):
        del c[LTI + k]
    c[LTI + "message_type"] = "LtiDeepLinkingRequest"
    c[DL + "deep_linking_settings"] = {
        "deep_link_return_url": "https://platform.example.edu/dl/return",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
        "data": "opaque-data",
    }
    return c


def validate(claims: dict[str, Any], **kw: Any) -> LaunchClaims:
    args: dict[str, Any] = {
        "issuer": ISS,
        "client_id": CLIENT,
        "deployment_ids": {DEPLOYMENT},
        "now": NOW,
    }
    args.update(kw)
    return validate_launch_claims(claims, **args)


def drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        for k in keys:
            del c[k]

    return edit


def put(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        c[key] = value

    return edit


def test_valid_resource_link_launch():
    claims = resource_link_claims()
    lc = validate(claims)
    assert (lc.iss, lc.client_id, lc.aud, lc.deployment_id) == (ISS, CLIENT, (CLIENT,), DEPLOYMENT)
    assert (lc.message_type, lc.sub, lc.nonce) == ("LtiResourceLinkRequest", "user-1", "nonce-1")
    assert lc.roles == ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",)
    assert (lc.resource_link_id, lc.resource_link_title) == ("rl-1", "Quiz 1")
    assert lc.target_link_uri == "https://tool.example.com/lti/launch"
    assert (lc.context_id, lc.context_title, lc.context_label) == (
        "ctx-1",
        "Machine Learning",
        "ML101",
    )
    assert lc.custom == {"item": "42"}
    assert (lc.name, lc.given_name, lc.family_name, lc.email) == (
        "Ada Lovelace",
        "Ada",
        "Lovelace",
        "ada@example.edu",
    )
    assert lc.ags is not None and lc.ags.lineitem.endswith("/7")
    assert lc.ags.scope == ("https://purl.imsglobal.org/spec/lti-ags/scope/score",)
    assert lc.nrps is not None and lc.nrps.service_versions == ("2.0",)
    assert lc.deep_linking is None
    assert lc.raw["https://vendor.example/claim/unknown"] == {"anything": [1, 2]}
    # Keep the nonce as long as the token could be replayed: min(exp, iat + max_age) + leeway.
    assert lc.valid_until == min(claims["exp"], claims["iat"] + 300) + 60
    assert "raw" not in repr(lc)


def test_valid_deep_linking_request():
    lc = validate(deep_linking_claims())
    assert lc.message_type == "LtiDeepLinkingRequest"
    dl = lc.deep_linking
    assert dl is not None
    assert dl.deep_link_return_url == "https://platform.example.edu/dl/return"
    assert dl.accept_types == ("ltiResourceLink",)
    assert dl.accept_presentation_document_targets == ("iframe", "window")
    assert (dl.accept_multiple, dl.accept_lineitem, dl.auto_create) == (True, None, None)
    assert dl.data == "opaque-data"
    assert lc.resource_link_id is None and lc.target_link_uri is None


VALID_VARIANTS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("roles_empty", put(LTI + "roles", [])),
    ("unknown_role", put(LTI + "roles", ["http://example.com/roles#Wizard", "urn:x:Unknown"])),
    ("short_role_names", put(LTI + "roles", ["Learner", "Instructor", "Mentor"])),
    ("no_pii", drop("name", "given_name", "family_name", "email")),
    ("no_context", drop(LTI + "context")),
    ("no_custom_ags_nrps", drop(LTI + "custom", AGS_CLAIM, NRPS_CLAIM)),
    ("no_azp_single_aud", drop("azp")),
    ("aud_list_single", put("aud", [CLIENT])),
    ("aud_list_with_azp", lambda c: c.update(aud=[CLIENT, "other"], azp=CLIENT)),
    ("exp_within_leeway", put("exp", int(NOW) - 59)),
    ("iat_within_leeway_future", put("iat", int(NOW) + 59)),
    ("iat_float", put("iat", NOW - 0.15)),
    ("nbf_past", put("nbf", int(NOW) - 10)),
    ("context_without_title", put(LTI + "context", {"id": "ctx-1"})),
    ("resource_link_without_title", put(LTI + "resource_link", {"id": "rl-1"})),
]


@pytest.mark.parametrize("edit", [e for _, e in VALID_VARIANTS], ids=[n for n, _ in VALID_VARIANTS])
def test_valid_variants(edit):
    claims = resource_link_claims()
    edit(claims)
    lc = validate(claims)
    assert lc.sub == "user-1"


def test_valid_variant_values():
    c = resource_link_claims()
    drop("name", "given_name", "family_name", "email", LTI + "context", LTI + "custom")(c)
    c[LTI + "roles"] = []
    lc = validate(c)
    assert lc.roles == () and lc.context_id is None and lc.email is None and lc.custom == {}


# (name, edit, expected rule, expected status)
BAD: list[tuple[str, Callable[[dict[str, Any]], None], str, int]] = [
    # 1EdTech certification guide, known bad payloads (no/incorrect KID: test_lti_idtoken.py)
    ("iss_forged", put("iss", "https://evil.example"), "iss", 401),
    ("cert_wrong_lti_version", put(LTI + "version", "1.2.0"), "version", 400),
    ("cert_no_lti_version", drop(LTI + "version"), "version", 400),
    (
        "cert_invalid_message_type",
        put(LTI + "message_type", "LtiFooRequest"),
        "message_type_unsupported",
        400,
    ),
    ("cert_missing_message_type", drop(LTI + "message_type"), "message_type_missing", 400),
    ("cert_missing_role_claim", drop(LTI + "roles"), "roles_missing", 400),
    ("cert_missing_deployment_id", drop(LTI + "deployment_id"), "deployment_id_missing", 400),
    (
        "cert_missing_resource_link_id",
        put(LTI + "resource_link", {"title": "x"}),
        "resource_link_id_missing",
        400,
    ),
    ("cert_missing_resource_link", drop(LTI + "resource_link"), "resource_link_id_missing", 400),
    ("cert_missing_sub", drop("sub"), "sub_missing", 400),
    ("cert_expired", lambda c: c.update(iat=int(NOW) - 200, exp=int(NOW) - 61), "expired", 401),
    # issuer / audience
    ("iss_missing", drop("iss"), "iss", 401),
    ("iss_not_exact", put("iss", ISS + "/"), "iss", 401),
    ("aud_missing", drop("aud"), "aud", 401),
    ("aud_other", put("aud", "other-client"), "aud", 401),
    ("aud_not_str", put("aud", 12), "aud", 401),
    ("aud_list_of_junk", put("aud", [CLIENT, 3]), "aud", 401),
    (
        "aud_client_and_evil_azp_evil",
        lambda c: c.update(aud=[CLIENT, "evil"], azp="evil"),
        "azp",
        401,
    ),
    ("azp_mismatch", put("azp", "other-client"), "azp", 401),
    (
        "multi_aud_without_azp",
        lambda c: (c.update(aud=[CLIENT, "x"]), c.pop("azp")),
        "azp_missing",
        401,
    ),
    # times
    ("exp_missing", drop("exp"), "exp_missing", 401),
    ("iat_missing", drop("iat"), "iat_missing", 401),
    ("exp_string", put("exp", str(int(NOW) + 300)), "exp_missing", 401),
    ("iat_bool", put("iat", True), "iat_missing", 401),
    ("iat_day_old", lambda c: c.update(iat=int(NOW) - 86400, exp=int(NOW) + 3600), "too_old", 401),
    ("iat_future", put("iat", int(NOW) + 61), "iat_future", 401),
    ("nbf_future", put("nbf", int(NOW) + 120), "not_yet_valid", 401),
    # nonce
    ("nonce_missing", drop("nonce"), "nonce_missing", 401),
    ("nonce_empty", put("nonce", ""), "nonce_missing", 401),
    ("nonce_not_str", put("nonce", 5), "nonce_missing", 401),
    # LTI claims
    ("deployment_unknown", put(LTI + "deployment_id", "deploy-2"), "deployment_unknown", 401),
    ("deployment_empty", put(LTI + "deployment_id", ""), "deployment_id_missing", 400),
    ("sub_empty", put("sub", ""), "sub_missing", 400),
    ("sub_not_str", put("sub", 17), "sub_missing", 400),
    ("roles_not_list", put(LTI + "roles", "Learner"), "roles_malformed", 400),
    ("roles_with_junk", put(LTI + "roles", ["Learner", None]), "roles_malformed", 400),
    ("target_link_uri_missing", drop(LTI + "target_link_uri"), "target_link_uri_missing", 400),
    ("target_link_uri_empty", put(LTI + "target_link_uri", ""), "target_link_uri_missing", 400),
    ("context_without_id", put(LTI + "context", {"title": "x"}), "context_id_missing", 400),
    ("context_not_object", put(LTI + "context", "ctx-1"), "context_id_missing", 400),
    ("custom_not_object", put(LTI + "custom", ["x"]), "custom_malformed", 400),
    ("ags_not_object", put(AGS_CLAIM, "x"), "ags_malformed", 400),
    ("ags_bad_lineitem", put(AGS_CLAIM, {"scope": [], "lineitem": 5}), "ags_malformed", 400),
    ("nrps_without_url", put(NRPS_CLAIM, {"service_versions": ["2.0"]}), "nrps_malformed", 400),
]


@pytest.mark.parametrize(("edit", "rule", "status"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_payloads_rejected(edit, rule, status):
    claims = resource_link_claims()
    edit(claims)
    with pytest.raises(LaunchError) as exc:
        validate(claims)
    assert (exc.value.rule, exc.value.status) == (rule, status)
    assert exc.value.reason and exc.value.rule in str(exc.value)


def dl_setting(key: str, value: Any = None) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        if value is None:
            del c[DL + "deep_linking_settings"][key]
        else:
            c[DL + "deep_linking_settings"][key] = value

    return edit


BAD_DL: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("settings_missing", drop(DL + "deep_linking_settings"), "deep_linking_settings_missing"),
    (
        "settings_not_object",
        put(DL + "deep_linking_settings", "x"),
        "deep_linking_settings_missing",
    ),
    ("return_url_missing", dl_setting("deep_link_return_url"), "deep_link_return_url_missing"),
    ("accept_types_missing", dl_setting("accept_types"), "accept_types_missing"),
    ("accept_types_empty", dl_setting("accept_types", []), "accept_types_missing"),
    ("accept_types_not_list", dl_setting("accept_types", "link"), "accept_types_missing"),
    ("sub_missing", drop("sub"), "sub_missing"),
]


@pytest.mark.parametrize(("edit", "rule"), [b[1:] for b in BAD_DL], ids=[b[0] for b in BAD_DL])
def test_bad_deep_linking_requests(edit, rule):
    claims = deep_linking_claims()
    edit(claims)
    with pytest.raises(LaunchError) as exc:
        validate(claims)
    assert (exc.value.rule, exc.value.status) == (rule, 400)


def test_deep_linking_not_accepted_where_not_expected():
    with pytest.raises(LaunchError) as exc:
        validate(deep_linking_claims(), message_types={"LtiResourceLinkRequest"})
    assert exc.value.rule == "message_type_unsupported"


def test_anonymous_launch_when_sub_not_required():
    claims = resource_link_claims()
    del claims["sub"]
    assert validate(claims, require_sub=False).sub is None


def test_leeway_and_max_age_are_parameters():
    claims = resource_link_claims()
    claims["iat"] = int(NOW) - 100
    with pytest.raises(LaunchError, match="too_old"):
        validate(claims, max_age=30, leeway=0)
    assert validate(claims, max_age=30, leeway=80).sub == "user-1"
    claims["exp"] = int(NOW) - 10
    with pytest.raises(LaunchError, match="expired"):
        validate(claims, leeway=0)


def test_input_is_not_modified_and_checks_run_jwt_first():
    claims = resource_link_claims()
    before = copy.deepcopy(claims)
    validate(claims)
    assert claims == before
    # A forged issuer is reported as such (401), even when LTI claims are also broken.
    claims.update(iss="https://evil.example")
    del claims[LTI + "version"]
    with pytest.raises(LaunchError) as exc:
        validate(claims)
    assert (exc.value.rule, exc.value.status) == ("iss", 401)


def test_messages_carry_no_claim_secrets():
    claims = resource_link_claims()
    claims["nonce"] = "n"
    claims["iss"] = "https://evil.example/secret-token-abc"
    with pytest.raises(LaunchError) as exc:
        validate(claims)
    assert "secret-token-abc" not in str(exc.value)


# Hostile values: times that are no NumericDate, strings a store cannot keep or bound.

NUL, SURROGATE = "a\x00b", "a\ud800b"


def at(*path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(c: dict[str, Any]) -> None:
        obj = c
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value

    return edit


HOSTILE: list[tuple[str, Callable[[dict[str, Any]], None], str, int]] = [
    # exp NaN and 10**400 were a 500 (float() overflow, NaN comparisons); iat NaN passed.
    ("exp_nan", put("exp", float("nan")), "exp_malformed", 401),
    ("exp_inf", put("exp", float("inf")), "exp_malformed", 401),
    ("exp_huge_int", put("exp", 10**400), "exp_malformed", 401),
    ("exp_past_year_9999", put("exp", 253_402_300_800), "exp_malformed", 401),
    ("exp_negative", put("exp", -1), "exp_malformed", 401),
    ("iat_nan", put("iat", float("nan")), "iat_malformed", 401),
    ("iat_minus_inf", put("iat", float("-inf")), "iat_malformed", 401),
    ("iat_huge_int", put("iat", 10**400), "iat_malformed", 401),
    ("nbf_nan", put("nbf", float("nan")), "nbf_malformed", 401),
    ("nbf_string", put("nbf", "0"), "nbf_malformed", 401),
    ("nbf_huge_int", put("nbf", 10**400), "nbf_malformed", 401),
    # ids: 255 characters at most (LTI), no NUL (PostgreSQL), no lone surrogate (UTF-8)
    ("sub_256", put("sub", "s" * 256), "sub_malformed", 400),
    ("sub_nul", put("sub", NUL), "sub_malformed", 400),
    ("sub_surrogate", put("sub", SURROGATE), "sub_malformed", 400),
    ("resource_link_id_256", at(LTI + "resource_link", "id", value="r" * 256),
     "resource_link_id_malformed", 400),
    ("resource_link_id_nul", at(LTI + "resource_link", "id", value=NUL),
     "resource_link_id_malformed", 400),
    ("context_id_256", at(LTI + "context", "id", value="c" * 256), "context_id_malformed", 400),
    ("context_id_nul", at(LTI + "context", "id", value=NUL), "context_id_malformed", 400),
    ("nonce_nul", put("nonce", NUL), "nonce_malformed", 401),
    ("nonce_256", put("nonce", "n" * 256), "nonce_malformed", 401),
    ("target_link_uri_nul", put(LTI + "target_link_uri", "https://t.example/\x00"),
     "target_link_uri_malformed", 400),
    ("target_link_uri_encoded_nul",
     put(LTI + "target_link_uri", "https://t.example/lti/launch?provider_program_id=%00"),
     "target_link_uri_malformed", 400),
    ("target_link_uri_long", put(LTI + "target_link_uri", "https://t.example/" + "p" * 2048),
     "target_link_uri_malformed", 400),
    ("roles_nul", put(LTI + "roles", ["Learner", NUL]), "roles_malformed", 400),
    ("role_too_long", put(LTI + "roles", ["r" * 1025]), "roles_malformed", 400),
    ("too_many_roles", put(LTI + "roles", ["Learner"] * 257), "roles_malformed", 400),
    ("custom_value_nul", put(LTI + "custom", {"item": NUL}), "custom_malformed", 400),
    ("custom_value_long", put(LTI + "custom", {"item": "v" * 4097}), "custom_malformed", 400),
    ("custom_name_nul", put(LTI + "custom", {NUL: "1"}), "custom_malformed", 400),
    ("custom_name_long", put(LTI + "custom", {"k" * 256: "1"}), "custom_malformed", 400),
    ("email_nul", put("email", "ada\x00@example.edu"), "email_malformed", 400),
    ("email_surrogate", put("email", SURROGATE + "@example.edu"), "email_malformed", 400),
    ("email_too_long", put("email", "a" * 310 + "@example.edu"), "email_malformed", 400),
    ("name_nul", put("name", NUL), "name_malformed", 400),
    ("given_name_surrogate", put("given_name", SURROGATE), "given_name_malformed", 400),
    ("family_name_nul", put("family_name", NUL), "family_name_malformed", 400),
    ("resource_link_title_nul", at(LTI + "resource_link", "title", value=NUL),
     "resource_link_title_malformed", 400),
    ("context_title_nul", at(LTI + "context", "title", value=NUL),
     "context_title_malformed", 400),
    ("context_label_surrogate", at(LTI + "context", "label", value=SURROGATE),
     "context_label_malformed", 400),
    ("ags_lineitems_nul", at(AGS_CLAIM, "lineitems", value="https://x/\x00"),
     "ags_malformed", 400),
    ("ags_lineitem_long", at(AGS_CLAIM, "lineitem", value="https://x/" + "l" * 2048),
     "ags_malformed", 400),
    ("ags_scope_nul", at(AGS_CLAIM, "scope", value=[NUL]), "ags_malformed", 400),
    ("nrps_url_nul", at(NRPS_CLAIM, "context_memberships_url", value="https://x/\x00"),
     "nrps_malformed", 400),
    ("nrps_version_nul", at(NRPS_CLAIM, "service_versions", value=[NUL]),
     "nrps_malformed", 400),
]


@pytest.mark.parametrize(("edit", "rule", "status"), [b[1:] for b in HOSTILE],
                         ids=[b[0] for b in HOSTILE])
def test_hostile_values_are_refused_naming_the_claim(edit, rule, status):
    claims = resource_link_claims()
    edit(claims)
    with pytest.raises(LaunchError) as exc:
        validate(claims)
    assert (exc.value.rule, exc.value.status) == (rule, status)
    assert "\x00" not in str(exc.value)


HOSTILE_DL: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("return_url_javascript", dl_setting("deep_link_return_url", "javascript:alert(1)"),
     "deep_link_return_url_malformed"),
    ("return_url_nul", dl_setting("deep_link_return_url", "https://x/\x00"),
     "deep_link_return_url_malformed"),
    ("return_url_long", dl_setting("deep_link_return_url", "https://x/" + "r" * 2048),
     "deep_link_return_url_malformed"),
    ("accept_types_nul", dl_setting("accept_types", [NUL]), "deep_linking_settings_malformed"),
    ("targets_long", dl_setting("accept_presentation_document_targets", ["t" * 256]),
     "deep_linking_settings_malformed"),
    ("title_nul", dl_setting("title", NUL), "deep_linking_title_malformed"),
    ("text_surrogate", dl_setting("text", SURROGATE), "deep_linking_text_malformed"),
]


@pytest.mark.parametrize(("edit", "rule"), [b[1:] for b in HOSTILE_DL],
                         ids=[b[0] for b in HOSTILE_DL])
def test_hostile_deep_linking_settings_are_refused(edit, rule):
    claims = deep_linking_claims()
    edit(claims)
    with pytest.raises(LaunchError) as exc:
        validate(claims)
    assert (exc.value.rule, exc.value.status) == (rule, 400)


def test_limits_themselves_are_accepted_and_long_display_text_is_cut():
    from lmsbridge.core.lti.claims import MAX_NUMERIC_DATE, MAX_TEXT

    claims = resource_link_claims()
    claims.update(sub="s" * 255, nonce="n" * 255, exp=MAX_NUMERIC_DATE, nbf=0,
                  iat=int(NOW) - 0.5, name="N" * 10_000, email="a" * 308 + "@example.edu")
    claims[LTI + "resource_link"] = {"id": "r" * 255, "title": "T" * 10_000}
    claims[LTI + "context"] = {"id": "c" * 255, "title": "é" * 600, "label": "L" * 501}
    claims[LTI + "roles"] = ["r" * 1024] * 256
    claims[LTI + "custom"] = {"k" * 255: "v" * 4096, "n": 5, "nested": {"x": NUL}}
    lc = validate(claims)
    assert (lc.sub, lc.nonce) == ("s" * 255, "n" * 255)
    assert (lc.resource_link_id, lc.context_id) == ("r" * 255, "c" * 255)
    assert lc.name == "N" * MAX_TEXT and lc.resource_link_title == "T" * MAX_TEXT
    assert lc.context_title == "é" * MAX_TEXT and lc.context_label == "L" * MAX_TEXT
    assert len(lc.email) == 320 and len(lc.roles) == 256
    assert lc.valid_until == min(MAX_NUMERIC_DATE, claims["iat"] + 300) + 60

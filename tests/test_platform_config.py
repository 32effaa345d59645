"""lmsbridge platform config: what an LMS admin pastes, per LMS."""

from __future__ import annotations

import json

import pytest

from lmsbridge.core.cli import main
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import Tenant
from lmsbridge.core.store import Store

BASE = "https://tool.example.edu/lmsbridge"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"


def config(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["platform", "config", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_canvas_developer_key_json_points_at_our_urls(capsys):
    code, out, _ = config(capsys, "canvas", "--base-url", BASE, "--json")
    assert code == 0
    key = json.loads(out)
    assert key["oidc_initiation_url"] == BASE + "/lti/login"
    assert key["target_link_uri"] == BASE + "/lti/launch"
    assert key["public_jwk_url"] == BASE + "/.well-known/jwks.json"
    assert {AGS + "lineitem", AGS + "score", AGS + "result.readonly",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"} \
        <= set(key["scopes"])
    assert isinstance(key["custom_fields"], dict) and key["title"] and key["description"]
    [ext] = key["extensions"]
    assert (ext["platform"], ext["privacy_level"]) == ("canvas.instructure.com", "public")
    placements = {p["placement"]: p for p in ext["settings"]["placements"]}
    assert set(placements) == {"link_selection", "assignment_selection"}
    urls = ToolUrls(BASE)
    for p in placements.values():
        assert p["message_type"] == "LtiDeepLinkingRequest" and urls.is_ours(p["target_link_uri"])


@pytest.mark.parametrize(("lms", "expected"), [
    ("moodle", {"Tool URL": BASE + "/lti/launch", "LTI version": "LTI 1.3",
                "Public key type": "Keyset URL", "Public keyset": BASE + "/.well-known/jwks.json",
                "Initiate login URL": BASE + "/lti/login",
                "Redirection URI(s)": BASE + "/lti/launch",
                "IMS LTI Assignment and Grade Services":
                    "Use this service for grade sync and column management",
                "IMS LTI Names and Role Provisioning":
                    "Use this service to retrieve members' information as per privacy settings"}),
    ("blackboard", {"Login Initiation URL": BASE + "/lti/login",
                    "Tool Redirect URL(s)": BASE + "/lti/launch",
                    "Tool JWKS URL": BASE + "/.well-known/jwks.json",
                    "Domain(s)": "tool.example.edu"}),
    ("d2l", {"OpenID Connect Login URL": BASE + "/lti/login",
             "Target Link URI": BASE + "/lti/launch", "Redirect URLs": BASE + "/lti/launch",
             "Keyset URL": BASE + "/.well-known/jwks.json", "Roles": "Send Institution Role"}),
])
def test_form_based_lms_fields(capsys, lms, expected):
    code, out, _ = config(capsys, lms, "--base-url", BASE, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["lms"] == lms and doc["where"]
    assert {k: doc["fields"].get(k) for k in expected} == expected


def test_moodle_carries_the_seed_advice_on_tool_configuration_usage(capsys):
    _, out, _ = config(capsys, "moodle", "--base-url", BASE)
    assert "Tool configuration usage" in out
    assert "Show as a preconfigured tool when adding an external tool" in out


def test_d2l_names_the_token_audience_and_blackboard_the_shared_issuer(capsys):
    _, out, _ = config(capsys, "d2l", "--base-url", BASE)
    assert "--token-audience https://api.brightspace.com/auth/token" in out
    _, out, _ = config(capsys, "blackboard", "--base-url", BASE)
    assert "https://blackboard.com" in out and "Deep Linking content tool" in out


@pytest.mark.parametrize("url", ["http://tool.example.edu", "ftp://tool.example.edu",
                                 "tool.example.edu", "https://tool.example.edu/?a=1"])
def test_base_url_must_be_https_with_one_line_error(capsys, url):
    code, out, err = config(capsys, "canvas", "--base-url", url)
    assert code == 1 and out == ""
    assert "--base-url" in err and url in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("url", ["http://localhost:5000", "http://127.0.0.1:8000/x"])
def test_plain_http_is_allowed_for_a_local_trial(capsys, url):
    code, out, _ = config(capsys, "canvas", "--base-url", url, "--json")
    assert code == 0 and json.loads(out)["oidc_initiation_url"] == url + "/lti/login"


def test_tenant_names_the_tool_and_must_be_on_that_lms(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'lmsbridge.db'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    store = Store.open(url, tmp_path / "lmsbridge.key")
    store.tenants.add(Tenant("uni-a", "canvas"))
    store.dispose()
    capsys.readouterr()
    code = main(["--db", url, "platform", "config", "canvas", "--base-url", BASE,
                 "--tenant", "uni-a", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["title"] == "lmsbridge (uni-a)"
    code = main(["--db", url, "platform", "config", "moodle", "--base-url", BASE,
                 "--tenant", "uni-a"])
    err = capsys.readouterr().err
    assert code == 1 and "is a canvas tenant, not moodle" in err
    assert main(["--db", url, "platform", "config", "moodle", "--base-url", BASE,
                 "--tenant", "nope"]) == 1
    assert "no tenant named 'nope'" in capsys.readouterr().err

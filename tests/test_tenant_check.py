"""`lmsbridge tenant check NAME` against the mock LTI platform, the Canvas mock and the mock
Oracle pod over real HTTP: a good configuration says ok, each fault one line and exit 1, and
no secret reaches the output."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from oracle_helpers import ISSUER, KEYS, USER

from lmsbridge.adapters.canvas.mock import CanvasMock
from lmsbridge.adapters.oracle.auth import PROVIDER_ROLE
from lmsbridge.adapters.oracle.mock import MockOracle
from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.cli import main
from lmsbridge.core.lti.advantage import REFUSED
from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.lti.setup import SCOPES
from lmsbridge.core.model import PlatformRegistration, Program, Provider, Tenant
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store

TOOL = "https://tool.example"
API_TOKEN = "canvas-token-Zq81xLw0"  # what the tenant stores; the Canvas mock's own differs


@pytest.fixture
def db(empty_db_url, capsys) -> Iterator[Store]:
    assert main(["--db", empty_db_url, "db", "upgrade"]) == 0
    capsys.readouterr()
    store = Store.open(empty_db_url)  # the CLI's key file: lmsbridge.key in the cwd
    store.providers.add(Provider("acme"), "client", Secret("provider-secret"))
    store.programs.remember("acme", Program("p1", "Data Science"))
    yield store
    store.dispose()


@pytest.fixture
def check(db, empty_db_url, capsys):
    def check(name: str, *args: str) -> tuple[int, str, str]:
        code = main(["--db", empty_db_url, "tenant", "check", name, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return check


def ready(store: Store, tenant: Tenant) -> Tenant:
    """The tenant with the provider and an activated program, as core needs it."""
    store.tenants.add(tenant)
    store.programs.activate(tenant.name, "p1")
    return tenant


def register(store: Store, platform: MockLtiPlatform, tenant: str, **tool) -> None:
    """The tool installed on the platform with our public keys, and its registration here."""
    keyring = ToolKeyring(store)
    keyring.current()
    platform.register_tool(**{"client_id": f"lmsbridge-{tenant}", "deployment_ids": ["1"],
                              "jwks": keyring.jwks(), "launch_url": f"{TOOL}/lti/launch",
                              **tool})
    store.platforms.add(PlatformRegistration(**{**platform.registration(tenant),
                                                "client_id": f"lmsbridge-{tenant}"}))


def one_problem(code: int, out: str, name: str) -> str:
    assert code == 1, out
    (line,) = out.splitlines()
    assert line.startswith(f"{name}: ") and not line.startswith("ok")
    return line


# --- core's own part ----------------------------------------------------------------------


def test_core_says_what_is_missing_one_line_each(db, check):
    db.tenants.add(Tenant("bare", "lti"))
    code, out, _ = check("bare")
    assert code == 1
    lines = out.splitlines()
    assert [line.split(": ", 1)[1].split(":")[0] for line in lines] == [
        "no provider", "no LTI platform registration", "no activated program"]
    assert all(line.startswith("bare: ") for line in lines)


def test_an_adapter_without_the_capability_says_it_cannot_check(db, check):
    t = ready(db, Tenant("bb", "blackboard", provider="acme"))
    db.platforms.add(PlatformRegistration(
        tenant=t.name, issuer="https://blackboard.com", client_id="c", deployment_ids=("d",),
        auth_login_url="https://bb.test/auth", auth_token_url="https://bb.test/token",
        jwks_url="https://bb.test/jwks"))
    line = one_problem(*check("bb")[:2], "bb")
    assert line == "bb: adapter 'blackboard' cannot check its connection (it does not offer " \
                   "connection_check)"


def test_an_unknown_tenant_is_an_error(check):
    code, out, err = check("nobody")
    assert code == 1 and out == "" and "nobody" in err


# --- LTI ----------------------------------------------------------------------------------


@pytest.fixture
def lti() -> Iterator[MockLtiPlatform]:
    with MockLtiPlatform() as platform:
        yield platform


def test_lti_good_configuration_says_ok(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni")
    code, out, _ = check("uni")
    assert code == 0, out
    assert out == ("ok: uni (lti): provider acme; 1 platform registration(s); 1 activated "
                   "program(s); Any LTI 1.3 Advantage platform accepts our credentials\n")
    (token,) = lti.tokens.values()
    assert sorted(token["scopes"]) == sorted(SCOPES)  # a real token, with AGS and NRPS scopes
    assert lti.token_errors == []


def test_lti_wrong_client_id_is_refused(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni")
    lti.register_tool(**{**_tool(lti), "client_id": "someone-else"})
    line = one_problem(*check("uni")[:2], "uni")
    assert REFUSED in line and "client id lmsbridge-uni" in line and "invalid_client" in line


def test_lti_revoked_key_is_refused(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni")
    lti.register_tool(**{**_tool(lti), "jwks": {"keys": []}})  # the LMS forgot our key
    line = one_problem(*check("uni")[:2], "uni")
    assert REFUSED in line and "invalid_client" in line


def test_lti_scopes_not_enabled(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni", scopes=[SCOPES[0]])
    line = one_problem(*check("uni")[:2], "uni")
    assert "refused the AGS/NRPS scopes" in line


def test_lti_unreachable_token_endpoint(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni")
    lti.stop()
    line = one_problem(*check("uni")[:2], "uni")
    assert "could not be reached" in line


def test_lti_json_output(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni")
    code, out, _ = check("uni", "--json")
    assert code == 0 and json.loads(out) == {"tenant": "uni", "kind": "lti", "ok": True,
                                             "problems": []}
    lti.register_tool(**{**_tool(lti), "jwks": {"keys": []}})
    code, out, _ = check("uni", "--json")
    body = json.loads(out)
    assert code == 1 and body["ok"] is False and len(body["problems"]) == 1


def test_the_hook_call_is_audited_as_the_admin(db, check, lti):
    ready(db, Tenant("uni", "lti", provider="acme"))
    register(db, lti, "uni")
    assert check("uni")[0] == 0
    (row,) = db.audit_trail("uni", hook="lmsbridge_check_connection", limit=5)
    assert row.outcome == "ok" and row.actor.startswith("cli:") and row.detail == {
        "problems": 0}


def _tool(platform: MockLtiPlatform) -> dict:
    tool = platform.tool
    return {"client_id": tool.client_id, "deployment_ids": tool.deployment_ids,
            "jwks": tool.jwks, "launch_url": tool.launch_url}


# --- Canvas -------------------------------------------------------------------------------


@pytest.fixture
def canvas() -> Iterator[CanvasMock]:
    with CanvasMock(token=API_TOKEN) as mock:
        yield mock


def canvas_tenant(store: Store, mock: CanvasMock, token: str | None) -> Tenant:
    t = ready(store, Tenant("state-u", "canvas", provider="acme", base_url=mock.url))
    register(store, mock.lti, t.name)
    if token is not None:
        store.tenants.set_secret(t.name, "api_token", Secret(token))
    return t


def test_canvas_rest_good_token_says_ok(db, check, canvas):
    canvas_tenant(db, canvas, API_TOKEN)
    code, out, err = check("state-u")
    assert code == 0, out
    assert out.startswith("ok: state-u (canvas): ") and "Canvas LMS accepts" in out
    assert API_TOKEN not in out + err
    asked = [(e["method"], e["path"], e["status"]) for e in canvas.state()["requests"]]
    assert ("GET", "/api/v1/users/self", 200) in asked and ("POST", "/token", 200) in asked


def test_canvas_bad_api_token(db, check, canvas):
    bad = "revoked-token-Hk29sPq"
    canvas_tenant(db, canvas, bad)
    code, out, err = check("state-u")
    line = one_problem(code, out, "state-u")
    assert "api_token invalid or expired" in line
    assert bad not in out + err and API_TOKEN not in out + err
    code, out, err = check("state-u", "--json")
    assert code == 1 and bad not in out + err
    (problem,) = json.loads(out)["problems"]
    assert problem.startswith("api_token invalid or expired")


def test_canvas_lti_mode_good_and_revoked_key(db, check, canvas):
    canvas_tenant(db, canvas, None)
    code, out, _ = check("state-u")
    assert code == 0, out
    canvas.lti.register_tool(**{**_tool(canvas.lti), "jwks": {"keys": []}})
    line = one_problem(*check("state-u")[:2], "state-u")
    assert REFUSED in line and "https://canvas.instructure.com" in line


def test_canvas_wrong_client_id_and_bad_token_are_two_lines(db, check, canvas):
    canvas_tenant(db, canvas, "not-it-Qm3kd9")
    canvas.lti.register_tool(**{**_tool(canvas.lti), "client_id": "other"})
    code, out, _ = check("state-u")
    assert code == 1
    first, second = out.splitlines()
    assert REFUSED in first and "api_token invalid or expired" in second


# --- Oracle -------------------------------------------------------------------------------


def oracle_tenant(store: Store, pod: MockOracle) -> Tenant:
    t = ready(store, Tenant("pod", "oracle", provider="acme", base_url=pod.url,
                            options={"issuer": ISSUER, "username": USER,
                                     "identify_by": "email"}))
    store.tenants.set_secret(t.name, "private_key", Secret(KEYS.private_key_pem.decode()))
    store.tenants.set_secret(t.name, "certificate", Secret(KEYS.certificate_pem.decode()))
    return t


def _no_key_material(text: str) -> None:
    body = KEYS.private_key_pem.decode().splitlines()[1]
    assert "PRIVATE KEY" not in text and body not in text


def test_oracle_good_configuration_says_ok(db, check):
    pod = MockOracle()
    pod.trust(ISSUER, KEYS.certificate_pem)
    pod.add_user(USER, [PROVIDER_ROLE])
    with pod:
        oracle_tenant(db, pod)
        code, out, err = check("pod")
    assert code == 0, out
    assert out == ("ok: pod (oracle): provider acme; 1 activated program(s); Oracle Learning "
                   "accepts our credentials\n")
    _no_key_material(out + err)


@pytest.mark.parametrize(("setup", "words"), [
    (lambda pod: pod.add_user(USER, [PROVIDER_ROLE]), "certificate not uploaded"),
    (lambda pod: (pod.trust(ISSUER, KEYS.certificate_pem), pod.add_user(USER, ["ORA_OTHER"])),
     "missing role"),
    (lambda pod: pod.trust(ISSUER, KEYS.certificate_pem), f"user {USER!r} does not exist"),
], ids=["no-certificate", "missing-role", "no-user"])
def test_oracle_refusals_in_the_setup_guides_words(db, check, setup, words):
    with MockOracle() as pod:
        setup(pod)
        oracle_tenant(db, pod)
        code, out, err = check("pod")
        url = pod.url
    line = one_problem(code, out, "pod")
    assert words in line and url in line
    _no_key_material(out + err)


def test_oracle_without_a_key_says_to_run_keygen(db, check):
    with MockOracle() as pod:
        ready(db, Tenant("pod", "oracle", provider="acme", base_url=pod.url,
                         options={"issuer": ISSUER, "username": USER, "identify_by": "email"}))
        line = one_problem(*check("pod")[:2], "pod")
    assert "no secret 'private_key'" in line and "oracle keygen" in line

"""Cost of validating one LTI 1.3 launch in-process, against pylti1p3 and the bare verify.

Run: ``.venv/bin/python bench/launch.py [--iterations N]`` (bench-only dependency:
``.venv/bin/pip install pylti1p3==2.0.0``; without it that row is skipped).

Three candidates on the same RS256 id_tokens (a realistic ~3 KB Canvas-like launch signed by
the project's MockLtiPlatform, one distinct nonce per run):

- ``lmsbridge``: ``LaunchValidator.validate()`` - browser state, registration lookup in the
  store, kid + RS256 signature against the cached platform JWKS, every claim rule, our
  target_link_uri, and the nonce consumed by an INSERT committed to a file SQLite database
  (WAL + synchronous=NORMAL, as ``Store`` opens it);
- ``pylti1p3``: pylti1p3 2.0.0's ``MessageLaunch.validate()`` (framework-free subclasses of its
  Request/Cookie/Session classes, ToolConfDict with the key set inline so neither side fetches
  keys in the loop). It checks state, nonce presence in the session (never consumed),
  registration, signature (PyJWT), deployment and message type, and skips aud/azp, iat age,
  target_link_uri and replay;
- ``bare verify``: ``cryptography`` RSA PKCS#1 v1.5 SHA-256 verify of the signing input -
  the floor no validator can go under.

Figures on the 2-core development machine (3000 runs after 200 warm-up, Python 3.11; five
runs of one build, 2026-11-22, another job sharing the machine)::

    candidate      median        p95          vs pylti1p3   vs bare verify
    bare verify    19.4-19.7 us  20.0-20.3 us    0.06x          1.0x
    lmsbridge      64.7-67.8 us  78-80 us        0.21-0.23x     3.3-3.5x
    pylti1p3       300-304 us    319-326 us      1.00x         15.3-15.7x

The target (at most a quarter of pylti1p3) is met: median of the five runs 66.8 us, 0.22x.
Before this round, same day and machine: lmsbridge 84.5-85.7 us, 0.28-0.29x (pylti1p3
292-297 us); the round before that 135-139 us, 0.55-0.57x. What changed this round:

- the nonce INSERT runs on one SQLite connection per engine kept for it (autocommit, behind
  a lock; SQLite serializes writers anyway) instead of a pool check-out per launch: 14-15
  against 23-24 us per INSERT measured side by side (core/store/nonces.py); PostgreSQL and
  in-memory SQLite keep the pooled path;
- claim rules 8.4 -> 6.1 us alone: claim names built once, ``isinstance(v, (dict, Mapping))``
  so a JSON dict skips the ABC check, loops instead of ``all()`` over generators;
- one ``bytes.translate`` per base64url segment also turns ``+/=`` into bytes strict
  ``a2b_base64`` refuses, instead of three scans for them.

Where the time goes now, each stage timed inside the launch loop (medians; 10-30 % slower
than alone in a hot loop, caches being shared with the other stages): signature 23 us (the
RS256 verify ~20, plus header rules, key lookup, signature decode), nonce 13.6 us (SQLite
INSERT + commit 10, SQLAlchemy's bind processing of expires_at and the sweep check 3.5),
split + strict base64url + header JSON 11 us, payload JSON 6 us, claim rules 6.5 us
(building the frozen ``LaunchClaims`` is ~1.8 of it), registration + target_link_uri 1 us,
glue ~2 us. Nothing of it can go without dropping a check: verify + SQLite commit + stdlib
parsing of 3 KB are ~50 us of the 67. pylti1p3 reaches its ~300 us while never consuming a
nonce and skipping aud/azp, iat age and target_link_uri. Timing noise on a shared machine
moves these by ~10 %; compare ratios from one run.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from lmsbridge.conformance.lti import MockLtiPlatform
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.launch import LaunchValidator
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import PlatformRegistration, Tenant
from lmsbridge.core.store import Store

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
TOOL = ToolUrls("https://tool.example.edu")
CLIENT_ID = "10000000000042"
DEPLOYMENT = "137:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


def launch_claims(issuer: str, nonce: str, now: int) -> dict[str, Any]:
    ctx = "4dde05e8ca1973bcca9bffc13e1548820eee93a3"
    return {
        "iss": issuer, "aud": CLIENT_ID, "azp": CLIENT_ID,
        "sub": "535fa085f22b4655f48cd5a36a9215f64c062838",
        "iat": now, "exp": now + 300, "nonce": nonce,
        "name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace",
        "email": "ada@example.edu", "locale": "en",
        LTI + "message_type": "LtiResourceLinkRequest", LTI + "version": "1.3.0",
        LTI + "deployment_id": DEPLOYMENT, LTI + "target_link_uri": TOOL.launch,
        LTI + "resource_link": {"id": "2b1f9b0e-7c8d-4e5f-9a0b-1c2d3e4f5a6b",
                                "title": "Week 3: Supervised learning quiz"},
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
                        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"],
        LTI + "context": {"id": ctx, "label": "DS101", "title": "Data Science 101",
                          "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#"
                                   "CourseOffering"]},
        LTI + "tool_platform": {"guid": "canvas-guid", "name": "Example University",
                                "product_family_code": "canvas", "version": "cloud"},
        LTI + "launch_presentation": {"document_target": "iframe", "locale": "en",
                                      "return_url": issuer + "/courses/42/modules"},
        LTI + "custom": {"provider_program_id": "prog-1", "provider_course_id": "c1",
                         "provider_item_id": "q1"},
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                      "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "lineitems": issuer + "/api/lti/courses/42/line_items",
            "lineitem": issuer + "/api/lti/courses/42/line_items/7"},
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": issuer + "/api/lti/courses/42/names_and_roles",
            "service_versions": ["2.0"]},
    }


def measure(fn: Callable[[int], None], runs: int, warmup: int) -> list[float]:
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(warmup, warmup + runs):
        start = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - start)
    return out


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def pylti1p3_candidate(platform: MockLtiPlatform, tokens: list[str],
                       nonces: list[str]) -> Callable[[int], None] | None:
    try:
        from pylti1p3.cookie import CookieService
        from pylti1p3.message_launch import MessageLaunch
        from pylti1p3.request import Request
        from pylti1p3.session import SessionService
        from pylti1p3.tool_config import ToolConfDict
    except ImportError:
        return None

    class FormRequest(Request):
        def __init__(self, params: dict[str, str], session: dict[str, Any]) -> None:
            self._params, self._session = params, session

        @property
        def session(self) -> dict[str, Any]:
            return self._session

        def is_secure(self) -> bool:
            return True

        def get_param(self, key: str) -> str | None:
            return self._params.get(key)

    class Cookies(CookieService):
        def __init__(self, jar: dict[str, str]) -> None:
            self.jar = jar

        def get_cookie(self, name: str) -> str | None:
            return self.jar.get(f"{self._cookie_prefix}-{name}")

        def set_cookie(self, name: str, value: Any, exp: int = 3600) -> None:
            self.jar[f"{self._cookie_prefix}-{name}"] = value

    class Launch(MessageLaunch):
        def _get_request_param(self, key: str) -> str:
            return self._request.get_param(key)

    conf = ToolConfDict({platform.issuer: [{
        "default": True, "client_id": CLIENT_ID, "auth_login_url": platform.auth_url,
        "auth_token_url": platform.token_url, "key_set": platform.public_jwks(),
        "deployment_ids": [DEPLOYMENT]}]})
    pem = serialization.load_pem_private_key(_PEM, None)
    conf.set_private_key(platform.issuer, _PEM.decode(), client_id=CLIENT_ID)
    conf.set_public_key(platform.issuer, pem.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        client_id=CLIENT_ID)
    prepared = []
    for token, nonce in zip(tokens, nonces, strict=True):
        state = "state-" + nonce
        session: dict[str, Any] = {}
        request = FormRequest({"id_token": token, "state": state}, session)
        sessions = SessionService(request)
        sessions.save_nonce(nonce)
        cookies = Cookies({})
        cookies.set_cookie(state, state)
        prepared.append((request, sessions, cookies))

    def run(i: int) -> None:
        request, sessions, cookies = prepared[i]
        Launch(request, conf, sessions, cookies).validate()

    return run


_PEM = b""  # the tool's own key for pylti1p3's ToolConf (unused by validate); set in main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    total = args.iterations + args.warmup

    global _PEM
    from cryptography.hazmat.primitives.asymmetric import rsa
    _PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())

    with tempfile.TemporaryDirectory() as tmp, MockLtiPlatform() as platform:
        now = int(time.time())
        nonces = [secrets.token_urlsafe(32) for _ in range(total)]
        tokens = [platform.sign(launch_claims(platform.issuer, n, now)) for n in nonces]
        public = platform._keys[-1][1].public_key()
        signed = [(s.encode(), _unb64(sig)) for s, sig in (t.rsplit(".", 1) for t in tokens)]

        def bare(i: int) -> None:
            data, sig = signed[i]
            public.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())

        results: dict[str, list[float]] = {}
        results["bare verify"] = measure(bare, args.iterations, args.warmup)
        store = _store(Path(tmp), platform)
        validator = LaunchValidator(store, JwksCache())

        def ours(i: int) -> None:
            validator.validate(id_token=tokens[i], state="s", browser_nonce=nonces[i], urls=TOOL)

        results["lmsbridge"] = measure(ours, args.iterations, args.warmup)
        store.dispose()
        theirs = pylti1p3_candidate(platform, tokens, nonces)
        if theirs is not None:
            results["pylti1p3"] = measure(theirs, args.iterations, args.warmup)

    floor = statistics.median(results["bare verify"])
    base = statistics.median(results["pylti1p3"]) if "pylti1p3" in results else None
    print(f"{len(tokens[0])} byte id_token, {args.iterations} runs after {args.warmup} "
          "warm-up")
    print(f"{'candidate':<14}{'median':>11}{'p95':>11}{'vs pylti1p3':>14}{'vs bare':>10}")
    for name, samples in results.items():
        med = statistics.median(samples)
        rel = f"{med / base:.2f}x" if base else "n/a"
        print(f"{name:<14}{med * 1e6:>8.1f} us{p95(samples) * 1e6:>8.1f} us{rel:>14}"
              f"{med / floor:>9.1f}x")
    if base is None:
        print("pylti1p3 skipped: pip install pylti1p3==2.0.0 (bench-only dependency)")
    return 0


def _store(folder: Path, platform: MockLtiPlatform) -> Store:
    # As shipped: WAL + synchronous=NORMAL (core/store/database.py).
    store = Store.open(f"sqlite:///{folder / 'bench.db'}", folder / "bench.key")
    store.upgrade()
    store.tenants.add(Tenant("uni-a", "canvas"))
    store.platforms.add(PlatformRegistration(
        tenant="uni-a", issuer=platform.issuer, client_id=CLIENT_ID,
        deployment_ids=(DEPLOYMENT,), auth_login_url=platform.auth_url,
        auth_token_url=platform.token_url, jwks_url=platform.jwks_url))
    return store


def _unb64(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


if __name__ == "__main__":
    sys.exit(main())

"""Cost of decoding + verifying one RS256 LTI id_token with each JOSE library.

Run: ``.venv/bin/python bench/jose_verify.py [--iterations N]``

Every candidate verifies the same ~2 KB token against an already-imported public key (the
JWKS cache holds imported keys, so key import is not on the launch path) and returns the
claims as a dict. Claim checks are switched off where a library does them, so only
parse + base64 + JSON + signature is compared; claims are validated by our own code anyway.
The floor is a bare ``cryptography`` verify of the precomputed signing input and signature.
Libraries that are not installed are reported as skipped.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISS = "https://canvas.instructure.com"
CLIENT_ID = "10000000000042"
KID = "2026-11-01T00:00:00Z"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _lti_claims(now: int) -> dict[str, Any]:
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    return {
        "iss": ISS,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": "535fa085f22b4655f48cd5a36a9215f64c062838",
        "exp": now + 3600,
        "iat": now,
        "nonce": "b6a1d9e0-6b64-4f8c-9d1a-0f2f6c1e7a3d",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.edu",
        "locale": "en",
        lti + "message_type": "LtiResourceLinkRequest",
        lti + "version": "1.3.0",
        lti + "deployment_id": "137:a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        lti + "target_link_uri": "https://tool.example.com/lti/launch",
        lti + "resource_link": {
            "id": "2b1f9b0e-7c8d-4e5f-9a0b-1c2d3e4f5a6b",
            "title": "Week 3: Supervised learning quiz",
            "description": None,
        },
        lti + "roles": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
            "http://purl.imsglobal.org/vocab/lis/v2/system/person#User",
        ],
        lti + "context": {
            "id": "4dde05e8ca1973bcca9bffc13e1548820eee93a3",
            "label": "ML101",
            "title": "Machine Learning 101",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
        },
        lti + "launch_presentation": {
            "document_target": "iframe",
            "return_url": "https://canvas.example.edu/courses/42/external_content/success/external_tool_redirect",
            "locale": "en",
        },
        lti + "custom": {"canvas_user_id": "1234", "canvas_course_id": "42"},
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            ],
            "lineitems": "https://canvas.example.edu/api/lti/courses/42/line_items",
            "lineitem": "https://canvas.example.edu/api/lti/courses/42/line_items/7",
        },
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": "https://canvas.example.edu/api/lti/courses/42/names_and_roles",
            "service_versions": ["2.0"],
        },
    }


def make_token(private_key: rsa.RSAPrivateKey) -> str:
    """Sign with cryptography directly so no candidate library produced its own input."""
    header = {"typ": "JWT", "alg": "RS256", "kid": KID}
    payload = _lti_claims(int(time.time()))
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(payload, separators=(",", ":")).encode())
    )
    sig = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(sig)


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    nums = public_key.public_numbers()

    def enc(i: int) -> str:
        return _b64(i.to_bytes((i.bit_length() + 7) // 8, "big"))

    return {
        "kty": "RSA",
        "kid": KID,
        "alg": "RS256",
        "use": "sig",
        "n": enc(nums.n),
        "e": enc(nums.e),
    }


def _b64d(seg: str) -> bytes:
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


# Each builder returns a zero-argument verify call (setup cost excluded), or raises
# ImportError when the library is missing.
Builder = Callable[[str, rsa.RSAPublicKey, dict[str, str]], Callable[[], Any]]


def build_floor(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    signing_input, _, sig_seg = token.rpartition(".")
    si, sig = signing_input.encode(), _b64d(sig_seg)
    pkcs, sha = padding.PKCS1v15(), hashes.SHA256()
    return lambda: pub.verify(sig, si, pkcs, sha)


def build_split(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    """What idtoken.py does: split, decode, check alg, verify with cryptography, load JSON."""
    pkcs, sha = padding.PKCS1v15(), hashes.SHA256()

    def run() -> Any:
        h, p, s = token.split(".")
        header = json.loads(_b64d(h))
        if header.get("alg") != "RS256":
            raise ValueError("alg")
        pub.verify(_b64d(s), f"{h}.{p}".encode("ascii"), pkcs, sha)
        return json.loads(_b64d(p))

    return run


def build_joserfc(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(jwk)
    return lambda: jwt.decode(token, key, algorithms=["RS256"]).claims


def build_joserfc_jws(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    """joserfc's lower level (no JWT layer), plus our own json.loads of the payload."""
    from joserfc import jws
    from joserfc.jwk import RSAKey

    key = RSAKey.import_key(jwk)
    return lambda: json.loads(jws.deserialize_compact(token, key, algorithms=["RS256"]).payload)


def build_pyjwt(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    import jwt

    key = jwt.PyJWK(jwk)
    opts = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False}
    return lambda: jwt.decode(token, key, algorithms=["RS256"], options=opts)


def build_jwcrypto(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    from jwcrypto import jwk as jk
    from jwcrypto import jwt

    key = jk.JWK(**jwk)
    return lambda: json.loads(
        jwt.JWT(jwt=token, key=key, algs=["RS256"], check_claims=False).claims
    )


def build_authlib(token: str, pub: rsa.RSAPublicKey, jwk: dict[str, str]) -> Callable[[], Any]:
    import authlib.deprecate  # noqa: F401  (installs its own "always" filter on import)

    with warnings.catch_warnings():  # authlib.jose announces its own deprecation
        warnings.simplefilter("ignore")
        from authlib.jose import JsonWebKey, JsonWebToken

    key = JsonWebKey.import_key(jwk)
    decoder = JsonWebToken(["RS256"])
    return lambda: decoder.decode(token, key)


def _lmsbridge_path(
    token: str, jwk: dict[str, str]
) -> tuple[Callable[[], Any], Callable[[], Any], Callable[[], None]]:
    """Our launch path: decode_id_token (JWKS cache primed from a loopback server) and
    decode + validate_launch_claims. Returns the two calls and a stop function."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from lmsbridge.core.lti.claims import validate_launch_claims
    from lmsbridge.core.lti.idtoken import decode_id_token
    from lmsbridge.core.lti.jwks import JwksCache

    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_port}/jwks"
    cache = JwksCache()
    claims = json.loads(_b64d(token.split(".")[1]))
    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    deployments = {claims[lti + "deployment_id"]}

    def decode() -> Any:
        return decode_id_token(token, jwks=cache, jwks_url=url)

    def full() -> Any:
        validate_launch_claims(
            decode(), issuer=ISS, client_id=CLIENT_ID, deployment_ids=deployments, now=time.time()
        )

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()

    return decode, full, stop


CANDIDATES: list[tuple[str, str, Builder]] = [
    ("cryptography verify (floor)", "cryptography", build_floor),
    ("split + cryptography", "cryptography", build_split),
    ("joserfc jwt.decode", "joserfc", build_joserfc),
    ("joserfc jws.deserialize_compact", "joserfc", build_joserfc_jws),
    ("PyJWT jwt.decode", "PyJWT", build_pyjwt),
    ("jwcrypto JWT", "jwcrypto", build_jwcrypto),
    ("authlib.jose (deprecated)", "Authlib", build_authlib),
]


def measure(fn: Callable[[], Any], iterations: int, warmup: int) -> list[int]:
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(iterations):
        t0 = clock()
        fn()
        samples.append(clock() - t0)
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--warmup", type=int, default=300)
    args = ap.parse_args()

    from importlib.metadata import PackageNotFoundError, version

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = private_key.public_key()
    token = make_token(private_key)
    jwk = public_jwk(pub)
    reference = json.loads(_b64d(token.split(".")[1]))
    print(
        f"token: {len(token)} bytes ({len(json.dumps(reference))} bytes of claims), RSA-2048, "
        f"{args.iterations} iterations, {args.warmup} warm-up"
    )

    rows: list[tuple[str, str, float, float]] = []
    for label, dist, build in CANDIDATES:
        try:
            ver = version(dist)
            fn = build(token, pub, jwk)
        except (ImportError, PackageNotFoundError):
            print(f"skipped {label}: {dist} not installed")
            continue
        out = fn()
        if out is not None and dict(out) != reference:  # every candidate must really decode
            raise SystemExit(f"{label} returned different claims")
        s = measure(fn, args.iterations, args.warmup)
        p95 = statistics.quantiles(s, n=20)[18]
        rows.append((label, f"{dist} {ver}", statistics.median(s) / 1000, p95 / 1000))

    decode, full, stop = _lmsbridge_path(token, jwk)
    try:
        for label, fn in [
            ("lmsbridge decode_id_token", decode),
            ("  + validate_launch_claims", full),
        ]:
            fn()
            s = measure(fn, args.iterations, args.warmup)
            p95 = statistics.quantiles(s, n=20)[18]
            rows.append((label, "joserfc", statistics.median(s) / 1000, p95 / 1000))
    finally:
        stop()

    floor = rows[0][2]
    print(f"\n{'candidate':34} {'version':22} {'median us':>10} {'p95 us':>9} {'x floor':>8}")
    for label, ver, med, p95 in rows:
        print(f"{label:34} {ver:22} {med:10.1f} {p95:9.1f} {med / floor:8.2f}")
    print(
        f"\nlaunch budget (1/4 of pylti1p3 MessageLaunch.validate, ~425 us here): {425 / 4:.0f} us"
    )


if __name__ == "__main__":
    main()

from datetime import UTC, datetime, timedelta

from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from lmsbridge.core.lti.keys import ToolKeyring
from lmsbridge.core.store.schema import tool_keys


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 22, tzinfo=UTC)

    def __call__(self):
        return self.now


def test_first_use_makes_a_key_encrypted_at_rest(store):
    keyring = ToolKeyring(store)
    key = keyring.current()
    assert keyring.current().kid == key.kid  # made once
    with store.engine.connect() as conn:
        (stored,) = conn.execute(select(tool_keys.c.private_key)).scalars()
    assert "PRIVATE KEY" not in stored
    assert "PRIVATE" not in repr(key)
    (jwk,) = keyring.jwks()["keys"]
    assert jwk["kid"] == key.kid and jwk["alg"] == "RS256" and jwk["use"] == "sig"
    assert "d" not in jwk  # public half only


def test_signed_token_verifies_against_published_jwks(store):
    keyring = ToolKeyring(store)
    token = keyring.sign({"iss": "client-1", "sub": "client-1"})
    keys = KeySet.import_key_set(keyring.jwks())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    assert decoded.claims["iss"] == "client-1"
    assert decoded.header["kid"] == keyring.current().kid


def test_rotation_keeps_old_key_published_for_the_grace_period(store):
    clock = Clock()
    keyring = ToolKeyring(store, clock)
    old = keyring.current()
    new = keyring.rotate(grace=timedelta(days=7))
    assert keyring.current().kid == new.kid != old.kid
    assert [k["kid"] for k in keyring.jwks()["keys"]] == [new.kid, old.kid]
    clock.now += timedelta(days=7, seconds=1)
    assert [k["kid"] for k in keyring.jwks()["keys"]] == [new.kid]
    assert keyring.retire_expired() == [old.kid]
    assert keyring.retire_expired() == []

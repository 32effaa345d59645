"""A tenant's Oracle settings (``tenant.options``), validated with errors naming the option.

=====================  =====================================================================
option                 meaning
=====================  =====================================================================
issuer                 trusted issuer the Oracle admin entered (setup guide step 9.3); jwt only
username               the integration user, e.g. ``user.coursera`` (setup guide step 6)
identify_by            ``email`` (work email -> ``mbox``) or ``username`` (-> ``account``)
auth                   ``jwt`` (default) or ``oauth`` (OCI IAM client credentials)
oauth_token_url        OCI IAM token endpoint; oauth only
oauth_client_id        the confidential app's client id; oauth only
oauth_scope            e.g. ``urn:opc:resource:fa:instanceid=...urn:opc:resource:consumer::all``
provider_code          which ``digitalLearningProviders`` record is ours (default COURSERA)
attribute_mapping      per-target overrides, see :mod:`.mapping`
statement_batch_size   statements per POST (default 50)
=====================  =====================================================================

Secrets (``runtime.secret``): ``private_key`` and ``certificate`` for jwt,
``oauth_client_secret`` for oauth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from lmsbridge.adapters.oracle.mapping import AttributeMapping, MappingError
from lmsbridge.core.api import ConfigError, Tenant

KNOWN = frozenset({
    "issuer", "username", "identify_by", "auth", "oauth_token_url", "oauth_client_id",
    "oauth_scope", "provider_code", "attribute_mapping", "statement_batch_size",
})  # fmt: skip


@attrs.frozen
class OracleOptions:
    base_url: str
    username: str
    identify_by: str
    auth: str
    issuer: str | None
    oauth_token_url: str | None
    oauth_client_id: str | None
    oauth_scope: str | None
    provider_code: str
    mapping: AttributeMapping
    statement_batch_size: int

    @classmethod
    def from_tenant(cls, tenant: Tenant) -> OracleOptions:
        opts: Mapping[str, Any] = tenant.options or {}
        where = f"tenant {tenant.name!r}"
        problems = [f"unknown option {k!r}" for k in sorted(set(opts) - KNOWN)]

        def text(name: str, required: bool) -> str | None:
            value = opts.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if required:
                    problems.append(f"option {name!r} is required")
                return None
            if not isinstance(value, str):
                problems.append(f"option {name!r} must be a string")
                return None
            return value.strip()

        if not tenant.base_url:
            problems.append("the pod URL (base_url) is not set")
        auth = opts.get("auth", "jwt")
        if auth not in ("jwt", "oauth"):
            problems.append(f"option 'auth' must be 'jwt' or 'oauth', got {auth!r}")
        identify_by = opts.get("identify_by", "email")
        if identify_by not in ("email", "username"):
            problems.append(f"option 'identify_by' must be 'email' or 'username', "
                            f"got {identify_by!r}")
        username = text("username", required=auth == "jwt")
        issuer = text("issuer", required=auth == "jwt")
        token_url = text("oauth_token_url", required=auth == "oauth")
        if token_url and urlsplit(token_url).scheme not in ("http", "https"):
            problems.append(f"option 'oauth_token_url' must be an http(s) URL, got {token_url!r}")
        client_id = text("oauth_client_id", required=auth == "oauth")
        scope = text("oauth_scope", required=False)
        provider_code = text("provider_code", required=False) or "COURSERA"
        batch = opts.get("statement_batch_size", 50)
        if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= 500:
            problems.append(f"option 'statement_batch_size' must be 1..500, got {batch!r}")
        mapping = AttributeMapping()
        try:
            mapping = AttributeMapping.from_config(opts.get("attribute_mapping"))
        except MappingError as err:
            problems.append(f"option 'attribute_mapping': {err}")
        except AttributeError:
            problems.append("option 'attribute_mapping' must be an object")
        if problems:
            raise ConfigError(f"{where}: " + "; ".join(problems))
        return cls(
            base_url=str(tenant.base_url).rstrip("/"), username=username or "",
            identify_by=identify_by, auth=auth, issuer=issuer, oauth_token_url=token_url,
            oauth_client_id=client_id, oauth_scope=scope, provider_code=provider_code,
            mapping=mapping, statement_batch_size=batch,
        )  # fmt: skip

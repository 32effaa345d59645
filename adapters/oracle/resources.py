"""Oracle's REST shapes for provider content and statements: paths, key names, media types.

Every Oracle-side name here that is not public is marked GUESSED; the mock and the client both
read them from this module, so correcting a guess is a one-line change (attribute names of the
content payload itself live in :mod:`.mapping`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The HCM REST version the provider duty grants access to (public).
API_ROOT = "/hcmRestApi/resources/11.13.18.05"
#: The provider resource (public name; listed under the Learning Content Provider duty).
PROVIDERS_PATH = f"{API_ROOT}/digitalLearningProviders"
#: Child collection holding one provider's content (public: "child /content").
CONTENT_CHILD = "content"

# ==================================================================================================
# GUESSED -- key and attribute names of the provider and content records (fetch the real ones
# from `.../digitalLearningProviders/describe` on a pod and correct them here).
PROVIDER_ID = "LearningProviderId"  # the provider record's key in the URL
PROVIDER_CODE = "ProviderCode"  # what a tenant configures ("COURSERA")
CONTENT_ID = "ContentId"  # Oracle's key of a content record, used in its URL
PROVIDER_CONTENT_ID = "ProviderContentId"  # our id of the content (Publication.key)
#: Where xAPI statements go (MOS Doc 3041803.1 is not public).
STATEMENTS_PATH = "/hcmRestApi/learningRecordStore/xapi/statements"
# ==================================================================================================

#: OCI IAM (IDCS) token endpoint path for the OAuth client-credentials alternative (public).
OAUTH_TOKEN_PATH = "/oauth2/v1/token"

# ADF REST media types and headers (public).
ITEM_MEDIA_TYPE = "application/vnd.oracle.adf.resourceitem+json"
COLLECTION_MEDIA_TYPE = "application/vnd.oracle.adf.resourcecollection+json"
ERROR_MEDIA_TYPE = "application/vnd.oracle.adf.error+json"
UPSERT_MODE = "Upsert-Mode"
REST_FRAMEWORK_VERSION = "REST-Framework-Version"
#: ADF caps `limit`; 500 is the documented maximum for most resources.
MAX_LIMIT = 500
DEFAULT_LIMIT = 25


def provider_path(provider_id: str | int) -> str:
    return f"{PROVIDERS_PATH}/{provider_id}"


def content_path(provider_id: str | int, content_id: str | int | None = None) -> str:
    base = f"{provider_path(provider_id)}/child/{CONTENT_CHILD}"
    return base if content_id is None else f"{base}/{content_id}"


def q_equals(attribute: str, value: str) -> str:
    """An ADF ``q=`` expression matching one attribute exactly (quotes doubled per ADF)."""
    return f"{attribute}='{value.replace(chr(39), chr(39) * 2)}'"


def adf_error(status: int, title: str, detail: str, code: str | None = None) -> dict[str, Any]:
    """The body ADF (REST framework 4+) answers errors with."""
    entry: dict[str, Any] = {"detail": detail}
    if code:
        entry["o:errorCode"] = code
    return {
        "type": "http://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html",
        "title": title,
        "status": str(status),
        "o:errorDetails": [entry],
    }


def error_detail(body: Any) -> tuple[str | None, str]:
    """``(code, detail)`` from an ADF error body, tolerating plain text and other shapes."""
    if isinstance(body, Mapping):
        details = body.get("o:errorDetails")
        if isinstance(details, list) and details and isinstance(details[0], Mapping):
            first = details[0]
            return first.get("o:errorCode"), str(first.get("detail", ""))[:500]
        return None, str(body.get("detail") or body.get("title") or "")[:500]
    return None, str(body or "")[:500]

"""LTI 1.1 Basic Outcomes: replaceResult / readResult / deleteResult for legacy installs.

The request is a POX envelope (``imsx_POXEnvelopeRequest``, namespace
``http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0``) POSTed as ``application/xml``
to the launch's ``lis_outcome_service_url``, for the ``lis_result_sourcedid`` of a learner,
signed with OAuth 1.0a HMAC-SHA1 (oauthlib) including ``oauth_body_hash`` = base64(SHA-1 of
the body). XML is built and parsed with lxml, with entity resolution, DTD loading and
network access off. Scores are 0.0-1.0, written without exponent (``0.85``).

::

    client = OutcomesClient("consumer-key", Secret(shared_secret), runtime.session())
    answer = client.replace_result(service_url, sourcedid, 0.85)
    answer.outcome          # DELIVERED on imsx_codeMajor success, else REJECTED
    client.read_result(service_url, sourcedid)   # 0.85, or None when nothing is held
    client.delete_result(service_url, sourcedid)

HTTP trouble raises :class:`~lmsbridge.core.lti.service_errors.ServiceError` (``transient``
for 429/5xx/network, e.g. to report ``Outcome.RETRY``, and for an answer that cannot be read:
larger than :data:`~lmsbridge.core.http.POX_LIMIT`, cut short, not XML, or an error declared
JSON that does not parse); a POX answer the platform sent comes back as :class:`PoxResponse`
whatever its ``imsx_codeMajor``. The shared secret never appears
in a message or a repr.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import attrs
import requests
from lxml import etree
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client

from lmsbridge.core.http import (
    POX_LIMIT,
    failure,
    is_transient,
    platform_message,
    read_capped,
    retry_after,
    unreadable_json,
)
from lmsbridge.core.lti.service_errors import ServiceError
from lmsbridge.core.model import Outcome
from lmsbridge.core.secret import Secret

log = logging.getLogger(__name__)

__all__ = ["NS", "NotXml", "OutcomesClient", "PoxResponse", "build_request", "format_score",
           "parse_response"]

NS = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0"
_N = f"{{{NS}}}"
CONTENT_TYPE = "application/xml"
OPERATIONS = ("replaceResult", "readResult", "deleteResult")

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=True)


def format_score(score: float) -> str:
    """A 0.0-1.0 score as the spec's decimal text, never in exponent form."""
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        raise ValueError(f"an LTI 1.1 score must be between 0.0 and 1.0, got {score!r}")
    text = f"{float(score):.10f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def build_request(operation: str, sourcedid: str, message_id: str, *,
                  score: float | None = None, language: str = "en",
                  text: str | None = None) -> bytes:
    """The POX request envelope for ``operation`` (one of :data:`OPERATIONS`).

    ``score`` (replaceResult only) goes to ``resultScore``; ``text`` to ``resultData``
    (the widely supported extension: Canvas shows it as a submission comment).
    """
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(OPERATIONS)}")
    if not sourcedid:
        raise ValueError("a sourcedId is required")
    if (score is not None or text is not None) and operation != "replaceResult":
        raise ValueError("only replaceResult carries a score or text")
    if operation == "replaceResult" and score is None:
        raise ValueError("replaceResult needs a score")
    env = etree.Element(f"{_N}imsx_POXEnvelopeRequest", nsmap={None: NS})
    info = etree.SubElement(etree.SubElement(env, f"{_N}imsx_POXHeader"),
                            f"{_N}imsx_POXRequestHeaderInfo")
    etree.SubElement(info, f"{_N}imsx_version").text = "V1.0"
    etree.SubElement(info, f"{_N}imsx_messageIdentifier").text = message_id
    body = etree.SubElement(etree.SubElement(env, f"{_N}imsx_POXBody"),
                            f"{_N}{operation}Request")
    record = etree.SubElement(body, f"{_N}resultRecord")
    guid = etree.SubElement(record, f"{_N}sourcedGUID")
    etree.SubElement(guid, f"{_N}sourcedId").text = sourcedid
    if operation == "replaceResult":
        result = etree.SubElement(record, f"{_N}result")
        result_score = etree.SubElement(result, f"{_N}resultScore")
        etree.SubElement(result_score, f"{_N}language").text = language
        etree.SubElement(result_score, f"{_N}textString").text = format_score(score)
        if text is not None:
            data = etree.SubElement(result, f"{_N}resultData")
            etree.SubElement(data, f"{_N}text").text = text
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


@attrs.frozen
class PoxResponse:
    """A parsed ``imsx_POXEnvelopeResponse``."""

    code_major: str  # success | processing | failure | unsupported
    severity: str | None = None
    description: str | None = None
    message_ref: str | None = None
    operation: str | None = None
    score: float | None = None  # readResult: the score held, None when there is none

    @property
    def ok(self) -> bool:
        return self.code_major == "success"

    @property
    def outcome(self) -> Outcome:
        return Outcome.DELIVERED if self.ok else Outcome.REJECTED


class NotXml(ValueError):
    """The answer does not parse as XML: cut short or garbled, not a refusal."""


def parse_response(body: bytes) -> PoxResponse:
    """Parse a POX response; ValueError when it is not one (NotXml when not even XML)."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        raise NotXml("the answer is not XML") from None
    if root.tag != f"{_N}imsx_POXEnvelopeResponse":
        raise ValueError(f"the answer is not an imsx_POXEnvelopeResponse ({root.tag[:80]})")
    status = root.find(f".//{_N}imsx_statusInfo")
    if status is None:
        raise ValueError("the answer has no imsx_statusInfo")
    code = (status.findtext(f"{_N}imsx_codeMajor") or "").strip()
    if not code:
        raise ValueError("the answer has no imsx_codeMajor")
    score = None
    text = root.findtext(f".//{_N}readResultResponse/{_N}result/{_N}resultScore/{_N}textString")
    if text is not None and text.strip():
        try:
            score = float(text)
        except ValueError:
            raise ValueError(f"readResult answered a score that is not a number: "
                             f"{text[:40]!r}") from None

    def field(name: str) -> str | None:
        value = status.findtext(f"{_N}{name}")
        return value.strip() if value is not None else None

    return PoxResponse(code_major=code, severity=field("imsx_severity"),
                       description=field("imsx_description"),
                       message_ref=field("imsx_messageRefIdentifier"),
                       operation=field("imsx_operationRefIdentifier"), score=score)


class OutcomesClient:
    """Sends Basic Outcomes requests signed for one LTI 1.1 consumer key."""

    def __init__(self, consumer_key: str, secret: Secret,
                 session: requests.Session | None = None, *, timeout: float = 30.0) -> None:
        if not consumer_key:
            raise ValueError("an LTI 1.1 consumer key is required")
        if not isinstance(secret, Secret) or not secret:
            raise ValueError("the shared secret must be a non-empty Secret")
        self.consumer_key = consumer_key
        self._secret = secret
        self.session = session or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"OutcomesClient(consumer_key={self.consumer_key!r})"

    def replace_result(self, service_url: str, sourcedid: str, score: float, *,
                       text: str | None = None) -> PoxResponse:
        return self.send(service_url, "replaceResult", sourcedid, score=score, text=text)

    def read_result(self, service_url: str, sourcedid: str) -> float | None:
        """The score the platform holds, or None. Raises ServiceError if it says failure."""
        answer = self.send(service_url, "readResult", sourcedid)
        if not answer.ok:
            raise ServiceError(f"readResult at {service_url} answered {answer.code_major}: "
                               f"{answer.description or ''}".rstrip(": "), status=200,
                               url=service_url)
        return answer.score

    def delete_result(self, service_url: str, sourcedid: str) -> PoxResponse:
        return self.send(service_url, "deleteResult", sourcedid)

    def send(self, service_url: str, operation: str, sourcedid: str, **fields: Any) -> PoxResponse:
        message_id = secrets.token_hex(12)
        xml = build_request(operation, sourcedid, message_id, **fields).decode("utf-8")
        client = Client(self.consumer_key, client_secret=self._secret.reveal(),
                        signature_method=SIGNATURE_HMAC_SHA1,
                        signature_type=SIGNATURE_TYPE_AUTH_HEADER)
        # oauthlib adds oauth_body_hash for a body that is not form-encoded.
        uri, headers, body = client.sign(service_url, "POST", body=xml,
                                         headers={"Content-Type": CONTENT_TYPE})
        try:
            response = self.session.post(uri, data=body.encode("utf-8"), headers=headers,
                                         timeout=self.timeout, stream=True)
            content = read_capped(response, POX_LIMIT)
        except requests.RequestException as exc:
            raise ServiceError(f"{operation} at {service_url} failed: {failure(exc)}",
                               transient=True, url=service_url) from None
        status = response.status_code
        if not 200 <= status < 300:
            garbled = unreadable_json(response)
            said = "a body that is not JSON (cut short or garbled)" if garbled \
                else platform_message(response)
            raise ServiceError(f"{operation} at {service_url} answered HTTP {status}"
                               + (f": {said}" if said else ""), status=status,
                               transient=garbled or is_transient(status),
                               retry_after=retry_after(response), url=service_url)
        try:
            answer = parse_response(content)
        except ValueError as exc:
            raise ServiceError(f"{operation} at {service_url}: {exc}", status=status,
                               transient=isinstance(exc, NotXml), url=service_url) from None
        if answer.message_ref not in (None, "", message_id):
            log.warning("%s at %s answered message %s, not ours", operation, service_url,
                        answer.message_ref)
        return answer

"""The mock platform's LTI 1.1 Basic Outcomes service (POX over OAuth 1.0a with body hash).

Checks, as Canvas/Moodle/Blackboard do: an ``Authorization: OAuth`` header from a known
consumer key, HMAC-SHA1 signature over method, URL and parameters, ``oauth_body_hash`` =
base64(SHA-1(raw body)), a timestamp within five minutes and an unused nonce. A bad
signature is HTTP 401; a well-signed request the service cannot honour (unknown sourcedId,
score outside 0.0-1.0) is HTTP 200 with ``imsx_codeMajor`` ``failure``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from flask import Flask, Response, request
from lxml import etree
from oauthlib.oauth1.rfc5849 import signature, utils

from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.wire import b64

NS = "http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0"
_N = f"{{{NS}}}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=True)
OPERATIONS = ("replaceResult", "readResult", "deleteResult")


def add_consumer(p: PlatformState, key: str, secret: str) -> None:
    """An LTI 1.1 consumer key and shared secret for Basic Outcomes."""
    with p.lock:
        p.lti11_consumers[key] = secret


def sourcedid(p: PlatformState, context_id: str, resource_link_id: str, user_id: str) -> str:
    """The ``lis_result_sourcedid`` of a user on a gradable resource link."""
    with p.lock:
        link = p.resource_links[context_id][resource_link_id]
        if link["line_item"] is None:
            raise ValueError(f"resource link {resource_link_id!r} has no line item")
        value = b64(json.dumps([context_id, link["line_item"], user_id]).encode())
        p.sourcedids[value] = (context_id, link["line_item"], user_id)
        return value


def register(p: PlatformState, app: Flask) -> None:
    @app.post("/lti11/outcomes")
    def lti11_outcomes() -> Response:
        return handle(p)


class _SignedRequest:
    """What oauthlib's verify_hmac_sha1 reads."""

    def __init__(self, uri: str, params: list[tuple[str, str]], sig: str) -> None:
        self.uri, self.http_method, self.params, self.signature = uri, "POST", params, sig


def _unauthorized(p: PlatformState, reason: str) -> Response:
    with p.lock:
        p.lti11_requests.append({"accepted": False, "error": reason})
    return Response(reason, status=401, content_type="text/plain",
                    headers={"WWW-Authenticate": 'OAuth realm="lti11"'})


def _check_oauth(p: PlatformState, body: bytes) -> str | None:
    """None when the request is signed right, else the reason."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("OAuth "):
        return "an OAuth Authorization header is required"
    try:
        oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
    except (ValueError, TypeError):
        return "the OAuth header is malformed"
    with p.lock:
        secret = p.lti11_consumers.get(oauth.get("oauth_consumer_key", ""))
    if secret is None:
        return "unknown oauth_consumer_key"
    if oauth.get("oauth_signature_method") != "HMAC-SHA1":
        return "oauth_signature_method must be HMAC-SHA1"
    stamp = oauth.get("oauth_timestamp", "")
    if not stamp.isdigit() or abs(int(stamp) - p.clock()) > 300:
        return "oauth_timestamp is missing or more than 5 minutes off"
    expected = base64.b64encode(hashlib.sha1(body, usedforsecurity=False).digest()).decode()
    if oauth.get("oauth_body_hash") != expected:
        return "oauth_body_hash does not match the body"
    params = signature.collect_parameters(
        uri_query=request.query_string.decode(), headers={"Authorization": header},
        exclude_oauth_signature=True, with_realm=False)
    signed = _SignedRequest(request.url, params, oauth.get("oauth_signature", ""))
    if not signature.verify_hmac_sha1(signed, secret):
        return "oauth_signature does not verify"
    nonce = oauth.get("oauth_nonce", "")
    with p.lock:
        if not nonce or nonce in p.lti11_nonces:
            return "oauth_nonce is missing or was already used"
        p.lti11_nonces.add(nonce)
    return None


def handle(p: PlatformState) -> Response:
    body = request.get_data()
    problem = _check_oauth(p, body)
    if problem:
        return _unauthorized(p, problem)
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return Response("the body is not XML", status=400, content_type="text/plain")
    if root.tag != f"{_N}imsx_POXEnvelopeRequest":
        return Response("not an imsx_POXEnvelopeRequest", status=400, content_type="text/plain")
    ref = root.findtext(f".//{_N}imsx_POXRequestHeaderInfo/{_N}imsx_messageIdentifier") or ""
    pox_body = root.find(f"{_N}imsx_POXBody")
    operation_el = pox_body[0] if pox_body is not None and len(pox_body) else None
    operation = (etree.QName(operation_el).localname.removesuffix("Request")
                 if operation_el is not None else "")
    record = {"accepted": True, "operation": operation, "message_id": ref}
    if operation not in OPERATIONS:
        record["code"] = "unsupported"
        with p.lock:
            p.lti11_requests.append(record)
        return _answer(ref, operation, "unsupported", f"{operation or 'nothing'} is not supported")
    sourced = operation_el.findtext(f".//{_N}sourcedGUID/{_N}sourcedId") or ""
    with p.lock:
        target = p.sourcedids.get(sourced)
        item = p.line_items.get(target[0], {}).get(target[1]) if target else None
        if item is None:
            record["code"] = "failure"
            p.lti11_requests.append(record)
            return _answer(ref, operation, "failure", "sourcedId is not recognized")
        user = target[2]
        record.update(sourcedid=sourced, user=user)
        score_text = None
        if operation == "replaceResult":
            text = operation_el.findtext(f".//{_N}resultScore/{_N}textString")
            try:
                value = float(text or "")
            except ValueError:
                value = -1.0
            if not 0.0 <= value <= 1.0:
                record["code"] = "failure"
                p.lti11_requests.append(record)
                return _answer(ref, operation, "failure",
                               "the score must be a number between 0.0 and 1.0")
            maximum = item.get("scoreMaximum", 1)
            item["results"][user] = {
                "resultScore": value * maximum, "resultMaximum": maximum, "comment": None,
                "timestamp": None, "activityProgress": "Completed",
                "gradingProgress": "FullyGraded", "source": "lti11"}
            record["score"] = value
        elif operation == "readResult":
            held = item["results"].get(user)
            if held and held.get("resultScore") is not None:
                score_text = repr(held["resultScore"] / (held.get("resultMaximum") or 1))
            else:
                score_text = ""
        else:
            item["results"].pop(user, None)
        record["code"] = "success"
        p.lti11_requests.append(record)
    return _answer(ref, operation, "success", f"{operation} done", score_text)


def _answer(ref: str, operation: str, code: str, description: str,
            score_text: str | None = None) -> Response:
    env = etree.Element(f"{_N}imsx_POXEnvelopeResponse", nsmap={None: NS})
    info = etree.SubElement(etree.SubElement(env, f"{_N}imsx_POXHeader"),
                            f"{_N}imsx_POXResponseHeaderInfo")
    etree.SubElement(info, f"{_N}imsx_version").text = "V1.0"
    etree.SubElement(info, f"{_N}imsx_messageIdentifier").text = secrets.token_hex(8)
    status = etree.SubElement(info, f"{_N}imsx_statusInfo")
    etree.SubElement(status, f"{_N}imsx_codeMajor").text = code
    etree.SubElement(status, f"{_N}imsx_severity").text = "status" if code == "success" \
        else "error"
    etree.SubElement(status, f"{_N}imsx_description").text = description
    etree.SubElement(status, f"{_N}imsx_messageRefIdentifier").text = ref
    etree.SubElement(status, f"{_N}imsx_operationRefIdentifier").text = operation
    pox_body = etree.SubElement(env, f"{_N}imsx_POXBody")
    if operation in OPERATIONS:
        response = etree.SubElement(pox_body, f"{_N}{operation}Response")
        if score_text is not None:
            result = etree.SubElement(response, f"{_N}result")
            score = etree.SubElement(result, f"{_N}resultScore")
            etree.SubElement(score, f"{_N}language").text = "en"
            etree.SubElement(score, f"{_N}textString").text = score_text
    xml = etree.tostring(env, xml_declaration=True, encoding="UTF-8")
    return Response(xml, content_type="application/xml; charset=utf-8")

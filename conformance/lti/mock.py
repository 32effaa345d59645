"""The mock LTI 1.3 Advantage platform: an LMS as far as a tool can tell.

It holds its own RSA keys, one tool registration, users, contexts (course shells) with
members and resource links, AGS line items with scores, and LTI 1.1 outcome consumers.
Everything is served over real HTTP by :class:`MockLtiPlatform`; see the route table below.
Its state and seeding methods are :class:`~.state.PlatformState`; each service is a module
(:mod:`.oidc`, :mod:`.deep_linking`, :mod:`.token`, :mod:`.ags`, :mod:`.nrps`,
:mod:`.outcomes11`, the ``/_mock/`` seeding routes :mod:`.control`) that registers its routes.

Quick start (Python)::

    platform = MockLtiPlatform().start()
    platform.register_tool(client_id="tool-1", deployment_ids=["dep-1"],
                           jwks=keyring.jwks(),            # or jwks_url="https://tool/.well-known/jwks.json"
                           login_url="https://tool/lti/login",
                           launch_url="https://tool/lti/launch")
    platform.add_user("u1", name="Ada Lovelace", email="ada@example.edu")
    platform.add_context("c1", title="Math 101")
    platform.add_member("c1", "u1", roles=["Learner"])
    platform.add_resource_link("c1", "rl1", title="Quiz 1",
                               line_item={"label": "Quiz 1", "scoreMaximum": 10})
    login = platform.start_launch("u1", context="c1", resource_link="rl1")
    requests.post(login.url, data=login.params)        # the tool's OIDC login initiation

``login.params`` holds iss, login_hint, target_link_uri, lti_message_hint,
lti_deployment_id and client_id; the tool redirects the browser to ``/auth`` here, which
answers an auto-submitting form POSTing ``id_token`` and ``state`` to the tool.
Deep linking: ``start_launch(..., message_type="LtiDeepLinkingRequest")``; the tool's
response JWT comes back to ``/deep_linking/<launch id>``, is verified against the tool's JWKS
and its content items recorded (``GET /_mock/state`` → ``deep_linking_responses``).

Routes (``{ctx}`` is a context id, ``{li}`` a line item number)::

    GET  /jwks                                   platform public keys (Cache-Control)
    GET|POST /auth                               OIDC authorization (launch) endpoint
    POST /token                                  client_credentials with a JWT assertion
    POST /deep_linking/<launch>                  LtiDeepLinkingResponse return URL
    GET|POST /lti/contexts/{ctx}/lineitems       AGS line item container (paged)
    GET|PUT|DELETE /lti/contexts/{ctx}/lineitems/{li}
    POST /lti/contexts/{ctx}/lineitems/{li}/scores
    GET  /lti/contexts/{ctx}/lineitems/{li}/results
    GET  /lti/contexts/{ctx}/memberships         NRPS (paged; role, rlid, limit, since)
    POST /lti11/outcomes                         LTI 1.1 Basic Outcomes (OAuth 1.0a)

Control routes (no faults, no auth) under ``/_mock/``: ``POST tool``, ``POST users``,
``POST contexts``, ``POST contexts/<ctx>/members``, ``DELETE contexts/<ctx>/members/<user>``,
``POST contexts/<ctx>/resource_links``, ``POST contexts/<ctx>/line_items``, ``POST launches`` (JSON answer: the login
initiation), ``GET launches/<id>/login`` (a page that starts the launch in a browser),
``POST tokens/expire``, ``POST keys/rotate``, ``POST lti11/consumers``,
``POST lti11/sourcedids``; plus the base's
``state``, ``reset`` and ``faults``. Each POST takes a JSON object (or a list of them) with
the keyword arguments of the Python method of the same name.

Behaviour a tool must cope with, as real platforms do it:

- Link headers Canvas-style (``<…>; rel="current",<…>; rel="next",<…>; rel="first"``);
  NRPS next links carry an opaque, case-sensitive bookmark (``page=bookmark:…``);
- ``lineitem_url_query`` (e.g. ``"type_id=1"``) makes line item URLs carry a query string,
  as Moodle's do, so ``/scores`` must be added to the path, not after the query;
- a score whose timestamp is not newer than the one held is refused: ``stale_score_style``
  ``"canvas"`` answers 400 "Provided timestamp of … before last updated timestamp of …",
  ``"moodle"`` answers 409;
- ``scoreGiven`` without ``scoreMaximum`` is 422 (Canvas); a user who is not a member 422;
- tokens expire after ``token_lifetime`` seconds (401 ``invalid_token``); a missing scope
  is 403 ``insufficient_scope``; a replayed assertion ``jti`` is ``invalid_grant``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, NotFound

from lmsbridge.conformance.lti import (
    ags,
    control,
    deep_linking,
    nrps,
    oidc,
    outcomes11,
    token,
)
from lmsbridge.conformance.lti.mock_suite import LtiSuitePlatform
from lmsbridge.conformance.lti.state import PlatformState
from lmsbridge.conformance.lti.wire import answer_errors


class MockLtiPlatform(LtiSuitePlatform, PlatformState):
    """A mock LMS speaking LTI 1.3 Advantage (and LTI 1.1 Basic Outcomes) over real HTTP.

    Constructor options and seeding methods: :class:`~.state.PlatformState`. The
    conformance suite seeds and reads it through :class:`LtiSuitePlatform`."""

    name = "lti"

    # Seeding methods written in the module of the service they feed, as functions of the
    # state; bound here as methods.
    start_launch = oidc.start_launch
    expire_tokens = token.expire_tokens
    add_lti11_consumer = outcomes11.add_consumer
    lti11_sourcedid = outcomes11.sourcedid

    def routes(self, app: Flask) -> None:
        answer_errors(app)
        for service in (oidc, deep_linking, token, ags, nrps, outcomes11):
            service.register(self, app)
        # The seeding routes get an app of their own, which __call__ tries first.
        self._seed_app = Flask(__name__)
        control.register(self, self._seed_app)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # Seeding routes live under /_mock/ beside the base's control routes: no faults,
        # no platform auth. Anything they don't match goes to the base (state, faults, …).
        try:
            self._seed_app.url_map.bind_to_environ(environ).match()
        except NotFound:
            return super().__call__(environ, start_response)
        except HTTPException:
            pass  # e.g. a wrong method on a seeding route: let Flask answer it
        return self._seed_app(environ, start_response)

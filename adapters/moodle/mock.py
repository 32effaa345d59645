"""A mock Moodle site, served over real HTTP on loopback (``lmsbridge mock moodle``).

:class:`MockMoodle` is the shared mock LTI platform
(:class:`~lmsbridge.conformance.lti.MockLtiPlatform`) answering as Moodle's LTI 1.3
provider (``mod/lti``) does, plus Moodle's web service REST protocol
(:mod:`.mock_ws`) on the same port, so one fault set covers both:

- ``iss`` is the site URL (the mock's base URL); the deployment id is the tool type id
  (``type_id``, 2 by default: a site-level tool added after Moodle's preconfigured one);
- the OIDC, token and key set endpoints are also served at Moodle's paths
  (``/mod/lti/auth.php``, ``/mod/lti/token.php``, ``/mod/lti/certs.php``), and the
  registration names those;
- AGS line item URLs carry ``?type_id=N``, so ``/scores`` goes on the path, not after
  the query;
- a score whose timestamp is not newer than the held one is refused with 409;
- NRPS roles are the two Moodle derives (``lti_get_ims_role``): ``Instructor`` for whoever
  can manage the course's activities, ``Learner`` for everyone else.

A fresh mock (and one after ``POST /_mock/reset``) holds a seeded world: the site course
(id 1, format ``site``), course 2 with a student (with email) and a teacher, and one LTI
activity with its grade item (on the LTI side a gradable resource link of context 2);
``GET /_mock/state`` lists the wstoken (``ws.wstoken``), the LTI endpoints (``platform``)
and course 2's AGS and NRPS URLs (``ws.lti``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask

from lmsbridge.adapters.moodle import mock_ws
from lmsbridge.adapters.moodle.mock_suite import MoodleSuitePlatform
from lmsbridge.adapters.moodle.mock_ws import MoodleWs
from lmsbridge.conformance.lti import MockLtiPlatform, ToolRegistration
from lmsbridge.core.api import ITEM, keys

#: The tool type id Moodle gives the first tool an admin adds (1 is often taken).
TYPE_ID = 2
#: Seeded LIS roles and the one Moodle's NRPS reports for them.
MOODLE_ROLE = {"Learner": "Learner", "Instructor": "Instructor",
               "ContentDeveloper": "Instructor", "TeachingAssistant": "Instructor",
               "Mentor": "Learner"}
#: Moodle's own endpoint paths → the mock LTI platform's route endpoints.
MOODLE_PATHS = {"/mod/lti/auth.php": ("authorize", ["GET", "POST"]),
                "/mod/lti/token.php": ("token", ["POST"]),
                "/mod/lti/certs.php": ("jwks", ["GET"])}


class MockMoodle(MoodleSuitePlatform, MoodleWs, MockLtiPlatform):
    name = "moodle"

    def __init__(self, *, type_id: int = TYPE_ID, **options: Any) -> None:
        self.type_id = type_id
        options.setdefault("lineitem_url_query", f"type_id={type_id}")
        options.setdefault("stale_score_style", "moodle")
        options.setdefault("tool", ToolRegistration(deployment_ids=(str(type_id),)))
        super().__init__(**options)

    @property
    def auth_url(self) -> str:
        return f"{self.url}/mod/lti/auth.php"

    @property
    def token_url(self) -> str:
        return f"{self.url}/mod/lti/token.php"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/mod/lti/certs.php"

    def routes(self, app: Flask) -> None:
        super().routes(app)
        for path, (endpoint, methods) in MOODLE_PATHS.items():
            app.add_url_rule(path, f"moodle_{endpoint}", app.view_functions[endpoint],
                             methods=methods)
        mock_ws.register(self, app)

    def reset(self) -> None:
        super().reset()
        self.reset_ws()

    def seed_world(self) -> None:
        with self.lock:
            self.seed_ws_world()
            self._seed_lti_world()

    def _seed_lti_world(self) -> None:
        """Course 2 as LTI sees it: its members, and the activity as a gradable link."""
        self.add_context("2", title=self.courses[2]["fullname"], label=self.courses[2]["shortname"])
        for uid, roles in self.enrolments[2].items():
            user = self.ws_users[uid]
            self.add_user(str(uid), name=user["fullname"], email=user.get("email"))
            self.add_member("2", str(uid), roles=roles)
        for cmid, activity in self.activities.items():
            custom = dict(line.split("=", 1) for line in
                          activity["instructorcustomparameters"].splitlines() if "=" in line)
            self.add_resource_link("2", str(cmid), title=activity["name"], custom=custom,
                                   line_item={"label": activity["name"],
                                              "scoreMaximum": activity["grade"],
                                              "resourceId": keys.item(custom[ITEM])
                                              if custom.get(ITEM) else None})

    def credentials(self) -> dict[str, Any]:
        return {"wstoken": self.wstoken, "lti_issuer": self.issuer,
                "lti_client_id": self.tool.client_id,
                "lti_deployment_id": str(self.type_id)}

    def state(self) -> dict[str, Any]:
        ws = self.ws_state()
        if self.running:
            ws["lti"] = {"lineitems_url": self.lineitems_url("2"),
                         "memberships_url": self.memberships_url("2"),
                         "deployment_id": str(self.type_id)}
        return {**super().state(), "ws": ws}

    def add_member(self, context_id: str, user_id: str, *, roles: Iterable[str] = ("Learner",),
                   status: str = "Active") -> dict[str, Any]:
        moodle = list(dict.fromkeys(MOODLE_ROLE.get(r.rsplit("#", 1)[-1], "Learner")
                                    for r in roles))
        return super().add_member(context_id, user_id, roles=moodle, status=status)

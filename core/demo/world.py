"""The demo's world: a provider, LMS platforms, an Oracle pod and our tool, all real HTTP
on loopback.

:class:`DemoWorld` starts the mock provider (:class:`MockCoursera`), one mock LTI platform
per institution, a mock Oracle Learning pod (the ``oracle`` adapter's mock, see :mod:`.oracle`) and
the LTI tool (``create_app``) in threads, on a fresh SQLite database in the demo's folder,
and registers everything the way an admin would (provider, tenants, platform registrations,
activated programs). What happens next is in :mod:`.script`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from attrs import define, field, frozen
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lmsbridge.core.demo import oracle as demo_oracle
from lmsbridge.core.engine.providers import Providers
from lmsbridge.core.model import PlatformRegistration, Provider, Tenant
from lmsbridge.core.plugins import Registry
from lmsbridge.core.secret import Secret
from lmsbridge.core.store import Store
from lmsbridge.core.web import create_app

DB_NAME = "lmsbridge.db"
PROGRAM = "data-science"


@frozen
class Person:
    lms_id: str  # the platform's user id (LTI sub)
    name: str
    email: str
    provider_id: str  # the same person at the provider

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


@define
class Institution:
    tenant: str
    title: str
    grade_sync: str  # item | course | final
    context: str
    course_title: str
    teacher: Person
    learners: list[Person]
    platform: Any = field(init=False, default=None)  # the lti adapter's mock


def _people(domain: str, prefix: str, names: Sequence[str]) -> list[Person]:
    return [Person(f"{prefix}-{1001 + n}", name, f"{name.split()[0].lower()}@{domain}",
                   f"cu-{name.split()[0].lower()}") for n, name in enumerate(names)]


def institutions() -> list[Institution]:
    """Three LMSs, one per grade-sync option; the last learner of each never launches."""
    return [
        Institution("northfield", "Northfield University", "item", "bio-101", "Biology 101",
                    Person("nf-9000", "Nora Reyes", "nora@northfield.edu", "cu-nora"),
                    _people("northfield.edu", "nf", ["Ann Lee", "Ben Okafor", "Cho Park",
                                                      "Dev Rao"])),
        Institution("lakeside", "Lakeside College", "course", "stat-200", "Statistics 200",
                    Person("lc-9000", "Liam Moss", "liam@lakeside.edu", "cu-liam"),
                    _people("lakeside.edu", "lc", ["Eve Adams", "Fay Chen", "Gus Ito"])),
        Institution("harbor", "Harbor Institute", "final", "ds-1", "Data Skills",
                    Person("hi-9000", "Hana Berg", "hana@harbor.edu", "cu-hana"),
                    _people("harbor.edu", "hi", ["Hal Diaz", "Ivy Wu", "Jon Kim"])),
    ]


CATALOG = {  # course id -> (name, [(item id, name, max score)])
    "stats": ("Statistics with Python", [("quiz-1", "Quiz 1: Distributions", 10.0),
                                         ("quiz-2", "Quiz 2: Inference", 10.0),
                                         ("project", "Final project", 20.0)]),
    "ml": ("Machine Learning Basics", [("lab-1", "Lab 1: Regression", 5.0)]),
}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # the demo narrates; an access log line per request would drown it


class ToolServer:
    """The LTI tool (Flask app) served by werkzeug in a thread on a loopback port."""

    def __init__(self, store: Store, host: str = "127.0.0.1") -> None:
        sock = socket.create_server((host, 0))
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        app = create_app(store, base_url=self.url, secret_key="demo-picker-key")
        try:
            self._server: BaseWSGIServer = make_server(host, sock.getsockname()[1], app,
                                                       threaded=True, fd=sock.fileno(),
                                                       request_handler=_QuietHandler)
        finally:
            sock.close()
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="demo-tool")
        self._thread.start()

    @property
    def login_url(self) -> str:
        return self.url + "/lti/login"

    @property
    def launch_url(self) -> str:
        return self.url + "/lti/launch"

    @property
    def jwks_url(self) -> str:
        return self.url + "/.well-known/jwks.json"

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


class DemoWorld:
    def __init__(self, folder: Path, registry: Registry) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / DB_NAME).exists():
            from lmsbridge.core.errors import ConfigError
            raise ConfigError(f"{folder} already holds a demo database ({DB_NAME}); "
                              "pass a fresh folder with --dir")
        self.folder = folder
        self.store = Store.open(f"sqlite:///{folder / DB_NAME}", folder / "lmsbridge.key")
        self.store.upgrade()
        self.institutions = institutions()
        # Every mock comes from its adapter (lmsbridge_mock_platform).
        self.registry = registry
        self.provider: Any = registry.mock_platform("coursera")
        self.pod: Any = registry.mock_platform("oracle")
        self.tool: ToolServer | None = None
        self._started: list[Any] = []

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> DemoWorld:
        self.provider.start()
        self._started.append(self.provider)
        self.tool = ToolServer(self.store)
        self._started.append(self.tool)
        for inst in self.institutions:
            inst.platform = self.registry.mock_platform("lti").start()
            self._started.append(inst.platform)
        self.pod.start()
        self._started.append(self.pod)
        return self

    def close(self) -> None:
        for server in reversed(self._started):
            server.stop()
        self._started.clear()
        self.store.dispose()

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- seeding: the provider's catalog and the platforms' courses ----------------------

    def seed_provider(self) -> None:
        p = self.provider
        p.add_program(PROGRAM, "Data Science", seats=50)
        for course_id, (name, course_items) in CATALOG.items():
            p.add_course(PROGRAM, course_id, name)
            for item_id, item_name, maximum in course_items:
                p.add_item(course_id, item_id, item_name, max_score=maximum)

    def seed_platforms(self) -> None:
        assert self.tool is not None
        for inst in self.institutions:
            lms = inst.platform
            lms.register_tool(client_id=f"lmsbridge-{inst.tenant}", deployment_ids=["1"],
                              jwks_url=self.tool.jwks_url, login_url=self.tool.login_url,
                              launch_url=self.tool.launch_url,
                              deep_link_url=self.tool.launch_url)
            lms.add_context(inst.context, title=inst.course_title)
            for person in [inst.teacher, *inst.learners]:
                lms.add_user(person.lms_id, name=person.name, email=person.email)
            lms.add_member(inst.context, inst.teacher.lms_id, roles=["Instructor"])
            for person in inst.learners:
                lms.add_member(inst.context, person.lms_id)

    # --- what an admin registers with lmsbridge ------------------------------------------

    def register(self) -> None:
        Providers(self.store).add(
            Provider("coursera", "coursera", self.provider.url, self.provider.org_id),
            self.provider.client_id, Secret(self.provider.client_secret))
        for inst in self.institutions:
            self.store.tenants.add(Tenant(inst.tenant, "lti", inst.grade_sync,
                                          provider="coursera"))
            self.store.platforms.add(PlatformRegistration(
                **inst.platform.registration(inst.tenant)))
            self.store.programs.activate(inst.tenant, PROGRAM)
        demo_oracle.connect(self.pod, self.store)
        self.store.programs.activate(demo_oracle.TENANT, PROGRAM)


@frozen
class Tally:
    """What a platform holds, read from its ``/_mock/state``."""

    columns: int
    scores: int  # score POSTs the platform accepted and applied
    score_requests: int  # score POSTs it received (accepted or not)
    cells: dict[tuple[str, str], int]  # (column label, user) -> scores applied


def tally(platform_url: str) -> Tally:
    state = requests.get(platform_url + "/_mock/state", timeout=10).json()
    cells: dict[tuple[str, str], int] = {}
    columns = 0
    for context in state["contexts"].values():
        for item in context["line_items"]:
            columns += 1
            for user, bodies in item["scores"].items():
                cells[(item.get("label", "?"), user)] = len(bodies)
    posts = sum(1 for r in state["requests"]
                if r["method"] == "POST" and r["path"].endswith("/scores"))
    return Tally(columns, sum(cells.values()), posts, cells)

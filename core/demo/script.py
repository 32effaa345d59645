"""The demo, step by step: publish by deep linking, launch, sync, change grades, sync again.

Every step goes through the systems' front doors: instructors and learners through a
scripted browser (OIDC login, platform ``/auth``, tool launch, content picker), the provider's
staff and learners through the provider mock, the nightly sync through :class:`Engine`.
What each platform (and the Oracle pod) received is read back from its own ``/_mock/state``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from attrs import define, field

from lmsbridge.core.demo import oracle as demo_oracle
from lmsbridge.core.demo.browser import Browser, BrowserError
from lmsbridge.core.demo.world import (
    CATALOG,
    PROGRAM,
    DemoWorld,
    Institution,
    Person,
    Tally,
    tally,
)
from lmsbridge.core.engine import catalog
from lmsbridge.core.engine.runner import Engine, SyncOptions, SyncReport
from lmsbridge.core.engine.scope import utcnow
from lmsbridge.core.plugins import Registry
from lmsbridge.core.runtime import Runtime

DEEP_LINKING = "LtiDeepLinkingRequest"
# (learner index, item id, new score): the grades the provider changes before the 2nd sync
CHANGES = [(0, "quiz-1", 9.5), (1, "quiz-1", 4.0), (0, "project", 19.0)]


class Narrator:
    """Where the demo says what it does; the CLI renders it with rich."""

    def step(self, title: str) -> None: ...
    def say(self, text: str) -> None: ...
    def sync_report(self, report: SyncReport) -> None: ...
    def platforms(self, title: str, rows: list[tuple[Any, ...]]) -> None: ...
    def learning(self, title: str, rows: list[tuple[Any, ...]]) -> None: ...


@define
class DemoResult:
    folder: str
    launches: int = 0
    deep_links: int = 0
    first: dict[str, dict[str, int]] = field(factory=dict)  # tenant -> tally figures
    second: dict[str, dict[str, int]] = field(factory=dict)
    changed: dict[str, int] = field(factory=dict)  # tenant -> grade changes that apply there
    resent: dict[str, int] = field(factory=dict)  # tenant -> scores applied by the 2nd run
    # The Oracle pod, per its /_mock/state: what each sync did (demo_oracle.figures), and
    # how many courses learners newly completed upstream before the 2nd sync.
    oracle_first: dict[str, int] = field(factory=dict)
    oracle_second: dict[str, int] = field(factory=dict)
    completed: int = 0
    delivered_everything: bool = False
    seconds: float = 0.0

    @property
    def only_changes_sent(self) -> bool:
        """The LMSs got exactly the changed grades, and the pod exactly the new completions
        with no content write (its courses did not change)."""
        o = self.oracle_second
        return (self.resent == self.changed and o.get("statements") == o.get("completions")
                == self.completed and o.get("content_writes") == 0)


def run(folder: Path, registry: Registry, out: Narrator,
        clock: Callable[[], datetime] = utcnow) -> DemoResult:
    started = time.monotonic()
    result = DemoResult(str(folder))
    with DemoWorld(folder, registry) as world:
        out.step("Start the mocks and the tool (real HTTP on 127.0.0.1)")
        out.say(f"provider (mock Coursera) {world.provider.url}")
        for inst in world.institutions:
            out.say(f"{inst.title} (mock LTI platform) {inst.platform.url}")
        out.say(f"{demo_oracle.TITLE} (mock Oracle Learning) {world.pod.url}")
        assert world.tool is not None
        out.say(f"lmsbridge LTI tool {world.tool.url}; database {folder / 'lmsbridge.db'}")

        out.step("Register the provider, a tenant per LMS and the Oracle pod, activate the "
                 "program")
        world.seed_provider()
        world.seed_platforms()
        world.register()
        for inst in world.institutions:
            out.say(f"tenant {inst.tenant}: kind lti, grade sync '{inst.grade_sync}', "
                    f"program {PROGRAM} activated")
        out.say(f"tenant {demo_oracle.TENANT}: kind oracle, learners identified by email, "
                f"JWT key trusted by the pod, program {PROGRAM} activated")
        runtime = Runtime(world.store)
        registry.audit.attach(world.store.record_audit)
        read = catalog.sync(world.store, registry, runtime, clock, force=True)
        out.say(f"catalog sync --force: {read.programs} program, "
                f"{len(read.added_courses)} courses ({', '.join(read.added_courses)})")

        out.step("Instructors publish content by deep linking (the content picker)")
        for inst in world.institutions:
            result.deep_links += publish(inst, out)

        out.step("Learners open the links: OIDC login -> platform -> tool -> provider")
        for inst in world.institutions:
            result.launches += launch_learners(inst, out)

        out.step("Learners study at the provider; their grades appear there")
        base = clock() - timedelta(days=1)
        for inst in world.institutions:
            study(world, inst, base)
        out.say("item and course grades recorded for every learner, including those who "
                "never came through SSO")
        out.say(f"all but the last learner of each institution completed {CATALOG['ml'][0]}")

        engine = Engine(world.store, registry, runtime=runtime, now=clock)
        out.step("Nightly sync #1: catalog, roster, columns, grades; content and xAPI to Oracle")
        pod_before = demo_oracle.snapshot(world.pod.url)
        first = engine.sync(options=SyncOptions())
        pod_after = demo_oracle.snapshot(world.pod.url)
        result.oracle_first = demo_oracle.figures(pod_before, pod_after)
        out.sync_report(first)
        before = {inst.tenant: tally(inst.platform.url) for inst in world.institutions}
        result.first = {t: _figures(v) for t, v in before.items()}
        out.platforms("What each platform holds (from its /_mock/state)",
                      [(t, v.columns, v.score_requests, v.scores)
                       for t, v in before.items()])
        out.learning("What the Oracle pod received (from its /_mock/state)",
                     [demo_oracle.row(demo_oracle.TENANT, result.oracle_first)])

        out.step("The provider changes 3 grades per institution and a final project completes "
                 "a course; sync #2 sends only those")
        at = clock()
        for inst in world.institutions:
            result.changed[inst.tenant] = change_grades(world, inst, at)
            result.completed += complete_course(world, inst, at, out)
        pod_before = demo_oracle.snapshot(world.pod.url)
        second = engine.sync(options=SyncOptions())
        result.oracle_second = demo_oracle.figures(pod_before,
                                                   demo_oracle.snapshot(world.pod.url))
        out.sync_report(second)
        after = {inst.tenant: tally(inst.platform.url) for inst in world.institutions}
        result.second = {t: _figures(v) for t, v in after.items()}
        result.resent = {t: after[t].scores - before[t].scores for t in after}
        out.platforms("Sent by sync #2, per the platforms' /_mock/state",
                      [(t, after[t].columns - before[t].columns,
                        after[t].score_requests - before[t].score_requests,
                        result.resent[t]) for t in after])
        out.learning("Sent to the Oracle pod by sync #2, per its /_mock/state",
                     [demo_oracle.row(demo_oracle.TENANT, result.oracle_second)])
        result.delivered_everything = (first.delivered_everything
                                       and second.delivered_everything)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _figures(t: Tally) -> dict[str, int]:
    return {"columns": t.columns, "score_requests": t.score_requests, "scores": t.scores}


def publish(inst: Institution, out: Narrator) -> int:
    """The instructor opens the tool's picker from the LMS and publishes content."""
    lms = inst.platform
    browser = Browser()
    try:
        login = lms.start_launch(inst.teacher.lms_id, roles=["Instructor"],
                                 context=inst.context, message_type=DEEP_LINKING)
        picker = browser.login(login.url, login.params)
        if inst.grade_sync == "item":
            picker = browser.click(picker, CATALOG["stats"][0])
            done = browser.pick(picker, {"item": ["quiz-1", "project"]})
            what = "items Quiz 1 and Final project of Statistics with Python"
        else:
            done = browser.pick(picker, {"course": ["stats"]})
            what = "course Statistics with Python"
    finally:
        browser.close()
    if done.off_site or "item(s) added" not in done.html:
        raise BrowserError(f"{inst.title} did not accept the deep link: {done.url}")
    links = len(lms.resource_links[inst.context])
    out.say(f"{inst.title}: {inst.teacher.name} published the {what} "
            f"({links} link(s) now in {inst.course_title})")
    return links


def launch_learners(inst: Institution, out: Narrator) -> int:
    """Every learner but the last opens every published link of the course."""
    lms = inst.platform
    links = list(lms.resource_links[inst.context])
    count = 0
    for person in inst.learners[:-1]:
        browser = Browser()
        try:
            for link in links:
                login = lms.start_launch(person.lms_id, context=inst.context,
                                         resource_link=link)
                landing = browser.login(login.url, login.params)
                if not landing.off_site:
                    raise BrowserError(f"{person.name}'s launch ended at {landing.url} "
                                       "instead of the provider")
                count += 1
        finally:
            browser.close()
        out.say(f"{inst.title}: {person.name} launched {len(links)} link(s), "
                f"landed at {landing.url}")
    out.say(f"{inst.title}: {inst.learners[-1].name} is enrolled but never opens a link")
    return count


def _score(n: int, maximum: float, seed: int) -> float:
    return round(maximum * (0.55 + ((n * 7 + seed * 3) % 9) / 20), 1)


def study(world: DemoWorld, inst: Institution, base: datetime) -> None:
    for n, person in enumerate(inst.learners):
        for course_id, (_, course_items) in CATALOG.items():
            for seed, (item_id, _, maximum) in enumerate(course_items):
                world.provider.set_progress(person.provider_id, course_id, item_id=item_id,
                                            score=_score(n, maximum, seed), max_score=maximum,
                                            email=person.email, at_ms=_ms(base))
            # Finishing a course is what Oracle records (the LMSs only see grades): all but
            # the last learner finished the one-lab course, nobody the longer one yet.
            world.provider.set_progress(person.provider_id, course_id,
                                        score=_score(n, 100.0, 5), max_score=100.0,
                                        email=person.email, at_ms=_ms(base),
                                        completed=course_id == "ml" and n < len(inst.learners) - 1)


def change_grades(world: DemoWorld, inst: Institution, at: datetime) -> int:
    """Change a few grades upstream; return how many of them this tenant's option sends."""
    sends = 0
    finals: set[int] = set()
    for learner, item_id, score in CHANGES:
        person: Person = inst.learners[learner]
        maximum = next(m for i, _, m in CATALOG["stats"][1] if i == item_id)
        world.provider.set_progress(person.provider_id, "stats", item_id=item_id, score=score,
                                    max_score=maximum, email=person.email, at_ms=_ms(at))
        if inst.grade_sync == "item":
            sends += item_id in ("quiz-1", "project")  # the published item links
        elif inst.grade_sync == "course":
            sends += 1  # every gradable item of the course has a column
        elif learner not in finals:
            # The course's final grade changes with the items (the provider recomputes it).
            finals.add(learner)
            world.provider.set_progress(person.provider_id, "stats", score=score * 10 % 100,
                                        max_score=100.0, email=person.email, at_ms=_ms(at))
            sends += 1
    return sends


def complete_course(world: DemoWorld, inst: Institution, at: datetime, out: Narrator) -> int:
    """Who handed in the final project (see :data:`CHANGES`) has finished the course: one new
    completion for the Oracle pod, with the course's final grade. Returns how many."""
    finished = sorted({learner for learner, item_id, _ in CHANGES if item_id == "project"})
    for learner in finished:
        person = inst.learners[learner]
        world.provider.set_progress(person.provider_id, "stats", email=person.email,
                                    completed=True, at_ms=_ms(at))
        out.say(f"{person.name} ({inst.title}) completed {CATALOG['stats'][0]}")
    return len(finished)


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)

"""The deep-linking content picker: program → courses → (Option A) gradable items → return."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from lmsbridge.core.lti.deeplinking import (
    Pick,
    PickerSession,
    content_items,
    new_refs,
    record_published,
    response_jwt,
    use_session,
)
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.web.context import tool
from lmsbridge.core.web.pages import refusal

bp = Blueprint("picker", __name__)

FINAL_SCORE_MAXIMUM = 100.0


def _session(token: str | None) -> PickerSession:
    return tool().codec.loads(token)


def _activated(session: PickerSession) -> list:
    return tool().store.programs.activated(session.tenant)


def _grade_sync(session: PickerSession) -> str:
    return tool().store.tenants.get(session.tenant).grade_sync


def _check_program(session: PickerSession, program_id: str | None) -> str:
    ids = [a.program_id for a in _activated(session)]
    if program_id is None and len(ids) == 1:
        return ids[0]
    if program_id not in ids:
        raise LaunchError("program_not_activated",
                          f"program {program_id!r} is not activated for this institution", 403)
    return program_id  # type: ignore[return-value]


@bp.get("/lti/picker")
def show() -> Response:
    token = request.args.get("s")
    try:
        session = _session(token)
        activated = _activated(session)
        program_arg = request.args.get("program")
        if program_arg is None and len(activated) != 1:
            return Response(render_template("picker_programs.html", programs=activated,
                                            token=token))
        program_id = _check_program(session, program_arg)
        item_mode = _grade_sync(session) == "item"
        links = tool().store.links
        program_name, course_rows = links.program_courses(program_id)
        program_name = program_name or program_id
        course_arg = request.args.get("course")
        if item_mode and course_arg is not None:
            course = next((c for c in course_rows if c.id == course_arg), None)
            if course is None:
                raise LaunchError("content_unknown", f"course {course_arg!r} is not in "
                                  f"program {program_id!r}", 404)
            return Response(render_template(
                "picker_items.html", token=token, program_id=program_id,
                course_id=course.id, course_name=course.name,
                items=links.gradable_items(course.id), multiple=session.accept_multiple))
        return Response(render_template(
            "picker_courses.html", token=token, program_id=program_id,
            program_name=program_name, courses=course_rows, item_mode=item_mode,
            multiple=session.accept_multiple))
    except LaunchError as exc:
        return refusal(exc, "picker")


@bp.post("/lti/picker/submit")
def submit() -> Response:
    ctx = tool()
    try:
        session = _session(request.form.get("s"))
        program_id = _check_program(session, request.form.get("program"))
        option = _grade_sync(session)
        picks = _picks(session, program_id, option)
        if not picks:
            raise LaunchError("nothing_chosen", "choose at least one piece of content", 400)
        refs = new_refs(len(picks))
        urls = ctx.urls()
        content = content_items(session, picks, urls.launch, refs)
        jwt = response_jwt(ctx.keyring, session, content, ctx.clock())
        with ctx.store.transaction() as conn:
            # First statement: on SQLite it takes the write lock before anything is read, so
            # a concurrent submission waits here, then finds the session used.
            use_session(ctx.store, conn, session)
            record_published(ctx.store, conn, session, picks, refs, option)
    except LaunchError as exc:
        return refusal(exc, "picker")
    resp = Response(render_template("picker_return.html", return_url=session.return_url,
                                    jwt=jwt, count=len(picks)))
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _picks(session: PickerSession, program_id: str, option: str) -> list[Pick]:
    links = tool().store.links
    if option == "item":
        course_id = request.form.get("course")
        wanted = request.form.getlist("item")
        rows = links.chosen_items(program_id, course_id, wanted)
        _all_found(wanted, rows, "item")
        by_id = {r.id: r for r in rows}
        return [Pick(program_id, course_id, by_id[i].name, i, by_id[i].max_score)
                for i in dict.fromkeys(wanted)]
    wanted = request.form.getlist("course")
    rows = links.chosen_courses(program_id, wanted)
    _all_found(wanted, rows, "course")
    by_id = {r.id: r for r in rows}
    maximum = FINAL_SCORE_MAXIMUM if option == "final" else None
    return [Pick(program_id, c, by_id[c].name, None, maximum) for c in dict.fromkeys(wanted)]


def _all_found(wanted: list[str], rows, what: str) -> None:
    missing = set(wanted) - {r.id for r in rows}
    if missing:
        raise LaunchError("content_unknown", f"{what} {sorted(missing)[0]!r} cannot be "
                          "published from here", 404)

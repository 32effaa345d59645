"""Where a resource-link launch leads: the content its custom parameters name.

Links we publish carry ``provider_program_id``, ``provider_course_id`` and, for item links
(Option A), ``provider_item_id``. Links published over a REST API that cannot set custom
parameters (Canvas module items) carry the same names in the query of their launch URL,
which arrives as the ``target_link_uri`` claim. A link with neither (copied by hand) is
found through published_links by its resource link id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from attrs import frozen
from sqlalchemy import Connection

from lmsbridge.core import keys
from lmsbridge.core.lti.errors import LaunchError
from lmsbridge.core.store.links import Links

PROGRAM, COURSE, ITEM = "provider_program_id", "provider_course_id", "provider_item_id"
LINK_REF = "lmsbridge_link"  # our id of a deep-linked content item, bound at its first launch
PENDING = keys.PENDING_LINK  # published_links.resource_link_id until the platform's id is known


@frozen
class Target:
    program_id: str
    course_id: str | None
    item_id: str | None


@frozen
class Destination:
    url: str | None  # where to redirect; None: show the program's courses
    course_name: str | None


def _param(custom: Mapping[str, Any], name: str) -> str | None:
    value = custom.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > 255:
        raise LaunchError("custom_malformed", f"custom parameter {name} is malformed", 400)
    return str(value)


def _query_params(target_link_uri: str | None) -> dict[str, str]:
    """Our routing names from the launch URL's query (first value of each)."""
    if not target_link_uri:
        return {}
    query = parse_qs(urlsplit(target_link_uri).query, keep_blank_values=False)
    return {name: query[name][0] for name in (PROGRAM, COURSE, ITEM) if name in query}


def route(links: Links, conn: Connection, tenant_id: int, custom: Mapping[str, Any],
          context_id: str | None, resource_link_id: str,
          target_link_uri: str | None = None) -> Target:
    source = custom if _param(custom, PROGRAM) is not None else (
        _query_params(target_link_uri) or custom)
    program, course, item = _param(source, PROGRAM), _param(source, COURSE), _param(source, ITEM)
    if program is None:
        row = links.find(conn, tenant_id, context_id or "", resource_link_id)
        if row is None:
            raise LaunchError("link_unrouted", "this link names no program "
                              f"(custom parameter {PROGRAM} is missing)", 400)
        program, course, item = row.program_id, row.course_id, row.item_id
    if item is not None and course is None:
        raise LaunchError("custom_malformed", f"{ITEM} needs {COURSE}", 400)
    if not links.program_activated(conn, tenant_id, program):
        raise LaunchError("program_not_activated",
                          f"program {program!r} is not activated for this institution", 403)
    return Target(program, course, item)


def destination(links: Links, conn: Connection, target: Target, option: str) -> Destination:
    """The item (Option A, when it has a URL) or the course home; 404 for unknown content."""
    if target.course_id is None:
        return Destination(None, None)
    course = links.course(conn, target.program_id, target.course_id)
    if course is None:
        raise LaunchError("content_unknown", f"course {target.course_id!r} is not in program "
                          f"{target.program_id!r}", 404)
    url = course.url
    if target.item_id is not None:
        item = links.item(conn, target.course_id, target.item_id)
        if item is None:
            raise LaunchError("content_unknown", f"item {target.item_id!r} is not in course "
                              f"{target.course_id!r}", 404)
        if option == "item" and item.url:
            url = item.url
    if not url:
        raise LaunchError("content_unavailable", f"course {target.course_id!r} has no address "
                          "yet (the catalog has not been synced)", 404)
    return Destination(url, course.name)

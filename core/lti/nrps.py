"""LTI Names and Role Provisioning Services 2.0 client: context memberships.

::

    nrps = NrpsClient(ServiceClient(registration, runtime.tokens, runtime.session()))
    listing = nrps.memberships(context.memberships_url, role="Learner", limit=50)
    for member in listing:            # follows rel="next" to the last page
        ...
    listing.context                   # {"id", "label", "title"} once the first page is read
    listing.differences_url           # rel="differences" when the platform offers it
    for change in nrps.memberships(listing.differences_url):   # next sync: changes only
        ...                           # removed members come back with status "Deleted"

Next links are opaque (Canvas: ``page=bookmark:…``, case-sensitive) and followed as given,
with filters only on the first request. ``status`` defaults to ``Active`` when a platform
leaves it out; ``roles`` are kept as sent (full URIs, or short names on old platforms).
A page is read to at most :data:`~lmsbridge.core.http.JSON_LIMIT` bytes (Moodle sends the
whole roster as one page unless ``limit`` is given); a larger, cut-short or non-JSON page
raises a transient ServiceError rather than ending the roster early.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from lmsbridge.core.lti.paging import find_link, links_of
from lmsbridge.core.lti.service import ServiceClient
from lmsbridge.core.lti.service_errors import ServiceError

__all__ = ["MEMBERSHIPS_TYPE", "Member", "Memberships", "NrpsClient", "SCOPE_MEMBERSHIPS"]

SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
STATUSES = ("Active", "Inactive", "Deleted")


def _opt_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


@attrs.frozen
class Member:
    user_id: str
    roles: tuple[str, ...] = ()
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    lis_person_sourcedid: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def display_name(self) -> str | None:
        joined = " ".join(n for n in (self.given_name, self.family_name) if n)
        return self.name or joined or None

    @classmethod
    def from_json(cls, body: Any) -> Member:
        if not isinstance(body, Mapping) or not _opt_str(body, "user_id"):
            raise ValueError("a member must be a JSON object with a user_id")
        roles = body.get("roles")
        status = body.get("status", "Active")
        return cls(
            user_id=body["user_id"],
            roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list)
            else (),
            status=status if status in STATUSES else "Active",
            name=_opt_str(body, "name"),
            given_name=_opt_str(body, "given_name"),
            family_name=_opt_str(body, "family_name"),
            email=_opt_str(body, "email"),
            lis_person_sourcedid=_opt_str(body, "lis_person_sourcedid"),
            raw=dict(body),
        )


class Memberships:
    """An iterable over every member of a listing, page after page. ``context`` and
    ``differences_url`` fill in as pages are read (complete once iteration has ended)."""

    def __init__(self, service: ServiceClient, url: str, params: Mapping[str, Any]) -> None:
        self._service, self._url, self._params = service, url, dict(params)
        self.context: dict[str, Any] | None = None
        self.differences_url: str | None = None
        self.pages = 0

    def __iter__(self) -> Iterator[Member]:
        for response in self._service.pages(self._url, scopes=[SCOPE_MEMBERSHIPS],
                                            accept=MEMBERSHIPS_TYPE, params=self._params):
            self.pages += 1
            body = self._service.json_of(response)
            if not isinstance(body, Mapping) or not isinstance(body.get("members"), list):
                raise ServiceError(f"GET {response.url} did not answer a membership container",
                                   status=response.status_code, url=response.url)
            if isinstance(body.get("context"), Mapping):
                self.context = dict(body["context"])
            differences = find_link(links_of(response), "differences")
            if differences:
                self.differences_url = differences
            for entry in body["members"]:
                yield Member.from_json(entry)


class NrpsClient:
    def __init__(self, service: ServiceClient) -> None:
        self.service = service

    def memberships(
        self,
        url: str,
        *,
        role: str | None = None,
        limit: int | None = None,
        rlid: str | None = None,
    ) -> Memberships:
        """Members of the context at ``url`` (a ``context_memberships_url`` or a differences
        URL), optionally only those with ``role``, or with access to resource link ``rlid``."""
        return Memberships(self.service, url, {"role": role, "limit": limit, "rlid": rlid})

"""Content as module items: one module per provider course, one ExternalTool item per link.

A link's launch URL is our tool's launch URL with the content named in its query
(``provider_program_id``, ``provider_course_id``, ``provider_item_id``), so the item is
found again by its URL: publishing twice never duplicates, and an unchanged item is not
written again. Retiring unpublishes the item (students no longer see it).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode, urlsplit

from lmsbridge.adapters.canvas.client import CanvasClient
from lmsbridge.adapters.canvas.connect import course_path
from lmsbridge.core.api import (
    COURSE,
    ITEM,
    PROGRAM,
    ConfigError,
    Publication,
    Tenant,
    ToolUrls,
    evolve,
)


def tool_urls(tenant: Tenant) -> ToolUrls:
    base = tenant.options.get("tool_url")
    if not isinstance(base, str) or not base:
        raise ConfigError(f"tenant {tenant.name!r} needs option tool_url (our LTI tool's base "
                          "URL, as installed in Canvas) to publish content")
    try:
        return ToolUrls(base)
    except ValueError as exc:
        raise ConfigError(f"tenant {tenant.name!r} option tool_url: {exc}") from None


def launch_url(urls: ToolUrls, publication: Publication) -> str:
    query = {PROGRAM: publication.program.id, COURSE: publication.course.id}
    if publication.item is not None:
        query[ITEM] = publication.item.id
    return f"{urls.launch}?{urlencode(query)}"


def title_of(publication: Publication) -> str:
    return publication.item.name if publication.item else publication.course.name


class Publisher:
    def __init__(self, client: CanvasClient, tenant: Tenant, context_id: str):
        self.client, self.tenant, self.context_id = client, tenant, context_id
        self.base = course_path(context_id)
        self.urls = tool_urls(tenant)
        self._tool_id: str | None = None
        self._modules: dict[str, dict] | None = None
        self._items: dict[str, dict[str, dict]] = {}

    def tool_id(self) -> str:
        """The id of our LTI tool as installed in (or above) the course."""
        if self._tool_id is None:
            host = urlsplit(self.urls.root).hostname
            for tool in self.client.pages(f"{self.base}/external_tools",
                                          {"include_parents": True}):
                tool_host = urlsplit(tool.get("url") or "").hostname or tool.get("domain")
                if tool_host == host:
                    self._tool_id = str(tool["id"])
                    break
            else:
                raise ConfigError(f"no LTI tool for {host} is installed in Canvas course "
                                  f"{self.context_id} (install lmsbridge's developer key)")
        return self._tool_id

    def module(self, name: str) -> dict:
        if self._modules is None:
            self._modules = {}
            for module in self.client.pages(f"{self.base}/modules"):
                self._modules.setdefault(module["name"], module)
        if name not in self._modules:
            self._modules[name] = self.client.json("POST", f"{self.base}/modules",
                                                   form={"module": {"name": name}})
        return self._modules[name]

    def items(self, module_id: str) -> dict[str, dict]:
        """The module's ExternalTool items by launch URL."""
        if module_id not in self._items:
            found: dict[str, dict] = {}
            for item in self.client.pages(f"{self.base}/modules/{module_id}/items"):
                if item.get("type") == "ExternalTool" and item.get("external_url"):
                    found.setdefault(item["external_url"], item)
            self._items[module_id] = found
        return self._items[module_id]

    def find(self, publication: Publication) -> tuple[str, dict | None]:
        module_id = str(self.module(publication.course.name)["id"])
        return module_id, self.items(module_id).get(launch_url(self.urls, publication))

    def publish(self, publication: Publication) -> Publication:
        module_id, item = self.find(publication)
        url, title = launch_url(self.urls, publication), title_of(publication)
        path = f"{self.base}/modules/{module_id}/items"
        if item is None:
            item = self.client.json("POST", path, form={"module_item": {
                "type": "ExternalTool", "title": title, "content_id": self.tool_id(),
                "external_url": url, "new_tab": False}})
            if not item.get("published", False):
                item = self.client.json("PUT", f"{path}/{item['id']}",
                                        form={"module_item": {"published": True}})
            self.items(module_id)[url] = item
        elif item.get("title") != title or not item.get("published", False):
            item = self.client.json("PUT", f"{path}/{item['id']}", form={"module_item": {
                "title": title, "published": True}})
            self.items(module_id)[url] = item
        return evolve(publication, platform_ref=str(item["id"]), retired=False)

    def retire(self, publication: Publication) -> Publication:
        module_id, item = self.find(publication)
        if item is None:  # never published, or deleted by a teacher: nothing shows it
            return evolve(publication, retired=True)
        if item.get("published", False):
            item = self.client.json("PUT", f"{self.base}/modules/{module_id}/items/{item['id']}",
                                    form={"module_item": {"published": False}})
            self.items(module_id)[item["external_url"]] = item
        return evolve(publication, platform_ref=str(item["id"]), retired=True)


def publish(client: CanvasClient, tenant: Tenant, context_id: str,
            publications: Sequence[Publication]) -> list[Publication]:
    publisher = Publisher(client, tenant, context_id)
    return [publisher.publish(p) for p in publications]


def retire(client: CanvasClient, tenant: Tenant, context_id: str,
           publications: Sequence[Publication]) -> list[Publication]:
    publisher = Publisher(client, tenant, context_id)
    return [publisher.retire(p) for p in publications]

"""A scripted browser for the demo: LTI launches over real HTTP, as a user's browser does them.

It follows redirects and submits the auto-posting forms the platform and the tool answer
with (login initiation -> platform ``/auth`` -> tool ``/lti/launch``), keeps cookies, and
fills the tool's content picker like an instructor ticking boxes. It stops at the first
address off the loopback interface (the provider's site a learner is sent to) and reports it.
No table is written by anything but the tool answering those requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import lxml.html
import requests
from attrs import frozen

from lmsbridge.core.errors import LmsbridgeError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_HOPS = 10


class BrowserError(LmsbridgeError):
    """A page the demo's browser could not get past."""


@frozen
class Landing:
    """Where the browser ended: an off-site address, or a page of ours."""

    url: str  # the last address (an off-site redirect target is not fetched)
    status: int
    html: str = ""

    @property
    def off_site(self) -> bool:
        return urlsplit(self.url).hostname not in LOOPBACK


class Browser:
    def __init__(self, timeout: float = 10.0) -> None:
        self.session = requests.Session()
        self.timeout = timeout

    def open(self, url: str, data: Mapping[str, object] | None = None) -> Landing:
        """GET (or POST ``data`` to) ``url``; follow redirects and auto-submitting forms."""
        method = "POST" if data is not None else "GET"
        for _ in range(MAX_HOPS):
            if urlsplit(url).hostname not in LOOPBACK:
                return Landing(url, 302)
            response = self.session.request(method, url, data=data, timeout=self.timeout,
                                            allow_redirects=False)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                method, data = "GET", None
                continue
            if response.status_code >= 400:
                raise BrowserError(f"{method} {url.split('?')[0]} answered HTTP "
                                   f"{response.status_code}: {_text_of(response.text)}")
            form = _auto_submit_form(response.text)
            if form is None:
                return Landing(url, response.status_code, response.text)
            url, method, data = urljoin(url, form.action), "POST", dict(form.fields)
        raise BrowserError(f"more than {MAX_HOPS} redirects or forms, last at {url}")

    def login(self, login_url: str, params: Mapping[str, str]) -> Landing:
        """What a platform's launch does: POST the OIDC login initiation to the tool."""
        return self.open(login_url, dict(params))

    def click(self, page: Landing, text: str) -> Landing:
        """Follow the page's link whose text is ``text``."""
        for link in lxml.html.fromstring(page.html).iterlinks():
            element, _, href, _ = link
            if element.tag == "a" and element.text_content().strip() == text:
                return self.open(urljoin(page.url, href))
        raise BrowserError(f"no link {text!r} at {page.url.split('?')[0]}")

    def pick(self, picker: Landing, choose: Mapping[str, list[str]]) -> Landing:
        """Fill the picker's form (tick the values in ``choose``) and submit it."""
        page = lxml.html.fromstring(picker.html)
        forms = [f for f in page.forms if f.method.upper() == "POST"]
        if not forms:
            raise BrowserError(f"no form to submit at {picker.url.split('?')[0]}")
        form = forms[0]
        data: dict[str, object] = {k: v for k, v in form.form_values()
                                   if k not in choose}
        for name, values in choose.items():
            offered = {el.get("value") for el in form.inputs if el.get("name") == name}
            missing = [v for v in values if v not in offered]
            if missing:
                raise BrowserError(f"the picker offers no {name} {missing[0]!r}")
            data[name] = list(values)
        return self.open(urljoin(picker.url, form.action or picker.url), data)

    def close(self) -> None:
        self.session.close()


@frozen
class _Form:
    action: str
    fields: tuple[tuple[str, str], ...]


def _auto_submit_form(text: str) -> _Form | None:
    """The form a page submits by script as soon as it loads, if it is such a page."""
    if "<form" not in text or ".submit()" not in text:
        return None
    page = lxml.html.fromstring(text)
    for form in page.forms:
        if form.method.upper() == "POST" and form.action:
            return _Form(form.action, tuple(form.form_values()))
    return None


def _text_of(html: str) -> str:
    try:
        text = lxml.html.fromstring(html).text_content()
    except Exception:  # not HTML: show it as it is
        text = html
    return " ".join(text.split())[:200]

"""RFC 8288 Link parsing and following pages to the last one over real HTTP."""

from __future__ import annotations

import pytest
import requests
from flask import Flask, Response, request

from lmsbridge.conformance.mock import MockServer
from lmsbridge.core.lti.paging import PagingError, find_link, iter_pages, parse_link_header

BASE = "https://lms.example/api/items?page=1"


def test_quoted_and_unquoted_rel_several_links():
    links = parse_link_header(
        '<https://lms.example/a?page=2>; rel="next", <https://lms.example/a?page=1>;rel=first',
        BASE)
    assert [(link.url, link.rels) for link in links] == [
        ("https://lms.example/a?page=2", ("next",)),
        ("https://lms.example/a?page=1", ("first",)),
    ]


def test_rel_is_case_insensitive_but_the_url_is_kept_as_sent():
    links = parse_link_header('<https://lms.example/m?page=bookmark:AbC>; REL="Next"', BASE)
    assert find_link(links, "next") == "https://lms.example/m?page=bookmark:AbC"
    assert find_link(links, "NEXT") == "https://lms.example/m?page=bookmark:AbC"


def test_one_link_with_several_relation_types():
    links = parse_link_header('<https://lms.example/x?p=9>; rel="last next"', BASE)
    assert find_link(links, "next") == find_link(links, "last") == "https://lms.example/x?p=9"


def test_canvas_style_without_spaces_and_commas_inside_urls_and_quotes():
    header = ('<https://lms.example/x?ids=1,2&page=1>; rel="current",'
              '<https://lms.example/x?ids=1,2&page=2>; title="a, b; c"; rel="next",'
              '<https://lms.example/x?ids=1,2&page=3>; rel="last"')
    links = parse_link_header(header, BASE)
    assert [link.rels for link in links] == [("current",), ("next",), ("last",)]
    assert links[1].url == "https://lms.example/x?ids=1,2&page=2"
    assert links[1].params["title"] == "a, b; c"


def test_relative_targets_resolve_against_the_response_url():
    links = parse_link_header('</api/items?page=2>; rel="next", <?page=3>; rel="last"', BASE)
    assert find_link(links, "next") == "https://lms.example/api/items?page=2"
    assert find_link(links, "last") == "https://lms.example/api/items?page=3"


def test_first_rel_parameter_wins_and_escapes_unquote():
    links = parse_link_header(r'<https://lms.example/n>; rel="next"; rel="prev"; x="a\"b"', BASE)
    assert links[0].rels == ("next",)
    assert links[0].params["x"] == 'a"b'


def test_garbage_is_skipped_not_fatal():
    header = 'nonsense, <https://lms.example/n>; rel=next, <https://lms.example/broken'
    assert [link.url for link in parse_link_header(header, BASE)] == ["https://lms.example/n"]
    assert parse_link_header("", BASE) == parse_link_header(None, BASE) == []


def test_link_without_rel_matches_nothing():
    links = parse_link_header('<https://lms.example/n>; title="x"', BASE)
    assert links[0].rels == () and find_link(links, "next") is None


class PagedMock(MockServer):
    """Five pages of numbers; next links are relative and carry a mixed-case token."""

    name = "paged"
    loop = False

    def routes(self, app: Flask) -> None:
        @app.get("/numbers")
        def numbers() -> Response:
            page = int(request.args.get("page", "1"))
            response = Response(str(page))
            if page < 5:
                target = 1 if self.loop else page + 1
                response.headers["Link"] = (f'<https://elsewhere.example/>; rel="alternate", '
                                            f'</numbers?page={target}&t=AbC>; rel="next"')
            return response


def test_iter_pages_follows_next_links_to_the_last_page():
    with PagedMock() as mock:
        pages = list(iter_pages(lambda url: requests.get(url, timeout=5),
                                f"{mock.url}/numbers"))
        assert [p.text for p in pages] == ["1", "2", "3", "4", "5"]
        assert pages[1].url == f"{mock.url}/numbers?page=2&t=AbC"


def test_iter_pages_refuses_to_loop():
    with PagedMock() as mock:
        mock.loop = True
        with pytest.raises(PagingError, match="already read"):
            list(iter_pages(lambda url: requests.get(url, timeout=5), f"{mock.url}/numbers"))


def test_iter_pages_caps_the_number_of_pages():
    with PagedMock() as mock:
        with pytest.raises(PagingError, match="more than 3 pages"):
            list(iter_pages(lambda url: requests.get(url, timeout=5), f"{mock.url}/numbers",
                            max_pages=3))

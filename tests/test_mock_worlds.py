"""`lmsbridge mock NAME`, started alone as a person would: it serves a seeded world, lists
its credentials in GET /_mock/state, and those credentials work for a real call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from lmsbridge.core.plugins import ALLOW_ENV, BUILTIN_ADAPTERS


@contextmanager
def served(adapter: str) -> Iterator[str]:
    env = {**os.environ, ALLOW_ENV: ",".join(BUILTIN_ADAPTERS)}
    proc = subprocess.Popen([sys.executable, "-m", "lmsbridge.core", "mock", adapter,
                             "--port", "0"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stderr.readline()  # "mock NAME listening on URL", once the socket listens
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def state(url: str) -> dict:
    return requests.get(url + "/_mock/state", timeout=10).json()


def test_canvas_world_and_its_api_token():
    with served("canvas") as url:
        seen = state(url)
        token = seen["credentials"]["api_token"]
        assert [c["id"] for c in seen["courses"]] == ["101"]
        users = requests.get(f"{url}/api/v1/courses/101/users", timeout=10,
                             headers={"Authorization": f"Bearer {token}",
                                      "User-Agent": "test"})
        assert users.status_code == 200 and len(users.json()) == 2


def test_coursera_world_and_its_client_credentials():
    with served("coursera") as url:
        seen = state(url)
        creds = seen["credentials"]
        assert list(seen["programs"]) == ["p1"] and list(seen["courses"]) == ["c1"]
        token = requests.post(url + "/oauth2/client_credentials/token", timeout=10,
                              data={"grant_type": "client_credentials"},
                              auth=(creds["client_id"], creds["client_secret"]))
        assert token.status_code == 200 and token.json()["access_token"]


def test_moodle_world_and_its_wstoken():
    with served("moodle") as url:
        seen = state(url)
        assert {c["id"] for c in seen["ws"]["courses"]} >= {1, 2}
        info = requests.post(url + "/webservice/rest/server.php", timeout=10, data={
            "wstoken": seen["credentials"]["wstoken"], "moodlewsrestformat": "json",
            "wsfunction": "core_webservice_get_site_info"})
        assert info.status_code == 200 and "exception" not in info.json()


def test_oracle_world_and_its_oauth_client():
    with served("oracle") as url:
        seen = state(url)
        (client,) = seen["credentials"]["oauth_clients"]
        assert [c["Title"] for c in seen["content"]] == ["Statistics with Python"]
        token = requests.post(url + seen["credentials"]["token_url"], timeout=10,
                              data={"grant_type": "client_credentials"},
                              auth=(client["client_id"], client["client_secret"]))
        assert token.status_code == 200 and token.json()["access_token"]


"""``lmsbridge cartridge``: a Common Cartridge 1.3 of LTI links, its structure, its links per
grade-sync option and their order, the one-line errors, and that a launch through one of its
links (launch URL and custom parameters as the package holds them) reaches that content."""

from __future__ import annotations

import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from lti_web_fixtures import TOOL, JwksServer, add_catalog, launch_claims, setup_tenant, sign
from lti_web_fixtures import login as oidc_login
from lxml import etree
from sqlalchemy import select

from lmsbridge.core.cli import main
from lmsbridge.core.lti import cartridge as cc
from lmsbridge.core.lti.claims import LTI
from lmsbridge.core.lti.jwks import JwksCache
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.store.schema import courses, items, launches
from lmsbridge.core.web import create_app

CP = f"{{{cc.CP_NS}}}"


@pytest.fixture(scope="module")
def jwks_server():
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture
def run(store, tmp_path, monkeypatch, capsys):
    """``lmsbridge --db <the store> ARGS``: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LMSBRIDGE_BASE_URL", raising=False)
    url = store.engine.url.render_as_string(hide_password=False)

    def _run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", url, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run


def catalog(store, jwks_url: str, grade_sync: str) -> None:
    add_catalog(store)
    with store.engine.begin() as conn:  # names sort unlike ids; a retired course is left out
        conn.execute(courses.insert(), [
            {"program_id": "prog-1", "id": "c0", "name": "Zoology", "retired": False},
            {"program_id": "prog-1", "id": "c9", "name": "Algebra", "retired": True}])
        conn.execute(items.insert(), [
            {"course_id": "c0", "id": "a1", "name": "Field report", "max_score": 1.0,
             "retired": False},
            {"course_id": "c0", "id": "a0", "name": "Essay", "max_score": 1.0, "retired": False},
            {"course_id": "c0", "id": "a2", "name": "Old quiz", "max_score": 1.0,
             "retired": True}])
    setup_tenant(store, jwks_url, grade_sync=grade_sync)


def package(run, tmp_path, *extra: str, base: str = "https://tool.example.edu"):
    out = tmp_path / "out.imscc"
    code, stdout, err = run("cartridge", "--tenant", "uni-a", "--program", "prog-1",
                            "-o", str(out), "--base-url", base, *extra)
    assert code == 0, err
    assert stdout.startswith(f"wrote {out}: ")
    return cc.read_zip(out)


def organization(files) -> list:
    """(depth, title, custom parameters or None) of the organization's items, in order."""
    manifest = etree.fromstring(files[cc.MANIFEST])
    resources = {r.get("identifier"): r for r in manifest.iter(CP + "resource")}
    root = manifest.find(f"{CP}organizations/{CP}organization/{CP}item")
    rows = []

    def walk(item, depth):
        for child in item.findall(CP + "item"):
            custom = None
            if child.get("identifierref"):
                href = resources[child.get("identifierref")].find(CP + "file").get("href")
                custom = cc.link_params(etree.fromstring(files[href]))[1]
            rows.append((depth, child.findtext(CP + "title"), custom))
            walk(child, depth + 1)

    walk(root, 0)
    return rows


def test_the_package_is_a_cc_1_3_cartridge_of_lti_links(store, jwks_server, run, tmp_path):
    catalog(store, jwks_server.url + "/jwks", "course")
    files = package(run, tmp_path)
    assert list(files)[0] == cc.MANIFEST
    links = cc.validate(files)  # every check the module knows; raises on a fault
    assert len(links) == len(files) - 1 == 3

    manifest = etree.fromstring(files[cc.MANIFEST])
    assert manifest.tag == CP + "manifest"
    assert manifest.findtext(f"{CP}metadata/{CP}schema") == "IMS Common Cartridge"
    assert manifest.findtext(f"{CP}metadata/{CP}schemaversion") == "1.3.0"
    assert manifest.find(f".//{{{cc.LOM_NS}}}title/{{{cc.LOM_NS}}}string").text == "Data Science"
    org = manifest.find(f"{CP}organizations/{CP}organization")
    assert org.get("structure") == "rooted-hierarchy"
    ids = [el.get("identifier") for el in manifest.iter() if el.get("identifier")]
    assert len(ids) == len(set(ids))
    for resource in manifest.iter(CP + "resource"):
        assert resource.get("type") == "imsbasiclti_xmlv1p0"
        assert resource.find(CP + "file").get("href") in files

    doc = links[0]
    assert doc.tag == "{http://www.imsglobal.org/xsd/imslticc_v1p0}cartridge_basiclti_link"
    assert doc.nsmap == {None: cc.LTICC_NS, "blti": cc.BLTI_NS, "lticm": cc.LTICM_NS,
                         "lticp": cc.LTICP_NS}
    url, custom = cc.link_params(doc)
    assert url.startswith("https://tool.example.edu/lti/launch?")
    assert doc.findtext(f"{{{cc.BLTI_NS}}}secure_launch_url") == url
    assert custom == {"provider_program_id": "prog-1", "provider_course_id": "c2"}
    assert {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} == custom
    with zipfile.ZipFile(tmp_path / "out.imscc") as zf:
        assert zf.testzip() is None
    assert package(run, tmp_path) == files  # the same catalog gives the same package


@pytest.mark.parametrize(("grade_sync", "extra", "expected"), [
    ("course", (), [(0, "Python", {"provider_program_id": "prog-1", "provider_course_id": "c2"}),
                    (0, "Statistics", {"provider_program_id": "prog-1",
                                       "provider_course_id": "c1"}),
                    (0, "Zoology", {"provider_program_id": "prog-1",
                                    "provider_course_id": "c0"})]),
    ("final", ("--course", "c1"), [(0, "Statistics", {"provider_program_id": "prog-1",
                                                      "provider_course_id": "c1"})]),
    # Python has no gradable item: no folder for it; the non-gradable Reading is left out.
    ("item", (), [(0, "Statistics", None),
                  (1, "Quiz 1", {"provider_program_id": "prog-1", "provider_course_id": "c1",
                                 "provider_item_id": "q1"}),
                  (1, "Quiz 2", {"provider_program_id": "prog-1", "provider_course_id": "c1",
                                 "provider_item_id": "q2"}),
                  (0, "Zoology", None),
                  (1, "Essay", {"provider_program_id": "prog-1", "provider_course_id": "c0",
                                "provider_item_id": "a0"}),
                  (1, "Field report", {"provider_program_id": "prog-1",
                                       "provider_course_id": "c0", "provider_item_id": "a1"})]),
    ("item", ("--course", "c0"), [
        (0, "Zoology", None),
        (1, "Essay", {"provider_program_id": "prog-1", "provider_course_id": "c0",
                      "provider_item_id": "a0"}),
        (1, "Field report", {"provider_program_id": "prog-1", "provider_course_id": "c0",
                             "provider_item_id": "a1"})]),
])
def test_links_per_grade_sync_option_in_catalog_order(store, jwks_server, run, tmp_path,
                                                      grade_sync, extra, expected):
    catalog(store, jwks_server.url + "/jwks", grade_sync)
    files = package(run, tmp_path, *extra)
    cc.validate(files)
    assert organization(files) == expected
    assert len(files) - 1 == sum(1 for _, _, custom in expected if custom)


@pytest.mark.parametrize("keep_custom", [True, False], ids=["custom", "url-only"])
@pytest.mark.parametrize(("grade_sync", "item", "redirect"), [
    ("course", None, "https://provider.example/learn/stats"),
    ("item", "q1", "https://provider.example/learn/stats/quiz1"),
])
def test_a_launch_through_a_cartridge_link_reaches_its_content(
        store, jwks_server, run, tmp_path, grade_sync, item, redirect, keep_custom):
    """url-only: an importer that keeps the launch URL and drops custom parameters
    (Moodle's CC LTI import reads title, description, launch URL and vendor)."""
    catalog(store, jwks_server.url + "/jwks", grade_sync)
    files = package(run, tmp_path, "--course", "c1", base=TOOL)
    doc = next(d for d in cc.validate(files)
               if cc.link_params(d)[1].get("provider_item_id") == item)
    url, custom = cc.link_params(doc)
    title = doc.findtext(f"{{{cc.BLTI_NS}}}title")

    # The LMS launches the imported link: its URL as target_link_uri, its custom parameters.
    client = create_app(store, jwks=JwksCache(), secret_key="k").test_client()
    _, state, nonce = oidc_login(client, target_link_uri=url)
    token = sign(launch_claims(nonce, **{
        LTI + "target_link_uri": url, LTI + "custom": custom if keep_custom else {},
        LTI + "resource_link": {"id": "rl-imported-1", "title": title}}))
    resp = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"] == redirect
    with store.engine.connect() as conn:
        row = conn.execute(select(launches.c.program_id, launches.c.course_id,
                                  launches.c.item_id, launches.c.resource_link_id)).one()
    assert tuple(row) == ("prog-1", "c1", item, "rl-imported-1")


@pytest.mark.parametrize(("args", "message"), [
    (("--tenant", "nope", "--program", "prog-1"), "no tenant named 'nope'"),
    (("--tenant", "uni-a", "--program", "prog-2"), "is not activated for tenant 'uni-a'"),
    (("--tenant", "uni-a", "--program", "prog-1", "--course", "w1"),
     "course 'w1' is not in program 'prog-1'"),
    (("--tenant", "uni-a", "--program", "prog-1", "--base-url", "http://tool.example.edu"),
     "must use https"),
])
def test_bad_input_is_one_line_and_writes_nothing(store, jwks_server, run, tmp_path, args,
                                                  message):
    catalog(store, jwks_server.url + "/jwks", "course")
    extra = () if "--base-url" in args else ("--base-url", "https://tool.example.edu")
    code, _, err = run("cartridge", *args, *extra, "-o", str(tmp_path / "x.imscc"))
    assert code == 1 and message in err and err.count("\n") == 1, err
    assert not list(tmp_path.glob("*.imscc*"))


def test_a_program_missing_from_the_catalog_is_named(store, jwks_server, run, tmp_path):
    setup_tenant(store, jwks_server.url + "/jwks")  # prog-1 activated, catalog never synced
    code, _, err = run("cartridge", "--tenant", "uni-a", "--program", "prog-1",
                       "--base-url", "https://tool.example.edu", "-o", str(tmp_path / "x.imscc"))
    assert code == 1 and "program 'prog-1' is not in the catalog" in err


def test_no_base_url_is_one_line(store, jwks_server, run, tmp_path):
    catalog(store, jwks_server.url + "/jwks", "course")
    code, _, err = run("cartridge", "--tenant", "uni-a", "--program", "prog-1",
                       "-o", str(tmp_path / "x.imscc"))
    assert code == 1 and err == ("error: no base URL for the links: pass --base-url or set "
                                 "LMSBRIDGE_BASE_URL\n")


def test_an_unwritable_output_is_one_line_and_an_old_file_stays(store, jwks_server, run,
                                                                tmp_path):
    catalog(store, jwks_server.url + "/jwks", "course")
    base = ("--tenant", "uni-a", "--program", "prog-1", "--base-url", "https://tool.example.edu")
    code, _, err = run("cartridge", *base, "-o", str(tmp_path / "missing" / "x.imscc"))
    assert code == 1 and err.startswith(f"error: cannot write {tmp_path / 'missing'}")
    assert err.count("\n") == 1

    old = tmp_path / "old.imscc"
    old.write_bytes(b"previous")
    (tmp_path / "old.imscc.d").mkdir()
    code, _, err = run("cartridge", *base, "-o", str(tmp_path / "old.imscc.d"))  # a folder
    assert code == 1 and "cannot write" in err
    assert old.read_bytes() == b"previous"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_validation_names_what_is_wrong():
    files = cc.build("P", ToolUrls("https://t.example"), [cc.Link("C", "p", "c")])
    cc.validate(files)
    href = next(name for name in files if name != cc.MANIFEST)
    with pytest.raises(cc.CartridgeError, match=f"names '{href}', which is not in the package"):
        cc.validate({cc.MANIFEST: files[cc.MANIFEST]})
    with pytest.raises(cc.CartridgeError, match="not well-formed"):
        cc.validate({**files, href: b"<cartridge_basiclti_link"})
    with pytest.raises(cc.CartridgeError, match="is in the package but no resource names it"):
        cc.validate({**files, "stray.xml": b"<x/>"})
    doubled = files[cc.MANIFEST].replace(b'identifier="O_1"', b'identifier="O_root"')
    with pytest.raises(cc.CartridgeError, match="'O_root' is used twice"):
        cc.validate({**files, cc.MANIFEST: doubled})
    wrong = files[cc.MANIFEST].replace(b"1.3.0", b"1.0.0")
    with pytest.raises(cc.CartridgeError, match="schemaversion is not 1.3.0"):
        cc.validate({**files, cc.MANIFEST: wrong})


def test_cc_1_1_differs_only_in_the_manifest_profile(store, jwks_server, run, tmp_path):
    catalog(store, jwks_server.url + "/jwks", "item")
    v13 = package(run, tmp_path)
    v11 = package(run, tmp_path, "--cc-version", "1.1")
    cc.validate(v11)
    manifest = etree.fromstring(v11[cc.MANIFEST])
    cp11 = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
    assert manifest.tag == cp11 + "manifest"
    assert manifest.findtext(f"{cp11}metadata/{cp11}schemaversion") == "1.1.0"
    assert manifest.find(".//{http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest}title") is not None
    assert {k: v for k, v in v11.items() if k != cc.MANIFEST} == \
        {k: v for k, v in v13.items() if k != cc.MANIFEST}
    assert v11[cc.MANIFEST].replace(b"imsccv1p1", b"imsccv1p3").replace(
        b"1.1.0", b"1.3.0") == v13[cc.MANIFEST]

"""IMS Common Cartridge 1.3 (or 1.1) packages of LTI resource links, for LMSs that import content in
bulk (Moodle's course restore, Canvas, Blackboard and D2L course import).

A package is a zip holding ``imsmanifest.xml`` (CC 1.3 profile of IMS Content Packaging
1.1) and one ``cartridge_basiclti_link`` file per link. The manifest's organization is a
rooted hierarchy: under its root item, one item per course (``course`` and ``final``
grade sync) or one folder item per course holding one item per gradable item (``item``).
Every link launches the tool's launch URL with the custom parameters routing reads
(:mod:`lmsbridge.core.lti.routing`); the same names are in the launch URL's query for
platforms that drop custom parameters on import.

The link files use the CC LTI link format (resource type ``imsbasiclti_xmlv1p0``), the one
CC 1.1-1.3 define: it carries the launch URL and custom parameters, and the platform runs
the launch over the LTI 1.3 tool registered for that URL.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlencode

from attrs import frozen
from lxml import etree

from lmsbridge.core.errors import ConfigError, LmsbridgeError, NotFound, ValidationError
from lmsbridge.core.lti.routing import COURSE, ITEM, PROGRAM
from lmsbridge.core.lti.tool_urls import ToolUrls
from lmsbridge.core.model import GradeSync

MANIFEST = "imsmanifest.xml"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"
LOM_NS = "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest"
CP_NS_1_1 = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
LOM_NS_1_1 = "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest"
LTICC_NS = "http://www.imsglobal.org/xsd/imslticc_v1p0"
BLTI_NS = "http://www.imsglobal.org/xsd/imsbasiclti_v1p0"
LTICM_NS = "http://www.imsglobal.org/xsd/imslticm_v1p0"
LTICP_NS = "http://www.imsglobal.org/xsd/imslticp_v1p0"
LTI_LINK_TYPE = "imsbasiclti_xmlv1p0"
SCHEMA, SCHEMA_VERSION = "IMS Common Cartridge", "1.3.0"
VENDOR = "lmsbridge"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip entry time: the same catalog gives the same bytes


@frozen
class Profile:
    """The CC version a manifest is written in: its namespaces and schemaversion."""

    cp_ns: str
    lom_ns: str
    schemaversion: str


# 1.3 is the default; 1.1 for importers that detect only CC 1.0/1.1 manifests (Moodle's
# backup/converter/imscc11 matches the manifest namespace). The LTI link files are the same.
PROFILES = {"1.3": Profile(CP_NS, LOM_NS, SCHEMA_VERSION),
            "1.1": Profile(CP_NS_1_1, LOM_NS_1_1, "1.1.0")}


class CartridgeError(LmsbridgeError):
    """A package is not a valid CC 1.3 LTI link cartridge; the message names the fault."""


@frozen
class Link:
    """One LTI resource link of the package."""

    title: str
    program_id: str
    course_id: str
    item_id: str | None = None

    @property
    def custom(self) -> dict[str, str]:
        params = {PROGRAM: self.program_id, COURSE: self.course_id}
        if self.item_id is not None:
            params[ITEM] = self.item_id
        return params


@frozen
class Folder:
    """A course holding item links (``item`` grade sync)."""

    title: str
    links: tuple[Link, ...]


Entry = Link | Folder


def _identifier(prefix: str, *parts: str) -> str:
    """An xs:ID (NCName) stable for the same content."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]
    return f"{prefix}{digest}"


def entries(store, tenant: str, program_id: str, course_id: str | None = None) -> list[Entry]:
    """What the package holds for the tenant's grade-sync option, in catalog order."""
    t = store.tenants.get(tenant)
    if not any(a.program_id == program_id for a in store.programs.activated(tenant)):
        raise ValidationError("--program", program_id,
                              f"is not activated for tenant {tenant!r} "
                              "(see `lmsbridge program activate`)")
    program = store.cartridge.program(program_id)
    if program is None:
        raise NotFound(f"program {program_id!r} is not in the catalog "
                       "(run `lmsbridge catalog sync`)")
    courses = program.courses
    if course_id is not None:
        courses = tuple(c for c in courses if c.id == course_id)
        if not courses:
            raise NotFound(f"course {course_id!r} is not in program {program_id!r}")
    if t.grade_sync == GradeSync.ITEM:
        result: list[Entry] = [
            Folder(c.name, tuple(Link(i.name, program_id, c.id, i.id) for i in c.items))
            for c in courses if c.items]
        what = "gradable items"
    else:
        result = [Link(c.name, program_id, c.id) for c in courses]
        what = "courses"
    if not result:
        scope = f"course {course_id!r}" if course_id is not None else f"program {program_id!r}"
        raise NotFound(f"{scope} has no {what} in the catalog (run `lmsbridge catalog sync`)")
    return result


def launch_url(urls: ToolUrls, link: Link) -> str:
    return f"{urls.launch}?{urlencode(link.custom)}"


def _link_xml(urls: ToolUrls, link: Link) -> bytes:
    nsmap = {None: LTICC_NS, "blti": BLTI_NS, "lticm": LTICM_NS, "lticp": LTICP_NS}
    root = etree.Element(f"{{{LTICC_NS}}}cartridge_basiclti_link", nsmap=nsmap)

    def sub(parent, ns: str, tag: str, text: str | None = None, **attrs: str):
        el = etree.SubElement(parent, f"{{{ns}}}{tag}", attrs)
        el.text = text
        return el

    # Element order is the imsbasiclti_v1p0 sequence.
    sub(root, BLTI_NS, "title", link.title)
    sub(root, BLTI_NS, "description", link.title)
    custom = sub(root, BLTI_NS, "custom")
    for name, value in link.custom.items():
        sub(custom, LTICM_NS, "property", value, name=name)
    url = launch_url(urls, link)
    sub(root, BLTI_NS, "launch_url", url)
    if urls.secure:
        sub(root, BLTI_NS, "secure_launch_url", url)
    vendor = sub(root, BLTI_NS, "vendor")
    sub(vendor, LTICP_NS, "code", VENDOR)
    sub(vendor, LTICP_NS, "name", VENDOR)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build(title: str, urls: ToolUrls, contents: Sequence[Entry],
          version: str = "1.3") -> dict[str, bytes]:
    """The package's files: path -> bytes, the manifest first."""
    profile = PROFILES[version]
    cp = f"{{{profile.cp_ns}}}"
    lom = f"{{{profile.lom_ns}}}"
    manifest = etree.Element(cp + "manifest",
                             nsmap={None: profile.cp_ns, "lomimscc": profile.lom_ns},
                             identifier=_identifier("M", title, *map(repr, contents)))
    metadata = etree.SubElement(manifest, cp + "metadata")
    etree.SubElement(metadata, cp + "schema").text = SCHEMA
    etree.SubElement(metadata, cp + "schemaversion").text = profile.schemaversion
    general = etree.SubElement(etree.SubElement(metadata, lom + "lom"), lom + "general")
    etree.SubElement(etree.SubElement(general, lom + "title"), lom + "string").text = title
    organization = etree.SubElement(etree.SubElement(manifest, cp + "organizations"),
                                    cp + "organization", identifier="O_1",
                                    structure="rooted-hierarchy")
    root_item = etree.SubElement(organization, cp + "item", identifier="O_root")
    resources = etree.SubElement(manifest, cp + "resources")
    files: dict[str, bytes] = {}

    def add_link(parent, link: Link) -> None:
        key = (link.program_id, link.course_id, link.item_id or "")
        res_id = _identifier("R", *key)
        item = etree.SubElement(parent, cp + "item", identifier=_identifier("I", *key),
                                identifierref=res_id)
        etree.SubElement(item, cp + "title").text = link.title
        href = f"{res_id}.xml"
        resource = etree.SubElement(resources, cp + "resource", identifier=res_id,
                                    type=LTI_LINK_TYPE)
        etree.SubElement(resource, cp + "file", href=href)
        files[href] = _link_xml(urls, link)

    for entry in contents:
        if isinstance(entry, Folder):
            first = entry.links[0]
            folder = etree.SubElement(root_item, cp + "item",
                                      identifier=_identifier("F", first.program_id,
                                                             first.course_id))
            etree.SubElement(folder, cp + "title").text = entry.title
            for link in entry.links:
                add_link(folder, link)
        else:
            add_link(root_item, entry)
    body = etree.tostring(manifest, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return {MANIFEST: body, **files}


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, _EPOCH), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# --- validation: the structure the CC 1.3 profile requires of these packages --------------

def _parse(name: str, data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise CartridgeError(f"{name} is not well-formed XML: {exc}") from None


def _expect(cond: bool, message: str) -> None:
    if not cond:
        raise CartridgeError(message)


def validate(files: dict[str, bytes]) -> list[etree._Element]:
    """Check a package (path -> bytes); returns its link documents in organization order.

    Checked: every file well-formed; the manifest root, schema and schemaversion are
    those of a CC version in PROFILES; one rooted-hierarchy organization; identifiers unique and well-formed; every
    identifierref names a resource and every resource is referenced once; every resource
    is an LTI link whose file is in the package and is a cartridge_basiclti_link with a
    title and a launch URL. No XSD: the CC schemas ship in no Python package.
    """
    _expect(MANIFEST in files, f"{MANIFEST} is missing")
    manifest = _parse(MANIFEST, files[MANIFEST])
    profile = next((p for p in PROFILES.values()
                    if manifest.tag == f"{{{p.cp_ns}}}manifest"), None)
    _expect(profile is not None, f"{MANIFEST} root is {manifest.tag}, not manifest in "
            f"{CP_NS}")
    cp = f"{{{profile.cp_ns}}}"
    _expect(manifest.findtext(f"{cp}metadata/{cp}schema") == SCHEMA, "schema is not "
            f"{SCHEMA!r}")
    _expect(manifest.findtext(f"{cp}metadata/{cp}schemaversion") == profile.schemaversion,
            f"schemaversion is not {profile.schemaversion}")
    ids = [el.get("identifier") for el in manifest.iter() if el.get("identifier") is not None]
    for ident in ids:
        _expect(_is_ncname(ident), f"identifier {ident!r} is not an XML name")
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    _expect(duplicate is None, f"identifier {duplicate!r} is used twice")
    orgs = manifest.findall(f"{cp}organizations/{cp}organization")
    _expect(len(orgs) == 1, f"{len(orgs)} organizations, CC allows one")
    _expect(orgs[0].get("structure") == "rooted-hierarchy",
            "organization structure is not rooted-hierarchy")
    roots = orgs[0].findall(cp + "item")
    _expect(len(roots) == 1, "the organization has no single root item")
    resources = {r.get("identifier"): r for r in manifest.iterfind(f"{cp}resources/{cp}resource")}
    refs = [i.get("identifierref") for i in roots[0].iter(cp + "item")
            if i.get("identifierref") is not None]
    _expect(roots[0].get("identifierref") is None, "the root item references a resource")
    for ref in refs:
        _expect(ref in resources, f"item references resource {ref!r}, which is not in "
                "the manifest")
    unused = sorted(set(resources) - set(refs))
    _expect(not unused, f"resource {unused[0] if unused else ''!r} is not in the organization")
    _expect(len(set(refs)) == len(refs), "a resource is referenced by two items")
    for item in roots[0].iter(cp + "item"):
        if item is not roots[0]:
            _expect(bool((item.findtext(cp + "title") or "").strip()),
                    f"item {item.get('identifier')!r} has no title")
    links = []
    for ref in refs:
        resource = resources[ref]
        _expect(resource.get("type") == LTI_LINK_TYPE, f"resource {ref!r} has type "
                f"{resource.get('type')!r}, not {LTI_LINK_TYPE}")
        hrefs = [f.get("href") for f in resource.findall(cp + "file")]
        _expect(len(hrefs) == 1, f"resource {ref!r} has {len(hrefs)} files, an LTI link one")
        _expect(hrefs[0] in files, f"resource {ref!r} names {hrefs[0]!r}, which is not in "
                "the package")
        links.append(_check_link(hrefs[0], _parse(hrefs[0], files[hrefs[0]])))
    extra = sorted(set(files) - {MANIFEST} - {f.get("href") for f in
                                              manifest.iter(cp + "file")})
    _expect(not extra, f"{extra[0] if extra else ''} is in the package but no resource names it")
    return links


def _check_link(name: str, doc: etree._Element) -> etree._Element:
    _expect(doc.tag == f"{{{LTICC_NS}}}cartridge_basiclti_link",
            f"{name} root is {doc.tag}, not cartridge_basiclti_link in {LTICC_NS}")
    blti = f"{{{BLTI_NS}}}"
    _expect(bool((doc.findtext(blti + "title") or "").strip()), f"{name} has no blti:title")
    _expect(bool(doc.findtext(blti + "launch_url") or doc.findtext(blti + "secure_launch_url")),
            f"{name} has no launch URL")
    order = [etree.QName(el).localname for el in doc]
    known = ["title", "description", "custom", "extensions", "launch_url",
             "secure_launch_url", "icon", "secure_icon", "vendor"]
    positions = [known.index(n) for n in order if n in known]
    _expect(positions == sorted(positions), f"{name}: elements out of the schema's order")
    _expect(doc.find(f"{blti}vendor/{{{LTICP_NS}}}code") is not None, f"{name} has no vendor")
    return doc


def _is_ncname(value: str) -> bool:
    try:
        etree.QName(value)  # rejects colons-only oddities and bad characters
    except ValueError:
        return False
    return ":" not in value and (value[0].isalpha() or value[0] == "_")


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def link_params(doc: etree._Element) -> tuple[str, dict[str, str]]:
    """A link document's launch URL and custom parameters."""
    blti = f"{{{BLTI_NS}}}"
    url = doc.findtext(blti + "secure_launch_url") or doc.findtext(blti + "launch_url")
    custom = {p.get("name"): p.text or "" for p in
              doc.iterfind(f"{blti}custom/{{{LTICM_NS}}}property")}
    return url, custom


def write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename:
    a failure leaves no partial file behind."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def count_links(contents: Iterable[Entry]) -> int:
    return sum(len(e.links) if isinstance(e, Folder) else 1 for e in contents)

"""lmsbridge.core.api is the one surface of core that adapters, their mocks, the example
adapter and docs/adapters.md use."""

import ast
import re
from pathlib import Path

import lmsbridge.core.api as api

ROOT = Path(__file__).parents[1]
ADAPTERS = ROOT / "adapters"
EXAMPLE = ROOT / "tests" / "example_adapter"
DOCS = ROOT / "docs" / "adapters.md"


def _core_imports(source: str) -> list[tuple[str, list[str]]]:
    """(module, names) of every import of lmsbridge.core or below in ``source``."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [(node.module, [a.name for a in node.names])]
        elif isinstance(node, ast.Import):
            modules = [(a.name, []) for a in node.names]
        else:
            continue
        out += [(m, names) for m, names in modules
                if m == "lmsbridge.core" or m.startswith("lmsbridge.core.")]
    return out


def _sources() -> list[Path]:
    return sorted(ADAPTERS.rglob("*.py")) + sorted(EXAMPLE.rglob("*.py"))


def test_every_exported_name_is_importable_once():
    assert len(api.__all__) == len(set(api.__all__))
    missing = [n for n in api.__all__ if not hasattr(api, n)]
    assert missing == []


def test_every_exported_name_is_documented_in_the_module_docstring():
    documented = set(re.findall(r"``([A-Za-z_][A-Za-z0-9_]*)", api.__doc__))
    assert set(api.__all__) - documented == set()


def test_nothing_public_is_left_out_of_all():
    public = {n for n in vars(api) if not n.startswith("_")}
    assert public == set(api.__all__)


def test_adapters_and_the_example_import_core_only_through_the_api():
    wrong = {}
    for path in _sources():
        for module, names in _core_imports(path.read_text()):
            if module != "lmsbridge.core.api":
                wrong.setdefault(str(path.relative_to(ROOT)), []).append(module)
            else:
                assert set(names) <= set(api.__all__), path
    assert wrong == {}


def test_the_example_adapter_uses_the_api():
    assert any(m == "lmsbridge.core.api" for p in EXAMPLE.rglob("*.py")
               for m, _ in _core_imports(p.read_text()))


def test_docs_import_core_only_through_the_api():
    docs = DOCS.read_text()
    blocks = re.findall(r"```python\n(.*?)```", docs, flags=re.S)
    imports = [(m, names) for block in blocks for m, names in _core_imports(block)]
    assert imports and {m for m, _ in imports} == {"lmsbridge.core.api"}
    assert {n for _, names in imports for n in names} <= set(api.__all__)
    # prose names no module of core but the API, and only names it exports
    assert set(re.findall(r"lmsbridge\.core\.([a-z_]+)", docs)) == {"api"}
    assert set(re.findall(r"lmsbridge\.core\.api\.(\w+)", docs)) <= set(api.__all__)

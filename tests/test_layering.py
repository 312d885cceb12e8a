"""The layering the house keeps, read from the import statements of our own modules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_AND_BELOW = ("reports", "quizzes", "storage", "settings")
RECORDS = {"reports.records", "reports.outbox", "quizzes.records"}


def module_names() -> dict[str, Path]:
    found = {"settings": ROOT / "settings.py"}
    for package in ("reports", "quizzes", "storage"):
        for path in (ROOT / package).glob("*.py"):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[name] = path
    return found


def imports_of_ours(path: Path, ours: set[str]) -> set[str]:
    """Our modules a file imports (anywhere in it), `from pkg import module` included."""
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            named |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            named.add(node.module)
            named |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in named if name in ours}


def graph() -> dict[str, set[str]]:
    modules = module_names()
    ours = set(modules)
    return {name: imports_of_ours(path, ours) - {name} for name, path in modules.items()}


def test_records_import_nothing_of_ours() -> None:
    edges = graph()
    assert {name: edges[name] for name in RECORDS} == {name: set() for name in RECORDS}


def test_storage_imports_only_storage_and_the_domains_records() -> None:
    strays = {
        name: {i for i in imported if not i.startswith("storage") and i not in RECORDS}
        for name, imported in graph().items()
        if name.startswith("storage")
    }
    assert {name: found for name, found in strays.items() if found} == {}


def test_no_import_cycle_among_the_domain_storage_and_settings() -> None:
    edges = graph()
    assert all(name.startswith(DOMAIN_AND_BELOW) for name in edges)
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for imported in sorted(edges[name]):
            visit(imported, (*path, name))
        done.add(name)

    for name in sorted(edges):
        visit(name, ())

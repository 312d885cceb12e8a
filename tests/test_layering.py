"""The import graph of our own modules: no cycles, and only the channel adapters import an SDK."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Outside the tree we ship: what the tests, benchmarks and simulator import is theirs.
NOT_OURS = {".venv", "data", "tests", "bench", "simulator", "scripts", "docs"}
SDKS = {"telegram", "wechatpy"}


def our_modules(root: Path) -> dict[str, Path]:
    """Every module of the application under `root`, by dotted name."""
    modules = {}
    tops = [top for top in root.iterdir() if top.name not in NOT_OURS]
    files = [top for top in tops if top.suffix == ".py"]
    files += [path for top in tops if top.is_dir() for path in top.rglob("*.py")]
    for path in files:
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, at any depth (in functions and TYPE_CHECKING blocks too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the modules of ours it imports."""
    modules = our_modules(root)

    def ours(name: str) -> str | None:
        parts = name.split(".")
        while parts and ".".join(parts) not in modules:
            parts.pop()
        return ".".join(parts) or None

    graph = {}
    for name, path in modules.items():
        targets = {ours(n) for n in imported_names(path)} - {None, name}
        graph[name] = {t for t in targets if t is not None}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles, each as its modules from the alphabetically first, once each."""
    found = []

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == start:
                found.append(path)
            elif nxt > start and nxt not in path:
                walk(start, nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, start, [start])
    return found


def test_our_modules_import_each_other_without_cycles() -> None:
    assert cycles(import_graph(ROOT)) == []


def test_only_the_channel_adapters_import_a_messaging_sdk() -> None:
    offenders = {
        name
        for name, path in our_modules(ROOT).items()
        if not name.startswith("handlers.")
        and {n.split(".")[0] for n in imported_names(path)} & SDKS
    }
    assert offenders == set()


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


# The domain's records are what storage returns: they import nothing of ours, and
# storage imports nothing of ours but them.
RECORDS = {"reports.records", "reports.outbox", "quizzes.records"}


def test_the_domains_records_import_nothing_of_ours() -> None:
    graph = import_graph(ROOT)
    assert {name: graph[name] for name in RECORDS} == {name: set() for name in RECORDS}


def test_storage_imports_only_storage_and_the_domains_records() -> None:
    strays = {
        name: {i for i in imported if not i.startswith("storage") and i not in RECORDS}
        for name, imported in import_graph(ROOT).items()
        if name.startswith("storage")
    }
    assert {name: found for name, found in strays.items() if found} == {}


def defined_names(path: Path) -> set[str]:
    """The names a module defines at its top level (not the ones it imports)."""
    names = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_the_domains_records_are_imported_from_where_they_live() -> None:
    modules = our_modules(ROOT)
    home = {name: record for record in RECORDS for name in defined_names(modules[record])}
    files = [*modules.values(), *(ROOT / "tests").glob("*.py"), *(ROOT / "bench").glob("*.py")]
    strays = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in modules:
                strays.update(
                    f"{path.relative_to(ROOT)}: {alias.name} from {node.module}"
                    for alias in node.names
                    if alias.name in home and home[alias.name] != node.module
                )
    assert strays == set()


def test_the_domain_and_the_conversation_never_import_a_channel() -> None:
    graph = import_graph(ROOT)
    inner = ("reports", "quizzes", "storage", "dialogue", "settings")
    offenders = {
        name: sorted(t for t in targets if t.startswith("handlers"))
        for name, targets in graph.items()
        if name.split(".")[0] in inner
    }
    assert {name: found for name, found in offenders.items() if found} == {}

"""The layer rules of ARCHITECTURE.md, checked on every module's imports (static, by AST).

runtime/ imports no other part of Scanlet; storage/ never imports actors/ or http/; actors/
never imports http/ or adapters/ (it is handed adapters through ports); adapters/ never
import http/; http/ never imports the composition root (assembly/), and only the entry
points (cli, serving) do.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scanlet"

# (layer, what it must not import)
RULES: list[tuple[str, tuple[str, ...]]] = [
    (
        "scanlet.runtime",
        (
            "scanlet.actors",
            "scanlet.storage",
            "scanlet.http",
            "scanlet.config",
            "scanlet.observability",
            "scanlet.assembly",
            "scanlet.cli",
            "scanlet.serving",
        ),
    ),
    (
        "scanlet.storage",
        (
            "scanlet.actors",
            "scanlet.http",
            "scanlet.adapters",
            "scanlet.assembly",
            "scanlet.cli",
            "scanlet.serving",
        ),
    ),
    (
        "scanlet.actors",
        ("scanlet.http", "scanlet.adapters", "scanlet.assembly", "scanlet.cli", "scanlet.serving"),
    ),
    ("scanlet.adapters", ("scanlet.http", "scanlet.assembly", "scanlet.cli", "scanlet.serving")),
    ("scanlet.http", ("scanlet.assembly", "scanlet.cli", "scanlet.serving")),
    ("scanlet.assembly", ("scanlet.cli", "scanlet.serving")),
    # The import engine and its sources: above the contexts (it sends them commands), below
    # the composition root that wires it to a database.
    (
        "scanlet.importing",
        (
            "scanlet.http",
            "scanlet.adapters",
            "scanlet.assembly",
            "scanlet.cli",
            "scanlet.serving",
            "scanlet.storage.sqlite",
            "scanlet.storage.postgres",
            "scanlet.storage.opening",
        ),
    ),
    ("scanlet.observability", ("scanlet.actors", "scanlet.storage", "scanlet.http")),
]


#: Database drivers: only the storage adapters use them.
DRIVERS = ("sqlite3", "aiosqlite", "asyncpg", "psycopg")
#: Who may reach past the storage ports to an adapter: storage itself (which picks one)
#: and the command line (``scanlet backup`` copies the SQLite file).
ADAPTER_USERS = ("scanlet.storage", "scanlet.cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str | None = None) -> Iterator[str]:
    """Every module ``path`` (the module ``name``) imports, relative imports resolved, those
    under ``if TYPE_CHECKING`` too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                yield ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.module


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize(("layer", "forbidden"), RULES, ids=[layer for layer, _ in RULES])
def test_no_import_runs_up_the_layers(layer: str, forbidden: tuple[str, ...]) -> None:
    found: list[str] = []
    for path in sources():
        name = module_name(path)
        if name != layer and not name.startswith(layer + "."):
            continue
        found.extend(
            f"{name} imports {imported}"
            for imported in imports(path)
            if any(imported == bad or imported.startswith(bad + ".") for bad in forbidden)
        )
    assert found == []


def test_the_checker_resolves_relative_and_absolute_imports(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("from ._cell import Cell\nfrom . import _types\nimport scanlet.http.app\n")
    found = set(imports(module, "scanlet.runtime.probe"))
    assert {"scanlet.runtime._cell", "scanlet.runtime", "scanlet.http.app"} <= found


def test_no_database_driver_outside_the_storage_adapters() -> None:
    found = [
        f"{module_name(path)} imports {imported}"
        for path in sources()
        if not module_name(path).startswith("scanlet.storage.")
        for imported in imports(path)
        if imported.split(".")[0] in DRIVERS
    ]
    assert found == []


def test_only_storage_and_the_command_line_reach_an_adapter_past_the_ports() -> None:
    found = [
        f"{module_name(path)} imports {imported}"
        for path in sources()
        if not module_name(path).startswith(ADAPTER_USERS)
        for imported in imports(path)
        if imported.startswith(("scanlet.storage.sqlite", "scanlet.storage.postgres"))
    ]
    assert found == []

"""The dependency rule of ARCHITECTURE.md, checked on the source: surfaces and pages -> core -> models."""

from __future__ import annotations

import ast
from pathlib import Path

import clinicore

SRC = Path(clinicore.__file__).parent


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules_under(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def test_the_core_never_imports_a_surface_a_page_or_the_app() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in modules_under("core")
        for name in imports_of(path)
        if name.startswith(
            ("clinicore.surfaces", "clinicore.web", "clinicore.app", "clinicore.cli", "fastapi")
        )
    ]
    assert offenders == []


def test_surfaces_and_pages_never_query_tables_directly() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for package in ("surfaces", "web")
        for path in modules_under(package)
        for name in imports_of(path)
        if name == "sqlalchemy"
        or (name.startswith("sqlalchemy.") and name != "sqlalchemy.ext.asyncio")
        or (name.endswith(".repository") and "audit" not in name)
    ]
    assert offenders == []


def test_kit_depends_on_nothing_above_it() -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in modules_under("kit")
        for name in imports_of(path)
        if name.startswith(("clinicore.core", "clinicore.surfaces", "clinicore.web", "clinicore.cli"))
    ]
    assert offenders == []

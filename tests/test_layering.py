"""The dependency rule of ARCHITECTURE.md, checked on the source: surfaces and pages -> core -> models,
``kit`` a leaf under everything, and no import cycle among Clinicore's modules.

Every ``import`` statement counts, wherever it stands: at module level, inside a function, or under
``if TYPE_CHECKING:``. An import moved into a function is still a dependency (it only runs later), so it
neither escapes the direction rules nor hides a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import clinicore

SRC = Path(clinicore.__file__).parent


def module_name(path: Path) -> str:
    """``clinicore.core.audit.repository`` for ``core/audit/repository.py``; a package for its __init__."""
    parts = ["clinicore", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, *, module: str, is_package: bool = False) -> set[str]:
    """Every name ``source`` imports, as seen from ``module``.

    ``from X import Y`` yields both ``X`` and ``X.Y``: ``Y`` may be a module (``from clinicore.core.audit
    import repository`` imports ``clinicore.core.audit.repository``) or a name defined in ``X``; the rules
    below only ever match the ones that are modules. Relative imports are resolved against ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def imports_of(path: Path) -> set[str]:
    return imports_in(path.read_text(), module=module_name(path), is_package=path.name == "__init__.py")


def modules_under(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def is_within(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


# The rules: each says which imported names a part of the tree must not use.


def core_must_not_import(name: str) -> bool:
    """What sits above the core: surfaces, pages, the app, the CLI, the runtime and request dependencies."""
    return is_within(
        name,
        *("clinicore.surfaces", "clinicore.web", "clinicore.app", "clinicore.cli"),
        *("clinicore.runtime", "clinicore.requests", "fastapi"),
    )


def surfaces_and_pages_must_not_import(name: str) -> bool:
    """SQLAlchemy's query API (the async session type is allowed, for annotations) and any repository."""
    return (is_within(name, "sqlalchemy") and not is_within(name, "sqlalchemy.ext.asyncio")) or name.endswith(
        ".repository"
    )


def kit_must_not_import(name: str) -> bool:
    """Anything of Clinicore outside ``kit``: not the runtime, the config, the core, surfaces, pages, ..."""
    return is_within(name, "clinicore") and not is_within(name, "clinicore.kit")


def offenders(packages: Iterable[str], rule: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(SRC)} imports {name}"
        for package in packages
        for path in modules_under(package)
        for name in sorted(imports_of(path))
        if rule(name)
    ]


def import_cycles() -> list[list[str]]:
    """The cycles of the graph "module imports module" among Clinicore's own modules (one per cycle)."""
    paths = {module_name(path): path for path in sorted(SRC.rglob("*.py"))}
    graph = {
        module: sorted(name for name in imports_of(path) if name in paths and name != module)
        for module, path in paths.items()
    }
    return find_cycles(graph)


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One cycle for each back edge met by a depth-first search (enough to report every tangle)."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        on_path = [root]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                done.add(node)
            elif child in on_path:
                cycles.append([*on_path[on_path.index(child) :], child])
            elif child not in done:
                stack.append((child, iter(graph[child])))
                on_path.append(child)
    return cycles


# The checker itself: a rule is only worth its power to catch what it names.


def test_the_checker_sees_a_module_imported_by_from_import() -> None:
    names = imports_in("from clinicore.core.audit import repository", module="clinicore.web.console.routes")

    assert "clinicore.core.audit.repository" in names
    assert any(surfaces_and_pages_must_not_import(name) for name in names)


def test_the_checker_resolves_relative_imports() -> None:
    names = imports_in(
        "from ..audit import repository\nfrom . import errors", module="clinicore.core.crm.service"
    )

    assert {"clinicore.core.audit.repository", "clinicore.core.crm.errors"} <= names


def test_the_checker_sees_imports_inside_functions() -> None:
    source = "def f():\n    from clinicore.runtime import Runtime\n"

    names = imports_in(source, module="clinicore.kit.storage")

    assert any(kit_must_not_import(name) for name in names)


def test_the_checker_flags_what_kit_must_not_import() -> None:
    flagged = ["clinicore.runtime", "clinicore.config", "clinicore.core.models", "clinicore.app"]

    assert all(kit_must_not_import(name) for name in flagged)
    assert not kit_must_not_import("clinicore.kit.errors")


def test_the_checker_finds_a_cycle_through_a_function_level_import() -> None:
    graph = {
        "clinicore.cli.main": sorted(
            imports_in("from clinicore.cli.pharmacies import run", module="clinicore.cli.main")
        ),
        "clinicore.cli.pharmacies": sorted(
            imports_in(
                "def run():\n    from clinicore.cli.main import app\n", module="clinicore.cli.pharmacies"
            )
        ),
    }
    graph = {module: [name for name in names if name in graph] for module, names in graph.items()}

    assert find_cycles(graph) == [["clinicore.cli.main", "clinicore.cli.pharmacies", "clinicore.cli.main"]]


# The rules, on the source.


def test_the_core_never_imports_a_surface_a_page_or_the_app() -> None:
    found = offenders(["core"], core_must_not_import)

    assert found == [], "\n".join(found)


def test_surfaces_and_pages_never_query_tables_directly() -> None:
    found = offenders(["surfaces", "web"], surfaces_and_pages_must_not_import)

    assert found == [], "\n".join(found)


def test_kit_depends_on_nothing_else_of_clinicore() -> None:
    found = offenders(["kit"], kit_must_not_import)

    assert found == [], "\n".join(found)


def test_no_import_cycle_among_clinicore_modules() -> None:
    cycles = import_cycles()

    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)

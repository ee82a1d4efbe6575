"""The package's shape: no import cycle among its modules, no module that only re-exports.

The module graph is read from the source with `ast` (nothing is imported): an edge A -> B when A
imports B at module level. Imports inside functions (loaded on first use) and under
`if TYPE_CHECKING:` (never executed) are not edges; the implicit import of a parent package is
not one either (Python initialises it first, and it may already be in progress).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import harness

PACKAGE_DIR = Path(harness.__file__).resolve().parent


def _module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package `root`."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements run when the module is imported: class bodies, `if`, `try` and `with`
    blocks count; function bodies and `if TYPE_CHECKING:` blocks do not."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level_imports(block)
            for handler in node.handlers:
                yield from _module_level_imports(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from _module_level_imports(node.body)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports at module level."""
    modules = _module_names(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _module_level_imports(ast.parse(path.read_text(), str(path)).body):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    base_name = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    base_name = node.module or ""
                # `from X import y`: y is module X.y when there is one, else a name of X
                targets = [
                    f"{base_name}.{alias.name}"
                    if f"{base_name}.{alias.name}" in modules
                    else base_name
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` of a package's name
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as the path that closes it (first module repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def _only_reexports(tree: ast.Module) -> bool:
    """The body is a docstring, imports and `__all__`, nothing defined."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                continue
        return False
    return True


def _reexported_names(tree: ast.Module) -> set[str]:
    """Names a module lists in `__all__` that it imports from a module of the package instead of
    defining them."""
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and (node.level or (node.module or "").partition(".")[0] == "harness")
        for alias in node.names
    }
    listed: set[str] = set()
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            and isinstance(node.value, ast.List | ast.Tuple)
        ):
            listed |= {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return listed & imported


# ------------------------------------------------------------------ the harness package


def test_the_harness_package_has_no_module_level_import_cycle() -> None:
    graph = import_graph(PACKAGE_DIR)
    assert "harness.validator.catalogue" in graph and graph["harness.wire"], "graph not read"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_severity_has_one_home_below_errors_and_the_catalogue() -> None:
    graph = import_graph(PACKAGE_DIR)
    assert graph.get("harness.severity") == set(), (
        f"harness.severity missing or importing the package: {graph.get('harness.severity')}"
    )
    assert "harness.severity" in graph["harness.validator.catalogue"]
    assert "harness.errors" not in graph["harness.validator.catalogue"], (
        "the catalogue imports errors again: errors asks the catalogue for a rule's severity"
    )
    assert "harness.severity" in graph["harness.errors"]


def test_no_module_outside_an_init_only_reexports_other_modules() -> None:
    shims = [
        name
        for name, path in _module_names(PACKAGE_DIR).items()
        if path.name != "__init__.py" and _only_reexports(ast.parse(path.read_text()))
    ]
    assert shims == [], f"modules that only re-export (import from the real module): {shims}"


def test_no_module_outside_an_init_lists_anothers_names_in_its_all() -> None:
    found = {
        name: sorted(names)
        for name, path in _module_names(PACKAGE_DIR).items()
        if path.name != "__init__.py" and (names := _reexported_names(ast.parse(path.read_text())))
    }
    assert found == {}, f"names exported by a module that does not define them: {found}"


def test_every_public_name_of_harness_resolves() -> None:
    missing = [name for name in harness.__all__ if not hasattr(harness, name)]
    assert missing == [], f"harness.__all__ names that do not resolve: {missing}"


def test_harness_validate_is_the_validator_package() -> None:
    from harness.validator import engine, results

    assert harness.validate is harness.validator
    for name in ("Validator", "Options", "validate_body", "validate_paths", "validate_sources"):
        assert getattr(harness.validate, name) is getattr(engine, name), name
    for name in ("iter_results", "resolve_now"):
        assert getattr(harness.validate, name) is getattr(engine, name), name
    for name in ("Finding", "Result", "Report"):
        assert getattr(harness.validate, name) is getattr(results, name), name


# ------------------------------------------------------------------ the checks themselves


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def test_a_module_level_cycle_is_found_and_named(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {"a.py": "from .b import x\n", "b.py": "import pkg.c\n", "c.py": "from . import a\n"},
    )
    assert find_cycle(import_graph(root)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_imports_in_functions_and_under_type_checking_are_not_edges(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "a.py": "from .b import x\n",
            "b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .a import y\n"
                "def f():\n    from .a import y\n    return y\n"
                "x = 1\n"
            ),
        },
    )
    graph = import_graph(root)
    assert graph["pkg.b"] == set(), graph
    assert find_cycle(graph) is None


def test_a_module_of_imports_and_all_is_a_shim(tmp_path: Path) -> None:
    shim = ast.parse('"""Old names."""\nfrom .real import X, Y\n\n__all__ = ["X", "Y"]\n')
    real = ast.parse("from .base import X\n\nY = X + 1\n")
    assert _only_reexports(shim)
    assert not _only_reexports(real)


def test_a_module_listing_an_imported_name_in_all_is_flagged() -> None:
    tree = ast.parse(
        "from .real import X\nfrom .errors import Problem\n\ndef rule(p): ...\n"
        '__all__ = ["Problem", "X", "rule"]\n'
    )
    assert _reexported_names(tree) == {"Problem", "X"}

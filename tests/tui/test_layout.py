"""The code's shape, read from the source: no import circles between files of sync/,
storage/ and tui/; no module over 400 lines, no class over 300; no module importing
another module's underscore names (what two modules share is public in one of them).

Beside test_entry.py's layering rule (Textual stays out of the core). Every check
reads the files with `ast` (one parse of every file, shared by the checks) and
imports nothing; each failure names its offenders.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sync", "storage", "tui")
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 300

# Known offenders, each named, should one ever have to be let in while it is being
# fixed (a stale entry fails `test_the_allow_list_names_only_real_offenders`, so none
# outlives its fix). Empty: the checks apply to everything.
ALLOWED_CIRCLES: frozenset[frozenset[str]] = frozenset()
ALLOWED_BIG_MODULES: frozenset[str] = frozenset()
ALLOWED_BIG_CLASSES: frozenset[str] = frozenset()
#: "importer imports _name from module"; none known today
ALLOWED_PRIVATE_IMPORTS: frozenset[str] = frozenset()


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    #: project modules this one imports (at import time or lazily inside functions;
    #: imports under `if TYPE_CHECKING:` are left out: they never run)
    imports: set[str] = field(default_factory=set)
    #: "imports _name from module" for every underscore name taken from another module
    private: list[str] = field(default_factory=list)
    #: class name -> lines (decorators included)
    classes: dict[str, int] = field(default_factory=dict)


def _module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_type_checking(test: ast.expr) -> bool:
    """The test of `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@cache
def modules(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Module]:
    """Every module of `packages` under `root`, by dotted name, with its imports."""
    found: dict[str, Module] = {}
    for path in (p for package in packages for p in sorted((root / package).rglob("*.py"))):
        text = path.read_text(encoding="utf-8")
        name = _module_name(root, path)
        found[name] = Module(name, path, ast.parse(text, str(path)), len(text.splitlines()))
    for module in found.values():
        _read_module(module, found)
    return found


def _owner(name: str, known: dict[str, Module]) -> str | None:
    """The project module `name` (a module or a name inside one) belongs to."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _read_module(module: Module, known: dict[str, Module]) -> None:
    """Fill in the module's imports, underscore names taken, and class sizes (one walk)."""
    is_package = module.path.name == "__init__.py"
    package = module.name if is_package else module.name.rpartition(".")[0]
    #: nodes under `if TYPE_CHECKING:` import nothing at run time: no edge (their
    #: underscore names still count)
    skip: set[int] = set()
    #: local names bound to project modules (`import a.b as m`, `from a import b`)
    bound: dict[str, str] = {}
    #: (local name, attribute) of every `name._attr` in the module
    attributes: list[tuple[str, str]] = []
    edges: set[str] = set()
    private: set[str] = set()
    for node in ast.walk(module.tree):  # breadth first: an `if` before its body
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
        elif isinstance(node, ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            size = (node.end_lineno or node.lineno) - first + 1
            module.classes[node.name] = max(size, module.classes.get(node.name, 0))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if _is_private(node.attr):
                attributes.append((node.value.id, node.attr))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                target = _owner(alias.name, known)
                if target and id(node) not in skip:
                    edges.add(target)
                if target and alias.asname and target == alias.name:
                    bound[alias.asname] = target
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in known else _owner(base, known)
                if target is None:
                    continue
                if id(node) not in skip:
                    edges.add(target)
                if target == full:  # `from package import module`
                    bound[alias.asname or alias.name] = full
                elif _is_private(alias.name) and target != module.name:
                    private.add(f"imports {alias.name} from {target}")
    for name, attr in attributes:
        if name in bound and bound[name] != module.name:
            private.add(f"imports {attr} from {bound[name]}")
    module.private = sorted(private)
    # a module importing its own package's __init__ is how Python loads it, not a circle
    module.imports = {
        m
        for m in edges
        if m != module.name
        and not (known[m].path.name == "__init__.py" and module.name.startswith(m + "."))
    }


def import_circles(found: dict[str, Module]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    graph = {name: sorted(m.imports) for name, m in found.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[frozenset[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        circles.append(frozenset(group))
    return circles


def big_modules(found: dict[str, Module], root: Path = ROOT) -> dict[str, int]:
    """{path: lines} of the modules over MAX_MODULE_LINES."""
    return {
        str(m.path.relative_to(root)): m.lines for m in found.values() if m.lines > MAX_MODULE_LINES
    }


def big_classes(found: dict[str, Module], root: Path = ROOT) -> dict[str, int]:
    """{path:Class: lines} of the classes over MAX_CLASS_LINES (decorators included)."""
    return {
        f"{m.path.relative_to(root)}:{name}": lines
        for m in found.values()
        for name, lines in m.classes.items()
        if lines > MAX_CLASS_LINES
    }


def private_imports(found: dict[str, Module]) -> list[str]:
    """ "importer imports _name from module", each once."""
    return sorted({f"{m.name} {p}" for m in found.values() for p in m.private})


def _circle_text(group: frozenset[str]) -> str:
    return " <-> ".join(sorted(group))


def test_no_import_circle_between_files() -> None:
    new = [_circle_text(c) for c in import_circles(modules()) if c not in ALLOWED_CIRCLES]
    assert not new, "import circles (move what both need into a module both import):\n" + (
        "\n".join(sorted(new))
    )


def test_no_module_over_400_lines() -> None:
    new = [
        f"{path} ({lines} lines)"
        for path, lines in sorted(big_modules(modules()).items())
        if path not in ALLOWED_BIG_MODULES
    ]
    assert not new, "modules over 400 lines (split by what the code does):\n" + "\n".join(new)


def test_no_class_over_300_lines() -> None:
    new = [
        f"{name} ({lines} lines)"
        for name, lines in sorted(big_classes(modules()).items())
        if name not in ALLOWED_BIG_CLASSES
    ]
    assert not new, "classes over 300 lines (split by what the code does):\n" + "\n".join(new)


def test_no_module_imports_another_modules_underscore_names() -> None:
    new = [p for p in private_imports(modules()) if p not in ALLOWED_PRIVATE_IMPORTS]
    assert not new, "underscore names taken from another module (make them public):\n" + (
        "\n".join(new)
    )


def test_the_allow_list_names_only_real_offenders() -> None:
    """An entry whose offence is gone must go too, or it would hide a new one."""
    found = modules()
    circles = set(import_circles(found))
    stale = [
        *(f"circle {_circle_text(c)}" for c in ALLOWED_CIRCLES if c not in circles),
        *(f"module {p}" for p in ALLOWED_BIG_MODULES if p not in big_modules(found)),
        *(f"class {k}" for k in ALLOWED_BIG_CLASSES if k not in big_classes(found)),
        *(f"import {p}" for p in ALLOWED_PRIVATE_IMPORTS if p not in private_imports(found)),
    ]
    assert not stale, "fixed: remove from the allow-list in tests/tui/test_layout.py:\n" + (
        "\n".join(sorted(stale))
    )


def test_the_checks_find_each_kind_of_offender(tmp_path: Path) -> None:
    """The readers run on a small made-up package holding one of each offence."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from pkg import a\n",  # a package importing its modules: no circle
        "a.py": "import pkg\n_x = 1\n\ndef f():\n    from pkg import b  # lazy: still an edge\n",
        "b.py": "from pkg.a import _x\n",  # a <-> b, and an underscore name
        "c.py": "import pkg.a as m\n\nm._x\nm.__name__\n",  # attribute use of one
        "d.py": (  # an import for typing only is no edge, but its underscore names count
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from pkg import e\n    from pkg.g import _Y\n"
        ),
        "e.py": "from pkg import d\n\n" + "x = 1\n" * MAX_MODULE_LINES,  # no circle, too long
        "sub/__init__.py": "",
        "sub/f.py": "from ..g import _y\nfrom . import __name__ as own\n",  # relative imports
        "g.py": "class Big:\n" + "    x = 1\n" * MAX_CLASS_LINES + "\n_y = 2\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text, encoding="utf-8")
    found = modules(tmp_path, ("pkg",))
    assert [sorted(c) for c in import_circles(found)] == [["pkg.a", "pkg.b"]]
    assert private_imports(found) == [
        "pkg.b imports _x from pkg.a",
        "pkg.c imports _x from pkg.a",
        "pkg.d imports _Y from pkg.g",
        "pkg.sub.f imports _y from pkg.g",
    ]
    assert big_modules(found, tmp_path) == {"pkg/e.py": MAX_MODULE_LINES + 2}
    assert big_classes(found, tmp_path) == {"pkg/g.py:Big": MAX_CLASS_LINES + 1}

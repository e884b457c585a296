"""Test modules stand alone: none imports another test module. Shared builders live in ``tests/factories.py`` (single
rows) and ``tests/builders.py`` (whole-round scenarios); shared fixtures in a ``conftest.py``. Importing a builder from
``test_x.py`` would also run (and tie) ``test_x``'s module-level set-up into the importer and hide the builder from
whoever looks for it. Imports are read with ``ast`` (at the top of a module or inside a function)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = {"__init__.py", "conftest.py", "factories.py", "builders.py"}


def imported_names(path, root):
    """Every dotted name ``path`` imports: ``from a import b`` yields ``a`` and ``a.b``; relative imports resolved."""
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def imports_of_test_modules(tests_dir=TESTS, root=ROOT):
    """["path:line imports name"] for each import of a test module (a .py file under tests/ that is not shared)."""
    found = []
    for path in sorted(tests_dir.rglob("*.py")):
        for name, line in imported_names(path, root):
            target = root.joinpath(*name.split(".")).with_suffix(".py")
            if target.is_relative_to(tests_dir) and target.is_file() and target.name not in SHARED:
                found.append(f"{path.relative_to(root)}:{line} imports {name}")
    return found


def test_no_test_module_imports_another():
    assert imports_of_test_modules() == []


def test_the_check_finds_such_an_import(tmp_path):
    tests = tmp_path / "tests"
    (tests / "venture").mkdir(parents=True)
    (tests / "builders.py").write_text("def build(): pass\n")
    (tests / "venture" / "conftest.py").write_text("X = 1\n")
    (tests / "venture" / "test_a.py").write_text("def build_a(): pass\n")
    (tests / "venture" / "test_b.py").write_text(
        "from tests.builders import build\nfrom tests.venture.conftest import X\n\n"
        "def test_b():\n    from tests.venture.test_a import build_a\n"
    )
    (tests / "venture" / "test_c.py").write_text("from . import test_a\nimport tests.venture.test_b\n")
    assert imports_of_test_modules(tests, tmp_path) == [
        "tests/venture/test_b.py:5 imports tests.venture.test_a",
        "tests/venture/test_c.py:1 imports tests.venture.test_a",
        "tests/venture/test_c.py:2 imports tests.venture.test_b",
    ]

"""voting/ stands alone: the standard library and cryptography only (README.md "Architecture in a page")."""

import ast
import sys

from .helpers import REPO_ROOT

FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_migrate", "flask_smorest", "sqlalchemy", "backend", "miniprogram_api",
             "wechatpy", "marshmallow", "alembic", "psycopg", "boto3"}  # fmt: skip


def imported_modules():
    files = sorted((REPO_ROOT / "voting").rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                yield path, node.module.split(".")[0]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
                yield path, "__import__"  # a dynamic import would dodge this test


def test_nothing_in_voting_imports_the_app_or_its_frameworks():
    bad = [(p.name, m) for p, m in imported_modules() if m in FORBIDDEN or m == "__import__"]
    assert bad == []


def test_voting_depends_only_on_the_standard_library_and_cryptography():
    allowed = set(sys.stdlib_module_names) | {"cryptography", "voting"}
    outside = sorted({(p.name, m) for p, m in imported_modules() if m not in allowed})
    assert outside == []

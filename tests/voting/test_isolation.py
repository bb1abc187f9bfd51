"""Layers import only downward (docs/architecture.md "Layers"), read from the source with `ast`.

voting/ stands alone: the standard library and cryptography only (docs/architecture.md). Above it the core
(backend/: configuration and extensions, then the tables, then the use cases), the HTTP layer
(miniprogram_api/) and the commands (backend/cli.py) beside it, and on top the composition root
(backend/__init__.py, `create_app`), the one module that knows every layer.
"""

import ast
import sys

from .helpers import REPO_ROOT

FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_migrate", "flask_smorest", "sqlalchemy", "backend", "miniprogram_api",
             "wechatpy", "marshmallow", "alembic", "psycopg", "boto3"}  # fmt: skip

# Each module's layer, by the longest matching name; a module may import its own layer and those below.
LAYERS = {
    "voting": 0,
    "backend.config": 1, "backend.errors": 1, "backend.extensions": 1, "backend.storage": 1,
    "backend.signing": 1, "backend.fake_wechat": 1,
    "backend.models": 2, "backend.pagination": 2,
    "backend.security": 3, "backend.wechat": 3,
    "backend.services": 4,
    "miniprogram_api": 5, "backend.cli": 5,
    "backend": 6,  # backend/__init__.py: create_app, the composition root
}
SIBLINGS = {("miniprogram_api", "backend.cli"), ("backend.cli", "miniprogram_api")}  # interfaces: neither knows the other


def _module_name(path):
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """Every module `path` imports, absolute names, wherever in the file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                package = _module_name(path).split(".")[: None if path.name == "__init__.py" else -1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield f"{base}.{alias.name}"  # `from backend import signing` imports backend.signing
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            yield "__import__"  # a dynamic import would dodge these tests


def imported_modules(folder="voting"):
    files = sorted((REPO_ROOT / folder).rglob("*.py"))
    assert files
    for path in files:
        for name in imports(path):
            yield path, name.split(".")[0]


def layer(name):
    """(layer key, rank) of a module name of the app, or None for anything else."""
    for key in sorted(LAYERS, key=len, reverse=True):
        if name == key or name.startswith(key + "."):
            return key, LAYERS[key]
    return None


def upward_imports():
    """(importer, imported) pairs where a module imports a layer above its own (or a sibling)."""
    bad = []
    for folder in ("voting", "backend", "miniprogram_api"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            own = layer(_module_name(path))
            for name in imports(path):
                target = layer(name) if name != "__import__" else ("__import__", 99)
                if target is None:
                    continue
                if target[1] > own[1] or (own[0], target[0]) in SIBLINGS:
                    bad.append((_module_name(path), name))
    return bad


def test_nothing_in_voting_imports_the_app_or_its_frameworks():
    bad = [(p.name, m) for p, m in imported_modules() if m in FORBIDDEN or m == "__import__"]
    assert bad == []
    assert len(sorted((REPO_ROOT / "voting").rglob("*.py"))) >= 8


def test_voting_depends_only_on_the_standard_library_and_cryptography():
    allowed = set(sys.stdlib_module_names) | {"cryptography", "voting"}
    outside = sorted({(p.name, m) for p, m in imported_modules() if m not in allowed})
    assert outside == []


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports() == []


def test_only_the_composition_root_knows_the_http_layer():
    """Nothing under backend/ but backend/__init__.py imports miniprogram_api; the tables know no use
    case; errors.py holds the DomainError family alone, importing nothing; extensions.py no Api."""
    knows_http = sorted(_module_name(p) for p in (REPO_ROOT / "backend").rglob("*.py")
                        if any(n.startswith("miniprogram_api") for n in imports(p)))
    assert knows_http == ["backend"]
    models = sorted((REPO_ROOT / "backend" / "models").rglob("*.py"))
    assert models and not [(p.name, n) for p in models for n in imports(p)
                           if n.startswith(("backend.services", "backend.security", "backend.wechat", "backend.cli"))]
    assert list(imports(REPO_ROOT / "backend" / "errors.py")) == []
    assert not [n for n in imports(REPO_ROOT / "backend" / "extensions.py")
                if n.startswith(("backend", "miniprogram_api", "flask_smorest"))]


def test_the_check_sees_an_upward_import(tmp_path):
    """The walk above finds imports inside functions and `from package import module` alike."""
    source = "def f():\n    from backend import create_app\n    from miniprogram_api import errors\n"
    fake = tmp_path / "x.py"
    fake.write_text(source)
    assert list(imports(fake)) == ["backend.create_app", "miniprogram_api.errors"]
    assert layer("backend.create_app") == ("backend", 6) and layer("miniprogram_api.errors")[1] == 5

"""media.can_see denies by default: every kind of object that media is attached to anywhere in the code
base has a visibility rule, registered by create_app whatever else has been imported."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("backend", "miniprogram_api")


class _Module:
    """One source file: its module-level string constants and its functions (for following a kind
    passed down as a parameter, like tickets._attach(..., "ticket_reply", ...))."""

    def __init__(self, path):
        self.path = path
        self.tree = ast.parse(path.read_text(), str(path))
        self.constants = {}
        self.functions = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = node.value.value
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node

    def enclosing_function(self, target):
        for fn in self.functions.values():
            if any(node is target for node in ast.walk(fn)):
                return fn
        return None

    def calls_to(self, name):
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and (
                    (isinstance(node.func, ast.Name) and node.func.id == name)
                    or (isinstance(node.func, ast.Attribute) and node.func.attr == name)):
                yield node


def _argument(call, position, keyword):
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _resolve(module, call, node, depth=0):
    """The set of string values `node` (an argument of `call`) can take, or raise naming the call."""
    where = f"{module.path.relative_to(ROOT)}:{call.lineno}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name) and node.id in module.constants:
        return {module.constants[node.id]}
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        # votes.MEDIA_FUND and the like: a constant of a sibling service module
        # (common.MEDIA_FUND inside the votes package: a module of the same package)
        for sibling in (ROOT / "backend" / "services" / f"{node.value.id}.py",
                        module.path.parent / f"{node.value.id}.py"):
            if sibling.exists() and node.attr in _Module(sibling).constants:
                return {_Module(sibling).constants[node.attr]}
    if isinstance(node, ast.Name) and depth < 3:
        fn = module.enclosing_function(call)
        params = [a.arg for a in fn.args.args] if fn else []
        if node.id in params:
            position = params.index(node.id)
            values = set()
            callers = list(module.calls_to(fn.name))
            assert callers, f"{where}: {fn.name}() passes its parameter {node.id} but nothing here calls it"
            for caller in callers:
                values |= _resolve(module, caller, _argument(caller, position, node.id), depth + 1)
            return values
    raise AssertionError(f"{where}: cannot tell which attached_type this media.attach call uses; "
                         "pass a string constant so that its visibility rule can be checked")


def attached_types_in_code():
    """Every attached_type that media.attach is called with, anywhere in backend/ and miniprogram_api/."""
    kinds = {}
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "media.py" and path.parent.name == "services":
                continue  # the definition itself
            module = _Module(path)
            for call in module.calls_to("attach"):
                func = call.func
                if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                        and func.value.id in ("media", "media_service")):
                    continue
                for kind in _resolve(module, call, _argument(call, 3, "attached_type")):
                    kinds.setdefault(kind, []).append(f"{path.relative_to(ROOT)}:{call.lineno}")
    return kinds


def test_the_collector_finds_the_known_kinds():
    kinds = attached_types_in_code()
    # the kinds the domains are known to use today: if one disappears the collector has gone blind
    assert {"binding_certificate", "ticket", "ticket_reply", "notice", "vote", "vote_paper_ballot",
            "disclosure_version", "emergency_spending"} <= set(kinds), kinds


def test_every_attached_type_has_a_rule_after_create_app_in_a_fresh_process(tmp_path):
    """A fresh interpreter that imports nothing but the app factory: the rules must come from
    create_app itself, not from whatever a test (or a blueprint) happened to import first."""
    script = (
        "import json, sys\n"
        "from backend import create_app\n"
        "from backend.services import media\n"
        "before = sorted(media.registered_kinds())\n"
        f"create_app({{'ENV': 'testing', 'INSTANCE_PATH': {str(tmp_path)!r}, 'WECHAT_DEV_FAKE': False,\n"
        f"            'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/x.db'}})\n"
        "print(json.dumps({'before': before, 'after': sorted(media.registered_kinds())}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "WECHAT"))}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["before"] == []  # importing media alone registers nothing: create_app must do it
    missing = {kind: sites for kind, sites in attached_types_in_code().items() if kind not in result["after"]}
    assert not missing, f"media kinds without a visibility rule (media.register_visibility): {missing}"

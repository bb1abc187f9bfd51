"""docs/errors.md cannot fall behind the code: every error code the code base can raise is found by
reading backend/ and miniprogram_api/ with `ast`, and must be in the table with its status and its
message; one code has one status and one message; the operations' documented codes are real ones."""
import ast
import re
from collections import defaultdict
from pathlib import Path

from miniprogram_api.errors import HTTP_DEFAULTS, OTHER_HTTP_ERROR
from miniprogram_api.operations import AUTH, OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("backend", "miniprogram_api")
INVALID_DEFAULTS = ("validation_error", "提交的内容未通过校验")  # backend.errors.Invalid's defaults
# Calls that raise with a code that is not a literal, and where the codes they pass on come from.
DYNAMIC = {
    ("backend/services/ratelimit.py", "hit"),   # TooManyRequests(code, …): the codes of ratelimit.hit(code=…)
    ("backend/services/media.py", "upload"),    # DomainError(exc.code, …): the codes of Refused(…), as 422
    ("backend/services/media.py", "check_pdf"),  # Refused(code, PDF_REFUSALS[code]): the table's codes, as 422
}
# Known duplicates in code that other branches are rewriting (reported to the lead, fixed there):
# the votes package (backend/services/votes.py, keys.py) and the media service.
PENDING_DUPLICATES = set()


class Raise:
    def __init__(self, code, status, message, where):
        self.code, self.status, self.message, self.where = code, status, message, where


def _text(node):
    """A literal message, or an f-string as its template ("{expr}" where parts vary); None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
                       for part in node.values)
    return None


def _trees():
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def error_classes(trees):
    """Name → (status, (code, message) or None) of DomainError and every subclass, plus the pipeline's
    Refused (re-raised as 422 by the media service)."""
    classes = {"DomainError": (400, None), "Refused": (422, None)}
    changed = True
    while changed:
        changed = False
        for _, tree in trees:
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in classes:
                    continue
                bases = [getattr(b, "id", getattr(b, "attr", None)) for b in node.bases]
                parent = next((b for b in bases if b in classes), None)
                if parent is None:
                    continue
                status, code = classes[parent]
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(getattr(t, "id", None) == "status" for t in item.targets):
                        status = item.value.value
                    if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                        for call in ast.walk(item):
                            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                                    and call.func.attr == "__init__" and call.args and _text(call.args[0])):
                                code = (call.args[0].value, _text(call.args[1]) if len(call.args) > 1 else None)
                classes[node.name] = (status, code)
                changed = True
    return classes


def raised_codes():
    """Every (code, status, message) raised anywhere in backend/ and miniprogram_api/."""
    trees = list(_trees())
    classes = error_classes(trees)
    found, dynamic = [], set()
    for path, tree in trees:
        for node in tree.body:  # the PDF inspector's refusals: Refused(code, PDF_REFUSALS[code]), as 422
            if (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PDF_REFUSALS"
                    and isinstance(node.value, ast.Dict)):
                found += [Raise(key.value, 422, value.value, f"{path}:{node.lineno}")
                          for key, value in zip(node.value.keys, node.value.values)]
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.Module)):
                continue
            for call in ast.walk(function):
                if not isinstance(call, ast.Call):
                    continue
                name = getattr(call.func, "id", getattr(call.func, "attr", None))
                keywords = {k.arg: k.value for k in call.keywords}
                where = f"{path}:{call.lineno}"
                if name == "hit" and path != "backend/services/ratelimit.py":
                    code = _text(keywords["code"]) if "code" in keywords else "too_many_requests"
                    message = _text(keywords["message"]) if "message" in keywords else "操作过于频繁，请稍后再试"
                    found.append(Raise(code, 429, message, where))
                if (name == "error_response" and len(call.args) >= 3 and isinstance(call.args[0], ast.Constant)
                        and _text(call.args[1])):
                    found.append(Raise(_text(call.args[1]), call.args[0].value, _text(call.args[2]), where))
                if name not in classes:
                    continue
                status, fixed = classes[name]
                if name == "Invalid":
                    code = _text(keywords["code"]) if "code" in keywords else INVALID_DEFAULTS[0]
                    message = (_text(keywords["message"]) if "message" in keywords
                               else _text(call.args[1]) if len(call.args) > 1 else INVALID_DEFAULTS[1])
                elif fixed:
                    code, message = fixed  # the subclass makes its own code and message (BadJson)
                else:
                    code = _text(call.args[0]) if call.args else _text(keywords.get("code"))
                    message = _text(call.args[1]) if len(call.args) > 1 else _text(keywords.get("message"))
                    if len(call.args) > 2 and isinstance(call.args[2], ast.Constant):
                        status = call.args[2].value
                    if isinstance(keywords.get("status"), ast.Constant):
                        status = keywords["status"].value
                if code is None:
                    if isinstance(function, ast.FunctionDef) and function.name != "__init__":
                        dynamic.add((path, function.name))
                    continue
                if isinstance(function, ast.FunctionDef) and function.name == "__init__" and not fixed:
                    continue  # a subclass's constructor passing its arguments on
                found.append(Raise(code, status, message, where))
    found += [Raise(code, status, message, "HTTP_DEFAULTS") for status, (code, message) in HTTP_DEFAULTS.items()]
    return found, dynamic


def documented():
    """code → (status, meaning, message) from the tables of docs/errors.md."""
    rows = {}
    row = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3}|4xx)\s*\|(.*)\|(.*)\|\s*$")
    for line in (ROOT / "docs" / "errors.md").read_text(encoding="utf-8").splitlines():
        match = row.match(line)
        if match:
            code, status, meaning, message = match.groups()
            assert code not in rows, f"{code} is in docs/errors.md twice"
            rows[code] = (int(status) if status.isdigit() else status, meaning.strip(), message.strip())
    return rows


def _template(message):
    return re.sub(r"\{[^}]*\}", "{}", message or "").strip("“”")


def test_the_scan_finds_what_it_should():
    found, dynamic = raised_codes()
    codes = {r.code for r in found}
    # one of each way of raising: a class, a subclass with its own code, Invalid's code=, ratelimit.hit,
    # the media pipeline's Refused, WeChat's status argument, the HTTP defaults
    assert {"ticket_not_found", "invalid_json", "registry_invalid", "too_many_claims", "image_too_large",
            "wechat_rate_limited", "method_not_allowed", "validation_error"} <= codes
    assert len(codes) > 80
    assert dynamic == DYNAMIC, "a code raised from a variable: teach this test where its codes come from"


def test_every_code_is_in_docs_errors_md_with_its_status_and_message():
    found, _ = raised_codes()
    table = documented()
    missing = sorted({f"{r.code} ({r.status}, {r.where})" for r in found if r.code not in table})
    assert missing == [], "codes missing from docs/errors.md"
    wrong_status = sorted({f"{r.code}: raised {r.status} at {r.where}, documented {table[r.code][0]}"
                           for r in found if table[r.code][0] != r.status and r.code not in PENDING_DUPLICATES})
    assert wrong_status == []
    wrong_message = sorted({f"{r.code}: {r.message!r} at {r.where}, documented {table[r.code][2]!r}"
                            for r in found if r.message is not None and r.code not in PENDING_DUPLICATES
                            and _template(r.message) != _template(table[r.code][2])})
    assert wrong_message == []
    stale = sorted(set(table) - {r.code for r in found} - {OTHER_HTTP_ERROR[0]})
    assert stale == [], "docs/errors.md lists codes nothing raises"
    assert all(meaning and message for _, meaning, message in table.values())


def test_one_code_one_status_one_message():
    found, _ = raised_codes()
    statuses, messages = defaultdict(set), defaultdict(set)
    for r in found:
        statuses[r.code].add(r.status)
        if r.message is not None:
            messages[r.code].add(_template(r.message))
    two_statuses = {code: sorted(s) for code, s in statuses.items() if len(s) > 1 and code not in PENDING_DUPLICATES}
    two_messages = {code: sorted(m) for code, m in messages.items() if len(m) > 1 and code not in PENDING_DUPLICATES}
    assert two_statuses == {} and two_messages == {}
    # the allowance is for duplicates that still exist: it shrinks as they are fixed
    still = {code for code in PENDING_DUPLICATES if len(statuses[code]) > 1 or len(messages[code]) > 1}
    assert still == PENDING_DUPLICATES, f"fixed, remove from PENDING_DUPLICATES: {PENDING_DUPLICATES - still}"


def test_operations_document_only_real_codes_under_their_status():
    table = documented()
    listed = {(status, code) for entry in OPERATIONS.values() for status, codes in entry.refusals.items()
              for code in codes}
    listed |= {(401, code) for code in AUTH}
    wrong = sorted(f"{code} under {status}, docs/errors.md says {table.get(code, ('missing',))[0]}"
                   for status, code in listed if table.get(code, (None,))[0] != status and code not in PENDING_DUPLICATES)
    assert wrong == []


def test_the_spec_lists_each_operations_codes_in_its_error_responses(client):
    table = documented()
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
                codes = response["x-error-codes"]
                assert codes and all(table[code][0] == int(status) for code in codes
                                     if code not in PENDING_DUPLICATES), (method, path, status)
                assert all(f"`{code}`" in response["description"] and f"`{code}`" in operation["description"]
                           for code in codes)

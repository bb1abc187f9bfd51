"""The published OpenAPI as a check on every answer the test suite receives.

conftest.py makes ContractClient the app's test client: each /api/v1 response is matched to its
operation in /api/v1/openapi.json and must have a documented status, a documented content type, a
body that validates against the documented schema (openapi-schema-validator, OpenAPI 3.0 read
semantics) and, for an error, a `code` that the operation lists for that status. So a drift between
the spec and what the API does fails the test that provoked it. Validators are compiled once per
operation and status when the session starts.
"""
import json
import re
import threading

from flask.testing import FlaskClient
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

METHODS = ("get", "post", "put", "patch", "delete")
NOT_OPERATIONS = re.compile(r"/api/v1/(openapi\.json|docs(/.*)?)\Z")


class Violation(AssertionError):
    """An answer the published OpenAPI does not allow."""


class Contract:
    """Every operation of a spec with its compiled response validators."""

    def __init__(self, spec):
        components = {"components": spec["components"]}

        def compile_(schema):
            return OAS30ReadValidator({**schema, **components}, format_checker=oas30_format_checker)

        self.error = compile_({"$ref": "#/components/schemas/Error"})
        self.operations = []
        for path, item in spec["paths"].items():
            pattern = re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + r"\Z")
            for method in METHODS:
                operation = item.get(method)
                if operation is None:
                    continue
                responses = {}
                for status, response in operation["responses"].items():
                    content = {media: compile_(body["schema"]) if media == "application/json" else None
                               for media, body in response.get("content", {}).items()}
                    responses[status] = (content, response.get("x-error-codes"))
                self.operations.append((path.count("{"), method.upper(), pattern, path, operation, responses))
        self.operations.sort(key=lambda entry: entry[0])  # /me/votes before /me/keys/{public_key}
        self.violations = []
        self._lock = threading.Lock()

    def find(self, method, path):
        """(path template, operation, responses) of a request, or None when no operation has the path."""
        for _, op_method, pattern, template, operation, responses in self.operations:
            if op_method == method and pattern.match(path):
                return template, operation, responses
        return None

    def check(self, method, path, response):
        """Raise Violation (and remember it) when the answer breaks the spec."""
        if not path.startswith("/api/v1/") or NOT_OPERATIONS.match(path) or method in ("HEAD", "OPTIONS"):
            return
        try:
            self._check(method, path, response)
        except Violation as exc:
            with self._lock:
                self.violations.append(str(exc))
            raise

    def _check(self, method, path, response):
        status = str(response.status_code)
        found = self.find(method, path)
        if found is None:  # no such operation: routing's own 404/405, as the envelope
            if status not in ("404", "405"):
                raise Violation(f"{method} {path}: {status} for a request that matches no operation")
            self._validate(self.error, response, f"{method} {path} → {status}")
            return
        template, operation, responses = found
        where = f"{method} {template} ({operation['operationId']}) → {status}"
        if status not in responses:
            raise Violation(f"{where}: status not documented (documented: {sorted(responses)})")
        content, codes = responses[status]
        data = response.get_data()
        if not content:
            if data:
                raise Violation(f"{where}: a body where the spec documents none")
            return
        if response.mimetype not in content:
            raise Violation(f"{where}: content type {response.mimetype} not documented ({sorted(content)})")
        validator = content[response.mimetype]
        if validator is not None:
            body = self._validate(validator, response, where)
            if codes is not None and body["error"]["code"] not in codes:
                raise Violation(f"{where}: error code {body['error']['code']!r} not among the documented {codes}")

    @staticmethod
    def _validate(validator, response, where):
        try:
            body = json.loads(response.get_data())
        except ValueError:
            raise Violation(f"{where}: not JSON") from None
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            detail = "; ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5])
            raise Violation(f"{where}: body does not match the spec: {detail}")
        return body


class ContractClient(FlaskClient):
    """The test client, checking every /api/v1 answer against the published spec."""

    contract = None  # set by the app fixture

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if self.contract is not None:
            self.contract.check(response.request.method, response.request.path, response)
        return response

"""The HTTP layer's wiring: the flask-smorest Api that publishes the contract, the JSON encoder, the
offline docs page. The factory (backend/__init__.py) makes one Api per app and registers the
blueprints on it.

The published OpenAPI (`/api/v1/openapi.json`) is what clients are generated from, so it is made
complete here rather than in each module: every operation gets its `operationId` and its error
responses from one table (miniprogram_api/operations.py), every error response references the named
`Error` schema, and a nullable enum lists null (OpenAPI 3.0.3).
"""
import re
from http import HTTPStatus

from apispec import BasePlugin
from flask import Blueprint, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from miniprogram_api.common import Derived
from miniprogram_api.errors import HTTP_DEFAULTS, ErrorSchema, http_error
from miniprogram_api.operations import AUTH, OPERATIONS, camel

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
ERROR_REF = {"$ref": "#/components/schemas/Error"}
SWAGGER_UI_STATIC = "/api/v1/docs/static"


class JSONProvider(DefaultJSONProvider):
    """UTF-8 JSON without \\uXXXX escapes, so Chinese reads as itself (Flask 3 ignores JSON_AS_ASCII).
    A lone surrogate (valid in a JSON string, not encodable in UTF-8) is written as its escape, so
    that text a client sent with one cannot turn an answer into a 500."""

    ensure_ascii = False

    def dumps(self, obj, **kwargs):
        text = super().dumps(obj, **kwargs)
        return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def derived2properties(self, field, **kwargs):
    """apispec: a Derived field is documented as the typed field it serialises with."""
    if isinstance(field, Derived):
        return {**self.field2property(field.field), "readOnly": True}
    return {}


def nullable_values(self, field, ret, **kwargs):
    """apispec, for OpenAPI 3.0.3 as validators read it: a nullable enum lists null (or null is
    refused); a nullable object is its schema or null — apispec's `anyOf [{type: object, nullable},
    {$ref}]` would accept any object at all."""
    changes = {}
    if ret.get("nullable") and "enum" in ret and None not in ret["enum"]:
        changes["enum"] = [*ret["enum"], None]
    any_of = ret.get("anyOf")
    if any_of and {"type": "object", "nullable": True} in any_of:
        refs = [branch for branch in any_of if branch != {"type": "object", "nullable": True}]
        changes["anyOf"] = [*refs, {"type": "object", "nullable": True, "enum": [None]}]
        ret.pop("nullable", None)  # said by the null branch; beside anyOf without a type it means nothing
    return changes


def _error_response(status, codes):
    phrase = HTTPStatus(status).phrase
    listed = ", ".join(f"`{code}`" for code in codes)
    return {"description": f"{phrase}. Error codes: {listed} (docs/errors.md)",
            "content": {"application/json": {"schema": dict(ERROR_REF)}},
            "x-error-codes": list(codes)}


class ContractPlugin(BasePlugin):
    """apispec: operationId, error responses and their codes for every operation, from the table."""

    def operation_helper(self, path=None, operations=None, rule=None, **kwargs):
        for method, operation in (operations or {}).items():
            key = f"{method.upper()} {path}"
            entry = OPERATIONS.get(key)
            operation["operationId"] = entry.operation_id if entry else camel(rule.endpoint.rsplit(".", 1)[-1])
            refusals = {}

            def add(status, *codes):
                listed = refusals.setdefault(status, [])
                for code in codes:
                    if code not in listed:
                        listed.append(code)

            if entry:
                for status, codes in entry.refusals.items():
                    add(status, *codes)
            if operation.get("security"):
                add(401, *AUTH)
            if any(isinstance(conv, (IntegerConverter, VoteRefConverter)) for conv in rule._converters.values()):
                add(404, HTTP_DEFAULTS[404][0])
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                add(400, "invalid_json")
            if body:
                add(413, HTTP_DEFAULTS[413][0])
            if body or operation.get("parameters"):
                add(422, HTTP_DEFAULTS[422][0])
            add(500, HTTP_DEFAULTS[500][0])
            add(503, "database_unavailable")  # an outage of the database, anywhere (Retry-After)
            # flask-smorest's own error responses (422 for arguments) are replaced by ours
            responses = {str(int(status)): response for status, response in operation.get("responses", {}).items()
                         if status != "default" and int(status) < 400}
            for status, codes in sorted(refusals.items()):
                responses[str(status)] = _error_response(status, codes)
            responses.update(entry.responses if entry else {})  # what the decorators cannot say
            operation["responses"] = responses
            lines = [f"{status} " + ", ".join(f"`{c}`" for c in codes) for status, codes in sorted(refusals.items())]
            operation["description"] = (operation.get("description", "") + "\n\nError codes (docs/errors.md): "
                                        + "; ".join(lines)).strip()


class VoteRefConverter(BaseConverter):
    """`<vote:vid>`: a vote as the URL names it — its integer id (1 … 2^31−1) or its protocol
    `vote_id` (`v12-3f9a0c1b`, what ballots, receipts and tree heads carry). Both reach the same vote;
    the service resolves the protocol id (docs/votes.md "Addressing a vote")."""

    regex = r"(?:[1-9][0-9]{0,9}|v[1-9][0-9]{0,9}-[0-9a-f]{8})"
    part_isolating = True

    def to_python(self, value):
        if value.startswith("v"):
            return value
        number = int(value)
        if number > 2**31 - 1:
            raise ValidationError()  # not a database id: no such resource
        return number

    def to_url(self, value):
        return str(value)


def vote_ref_schema(converter):
    return {"type": "string", "pattern": "^([1-9][0-9]{0,9}|v[1-9][0-9]{0,9}-[0-9a-f]{8})$",
            "description": "the vote's id (an integer) or its protocol vote_id (v12-3f9a0c1b)"}


class LinliApi(Api):
    """flask-smorest's Api with the error envelope of docs/errors.md instead of its own, no catch-all `default`
    response (every status an operation answers is listed), and the contract plugin."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app=None, **kwargs):
        kwargs.setdefault("spec_kwargs", {"extra_plugins": [ContractPlugin()]})
        super().__init__(app, **kwargs)

    def _init_spec(self, **kwargs):
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(derived2properties)
        self.ma_plugin.converter.add_attribute_function(nullable_values)
        self.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
        self.register_converter(VoteRefConverter, vote_ref_schema)
        from miniprogram_api.votes import BALLOT_SCHEMAS  # the protocol's ballot, for generated clients

        for name, schema in BALLOT_SCHEMAS.items():
            if name not in self.spec.components.schemas:
                self.spec.components.schema(name, schema)
        if "Error" not in self.spec.components.schemas:
            self.spec.components.schema("Error", schema=ErrorSchema)

    def handle_http_exception(self, error):
        return http_error(error)


def swagger_ui_blueprint():
    """Swagger UI's files from the pinned swagger-ui-bundle package: the docs page needs no internet
    (config OPENAPI_SWAGGER_UI_URL points here)."""
    blp = Blueprint("swagger_ui_static", __name__)

    @blp.route(f"{SWAGGER_UI_STATIC}/<path:filename>")
    def swagger_ui_file(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    return blp

"""The OpenAPI spec is served, browsable offline, complete enough to generate clients from, and the API
keeps to it (schemathesis over every operation; tests/contract.py checks every answer of the suite)."""
import re
from urllib.parse import urljoin, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from miniprogram_api.operations import OPERATION_ID, OPERATIONS
from tests.contract import Violation

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_spec_served_with_core_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/wechat-login", "/api/v1/me", "/api/v1/me/phone", "/api/v1/communities",
                 "/api/v1/communities/{cid}/members", "/api/v1/communities/{cid}/registry",
                 "/api/v1/communities/{cid}/bindings", "/api/v1/bindings/{bid}/review"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


def test_browsable_docs_page(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger" in page.data.lower()


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_conforms_to_its_spec(app, world, mode):
    """No 500 and no response that breaks the spec, for generated valid and invalid requests to
    every operation. (schemathesis' own pytest plugin does not run under pytest 9, so the loop is ours.)"""
    admin = world.platform_admin()  # passes every guard: requests reach deep into each use case
    world.standard_community()  # ids for generated requests to hit
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    generation_mode = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10

    for operation in operations:
        headers = world.login(admin["openid"])["headers"]  # a fresh token: the logout operation revokes its own

        @given(case=operation.as_strategy(generation_mode=generation_mode))
        @settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # nothing to send wrong: an operation that takes no parameters, no body and no token
            # (the health probe, asking for a console sign-in challenge)
            raw = operation.definition.raw
            assert mode == "negative" and not (raw.get("parameters") or raw.get("requestBody")
                                               or raw.get("security")), operation.label


# ---------------------------------------------------------------- the docs page works offline

EXTERNAL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")


def test_docs_page_loads_everything_from_this_server(client):
    """A government network often has no internet: the page and every file it names come from the app."""
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert EXTERNAL.search(html) is None, EXTERNAL.search(html)
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    spec_url = re.search(r"""url:\s*["']([^"']+)["']""", html).group(1)
    assert {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"} <= {
        a.rsplit("/", 1)[-1] for a in assets}
    # no validator badge: Swagger UI would fetch it from validator.swagger.io
    assert re.search(r'"validatorUrl":\s*null', html)
    for asset in assets + [spec_url]:
        url = urljoin("http://localhost/api/v1/docs", asset)
        assert urlsplit(url).netloc == "localhost", asset
        resp = client.get(urlsplit(url).path)
        assert resp.status_code == 200 and resp.data, asset
        if asset.endswith(".css"):
            for ref in re.findall(r"""url\(\s*["']?([^"')]+)""", resp.get_data(as_text=True)):
                if ref.startswith("data:"):
                    continue
                assert EXTERNAL.match(ref) is None, ref
                assert client.get(urlsplit(urljoin(url, ref)).path).status_code == 200, ref
    assert client.get("/api/v1/docs/static/../../../etc/passwd").status_code == 404


# ---------------------------------------------------------------- a contract a generator can use


def _spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_stable_operation_id_and_a_summary(client):
    spec = _spec(client)
    ids = {key: operation.get("operationId") for key, operation in _operations(spec)}
    assert set(ids) == set(OPERATIONS), "miniprogram_api/operations.py must name every operation, and only those"
    assert all(ids[key] == OPERATIONS[key].operation_id for key in ids)
    assert all(OPERATION_ID.fullmatch(i) for i in ids.values()) and len(set(ids.values())) == len(ids)
    assert ids["GET /api/v1/communities/{cid}/notices"] == "listNotices"
    assert ids["POST /api/v1/votes/{vid}/ballots"] == "castBallot"
    assert all(operation.get("summary", "").strip() for _, operation in _operations(spec))


def test_servers_and_health_are_in_the_spec(client):
    spec = _spec(client)
    assert spec["servers"] and spec["servers"][0]["url"] == "/"
    health = spec["paths"]["/api/v1/health"]["get"]
    assert health["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


def test_every_error_response_is_the_named_error_envelope(client):
    spec = _spec(client)
    for key, operation in _operations(spec):
        assert "default" not in operation["responses"], key  # every status an operation answers is listed
        errors = {s: r for s, r in operation["responses"].items() if int(s) >= 400}
        assert "500" in errors, key
        for status, response in errors.items():
            assert response["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            assert response["x-error-codes"], (key, status)
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]


def _schemas(node, where):
    """Every schema object inside `node` (a component schema or a response's), with where it is."""
    if isinstance(node, dict):
        yield where, node
        for key in ("items", "additionalProperties", "not"):
            if isinstance(node.get(key), dict):
                yield from _schemas(node[key], f"{where}.{key}")
        for key in ("anyOf", "allOf", "oneOf"):
            for i, sub in enumerate(node.get(key, [])):
                yield from _schemas(sub, f"{where}.{key}[{i}]")
        for name, sub in node.get("properties", {}).items():
            yield from _schemas(sub, f"{where}.{name}")


def _response_schemas(spec):
    for name, schema in spec["components"]["schemas"].items():
        yield from _schemas(schema, name)
    for key, operation in _operations(spec):
        for status, response in operation["responses"].items():
            for media, body in response.get("content", {}).items():
                yield from _schemas(body["schema"], f"{key} {status} {media}")


# A diff's old and new values are whatever the content held at that path: OpenAPI 3.0 says "any JSON
# value" by giving no type.
ANY_JSON_VALUE = {"Change.old", "Change.new"}


def test_every_property_has_a_type_and_nested_objects_are_named(client):
    spec = _spec(client)
    untyped, inline = [], []
    for where, schema in _response_schemas(spec):
        if where.endswith(".additionalProperties") or where in ANY_JSON_VALUE:
            continue  # the values of a free-form object (a disclosure's content…), any JSON value
        if not ({"type", "$ref", "anyOf", "allOf", "oneOf"} & set(schema)):
            untyped.append(where)
        if "properties" in schema and "." in where:
            inline.append(where)  # an object described in place: a generator would give it no name
    assert untyped == [] and inline == []
    media = spec["components"]["schemas"]["Media"]["properties"]
    assert media["url"]["type"] == media["thumbnail_url"]["type"] == "string"
    detail = spec["components"]["schemas"]["TicketDetail"]["properties"]
    assert detail["photos"]["items"] == {"$ref": "#/components/schemas/Media"}
    assert detail["events"]["items"] == {"$ref": "#/components/schemas/TicketEvent"}
    assert detail["due_at"]["format"] == "date-time" and detail["overdue"]["type"] == "boolean"


def test_nullable_enums_list_null_and_nullable_objects_are_exact(client):
    spec = _spec(client)
    for where, schema in _response_schemas(spec):
        if schema.get("nullable") and "enum" in schema:
            assert None in schema["enum"], where
        if "anyOf" in schema:
            assert {"type": "object", "nullable": True} not in schema["anyOf"], where  # would accept any object
    reason = spec["components"]["schemas"]["Ticket"]["properties"]["escalation_reason"]
    assert reason["enum"] == ["not_accepted", "not_resolved", None]


def test_a_real_ticket_validates_against_the_published_schema(world, client):
    """escalation_reason used to be declared nullable with an enum lacking null: validators refused
    every ticket not escalated."""
    cid = world.community()
    owner = world.member(cid, "resident")
    ticket = client.post(f"/api/v1/communities/{cid}/tickets", headers=owner["headers"], json={
        "category": "repair", "subject": "elevator", "description": "电梯异响", "location": "1 号楼"}).get_json()
    assert ticket["escalation_reason"] is None
    spec = _spec(client)
    validator = OAS30ReadValidator({"$ref": "#/components/schemas/TicketDetail", "components": spec["components"]},
                                   format_checker=oas30_format_checker)
    validator.validate(ticket)


def test_the_test_client_refuses_an_answer_the_spec_does_not_allow(app, client):
    """tests/contract.py is what keeps the spec true: show that it catches a drift."""
    contract = app.test_client_class.contract
    seen = len(contract.violations)
    template, operation, responses = contract.find("GET", "/api/v1/health")
    with app.test_request_context():
        cases = {
            "status not documented": app.response_class('{"status": "ok"}', status=201, mimetype="application/json"),
            "does not match": app.response_class('{"status": "fine"}', mimetype="application/json"),
            "content type": app.response_class("ok", mimetype="text/plain"),
        }
        for expected, response in cases.items():
            with pytest.raises(Violation, match=expected):
                contract.check("GET", "/api/v1/health", response)
        envelope = '{"error": {"code": "ticket_not_found", "message": "工单不存在", "details": {}}}'
        with pytest.raises(Violation, match="error code 'ticket_not_found' not among"):
            contract.check("GET", "/api/v1/communities/1/members", app.response_class(
                envelope, status=404, mimetype="application/json"))
        contract.check("GET", "/api/v1/health", app.response_class('{"status": "ok"}', mimetype="application/json"))
    del contract.violations[seen:]


def test_the_ballot_is_documented_completely_in_the_spec(client):
    """A client can be written from the spec alone: the signed ballot's fields, both choice shapes,
    the nonce and time formats, and what is signed."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    ballot_ref = schemas["EnvelopeArgs"]["properties"]["ballot"]["allOf"][0]["$ref"]
    ballot = schemas[ballot_ref.rsplit("/", 1)[1]]
    assert set(ballot["required"]) == {"type", "vote_id", "right_id", "choice", "nonce", "signed_at"}
    assert ballot["additionalProperties"] is False and "canonical JSON" in ballot["description"]
    assert {c["$ref"].rsplit("/", 1)[1] for c in ballot["properties"]["choice"]["oneOf"]} == {
        "ResolutionChoice", "ElectionChoice"}
    assert schemas["ResolutionChoice"]["properties"]["option"]["enum"] == ["approve", "reject", "abstain"]
    assert schemas["ElectionChoice"]["properties"]["approve"]["uniqueItems"] is True
    assert ballot["properties"]["nonce"]["pattern"] == "^[A-Za-z0-9_-]{22}$"
    assert ballot["properties"]["signed_at"].get("pattern") or ballot["properties"]["signed_at"].get("format")

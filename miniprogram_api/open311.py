"""Open311 GeoReport v2 at /open311/v2 (https://wiki.open311.org/GeoReport_v2): services and service
requests as JSON or XML, errors as the spec's error list. Outside /api/v1 and its OpenAPI; its tests
check the spec's fields (tests/api/test_open311.py)."""
import json
from datetime import timezone
from xml.etree import ElementTree

from flask import Blueprint, Response, request

from backend.errors import DomainError
from backend.services import open311 as service

blp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The XML element of each list (GeoReport v2): <services><service>, <service_requests><request>.
ROOTS = {"services": ("services", "service"), "requests": ("service_requests", "request"),
         "errors": ("errors", "error")}


def _xml(kind, items):
    root, child = ROOTS[kind]
    top = ElementTree.Element(root)
    for item in items:
        element = ElementTree.SubElement(top, child)
        for key, value in item.items():
            field = ElementTree.SubElement(element, key)
            if value is not None:
                field.text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(top, encoding="unicode").encode()


def _answer(kind, items, fmt, status=200):
    if fmt == "xml":
        body = _xml(kind, items)
    else:
        body = json.dumps(items, ensure_ascii=False).encode()
    return Response(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def _error(fmt, status, description):
    return _answer("errors", [{"code": status, "description": description}], fmt if fmt in FORMATS else "json", status)


def _guard(fmt, work):
    if fmt not in FORMATS:
        return _error("json", 404, f"format {fmt} not supported: json or xml")
    try:
        return work()
    except DomainError as exc:
        return _error(fmt, exc.status if exc.status in (400, 403, 404) else 400, exc.message)


def _time(name):
    from datetime import datetime

    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise service.Open311Error("open311_bad_date", f"{name} 须为带时区的 W3C 日期时间", 400) from None
    if moment.tzinfo is None:
        raise service.Open311Error("open311_bad_date", f"{name} 须为带时区的 W3C 日期时间", 400)
    return moment.astimezone(timezone.utc)


def _list(name):
    value = request.args.get(name) or request.form.get(name)
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


@blp.route("/services.<fmt>", methods=["GET"])
def services(fmt):
    """GET services: the ticket subjects."""
    return _guard(fmt, lambda: _answer("services", service.services(), fmt))


@blp.route("/requests.<fmt>", methods=["GET"])
def requests_(fmt):
    """GET requests: filters service_request_id, service_code, status, start_date, end_date, jurisdiction_id."""
    def work():
        ids = _list("service_request_id")
        if ids and not all(i.isdigit() and 0 < int(i) < 2**31 for i in ids):
            raise service.Open311Error("open311_bad_id", "service_request_id 须为数字", 400)
        return _answer("requests", service.find_requests(
            jurisdiction_id=request.args.get("jurisdiction_id"), service_codes=_list("service_code"),
            statuses=_list("status"), start=_time("start_date"), end=_time("end_date"),
            ids=[int(i) for i in ids] if ids else None), fmt)
    return _guard(fmt, work)


@blp.route("/requests/<int:request_id>.<fmt>", methods=["GET"])
def request_(request_id, fmt):
    """GET a request."""
    return _guard(fmt, lambda: _answer("requests", service.get_request(request_id), fmt))


@blp.route("/requests.<fmt>", methods=["POST"])
def create(fmt):
    """POST a request (form-encoded, with an api_key)."""
    def work():
        form = request.form if request.form else (request.get_json(silent=True) or {})
        client = service.client_for_key(form.get("api_key"))
        return _answer("requests", service.create_request(client, form), fmt, 201)
    return _guard(fmt, work)

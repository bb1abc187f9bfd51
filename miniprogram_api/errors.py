"""Errors over HTTP: the JSON envelope (docs/errors.md), request ids, and what is logged.

Every error leaves the API as `{"error": {"code", "message", "details"}}`: `message` is Chinese (shown
to the resident as is), `code` is for programs; docs/errors.md lists every code. A refusal (4xx) is
logged as one line (request id, method, path, status, code), never with a stack; only a 5xx carries
one.
"""
import logging
import re
import uuid

import marshmallow as ma
from flask import current_app, g, jsonify, request
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from backend.errors import DomainError
from backend.extensions import db
from miniprogram_api.messages import translate_fields

log = logging.getLogger("linli")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Codes and Chinese messages of the HTTP errors that Flask/werkzeug/webargs raise themselves.
HTTP_DEFAULTS = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "您没有此操作的权限"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "操作与当前状态冲突"),
    413: ("payload_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "提交的内容未通过校验"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误"),
    502: ("upstream_error", "上游服务出错"),
    503: ("service_unavailable", "服务暂不可用，请稍后再试"),
}
OTHER_HTTP_ERROR = ("http_error", "请求无法处理")


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "stable, for programs (docs/errors.md)"})
    message = ma.fields.String(required=True, metadata={"description": "Chinese, shown to the user as is"})
    details = ma.fields.Dict(required=True, metadata={
        "description": "`fields` (422: field → messages), `request_id` (5xx), and what the code names"})


class ErrorSchema(ma.Schema):
    """The error envelope (docs/errors.md): the body of every 4xx and 5xx answer."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


def error_response(status, code, message, details=None, exc_info=None):
    """The JSON error response; logged as one line, with the stack only for a 5xx."""
    details = dict(details or {})
    if "fields" in details:
        details["fields"] = translate_fields(details["fields"])
    request_id = getattr(g, "request_id", None)
    if status >= 500:
        details["request_id"] = request_id
        log.error("request_id=%s %s %s -> %s %s", request_id, request.method, request.path, status, code,
                  exc_info=exc_info)
    else:
        log.info("request_id=%s %s %s -> %s %s", request_id, request.method, request.path, status, code)
    resp = jsonify({"error": {"code": code, "message": message, "details": details}})
    resp.status_code = status
    if status in (429, 503) and isinstance(details.get("retry_after"), int):
        # a rate limit or a busy pipeline says when to come back, in the header as well as in details
        resp.headers["Retry-After"] = str(max(1, details["retry_after"]))
    return resp


# The database is unreachable, its connection was cut, SQLite's write lock stayed taken past its
# timeout, or no pooled connection freed in time: an outage, not a bug — 503 with Retry-After.
OUTAGES = (OperationalError, DisconnectionError, PoolTimeout)
RETRY_AFTER_SECONDS = 2


def database_unavailable(exc):
    """An outage of the database, on any route: 503 `database_unavailable` with Retry-After, never a
    500, and nothing half-written (the transaction is rolled back; a write is acknowledged only after
    its commit). The pool replaces dead connections (pool_pre_ping)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 — the connection may be gone; the pool discards it
        log.debug("rollback after an outage failed", exc_info=True)
    log.warning("database unavailable: %s", str(exc).splitlines()[0][:200])
    response = error_response(503, "database_unavailable", "服务暂时繁忙，请稍后重试")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _no_such_resource(exc):
    """werkzeug answers 405 when another method's rule has the path but this method's rule refused
    a part of it (`/communities/0/members`: the id converter refuses 0 for both GET and POST). If no
    method could take the path either, the resource does not exist: a 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in getattr(exc, "valid_methods", None) or ():
        try:
            adapter.match(method=method)
        except HTTPException:
            continue
        return False
    return True


def http_error(exc):
    """An HTTPException (routing, body size, webargs' 422) as the envelope."""
    status = exc.code or 500
    if status == 405 and _no_such_resource(exc):
        status = 404
    code, message = HTTP_DEFAULTS.get(status, OTHER_HTTP_ERROR)
    details = {}
    data = getattr(exc, "data", None) or {}
    if status == 422 and "messages" in data:
        # webargs/marshmallow: {"json": {"field": ["msg"]}} → {"fields": {"field": ["msg"]}}
        fields = {}
        for location_errors in data["messages"].values():
            if isinstance(location_errors, dict):
                # keys as strings: webargs may report an unnamed multipart part under None
                fields.update({"_schema" if key is None else str(key): msgs for key, msgs in location_errors.items()})
        details["fields"] = fields
    if status == 405:
        details["allowed"] = sorted(getattr(exc, "valid_methods", None) or [])
    return error_response(status, code, message, details)


def init_app(app):
    """Request ids, no caching of JSON answers, and the envelope for every kind of error."""

    def _request_id():
        # A caller's id is kept only if it is a plain token: it is echoed in a header and written to logs.
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    app.before_request_funcs.setdefault(None, []).insert(0, _request_id)  # first, whatever else refuses

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-Id"] = getattr(g, "request_id", "")
        if response.mimetype == "application/json" and "Cache-Control" not in response.headers:
            # answers depend on who asks: no cache keeps them (media sets its own, private, policy)
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(DomainError)
    def _domain(exc):
        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details,
                              exc_info=exc if exc.status >= 500 else None)

    @app.errorhandler(HTTPException)
    def _http(exc):
        return http_error(exc)

    for outage in OUTAGES:
        app.register_error_handler(outage, database_unavailable)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        db.session.rollback()
        code, message = HTTP_DEFAULTS[500]
        return error_response(500, code, message, exc_info=exc)

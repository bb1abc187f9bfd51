"""The domain error type and the JSON error format of handbook §7.

Every error leaves the API as `{"error": {"code", "message", "details"}}`; `message` is Chinese
(shown to the resident as is), `code` is for programs.
"""
import logging
import re
import uuid

import marshmallow as ma
from flask import g, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

log = logging.getLogger("linli")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Default Chinese messages and codes for HTTP errors raised by Flask/werkzeug itself.
HTTP_DEFAULTS = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限进行此操作"),
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


class DomainError(Exception):
    """A refusal a service raises; the handler turns it into the §7 JSON error."""

    status = 400

    def __init__(self, code, message, status=None, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details or {}


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Unauthorized(DomainError):
    status = 401


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    """422 with the offending fields in details.fields."""

    status = 422

    def __init__(self, fields, message="提交的内容未通过校验", code="validation_error", details=None):
        super().__init__(code, message, details={"fields": fields, **(details or {})})


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    """The §7 error envelope, documented for every error response in the OpenAPI spec."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


def error_response(status, code, message, details=None):
    """Build the JSON error response."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    if status >= 500:
        body["error"]["details"]["request_id"] = getattr(g, "request_id", None)
    resp = jsonify(body)
    resp.status_code = status
    return resp


def _http_error(exc):
    status = exc.code or 500
    code, message = HTTP_DEFAULTS.get(status, ("http_error", "请求无法处理"))
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
        details["allowed"] = sorted(exc.valid_methods or []) if hasattr(exc, "valid_methods") else []
    return error_response(status, code, message, details)


class LinliApi(Api):
    """flask-smorest's Api with the §7 error envelope instead of its own."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return _http_error(error)


def register_error_handlers(app):
    """JSON errors for domain refusals, HTTP errors and anything unexpected."""

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
        from backend.extensions import db

        db.session.rollback()
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def _http(exc):
        return _http_error(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        from backend.extensions import db

        db.session.rollback()
        log.exception("unhandled error, request_id=%s", getattr(g, "request_id", None))
        return error_response(500, "internal_error", "服务器内部错误")

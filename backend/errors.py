"""The refusals of the core: DomainError and its subclasses, one per HTTP status they map to.

A service refuses by raising one of these with a stable `code` (for programs) and a Chinese `message`
(shown to the resident as is); docs/errors.md lists every code. This module knows nothing of HTTP
or of any other module: the HTTP layer (miniprogram_api/errors.py) turns a DomainError into the
JSON envelope `{"error": {"code", "message", "details"}}`.
"""


class DomainError(Exception):
    """A refusal a service raises; the HTTP layer turns it into the JSON error of docs/errors.md."""

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

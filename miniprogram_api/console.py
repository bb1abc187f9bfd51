"""The web console's sign-in by QR code, confirmed in the mini-program, and the user's sessions
(docs/console.md "Signing in")."""
import marshmallow as ma
from flask import request

from backend.security import current_auth_session, current_user
from backend.services import console_login as service
from miniprogram_api.common import BEARER, NonBlank, Schema, UTCDateTime, blueprint
from miniprogram_api.me import UserSchema

blp = blueprint("console", "Web console sign-in and sessions")


def _client():
    return {"user_agent": request.headers.get("User-Agent"), "client_ip": request.remote_addr}


class ChallengeSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "the public code the QR shows"})
    qr_text = ma.fields.String(required=True, metadata={"description": "what to encode in the QR code"})
    poll_secret = ma.fields.String(required=True, metadata={
        "description": "keep in the browser; send it to /poll (never shown, never in a URL)"})
    expires_at = UTCDateTime(required=True)


class ConsoleClientSchema(ma.Schema):
    origin = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)
    client_ip = ma.fields.String(allow_none=True)


class ConsoleRoleSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    community_name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(metadata={"enum": list(service.CONSOLE_ROLES)}), required=True)


class ChallengeViewSchema(ma.Schema):
    """What the phone shows before the user confirms."""

    code = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["pending"]})
    expires_at = UTCDateTime(required=True)
    console = ma.fields.Nested(ConsoleClientSchema, required=True)
    is_platform_admin = ma.fields.Boolean(required=True)
    communities = ma.fields.List(ma.fields.Nested(ConsoleRoleSchema), required=True)


class DecisionSchema(ma.Schema):
    code = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["confirmed", "declined"]})


class PollArgs(Schema):
    poll_secret = NonBlank(max=64)


class PollResult(ma.Schema):
    status = ma.fields.String(required=True, metadata={"enum": ["pending", "signed_in"]})
    expires_at = UTCDateTime(required=True, metadata={"description": "of the challenge while pending, of the session once signed in"})
    token = ma.fields.String(metadata={"description": "the console's bearer token (signed_in only)"})
    user = ma.fields.Nested(UserSchema, metadata={"description": "signed_in only"})


class DevLoginArgs(Schema):
    openid = NonBlank(max=64, metadata={"description": "a demo user's openid, e.g. dev-committee"})


class SessionSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "the session's handle (not its token)"})
    kind = ma.fields.String(required=True, metadata={"enum": ["miniprogram", "console"]})
    created_at = UTCDateTime(required=True)
    expires_at = UTCDateTime(required=True)
    user_agent = ma.fields.String(allow_none=True)
    client_ip = ma.fields.String(allow_none=True)
    current = ma.fields.Boolean(required=True, metadata={"description": "the session of this request"})


@blp.route("/console/login-challenges", methods=["POST"])
@blp.response(201, ChallengeSchema)
def create_challenge():
    """A QR sign-in challenge for a console (no login needed; expires in 2 minutes, single use)."""
    return service.create_challenge(origin=request.headers.get("Origin") or request.host_url.rstrip("/"), **_client())


@blp.route("/console/login-challenges/<code>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, ChallengeViewSchema)
def describe_challenge(code):
    """What the scanned code will sign in: the console's address and browser, and the caller's roles."""
    return service.describe(current_user(), code)


@blp.route("/console/login-challenges/<code>/confirm", methods=["POST"])
@blp.doc(security=BEARER)
@blp.response(200, DecisionSchema)
def confirm_challenge(code):
    """Confirm on the phone: the console's next poll is signed in as the caller."""
    return service.decide(current_user(), code, True)


@blp.route("/console/login-challenges/<code>/decline", methods=["POST"])
@blp.doc(security=BEARER)
@blp.response(200, DecisionSchema)
def decline_challenge(code):
    """Decline on the phone: the console's sign-in is refused."""
    return service.decide(current_user(), code, False)


@blp.route("/console/login-challenges/<code>/poll", methods=["POST"])
@blp.arguments(PollArgs)
@blp.response(200, PollResult)
def poll_challenge(args, code):
    """The console polls with its secret: pending, then its session once (the challenge is used up)."""
    return service.poll(code, args["poll_secret"], **_client())


@blp.route("/console/dev-login", methods=["POST"])
@blp.arguments(DevLoginArgs)
@blp.response(200, PollResult)
def dev_login(args):
    """开发登录: a console session for a demo user, only with the built-in fake WeChat (development)."""
    return service.dev_login(args["openid"], **_client())


@blp.route("/me/sessions", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, SessionSchema(many=True))
def my_sessions():
    """The caller's live sessions (mini-program and consoles), the current one marked."""
    return service.my_sessions(current_user(), current_auth_session().id)


@blp.route("/me/sessions/<session_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(204)
def end_session(session_id):
    """End one of the caller's sessions (e.g. a console left signed in)."""
    service.end_session(current_user(), session_id)

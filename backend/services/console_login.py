"""Signing in to the web console by QR code, WeChat's own scan-to-login pattern built on our
identity (docs/console.md "Signing in"); and the list of a user's sessions, which they can end.

1. The console asks for a challenge: a public `code` (shown as a QR code) and a `poll_secret` that
   never leaves the browser. 2. A mini-program user scans the code, sees which console (address,
   browser) and which of their roles will be signed in, and confirms (or declines). 3. The console,
   polling with its secret, receives a console session of that user — once. A challenge lives
   CONSOLE_CHALLENGE_SECONDS (2 minutes) and is single use.
"""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import AuthSession, Community, ConsoleLoginChallenge, Membership, User
from backend.models.base import utcnow
from backend.security import scopes_of
from backend.security import issue_token
from backend.services import ratelimit

QR_PREFIX = "linli-console-login:"
CONSOLE_ROLES = ("committee", "property_staff", "regulator")
CHALLENGES_PER_IP_PER_MINUTE = 20


def _digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def create_challenge(origin=None, user_agent=None, client_ip=None, now=None):
    """A new challenge for a console that is not signed in: its QR text and the secret to poll with."""
    now = now or utcnow()
    ratelimit.hit(f"console-challenge:{client_ip or '-'}", CHALLENGES_PER_IP_PER_MINUTE, 60, now)
    code, poll_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
    challenge = ConsoleLoginChallenge(
        code=code, poll_secret_hash=_digest(poll_secret), status="pending", origin=(origin or "")[:255] or None,
        user_agent=(user_agent or "")[:255] or None, client_ip=(client_ip or "")[:64] or None, created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["CONSOLE_CHALLENGE_SECONDS"]))
    db.session.add(challenge)
    db.session.commit()
    return {"code": code, "poll_secret": poll_secret, "qr_text": QR_PREFIX + code, "expires_at": challenge.expires_at}


def _challenge(code, now):
    """A challenge that is still usable: 404 when unknown, 409 `challenge_expired` past its time."""
    challenge = db.session.get(ConsoleLoginChallenge, code)
    if challenge is None:
        raise NotFound("challenge_not_found", "登录二维码无效，请在管理后台刷新二维码")
    if challenge.expires_at <= now and challenge.status in ("pending", "confirmed"):
        raise Conflict("challenge_expired", "登录二维码已过期，请在管理后台刷新二维码")
    return challenge


def console_roles(user):
    """What a console session of `user` can do: their committee, staff and regulator roles per
    community, and whether they are a platform admin."""
    rows = db.session.execute(
        select(Membership.community_id, Community.name, Membership.role).join(Community, Community.id == Membership.community_id)
        .where(Membership.user_id == user.id, Membership.role.in_(CONSOLE_ROLES))
        .order_by(Membership.community_id, Membership.role)).all()
    communities = {}
    for community_id, name, role in rows:
        communities.setdefault(community_id, {"community_id": community_id, "community_name": name, "roles": []})
        communities[community_id]["roles"].append(role)
    return {"is_platform_admin": user.is_platform_admin, "communities": list(communities.values())}


def _require_console_role(user):
    roles = console_roles(user)
    # a street or district regulator holds `regulator` through a scope, not a membership (docs/district.md)
    if not (roles["is_platform_admin"] or roles["communities"] or scopes_of(user) != set()):
        raise Forbidden("no_console_role", "您在任何小区都没有业委会、物业或监管角色，无需登录管理后台")
    return roles


def describe(user, code, now=None):
    """What the phone shows before confirming: which console asks, and the roles it will get."""
    challenge = _challenge(code, now or utcnow())
    if challenge.status != "pending":
        raise Conflict("challenge_used", "该登录二维码已被使用，请在管理后台刷新二维码")
    return {"code": challenge.code, "status": challenge.status, "expires_at": challenge.expires_at,
            "console": {"origin": challenge.origin, "user_agent": challenge.user_agent,
                        "client_ip": challenge.client_ip},
            **_require_console_role(user)}


def decide(user, code, confirm, now=None):
    """The phone's answer: confirm (the next poll signs the console in as `user`) or decline."""
    now = now or utcnow()
    challenge = _challenge(code, now)
    if confirm:
        _require_console_role(user)
    moved = db.session.execute(
        update(ConsoleLoginChallenge).where(ConsoleLoginChallenge.code == code,
                                            ConsoleLoginChallenge.status == "pending")
        .values(status="confirmed" if confirm else "declined", user_id=user.id, decided_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        db.session.rollback()
        raise Conflict("challenge_used", "该登录二维码已被使用，请在管理后台刷新二维码")
    db.session.commit()
    db.session.refresh(challenge)
    return {"code": code, "status": challenge.status}


def poll(code, poll_secret, user_agent=None, client_ip=None, now=None):
    """The console's poll: `{"status": "pending"}` while the phone has not answered; the session
    (`status` "signed_in", consuming the challenge) once it confirmed; 409 once declined, used or
    expired. Only the holder of the poll secret gets it."""
    now = now or utcnow()
    challenge = db.session.get(ConsoleLoginChallenge, code)
    if challenge is None or not secrets.compare_digest(challenge.poll_secret_hash, _digest(poll_secret)):
        raise NotFound("challenge_not_found", "登录二维码无效，请在管理后台刷新二维码")
    if challenge.status == "declined":
        raise Conflict("challenge_declined", "手机上已拒绝此次登录")
    if challenge.status == "consumed":
        raise Conflict("challenge_used", "该登录二维码已被使用，请在管理后台刷新二维码")
    if challenge.expires_at <= now:
        raise Conflict("challenge_expired", "登录二维码已过期，请在管理后台刷新二维码")
    if challenge.status == "pending":
        return {"status": "pending", "expires_at": challenge.expires_at}
    taken = db.session.execute(
        update(ConsoleLoginChallenge).where(ConsoleLoginChallenge.code == code,
                                            ConsoleLoginChallenge.status == "confirmed")
        .values(status="consumed").execution_options(synchronize_session=False)).rowcount
    if taken != 1:  # two polls raced: the other one has the session
        db.session.rollback()
        raise Conflict("challenge_used", "该登录二维码已被使用，请在管理后台刷新二维码")
    return _sign_in(db.session.get(User, challenge.user_id), user_agent, client_ip)


def _sign_in(user, user_agent, client_ip):
    token, session = issue_token(user, kind="console", ttl_seconds=current_app.config["CONSOLE_SESSION_HOURS"] * 3600,
                                 user_agent=user_agent, client_ip=client_ip)
    db.session.commit()
    return {"status": "signed_in", "token": token, "expires_at": session.expires_at, "user": user}


def dev_login(openid, user_agent=None, client_ip=None):
    """开发登录: a console session for a demo user by openid, only while the built-in fake WeChat is on
    (development); production refuses it."""
    if not current_app.config["WECHAT_DEV_FAKE"]:
        raise Forbidden("dev_login_disabled", "开发登录仅在开发环境（内置模拟微信）可用，请扫码登录")
    user = db.session.execute(select(User).filter_by(openid=openid)).scalar_one_or_none()
    if user is None:
        raise Invalid({"openid": ["没有这个用户（演示用户见 flask demo 的输出）"]})
    _require_console_role(user)
    return _sign_in(user, user_agent, client_ip)


def handle(session_id):
    """The public handle of a session in lists (never the session id, which the bearer token names)."""
    return _digest("linli session handle " + session_id)[:16]


def my_sessions(user, current_session_id, now=None):
    """The user's live sessions, newest first, the one of this request marked."""
    now = now or utcnow()
    rows = db.session.execute(select(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.created_at.desc())).scalars().all()
    return [{"id": handle(s.id), "kind": s.kind, "created_at": s.created_at, "expires_at": s.expires_at,
             "user_agent": s.user_agent, "client_ip": s.client_ip, "current": s.id == current_session_id}
            for s in rows]


def end_session(user, session_handle, now=None):
    """End one of the user's own live sessions (a console left signed in elsewhere)."""
    now = now or utcnow()
    for session in db.session.execute(select(AuthSession).where(
            AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)).scalars():
        if secrets.compare_digest(handle(session.id).encode(), session_handle.encode()):
            session.revoked_at = now
            db.session.commit()
            return
    raise NotFound("session_not_found", "没有找到该登录会话")

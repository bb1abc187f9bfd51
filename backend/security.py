"""Bearer tokens, roles and community scoping, and encryption of personal data."""
import base64
import hashlib
import hmac
import os
import re
import secrets
from datetime import timedelta
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes
from flask import current_app, request
from sqlalchemy import and_, bindparam, literal, or_, select, union_all
from itsdangerous import BadSignature, URLSafeSerializer

from backend.errors import Forbidden, NotFound, Unauthorized
from backend.extensions import db
from backend.models import AuthSession, Binding, Community, Membership, RegulatorScope, User
from backend.models.base import utcnow

# ---------------------------------------------------------------- personal data


def _derive(purpose, pii_key=None):
    return _derive_from(pii_key or current_app.config["PII_KEY"], purpose)


@lru_cache(maxsize=16)
def _derive_from(pii_key, purpose):
    raw = base64.b64decode(pii_key)
    if len(raw) < 16:
        raise RuntimeError("PII_KEY must be base64 of at least 16 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(raw)


def encrypt_pii(text, pii_key=None):
    """AES-GCM encrypt a personal-data string; None stays None. `pii_key`: another key than the
    configured one (key rotation only)."""
    if text is None:
        return None
    nonce = os.urandom(12)
    return nonce + AESGCM(_derive(b"linli pii aes-gcm", pii_key)).encrypt(nonce, text.encode(), None)


def decrypt_pii(blob, pii_key=None):
    """Decrypt what encrypt_pii produced."""
    if blob is None:
        return None
    return AESGCM(_derive(b"linli pii aes-gcm", pii_key)).decrypt(blob[:12], blob[12:], None).decode()


def pii_hash(text, pii_key=None):
    """Keyed hash (HMAC-SHA256) for matching personal data without decrypting it."""
    if text is None:
        return None
    return hmac.new(_derive(b"linli pii hmac", pii_key), text.encode(), hashlib.sha256).hexdigest()


def mask_phone(phone):
    """138****1234."""
    if not phone:
        return None
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]


def mask_id_number(number):
    """110***********123X: first three and last four characters only."""
    if not number:
        return None
    return number[:3] + "*" * max(len(number) - 7, 0) + number[-4:]


def encrypt_secret(text):
    """Encrypt a server secret (the WeChat session_key) with the same key material."""
    return encrypt_pii(text)


# ---------------------------------------------------------------- tokens


def _serializer():
    return _serializer_for(current_app.config["SECRET_KEY"], current_app.config.get("SECRET_KEY_PREVIOUS") or None)


@lru_cache(maxsize=16)
def _serializer_for(secret_key, previous_key=None):
    """Built once per key pair: constructing one costs as much as checking a token with it. Tokens
    signed with the previous key still verify (itsdangerous signs with the last key of the list)."""
    return URLSafeSerializer([previous_key, secret_key] if previous_key else secret_key, salt="linli-bearer")


def issue_token(user, kind="miniprogram", ttl_seconds=None, user_agent=None, client_ip=None):
    """Create a server-side session and the signed bearer token that names it; `kind`, the browser
    and address are what the owner's list of sessions shows (GET /me/sessions)."""
    now = utcnow()
    session = AuthSession(
        id=secrets.token_hex(16),
        user_id=user.id,
        kind=kind,
        user_agent=(user_agent or "")[:255] or None,
        client_ip=(client_ip or "")[:64] or None,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds or current_app.config["TOKEN_TTL_SECONDS"]),
    )
    db.session.add(session)
    return _serializer().dumps({"sid": session.id}), session


_SID = re.compile(r"[0-9a-f]{32}")  # secrets.token_hex(16)
SESSIONS = _SESSIONS = AuthSession.__table__
_SESSION = select(_SESSIONS.c.revoked_at, _SESSIONS.c.expires_at, _SESSIONS.c.user_id).where(
    _SESSIONS.c.id == bindparam("sid"))  # table columns: a Core statement, no ORM overhead
_SESSION_USER = _SESSION.add_columns(User).join(User, User.id == _SESSIONS.c.user_id)


def live_session(sid, now):
    """The session `sid` may be used at `now` (expressions), as a condition for statements that
    check it along with other things (the cast path: votes.accept_ballot)."""
    return and_(_SESSIONS.c.id == sid, _SESSIONS.c.revoked_at.is_(None), _SESSIONS.c.expires_at > now)


def _session_id(token):
    """The session id a bearer token names, if the token's signature holds (no database); else 401."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        payload = None
    # Only what issue_token writes is a session id: anything else, however it got signed, is a 401
    # (never a value of another type reaching SQL).
    sid = payload.get("sid") if isinstance(payload, dict) else None
    if not (isinstance(sid, str) and _SID.fullmatch(sid)):
        raise Unauthorized("invalid_token", "登录凭证无效，请重新登录")
    return sid


def resolve_token(token, with_user=True):
    """(session id, user id, User or None without `with_user`) for a bearer token, or raise 401
    (tampered, unknown, expired, revoked). One statement: it runs on every authenticated request."""
    sid = _session_id(token)
    row = db.session.execute(_SESSION_USER if with_user else _SESSION, {"sid": sid}).first()
    if row is None:
        raise Unauthorized("invalid_token", "登录凭证无效，请重新登录")
    if row.revoked_at is not None:
        raise Unauthorized("token_revoked", "登录凭证已失效，请重新登录")
    if row.expires_at <= utcnow():
        raise Unauthorized("token_expired", "登录已过期，请重新登录")
    return sid, row.user_id, row.User if with_user else None


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("unauthorized", "请先登录")
    return token.strip()


def _authenticated(with_user):
    """This request's (session id, user id, User or None), resolved once per request (cached on the
    request, not on g, which an outer app context may share between requests); 401 if none."""
    cached = request.environ.get("linli.auth")
    if cached is None:
        cached = request.environ["linli.auth"] = resolve_token(_bearer_token(), with_user)
    elif with_user and cached[2] is None:
        cached = request.environ["linli.auth"] = cached[:2] + (db.session.get(User, cached[1]),)
    return cached


def bearer_session_id():
    """The session id this request's bearer token names, its signature checked but the session not
    looked up (401 if there is no token or it was tampered with): for a caller that checks the
    session inside its own statement (live_session) and otherwise asks current_user_id()."""
    return _session_id(_bearer_token())


def current_user():
    """The authenticated user of this request (401 if none)."""
    return _authenticated(True)[2]


def current_user_id():
    """The authenticated user's id, without loading the user."""
    return _authenticated(False)[1]


def current_auth_session():
    """The server-side session behind this request's bearer token."""
    current_user()
    return db.session.get(AuthSession, request.environ["linli.auth"][0])


# ---------------------------------------------------------------- roles and scoping


_MEMBER_ROLES = select(Membership.role).where(Membership.user_id == bindparam("user"),
                                               Membership.community_id == bindparam("community"))
# A regulator scope (the district: street_id null; a street: its id) covering the community.
_SCOPE_ROLE = select(literal("regulator")).select_from(RegulatorScope).where(
    RegulatorScope.user_id == bindparam("user"),
    or_(RegulatorScope.street_id.is_(None),
        RegulatorScope.street_id == select(Community.street_id).where(
            Community.id == bindparam("community")).scalar_subquery())).limit(1)
_OWNER_ROLE = select(literal("owner")).select_from(Binding).where(
    Binding.user_id == bindparam("user"), Binding.community_id == bindparam("community"),
    Binding.status == "verified").limit(1)
_ROLES = union_all(_MEMBER_ROLES, select(_SCOPE_ROLE.subquery().c[0]), select(_OWNER_ROLE.subquery().c[0]))


def roles_in(user, community_id):
    """The caller's roles in one community: memberships, plus `regulator` for a regulator scope
    (the community's street, or the district) and nothing else from a scope, plus `owner` and
    `resident` for a verified binding, plus `resident` for anyone with a role there. A pending or
    rejected claim gives nothing (docs/decisions.md "Claims reveal nothing"); nothing carries across
    communities. One statement."""
    roles = set(db.session.execute(_ROLES, {"user": user.id, "community": community_id}).scalars())
    if roles:
        roles.add("resident")
    return roles


def require_community(user, community_id, *allowed):
    """The one guard: the community exists and the user holds one of `allowed` roles in it
    (any role at all when `allowed` is empty). Platform admins pass everywhere."""
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound("community_not_found", "小区不存在")
    if user.is_platform_admin:
        return community
    roles = roles_in(user, community_id)
    if (allowed and not roles.intersection(allowed)) or not roles:
        raise Forbidden("forbidden", "您没有此操作的权限")
    return community


# ---------------------------------------------------------------- regulator scopes (docs/district.md)


def scopes_of(user):
    """The street ids a user regulates as a whole, or None for the district (every street); an empty
    set for none. Platform admins count as the district."""
    if user.is_platform_admin:
        return None
    streets = db.session.execute(select(RegulatorScope.street_id).filter_by(user_id=user.id)).scalars().all()
    if any(street is None for street in streets):
        return None
    return set(streets)


def regulated_communities(user):
    """Every community where the user holds `regulator` (a membership or a scope): a select of ids."""
    streets = scopes_of(user)
    if streets is None:
        return select(Community.id)
    return select(Membership.community_id).where(Membership.user_id == user.id, Membership.role == "regulator") \
        .union(select(Community.id).where(Community.street_id.in_(sorted(streets))))


def require_street(user, street_id):
    """A street-level regulator action: a scope over that street or the district (or a platform
    admin). street_id None: the district itself, for district scopes only."""
    streets = scopes_of(user)
    if streets is None or (street_id is not None and street_id in streets):
        return
    raise Forbidden("forbidden", "您没有此操作的权限")


def regulators_of(community_id):
    """Ids of the users who hold `regulator` in a community, by membership or by scope."""
    street = select(Community.street_id).where(Community.id == community_id).scalar_subquery()
    return sorted(set(db.session.execute(
        select(Membership.user_id).where(Membership.community_id == community_id, Membership.role == "regulator")
        .union(select(RegulatorScope.user_id).where(or_(RegulatorScope.street_id.is_(None),
                                                        RegulatorScope.street_id == street)))).scalars()))


def require_platform_admin(user):
    """Only platform admins pass."""
    if not user.is_platform_admin:
        raise Forbidden("platform_admin_only", "仅平台管理员可进行此操作")



def session_user_ids(session_ids, now=None):
    """For session ids named by bearer tokens whose signatures the caller has checked
    (bearer_session_id; the cast route), {session id: the id of its user if the session is live at
    `now` (default: the clock), else the 401 it deserves (invalid_token, token_revoked,
    token_expired)}. One statement for them all, no user loaded."""
    now = now or utcnow()
    rows = {row.id: row for row in db.session.execute(
        select(_SESSIONS.c.id, _SESSIONS.c.user_id, _SESSIONS.c.revoked_at, _SESSIONS.c.expires_at)
        .where(_SESSIONS.c.id.in_(sorted(set(session_ids)))))}
    answers = {}
    for sid in session_ids:
        row = rows.get(sid)
        if row is None:
            answers[sid] = Unauthorized("invalid_token", "登录凭证无效，请重新登录")
        elif row.revoked_at is not None:
            answers[sid] = Unauthorized("token_revoked", "登录凭证已失效，请重新登录")
        elif row.expires_at <= now:
            answers[sid] = Unauthorized("token_expired", "登录已过期，请重新登录")
        else:
            answers[sid] = row.user_id
    return answers

"""Login through WeChat, phone verification, platform admins, and what /me shows."""
import re

from backend import wechat
from backend.errors import Invalid, NotFound
from backend.extensions import db
from backend.models import Binding, Community, Membership, PhoneVerification, User
from backend.models.base import utcnow
from backend.security import encrypt_pii, encrypt_secret, issue_token, pii_hash
from backend.services import rights as rights_service

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def wechat_login(code):
    """Exchange a wx.login code for our own bearer token; creates the user on first login."""
    session = wechat.code_to_session(code)
    user = db.session.execute(db.select(User).filter_by(openid=session["openid"])).scalar_one_or_none()
    if user is None:
        user = User(openid=session["openid"])
        db.session.add(user)
    user.unionid = session.get("unionid") or user.unionid
    if session.get("session_key"):
        user.session_key_enc = encrypt_secret(session["session_key"])
    user.last_login_at = utcnow()
    db.session.flush()
    token, auth = issue_token(user)
    db.session.commit()
    return {"token": token, "expires_at": auth.expires_at, "user": user}


def logout(auth_session):
    """Revoke the current bearer token on the server."""
    auth_session.revoked_at = utcnow()
    db.session.commit()


def verify_phone(user, code):
    """Exchange a getPhoneNumber code; the phone WeChat vouches for is stored encrypted."""
    phone = wechat.phone_number(code)
    if not PHONE_RE.match(phone or ""):
        raise Invalid({"code": ["微信返回的手机号不是中国大陆手机号"]}, code="unsupported_phone")
    user.phone_enc = encrypt_pii(phone)
    user.phone_hash = pii_hash(phone)
    user.phone_verified_at = utcnow()
    db.session.add(PhoneVerification(user_id=user.id, phone_hash=user.phone_hash))
    db.session.commit()
    return user


def make_platform_admin(openid):
    """Make the WeChat user with this openid a platform admin (creating the user if needed)."""
    user = db.session.execute(db.select(User).filter_by(openid=openid)).scalar_one_or_none()
    if user is None:
        user = User(openid=openid)
        db.session.add(user)
    user.is_platform_admin = True
    db.session.commit()
    return user


def profile(user):
    """The user with roles per community, verified parts and voting rights (for GET /me)."""
    # Communities where the user holds a role: memberships and verified bindings (a claim under
    # review gives none; it is listed among the user's bindings instead).
    community_ids = set(
        db.session.execute(db.select(Membership.community_id).filter_by(user_id=user.id)).scalars()
    ) | set(db.session.execute(db.select(Binding.community_id).filter_by(user_id=user.id, status="verified")).scalars())
    from backend.security import roles_in

    communities = []
    for community in db.session.execute(
        db.select(Community).where(Community.id.in_(community_ids)).order_by(Community.id)
    ).scalars():
        verified = db.session.execute(
            db.select(Binding).filter_by(user_id=user.id, community_id=community.id, status="verified")
        ).scalars().all()
        communities.append(
            {
                "id": community.id,
                "name": community.name,
                "roles": sorted(roles_in(user, community.id)),
                "parts": [
                    {"binding_id": b.id, "part_id": b.part_id, "label": b.part.label, "area": b.part.area}
                    for b in verified
                ],
                "rights": rights_service.rights_of_user(user, community.id),
            }
        )
    return {"user": user, "communities": communities}


def get_user(user_id):
    """A user by id, or 404."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", "用户不存在")
    return user


def named_user(openid=None, user_id=None):
    """The user a grant names by exactly one of openid and user_id (422 otherwise). One named by an
    openid not seen yet is created (flushed, not committed): staff and regulators may be given
    their role before their first login; an unknown user_id is 404."""
    if (openid is None) == (user_id is None):
        raise Invalid({"openid": ["openid 与 user_id 须且只须提供一个"]})
    if user_id is not None:
        return get_user(user_id)
    user = db.session.execute(db.select(User).filter_by(openid=openid)).scalar_one_or_none()
    if user is None:
        user = User(openid=openid)
        db.session.add(user)
        db.session.flush()
    return user

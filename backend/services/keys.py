"""Owners' device keys (docs/protocol.md §2, docs/votes.md "Device keys"): registered after verification, revoked when a phone is
lost; every open vote's log follows them through key_binding / key_revocation entries."""
from sqlalchemy import func, select

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Binding
from backend.models.base import utcnow
from backend.models.vote import DeviceKey
from backend.pagination import paginate
from backend.services import votes
from voting.entries import is_public_key

MAX_ACTIVE_KEYS = 5  # each registration writes into every open log; a handful of phones is plenty


def _add_key(user, public_key, now):
    """The caller's new DeviceKey (added, not committed); or (existing, False) for their own active key
    registered again — a retry after a lost reply. 422 for a malformed key, 409 for another user's
    key or too many active ones, 403 for a revoked one."""
    key = db.session.execute(select(DeviceKey).where(DeviceKey.public_key == public_key)).scalar_one_or_none()
    if key is not None:
        if key.user_id != user.id:
            raise Conflict("key_taken", "该公钥已被其他用户登记")
        if key.revoked_at is not None:
            raise Forbidden("key_revoked", "该设备密钥已撤销，请在设备上生成新密钥")
        return key, False
    active = db.session.execute(select(func.count()).select_from(DeviceKey).where(
        DeviceKey.user_id == user.id, DeviceKey.revoked_at.is_(None))).scalar_one()
    if active >= MAX_ACTIVE_KEYS:
        raise Conflict("too_many_keys", f"最多可登记 {MAX_ACTIVE_KEYS} 个有效密钥，请先撤销不用的设备密钥")
    key = DeviceKey(user_id=user.id, public_key=public_key, created_at=now)
    db.session.add(key)
    return key, True


def _check_format(public_key):
    if not is_public_key(public_key):
        raise Invalid({"public_key": ["须为 Ed25519 公钥：32 字节的无填充 base64url（43 个字符）"]},
                      code="invalid_public_key")


def register_key(user, public_key, now=None):
    """Register a device public key for a verified owner and bind it in every open vote of their rights.
    Registering one's own active key again changes nothing (a retry after a lost reply)."""
    _check_format(public_key)
    verified = db.session.execute(select(Binding.id).where(Binding.user_id == user.id,
                                                           Binding.status == "verified").limit(1)).first()
    if not verified:
        raise Forbidden("not_owner", "您还不是已认证的业主，请先认证房屋")
    now = now or utcnow()
    key, new = _add_key(user, public_key, now)
    if not new:
        return {"key": key, "entries": []}
    entries = votes.bind_key_in_open_votes(user, public_key, now)
    db.session.commit()
    return {"key": key, "entries": entries}


def register_proxy_key(user, public_key, now=None):
    """A device key of one's own to be named as a proxy (any user with a verified phone; an owner's
    device key registered with POST /me/keys serves as well). Bound to no right: a delegation names
    it (docs/votes.md "Proxies"). Revoked like any device key (DELETE /me/keys/<key>)."""
    _check_format(public_key)
    if user.phone_verified_at is None:
        raise Forbidden("phone_not_verified", "请先验证手机号，再登记代理人密钥")
    key, new = _add_key(user, public_key, now or utcnow())
    if new:
        db.session.commit()
    return key


def revoke_key(user, public_key, now=None):
    """Revoke one of the caller's keys (lost phone): a key_revocation in every open vote it is bound in."""
    key = db.session.execute(select(DeviceKey).where(DeviceKey.public_key == public_key,
                                                     DeviceKey.user_id == user.id)).scalar_one_or_none()
    if key is None:
        raise NotFound("key_not_found", "没有找到您登记的该密钥")
    if key.revoked_at is not None:
        raise Forbidden("key_revoked", "该设备密钥已撤销，请在设备上生成新密钥")
    now = now or utcnow()
    key.revoked_at = now
    entries = votes.revoke_key_in_open_votes(user, public_key, now)
    db.session.commit()
    return {"key": key, "entries": entries}


def list_keys(user, page=1, per_page=20):
    """The caller's device keys, newest first (revoked ones too)."""
    return paginate(select(DeviceKey).where(DeviceKey.user_id == user.id).order_by(DeviceKey.id.desc()),
                    page, per_page)

"""Proxies (委托投票, docs/votes.md "Proxies", docs/protocol.md §5.7): an owner's device signs a
delegation naming the key of a delegate — a user of the community with a verified phone who
registered that key — or its revocation; the server checks it like a ballot (form, vote, window,
the caller's right, the signature, the signing key bound to the right, the nonce) and appends it.
The delegate then casts for the right with that key through the one cast path
(`standing.refusal`); the owner sees who holds the proxy and whether it was used, never for what."""
from sqlalchemy import exists, select

from backend.errors import Conflict, Forbidden, Invalid
from backend.extensions import db
from backend.models import User
from backend.models.vote import DeviceKey, Vote, VoteDelegation, VoteEntry, VoteKey, VoteRight
from backend.security import decrypt_pii, mask_phone, roles_in
from backend.services.votes import common
from backend.services.votes.key_entries import bind_key
from backend.services.votes.log import Log
from backend.services.votes.reading import _my_rights as my_rights
from voting import PROTOCOL_1
from voting.canonical import canonical
from voting.counting import intrinsic_problem
from voting.delegations import DELEGATION, REVOCATION, make_delegation_entry, validate_envelope_form
from voting.entries import ProtocolError
from voting.keys import verify_bytes


def delegate(user, vote_ref, envelope, now=None):
    """Append the owner-signed delegation `envelope` ({delegation, public_key, signature}); its receipt."""
    return _append(user, vote_ref, envelope, DELEGATION, now)


def revoke(user, vote_ref, envelope, now=None):
    """Append the owner-signed revocation ({delegation_revocation, public_key, signature}); its receipt."""
    return _append(user, vote_ref, envelope, REVOCATION, now)


def _append(user, vote_ref, envelope, kind, now):
    vote = common.vote_for(user, vote_ref)  # outsiders: 404 before anything about the vote is said
    common.require_opened(vote)
    if vote.state != "open":
        raise Conflict("vote_closed", "表决已截止")
    opened = common.opened(vote)
    definition = opened.definition
    if definition.protocol == PROTOCOL_1:
        raise Conflict("delegation_unsupported", "本表决开始于电子委托上线之前，只能以纸质委托书投票")
    common.received_at(now or common.now(), definition)
    try:
        signed = envelope.get(kind) if isinstance(envelope, dict) else None
        validate_envelope_form(envelope, kind, signed.get("vote_id") if isinstance(signed, dict) else None)
    except ProtocolError as exc:
        raise Invalid({kind: [str(exc)]}, message="委托书格式不正确", code="malformed_delegation") from None
    if signed["vote_id"] != vote.public_id:
        raise Invalid({f"{kind}.vote_id": ["属于另一项表决"]}, message="签名内容不属于本表决", code="vote_id_mismatch",
                      details={"expected": vote.public_id})
    right_id, key = signed["right_id"], envelope["public_key"]
    if not common.owns_right(vote.id, vote.community_id, user.id, right_id):
        raise _not_owner(vote, user, right_id)
    if not verify_bytes(key, envelope["signature"], canonical(signed)):
        raise Invalid({"signature": ["签名与签名内容不符"]}, message="签名无效，与签名内容不符", code="bad_signature")
    book = Log.lock(opened)  # the log's state from here on: the key, the nonce, the active delegate
    when = common.received_at(now or common.now(), definition)
    bind_first = _key_standing(vote, right_id, key, user)
    if db.session.execute(select(VoteEntry.idx).where(VoteEntry.vote_id == vote.id,
                                                      VoteEntry.nonce == signed["nonce"])).first():
        raise Conflict("nonce_used", "该签名内容已提交过（随机数重复），请重新签署", details={"nonces": [signed["nonce"]]})
    active = _active(vote.id, right_id)
    delegate_user = None
    if kind == DELEGATION:
        delegate_user = _eligible_delegate(vote, right_id, signed["delegate_key"])
    elif active is None or active.delegate_key != signed["delegate_key"]:
        raise Conflict("no_active_delegation", "该表决权没有这位代理人的有效委托")
    entry = make_delegation_entry(envelope, when)
    problem = intrinsic_problem(entry, definition, {right_id: None}, None)
    if problem:  # the verifier's own per-entry rules: the last word before a write
        raise Invalid({kind: ["未通过协议检查"]}, message="委托书无效", code="invalid_delegation",
                      details={"problem": problem[1]})
    if bind_first:
        bind_key(book, vote, right_id, key, user.id, when)
    index = book.size
    receipt = book.append(entry, when, right_id=right_id, nonce=signed["nonce"], user_id=user.id).receipt
    if active is not None:
        active.ended_index, active.ended_by = index, "revoked" if kind == REVOCATION else "replaced"
    if kind == DELEGATION:
        db.session.add(VoteDelegation(vote_id=vote.id, granted_index=index, community_id=vote.community_id,
                                      right_id=right_id, delegate_key=signed["delegate_key"],
                                      delegate_user_id=delegate_user.id, signed_by=key, owner_user_id=user.id))
    book.write()
    db.session.commit()
    return receipt


def _not_owner(vote, user, right_id):
    if not common.verified_owner_ids(user.id, vote.community_id):
        return Forbidden("not_owner", "您还不是已认证的业主，请先认证房屋")
    if not db.session.execute(select(VoteRight.id).where(VoteRight.vote_id == vote.id,
                                                         VoteRight.right_id == right_id)).first():
        return Invalid({"right_id": ["该表决权不在本表决的名册中"]}, message="表决权不在名册中", code="right_not_in_roll")
    return Forbidden("not_your_right", "您不是该表决权的业主，不能代为投票")


def _key_standing(vote, right_id, key, user):
    """True when the key is the caller's own registered key that the log does not know for this right
    yet (bound first); refused when it is not bound or was revoked (docs/protocol.md §7 rule 5)."""
    revoked = db.session.execute(select(VoteKey.revoked_index).where(
        VoteKey.vote_id == vote.id, VoteKey.right_id == right_id, VoteKey.public_key == key)).first()
    if revoked is None:
        own = db.session.execute(select(DeviceKey.id).where(DeviceKey.public_key == key, DeviceKey.user_id == user.id,
                                                            DeviceKey.revoked_at.is_(None))).first()
        if not own:
            raise Forbidden("key_not_bound", "该设备密钥未绑定到此表决权，请先登记密钥")
        return True
    if revoked[0] is not None:
        raise Forbidden("key_revoked", "该设备密钥已撤销，请在设备上生成新密钥")
    return False


def _active(vote_pk, right_id):
    return db.session.execute(select(VoteDelegation).where(
        VoteDelegation.vote_id == vote_pk, VoteDelegation.right_id == right_id,
        VoteDelegation.ended_index.is_(None))).scalar_one_or_none()


def _eligible_delegate(vote, right_id, delegate_key):
    """The user who registered `delegate_key`: one of the community's users (any role) with a verified
    phone, and not an owner of the right (who needs no proxy)."""
    row = db.session.execute(select(DeviceKey.user_id).where(DeviceKey.public_key == delegate_key,
                                                             DeviceKey.revoked_at.is_(None))).first()
    delegate = db.session.get(User, row[0]) if row else None
    if delegate is None or delegate.phone_verified_at is None or not roles_in(delegate, vote.community_id):
        raise Invalid({"delegation.delegate_key": ["不是本小区已验证手机号的用户登记的密钥"]},
                      message="代理人须为本小区已验证手机号的用户，并已登记该密钥", code="delegate_ineligible")
    if common.owns_right(vote.id, vote.community_id, delegate.id, right_id):
        raise Invalid({"delegation.delegate_key": ["代理人是该表决权的业主"]}, message="代理人本身是该表决权的业主，无需委托",
                      code="delegate_owns_right")
    return delegate


def _used(row):
    """Whether the delegate cast a ballot for the right while the proxy stood (not what it chose)."""
    query = select(VoteEntry.idx).where(VoteEntry.vote_id == row.vote_id, VoteEntry.right_id == row.right_id,
                                        VoteEntry.kind == "ballot", VoteEntry.user_id == row.delegate_user_id,
                                        VoteEntry.idx > row.granted_index)
    if row.ended_index is not None:
        query = query.where(VoteEntry.idx < row.ended_index)
    return db.session.execute(query.limit(1)).first() is not None


def _phone(user_id):
    user = db.session.get(User, user_id)
    return mask_phone(decrypt_pii(user.phone_enc)) if user is not None and user.phone_enc else None


def owner_view(user, vote_ref):
    """The caller's rights in a vote with the proxy each has (its delegate's masked phone and key) and
    whether it was used; never what the delegate chose."""
    vote = common.visible_vote(user, vote_ref)
    common.require_opened(vote)
    owner_ids = common.verified_owner_ids(user.id, vote.community_id)
    out = []
    for right in my_rights(user, vote) if owner_ids else []:
        row = _active(vote.id, right["right_id"])
        proxy = None
        if row is not None:
            proxy = {"public_key": row.delegate_key, "phone": _phone(row.delegate_user_id),
                     "leaf_index": row.granted_index, "used": _used(row)}
        out.append({"right_id": right["right_id"], "label": right["label"], "delegate": proxy})
    return {"id": vote.id, "vote_id": vote.public_id, "rights": out}


def proxies(user):
    """The rights the caller holds an active proxy for, in open votes ("votes I hold a proxy for")."""
    rows = db.session.execute(
        select(VoteDelegation, Vote, VoteRight).join(Vote, Vote.id == VoteDelegation.vote_id)
        .join(VoteRight, (VoteRight.vote_id == VoteDelegation.vote_id) & (VoteRight.right_id == VoteDelegation.right_id))
        .where(VoteDelegation.delegate_user_id == user.id, VoteDelegation.ended_index.is_(None), Vote.state == "open")
        .order_by(Vote.closes_at, Vote.id, VoteDelegation.right_id)).all()
    return [{"id": vote.id, "vote_id": vote.public_id, "title": vote.title, "closes_at": vote.closes_at,
             "right_id": row.right_id, "label": right.label, "area": right.area, "heads": right.heads,
             "delegate_key": row.delegate_key, "leaf_index": row.granted_index, "used": _used(row)}
            for row, vote, right in rows]


def holds_proxy(vote_pk, user_id):
    """Whether the user holds an active proxy for some right of the vote."""
    return db.session.execute(select(exists().where(
        VoteDelegation.vote_id == vote_pk, VoteDelegation.delegate_user_id == user_id,
        VoteDelegation.ended_index.is_(None)))).scalar()

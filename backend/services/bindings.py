"""Owner verification: a user claims a part; verified at once on a phone+name registry match,
otherwise pending for the committee or property staff to review (docs/decisions.md "Owner
verification").

Two rules hold here and nowhere else:
- *Nobody verifies themselves.* A claim becomes `verified` only in `_verify`: by the registry (a
  phone + name match with an entry the claimant did not import themselves), or by a reviewer who is
  neither the claimant nor an owner of the claimed part, with the certificate photo whenever the
  claimed name differs from the registry's.
- *Claims reveal nothing.* The claimant gets the same answer whether or not the registry has the
  flat; whether it does reaches the reviewer only.
"""
from flask import current_app
from sqlalchemy import exists, or_, select

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Binding, BindingEvent, Community, Owner, Part, PartOwner
from backend.models.base import utcnow
from backend.pagination import paginate
from backend.security import require_community, roles_in
from backend.services import media, ratelimit
from backend.services.registry import normalise_name

REVIEWERS = ("committee", "property_staff")
PENDING_REASON_NO_PHONE = "尚未通过微信验证手机号，需人工审核"
PENDING_REASON_NO_MATCH = "微信手机号与姓名未能与登记册自动匹配，需人工审核"


def certificate_visible(user, binding_id):
    """A property certificate photo: its owner, and the committee and property staff who review it."""
    binding = db.session.get(Binding, binding_id)
    if binding is None:
        return False
    return (binding.user_id == user.id or user.is_platform_admin
            or bool(roles_in(user, binding.community_id).intersection(REVIEWERS)))


media.register_visibility("binding_certificate", certificate_visible)


def _event(binding, actor, action, method=None, note=None):
    db.session.add(BindingEvent(binding_id=binding.id, community_id=binding.community_id, actor_id=actor.id,
                                action=action, method=method, note=note))


def _part_at(community_id, building, unit, room):
    return db.session.execute(
        select(Part).filter_by(community_id=community_id, building=building, unit=unit, room=room)
        .where(Part.removed_at.is_(None))).scalar_one_or_none()


def _limit_claims(user, community_id, now):
    """Claims per user per hour and per community per minute (counted in the database), and at most
    CLAIMS_PENDING_PER_USER claims of a user waiting for review at once."""
    config = current_app.config
    ratelimit.hit(f"claim:user:{user.id}", config["CLAIMS_PER_USER_PER_HOUR"], 3600, now,
                  code="too_many_claims", message="认证申请提交过于频繁，请稍后再试")
    ratelimit.hit(f"claim:community:{community_id}", config["CLAIMS_PER_COMMUNITY_PER_MINUTE"], 60, now,
                  code="too_many_claims", message="认证申请提交过于频繁，请稍后再试")
    pending = db.session.execute(select(db.func.count()).select_from(Binding).where(
        Binding.user_id == user.id, Binding.status == "pending")).scalar_one()
    if pending >= config["CLAIMS_PENDING_PER_USER"]:
        raise Conflict("too_many_pending", "您有多个认证申请正在等待审核，请等审核结果出来后再提交",
                       details={"pending": pending})


# ---------------------------------------------------------------- the one place that decides


def acts_for_part(user, part):
    """Whether `user` is, or stands for, an owner of `part`: a verified binding of theirs to one of
    its owners, or their WeChat-verified phone on one of its owners in the registry. Such a user
    benefits from who else is made an owner of it, so may not decide that."""
    owner_ids = [o.id for o in part.owners]
    if not owner_ids:
        return False
    bound = exists().where(Binding.user_id == user.id, Binding.status == "verified",
                           Binding.owner_id.in_(owner_ids))
    conditions = [bound]
    if user.phone_hash:
        conditions.append(exists().where(Owner.id.in_(owner_ids), Owner.phone_hash == user.phone_hash))
    return bool(db.session.execute(select(or_(*conditions))).scalar())


def _registry_match(binding, user):
    """The registry owner of the claimed part whose phone and name match the claimant's WeChat-verified
    phone and claimed name — unless the claimant wrote that entry (imported the owner or linked it
    to the part) themselves: the registry cannot vouch for the one who wrote it."""
    if binding.part is None or not user.phone_hash:
        return None
    for owner in binding.part.owners:
        if owner.phone_hash != user.phone_hash or normalise_name(owner.name) != normalise_name(binding.claimed_name):
            continue
        linked_by = db.session.execute(select(PartOwner.imported_by).where(
            PartOwner.part_id == binding.part_id, PartOwner.owner_id == owner.id)).scalar()
        if user.id in (owner.imported_by, linked_by):
            return None
        return owner
    return None


def _verify(binding, owner, method, actor, now):
    """Make `binding` verified as `owner` — the only place a claim becomes verified. `actor` is the
    claimant for a registry match (_registry_match decided), the reviewer for a manual review."""
    if method == "manual_review":
        if actor.id == binding.user_id:
            raise Forbidden("own_claim", "不能审核本人提交的认证申请，请由其他业委会成员或物业人员审核")
        if acts_for_part(actor, binding.part):
            raise Forbidden("own_part", "您是该房屋的业主，不能审核该房屋的认证申请")
        if normalise_name(owner.name) != normalise_name(binding.claimed_name) and binding.certificate_media_id is None:
            raise Invalid({"certificate_media_id": ["申请人姓名与登记册不一致，须有房产证照片才能批准"]},
                          message="姓名与登记册不一致，须有房产证照片", code="certificate_required")
    binding.status, binding.method, binding.owner_id, binding.decided_at = "verified", method, owner.id, now
    if method == "manual_review":
        binding.decided_by = actor.id


# ---------------------------------------------------------------- claims and reviews


def request_binding(user, community_id, building, unit, room, name, certificate_media_id=None):
    """Claim ownership of a part; returns the binding, `verified` or `pending` — the same answer
    whether or not the registry has that part."""
    if db.session.get(Community, community_id) is None:
        raise NotFound("community_not_found", "小区不存在")
    now = utcnow()
    building, unit, room, name = building.strip(), unit.strip(), room.strip(), name.strip()
    open_claim = db.session.execute(select(Binding.id).filter_by(
        user_id=user.id, community_id=community_id, building=building, unit=unit, room=room)
        .where(Binding.status.in_(("verified", "pending")))).scalar()
    if open_claim:
        raise Conflict("binding_exists", "您已提交过该房屋的认证", details={"binding_id": open_claim})
    _limit_claims(user, community_id, now)
    part = _part_at(community_id, building, unit, room)
    binding = Binding(community_id=community_id, user_id=user.id, building=building, unit=unit, room=room,
                      part=part, claimed_name=name, certificate_media_id=certificate_media_id, status="pending")
    db.session.add(binding)
    db.session.flush()
    if certificate_media_id is not None:
        media.attach(user, [certificate_media_id], community_id, "binding_certificate", binding.id,
                     field="certificate_media_id")
    match = _registry_match(binding, user)
    if match:
        _verify(binding, match, "phone_match", user, now)
    else:
        binding.reason = PENDING_REASON_NO_MATCH if user.phone_hash else PENDING_REASON_NO_PHONE
    _event(binding, user, "requested", note=binding.reason)
    if match:
        _event(binding, user, "verified", method="phone_match")
    db.session.commit()
    return binding


def review_binding(reviewer, binding_id, decision, reason=None, owner_id=None):
    """Approve (→ verified, manual_review) or reject (with a reason) a pending binding."""
    binding = db.session.get(Binding, binding_id)
    if binding is None:
        raise NotFound("binding_not_found", "认证申请不存在")
    require_community(reviewer, binding.community_id, *REVIEWERS)
    if binding.status != "pending":
        raise Conflict("binding_not_pending", "该申请已处理")
    now = utcnow()
    if decision == "reject":
        if not (reason or "").strip():
            raise Invalid({"reason": ["驳回时须填写原因"]})
        if reviewer.id == binding.user_id:
            raise Forbidden("own_claim", "不能审核本人提交的认证申请，请由其他业委会成员或物业人员审核")
        binding.status, binding.reason = "rejected", reason.strip()
        binding.decided_at, binding.decided_by = now, reviewer.id
    elif decision == "approve":
        binding.part = binding.part or _part_at(binding.community_id, binding.building, binding.unit, binding.room)
        if binding.part is None:
            raise Conflict("part_not_in_registry", "登记册中没有该房屋，无法批准：请核实后驳回，或先更新登记册")
        _verify(binding, _owner_to_bind(binding, owner_id), "manual_review", reviewer, now)
        binding.reason = (reason or "").strip() or None
    else:
        raise Invalid({"decision": ["须为 approve 或 reject"]})
    _event(binding, reviewer, "approved" if decision == "approve" else "rejected", method="manual_review",
           note=binding.reason)
    db.session.commit()
    return binding


def _owner_to_bind(binding, owner_id):
    """The registry owner an approval binds to: `owner_id`, or the one owner of the part with the
    claimed name."""
    owners = binding.part.owners
    if owner_id is not None:
        owner = next((o for o in owners if o.id == owner_id), None)
        if owner is None:
            raise Invalid({"owner_id": ["该业主不是此房屋的登记业主"]})
        return owner
    named = [o for o in owners if normalise_name(o.name) == normalise_name(binding.claimed_name)]
    if len(named) != 1:
        raise Invalid({"owner_id": ["姓名与登记业主不一致，请指定 owner_id"]},
                      details={"owners": [{"id": o.id, "name": o.name} for o in owners]})
    return named[0]


def list_bindings(actor, community_id, status=None, page=1, per_page=20):
    """Bindings of a community with their events (committee and property staff)."""
    require_community(actor, community_id, *REVIEWERS)
    query = db.select(Binding).filter_by(community_id=community_id).order_by(Binding.id.desc())
    if status:
        query = query.filter_by(status=status)
    return paginate(query, page, per_page)


def my_bindings(user):
    """The caller's own bindings, every status."""
    return db.session.execute(db.select(Binding).filter_by(user_id=user.id).order_by(Binding.id)).scalars().all()

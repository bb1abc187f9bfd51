"""Owner verification: a user claims a part; verified at once on a phone+name registry match,
otherwise pending for the committee or property staff to review (handbook §7 route table)."""
from backend.errors import Conflict, Invalid, NotFound
from backend.extensions import db
from backend.models import Binding, BindingEvent, Part
from backend.models.base import utcnow
from backend.pagination import paginate
from backend.security import require_community, roles_in
from backend.services import media
from backend.services.registry import normalise_name

REVIEWERS = ("committee", "property_staff")


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


def request_binding(user, community_id, building, unit, room, name, certificate_media_id=None):
    """Claim ownership of a part; returns the binding, `verified` or `pending`."""
    from backend.models import Community

    if db.session.get(Community, community_id) is None:
        raise NotFound("community_not_found", "小区不存在")
    part = db.session.execute(
        db.select(Part).filter_by(community_id=community_id, building=building.strip(), unit=unit.strip(),
                                  room=room.strip()).where(Part.removed_at.is_(None))
    ).scalar_one_or_none()
    if part is None:
        raise NotFound("part_not_found", "登记册中没有该房屋，请核对楼栋、单元、房号或联系业委会")
    open_claim = db.session.execute(
        db.select(Binding).filter_by(user_id=user.id, part_id=part.id).where(Binding.status.in_(("verified", "pending")))
    ).scalar_one_or_none()
    if open_claim:
        raise Conflict("binding_exists", "您已提交过该房屋的认证", details={"binding_id": open_claim.id})
    binding = Binding(community_id=community_id, user_id=user.id, part_id=part.id, claimed_name=name.strip(),
                      certificate_media_id=certificate_media_id)
    match = None
    if user.phone_hash:
        match = next(
            (o for o in part.owners
             if o.phone_hash == user.phone_hash and normalise_name(o.name) == normalise_name(name)),
            None,
        )
    if match:
        binding.status, binding.method, binding.owner_id, binding.decided_at = "verified", "phone_match", match.id, utcnow()
    else:
        binding.status = "pending"
        binding.reason = ("尚未通过微信验证手机号，需人工审核" if not user.phone_hash
                          else "微信手机号与姓名未能与登记册匹配，需人工审核")
    db.session.add(binding)
    db.session.flush()
    if certificate_media_id is not None:
        media.attach(user, [certificate_media_id], community_id, "binding_certificate", binding.id,
                     field="certificate_media_id")
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
    if decision == "reject":
        if not (reason or "").strip():
            raise Invalid({"reason": ["驳回时须填写原因"]})
        binding.status, binding.reason = "rejected", reason.strip()
    elif decision == "approve":
        owners = binding.part.owners
        if owner_id is not None:
            owner = next((o for o in owners if o.id == owner_id), None)
            if owner is None:
                raise Invalid({"owner_id": ["该业主不是此房屋的登记业主"]})
        else:
            named = [o for o in owners if normalise_name(o.name) == normalise_name(binding.claimed_name)]
            if len(named) != 1:
                raise Invalid({"owner_id": ["姓名与登记业主不一致，请指定 owner_id"]},
                              details={"owners": [{"id": o.id, "name": o.name} for o in owners]})
            owner = named[0]
        binding.status, binding.method, binding.owner_id = "verified", "manual_review", owner.id
        binding.reason = (reason or "").strip() or None
    else:
        raise Invalid({"decision": ["须为 approve 或 reject"]})
    binding.decided_at, binding.decided_by = utcnow(), reviewer.id
    _event(binding, reviewer, "approved" if decision == "approve" else "rejected", method="manual_review",
           note=binding.reason)
    db.session.commit()
    return binding


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


def events_of(binding_id):
    """The append-only history of one binding."""
    return db.session.execute(
        db.select(BindingEvent).filter_by(binding_id=binding_id).order_by(BindingEvent.id)
    ).scalars().all()

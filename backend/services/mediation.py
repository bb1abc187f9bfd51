"""The four-level mediation ladder (issue 15, docs/district.md "Mediation"). A dispute — from a
ticket, or filed directly by an owner or the committee — starts at level 1 and moves up with a
record at each level (who, when, outcome, agreement document). Each level has a time limit; once it
has passed, or once the level has recorded that mediation failed, the dispute may be taken up by the
next level. Level 4 is the top: there it is settled or closed.

Who acts at each level: 1 the owners' committee; 2 the community's people's mediation committee
(membership role `mediator`); 3 the street's joint meeting (the community's regulators); 4 the
district guidance centre (a district scope). Every step takes `now`, so tests run on a given clock.
"""
from datetime import timedelta

from flask import current_app

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Dispute, DisputeRecord, Ticket
from backend.models.base import utcnow
from backend.security import regulated_communities, require_community, roles_in, scopes_of
from backend.services import media
from backend.services.keyset import keyset

LEVEL_BODIES = {1: "业主委员会调解", 2: "社区人民调解委员会", 3: "镇街联席会议", 4: "区物业矛盾调处指导中心"}
OUTCOMES = ("session", "settled", "failed")
PARTY_ROLES = ("owner", "committee", "property_staff")

media.register_visibility("dispute_record", lambda user, attached_id: _may_see_record(user, attached_id))


def level_days():
    """Days each level has before the next may take the dispute up (config MEDIATION_LEVEL_DAYS)."""
    return current_app.config["MEDIATION_LEVEL_DAYS"]


def deadline(dispute):
    """When the current level's time runs out."""
    return dispute.level_started_at + timedelta(days=level_days()[dispute.level - 1])


def may_take_up(dispute, now):
    """Open, below the top, and the level's time is out or it recorded a failure."""
    return (dispute.status == "open" and dispute.level < 4
            and (dispute.level_failed_at is not None or now >= deadline(dispute)))


def _district(user):
    return scopes_of(user) is None


def acts_at(user, dispute, roles, level):
    """Whether the user speaks for the body of `level` on this dispute."""
    if level == 1:
        return "committee" in roles
    if level == 2:
        return "mediator" in roles
    if level == 3:
        return "regulator" in roles
    return _district(user)  # a district scope (platform admins count as the district)


def can_view(user, dispute, roles):
    return (user.is_platform_admin or user.id == dispute.filed_by
            or bool(roles & {"committee", "property_staff", "mediator", "regulator"}))


def _load(user, dispute_id, lock=False):
    query = db.select(Dispute).filter_by(id=dispute_id)
    if lock:
        query = query.with_for_update()
    dispute = db.session.execute(query).scalar_one_or_none()
    roles = roles_in(user, dispute.community_id) if dispute else set()
    if dispute is None or not can_view(user, dispute, roles):
        raise NotFound("dispute_not_found", "纠纷不存在")
    return dispute, roles


def _may_see_record(user, record_id):
    record = db.session.get(DisputeRecord, record_id)
    if record is None:
        return False
    dispute = db.session.get(Dispute, record.dispute_id)
    return can_view(user, dispute, roles_in(user, dispute.community_id))


def _record(dispute, user, role, action, now, outcome="", media_id=None):
    record = DisputeRecord(dispute_id=dispute.id, level=dispute.level, action=action, actor_id=user.id,
                           actor_role=role, outcome=outcome, agreement_media_id=media_id, created_at=now)
    db.session.add(record)
    db.session.flush()
    return record


def file_dispute(user, community_id, title, description, ticket_id=None, now=None):
    """An owner or the committee files a dispute (or the reporter of a ticket, from that ticket)."""
    now = now or utcnow()
    require_community(user, community_id)
    roles = roles_in(user, community_id)
    role = "committee" if "committee" in roles else "owner" if "owner" in roles else None
    if ticket_id is not None:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None or ticket.community_id != community_id:
            raise Invalid({"ticket_id": ["本小区没有这个工单"]})
        if ticket.reporter_id == user.id:
            role = role or "reporter"
    if role is None and not user.is_platform_admin:
        raise Forbidden("dispute_filing_forbidden", "仅业主、业委会或工单报告人可以申请调解")
    if not (title or "").strip() or not (description or "").strip():
        raise Invalid({k: ["不能为空"] for k, v in (("title", title), ("description", description))
                       if not (v or "").strip()})
    dispute = Dispute(community_id=community_id, ticket_id=ticket_id, filed_by=user.id, filer_role=role or "admin",
                      title=title.strip(), description=description.strip(), level=1, status="open",
                      level_started_at=now, created_at=now)
    db.session.add(dispute)
    db.session.flush()
    _record(dispute, user, role or "admin", "filed", now)
    db.session.commit()
    return dispute


def get_dispute(user, dispute_id):
    """One dispute with its records."""
    return _load(user, dispute_id)[0]


def records_of(dispute_id):
    """The ladder's records, oldest first."""
    return db.session.execute(db.select(DisputeRecord).filter_by(dispute_id=dispute_id)
                              .order_by(DisputeRecord.id)).scalars().all()


def record_step(user, dispute_id, outcome, note="", agreement_media_id=None, now=None):
    """The body of the current level records a mediation session, a settlement (with the agreement
    document) or its failure (which lets the next level take the dispute up at once); at the top
    level a failure closes the dispute."""
    now = now or utcnow()
    dispute, roles = _load(user, dispute_id, lock=True)
    if not acts_at(user, dispute, roles, dispute.level):
        raise Forbidden("not_this_level", f"仅{LEVEL_BODIES[dispute.level]}可以在本级记录调解")
    if dispute.status != "open":
        raise Conflict("dispute_closed", "该纠纷已结案")
    if outcome not in OUTCOMES:
        raise Invalid({"outcome": [f"须为 {', '.join(OUTCOMES)} 之一"]})
    if not (note or "").strip():
        raise Invalid({"note": ["请记录调解情况"]})
    if outcome == "settled" and agreement_media_id is None:
        raise Invalid({"agreement_media_id": ["调解成功须上传调解协议书"]})
    record = _record(dispute, user, _role(user, roles, dispute.level), outcome, now, note.strip(), agreement_media_id)
    if agreement_media_id is not None:
        media.attach(user, [agreement_media_id], dispute.community_id, "dispute_record", record.id, allow_pdf=True,
                     field="agreement_media_id")
    if outcome == "settled":
        dispute.status, dispute.closed_at = "settled", now
    elif outcome == "failed":
        dispute.level_failed_at = now
        if dispute.level == 4:
            dispute.status, dispute.closed_at = "closed", now
    db.session.commit()
    return dispute


def _role(user, roles, level):
    return "admin" if user.is_platform_admin else {1: "committee", 2: "mediator", 3: "regulator", 4: "district"}[level]


def take_up(user, dispute_id, note="", now=None):
    """Move the dispute to the next level: its filer, the current level's body or the next level's,
    once the current level's time limit has passed or it recorded a failure (409 before that)."""
    now = now or utcnow()
    dispute, roles = _load(user, dispute_id, lock=True)
    if dispute.status != "open":
        raise Conflict("dispute_closed", "该纠纷已结案")
    if dispute.level == 4:
        raise Conflict("dispute_at_top", "已在最高一级（区物业矛盾调处指导中心）")
    here, above = acts_at(user, dispute, roles, dispute.level), acts_at(user, dispute, roles, dispute.level + 1)
    if not (user.id == dispute.filed_by or here or above):
        raise Forbidden("take_up_forbidden", "您无权将该纠纷提交上一级")
    if not may_take_up(dispute, now):
        limit = deadline(dispute).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise Conflict("level_time_not_over", f"本级调解期限未到（{limit}），且未记录调解失败",
                       details={"deadline": limit})
    role = "filer" if user.id == dispute.filed_by else _role(user, roles, dispute.level + 1 if above else dispute.level)
    dispute.level += 1
    dispute.level_started_at, dispute.level_failed_at = now, None
    _record(dispute, user, role, "taken_up", now, (note or "").strip())
    db.session.commit()
    return dispute


def list_disputes(user, community_id, status=None, after=None, limit=50):
    """A community's disputes, newest first (its committee, staff, mediators and regulators; others
    their own)."""
    require_community(user, community_id)
    roles = roles_in(user, community_id)
    query = db.select(Dispute).where(Dispute.community_id == community_id)
    if not (user.is_platform_admin or roles & {"committee", "property_staff", "mediator", "regulator"}):
        query = query.where(Dispute.filed_by == user.id)
    if status:
        query = query.where(Dispute.status == status)
    return keyset(query, Dispute.id, after, limit, descending=True)


def open_in_scope(user, level=None, after=None, limit=50):
    """Every open dispute in the regulator's scope (every community where they hold regulator)."""
    from backend.services.organisations import require_regulator

    require_regulator(user)
    streets = scopes_of(user)
    query = db.select(Dispute).where(Dispute.status == "open")
    if streets is not None:
        query = query.where(Dispute.community_id.in_(regulated_communities(user)))
    if level:
        query = query.where(Dispute.level == level)
    return keyset(query, Dispute.id, after, limit)

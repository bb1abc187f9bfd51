"""Notices of the owners' committee or the property company, read receipts, and subscribe
messages for important notices (through the outbox, never inside the request).

A notice is never edited or deleted: it is published, may be pinned or unpinned, and may be
withdrawn by its publisher role; a withdrawn notice stays in the history, visible to the
publisher roles and flagged, and disappears for everyone else.
"""
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict, Forbidden, NotFound
from backend.extensions import db
from backend.models import Binding, Membership
from backend.models.base import utcnow
from backend.models.notice import PUBLISHER_ROLES, Notice, NoticeRead
from backend.pagination import paginate
from backend.security import require_community, roles_in
from backend.services import media, outbox

ATTACHED_TYPE = "notice"
EVENT = "notice_published"
PUBLISHER_NAMES = {"committee": "业主委员会", "property_staff": "物业服务企业"}


@dataclass
class NoticeView:
    """A notice as one caller sees it: its own receipt, and the read count for publisher roles."""

    notice: Notice
    read_at: Optional[object]
    read_count: Optional[int]

    def __getattr__(self, name):
        return getattr(self.notice, name)


def _is_publisher(user, community_id):
    return user.is_platform_admin or bool(roles_in(user, community_id) & set(PUBLISHER_ROLES))


def _views(user, notices, publisher):
    ids = [n.id for n in notices]
    if not ids:
        return []
    mine = dict(db.session.execute(
        db.select(NoticeRead.notice_id, NoticeRead.read_at).where(NoticeRead.user_id == user.id,
                                                                  NoticeRead.notice_id.in_(ids))).all())
    counts = dict(db.session.execute(
        db.select(NoticeRead.notice_id, func.count()).where(NoticeRead.notice_id.in_(ids))
        .group_by(NoticeRead.notice_id)).all()) if publisher else {}
    return [NoticeView(n, mine.get(n.id), counts.get(n.id, 0) if publisher else None) for n in notices]


def _notice(user, community_id, notice_id):
    """The notice if this caller may see it (withdrawn ones: publisher roles only), else 404."""
    require_community(user, community_id)
    notice = db.session.get(Notice, notice_id)
    if (notice is None or notice.community_id != community_id
            or (notice.status == "withdrawn" and not _is_publisher(user, community_id))):
        raise NotFound("notice_not_found", "公告不存在")
    return notice


def can_see_attachments(user, notice_id):
    """Media visibility for notice attachments: whoever may see the notice."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return False
    try:
        _notice(user, notice.community_id, notice_id)
    except (NotFound, Forbidden):
        return False
    return True


media.register_visibility(ATTACHED_TYPE, can_see_attachments)


def _publisher_role(user, community_id, role):
    """The role the notice speaks in: the one asked for, or the caller's only publisher role."""
    roles = roles_in(user, community_id) & set(PUBLISHER_ROLES)
    if user.is_platform_admin and role:
        return role
    if role:
        if role not in roles:
            raise Forbidden("publisher_role_forbidden", "您不能以该身份发布公告")
        return role
    if not roles:
        raise Forbidden("publisher_role_required", "请指定发布身份（committee 或 property_staff）")
    return sorted(roles)[0]


def _recipients(community_id, exclude):
    """Users of the community: members, and verified owners (a claim under review sees nothing)."""
    members = db.select(Membership.user_id).filter_by(community_id=community_id)
    bound = db.select(Binding.user_id).filter_by(community_id=community_id, status="verified")
    ids = set(db.session.execute(members).scalars()) | set(db.session.execute(bound).scalars())
    return sorted(ids - {exclude})


def publish(user, community_id, title, body, category, pinned=False, important=False, attachment_ids=None,
            publisher_role=None):
    """Publish a notice (committee or property staff); important ones go out as subscribe messages."""
    require_community(user, community_id, *PUBLISHER_ROLES)
    notice = Notice(community_id=community_id, title=title.strip(), body=body.strip(), category=category,
                    pinned=pinned, important=important, attachment_ids=[], status="published",
                    publisher_role=_publisher_role(user, community_id, publisher_role), published_by=user.id,
                    published_at=utcnow())
    db.session.add(notice)
    db.session.flush()
    notice.attachment_ids = [m.id for m in media.attach(user, attachment_ids, community_id, ATTACHED_TYPE,
                                                        notice.id, allow_pdf=True, field="attachment_ids")]
    if important:
        for recipient in _recipients(community_id, exclude=user.id):
            outbox.enqueue(recipient, community_id, EVENT,
                           {"title": notice.title, "publisher": PUBLISHER_NAMES[notice.publisher_role]},
                           page=f"pages/notices/detail?cid={community_id}&id={notice.id}")
    db.session.commit()
    return NoticeView(notice, None, 0)


def list_notices(user, community_id, category=None, status=None, page=1, per_page=20):
    """Notices, pinned first then newest; withdrawn ones only for the publisher roles."""
    require_community(user, community_id)
    publisher = _is_publisher(user, community_id)
    query = db.select(Notice).filter_by(community_id=community_id)
    if not publisher:
        query = query.filter_by(status="published")
    elif status:
        query = query.filter_by(status=status)
    if category:
        query = query.filter_by(category=category)
    result = paginate(query.order_by(Notice.pinned.desc(), Notice.published_at.desc(), Notice.id.desc()),
                      page, per_page)
    result["items"] = _views(user, result["items"], publisher)
    return result


def get_notice(user, community_id, notice_id):
    """One notice as the caller sees it."""
    notice = _notice(user, community_id, notice_id)
    return _views(user, [notice], _is_publisher(user, community_id))[0]


def mark_read(user, community_id, notice_id):
    """Record that the caller read the notice; idempotent (the first read time stays)."""
    notice = _notice(user, community_id, notice_id)
    exists = db.session.execute(db.select(NoticeRead).filter_by(notice_id=notice.id, user_id=user.id)).scalar_one_or_none()
    if exists is None:
        db.session.add(NoticeRead(notice_id=notice.id, community_id=community_id, user_id=user.id, read_at=utcnow()))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the same user's two taps raced; the first receipt stands
    return get_notice(user, community_id, notice_id)


def _change(user, community_id, notice_id):
    """The notice, if the caller may change it: its publisher role (or a platform admin)."""
    notice = _notice(user, community_id, notice_id)
    if not user.is_platform_admin and notice.publisher_role not in roles_in(user, community_id):
        raise Forbidden("not_publisher", f"只有{PUBLISHER_NAMES[notice.publisher_role]}可以修改该公告")
    return notice


def withdraw(user, community_id, notice_id, reason):
    """Withdraw a notice; it stays in the history, flagged (its publisher role)."""
    notice = _change(user, community_id, notice_id)
    if notice.status == "withdrawn":
        raise Conflict("notice_withdrawn", "该公告已撤回")
    notice.status, notice.withdrawn_by, notice.withdrawn_at = "withdrawn", user.id, utcnow()
    notice.withdraw_reason, notice.pinned = reason.strip(), False
    db.session.commit()
    return get_notice(user, community_id, notice_id)


def set_pinned(user, community_id, notice_id, pinned):
    """Pin or unpin a published notice (its publisher role)."""
    notice = _change(user, community_id, notice_id)
    if notice.status == "withdrawn":
        raise Conflict("notice_withdrawn", "该公告已撤回")
    notice.pinned = pinned
    db.session.commit()
    return get_notice(user, community_id, notice_id)

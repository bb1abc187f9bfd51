"""Emergency use of the maintenance fund (docs/disclosures.md): an elevator failure and the like may be
paid from the fund without a vote, but must be disclosed — a record, not a vote.

Records are append-only: a wrong record is not edited away; a correcting record says so in its
reason. The vote pages list these records beside the fund votes (`list_records`).
"""
from backend.errors import Invalid, NotFound
from backend.extensions import db
from backend.models.disclosure import EmergencySpending
from backend.pagination import paginate
from backend.security import require_community, roles_in
from backend.services import media
from backend.services.disclosure_content import china_today

RECORDERS = ("committee", "property_staff")
ATTACHED_TYPE = "emergency_spending"
# Photos of a record: whoever may read the record (anyone of its community).
media.register_visibility(ATTACHED_TYPE, media.visible_to_community_of(EmergencySpending))


def record(user, community_id, amount_fen, reason, contractor, spent_on, street_office_reference,
           street_office_confirmed_on, location=None, photo_ids=None):
    """Record one emergency payment from the fund, with its photos (committee or property staff)."""
    require_community(user, community_id, *RECORDERS)
    today = china_today()
    errors = {field: ["不能是将来的日期"] for field, day in
              (("spent_on", spent_on), ("street_office_confirmed_on", street_office_confirmed_on)) if day > today}
    if errors:
        raise Invalid(errors)
    roles = roles_in(user, community_id)
    entry = EmergencySpending(
        community_id=community_id, amount_fen=amount_fen, reason=reason.strip(), contractor=contractor.strip(),
        location=(location or "").strip() or None, spent_on=spent_on,
        street_office_reference=street_office_reference.strip(),
        street_office_confirmed_on=street_office_confirmed_on, photo_ids=[], recorded_by=user.id,
        # A platform admin entering a record on the community's behalf holds neither role.
        recorder_role=next((r for r in RECORDERS if r in roles), "platform_admin"),
    )
    db.session.add(entry)
    db.session.flush()
    entry.photo_ids = [m.id for m in media.attach(user, photo_ids, community_id, ATTACHED_TYPE, entry.id,
                                                  field="photo_ids")]
    db.session.commit()
    return entry


def list_records(user, community_id, page=1, per_page=20):
    """The community's emergency fund spending, newest first (anyone of the community)."""
    require_community(user, community_id)
    query = (db.select(EmergencySpending).filter_by(community_id=community_id)
             .order_by(EmergencySpending.spent_on.desc(), EmergencySpending.id.desc()))
    return paginate(query, page, per_page)


def get_record(user, community_id, record_id):
    """One record of the community."""
    require_community(user, community_id)
    entry = db.session.get(EmergencySpending, record_id)
    if entry is None or entry.community_id != community_id:
        raise NotFound("emergency_spending_not_found", "该应急维修资金使用记录不存在")
    return entry

"""Voting rights of a community, computed from the registry by voting.rights (docs/protocol.md §3)."""
from backend.extensions import db
from backend.models import Binding, Part
from voting.rights import PartInput, compute_rights


def part_inputs(community_id, buildings=None):
    """The community's current parts (optionally only some buildings) as voting.rights inputs."""
    query = db.select(Part).filter_by(community_id=community_id).where(Part.removed_at.is_(None))
    if buildings:
        query = query.where(Part.building.in_(list(buildings)))
    return [
        PartInput(part_id=str(p.id), label=p.label, area=p.area, owners=frozenset(str(o.id) for o in p.owners))
        for p in db.session.execute(query).scalars()
        if p.owners
    ]


def community_rights(community_id, buildings=None):
    """All voting rights of a community (or of a scope of buildings), sorted by right_id."""
    return compute_rights(part_inputs(community_id, buildings))


def rights_of_user(user, community_id, buildings=None):
    """The rights in which the user is a verified owner, as plain dicts."""
    owner_ids = {
        str(oid)
        for oid in db.session.execute(
            db.select(Binding.owner_id).filter_by(user_id=user.id, community_id=community_id, status="verified")
        ).scalars()
        if oid is not None
    }
    if not owner_ids:
        return []
    return [
        {"right_id": r.right_id, "label": r.label, "area": r.area, "heads": r.heads}
        for r in community_rights(community_id, buildings)
        if r.owners & owner_ids
    ]

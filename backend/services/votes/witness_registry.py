"""The witnesses of a community (docs/votes.md "Witnesses"): the platform admin registers the street
office's and the residents' committee's keys, the committee its members' keys; every role of the
community sees them. When a vote opens, the active witnesses and the quorum are frozen into its
definition (docs/protocol.md §5.1)."""
from sqlalchemy import func, insert, select

from backend import signing
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models.vote import VoteWitness, Witness
from backend.security import require_community
from backend.services.votes import common
from voting.entries import is_public_key

OFFICIAL = ("street_office", "residents_committee")  # registered by the platform admin only
KIND_NAMES = {"street_office": "街道办", "residents_committee": "居委会", "committee_member": "业委会委员"}
MAX_ACTIVE = 20  # every witness co-signs every vote of the community; a handful is what a compound has


def protocol_id(witness):
    """A registered witness's id in a definition: `w<id>` (an identifier, stable, reveals nothing)."""
    return f"w{witness.id}"


def witness_view(witness):
    return {"id": witness.id, "witness_id": protocol_id(witness), "community_id": witness.community_id,
            "kind": witness.kind, "name": witness.name, "public_key": witness.public_key,
            "created_at": witness.created_at, "retired_at": witness.retired_at}


def _active(community_id):
    return db.session.execute(select(Witness).where(Witness.community_id == community_id,
                                                    Witness.retired_at.is_(None)).order_by(Witness.id)).scalars().all()


def default_quorum(witnesses):
    """All the street office's and residents' committee's witnesses; at least 1 when any witness exists."""
    official = sum(1 for w in witnesses if w.kind in OFFICIAL)
    return official or (1 if witnesses else 0)


def _may_manage(user, community_id, kind):
    """The committee manages its members' witnesses; only the platform admin the street office's and the
    residents' committee's (the committee must not choose who watches it)."""
    require_community(user, community_id, "committee")
    if kind in OFFICIAL and not user.is_platform_admin:
        raise Forbidden("witness_kind_forbidden", "街道办和居委会的见证人由平台管理员登记，业委会只能登记本会委员的见证密钥")


def register_witness(user, community_id, kind, name, public_key, now=None):
    """Register a witness's public key for the community."""
    _may_manage(user, community_id, kind)
    if not is_public_key(public_key) or public_key == signing.server_public_key():
        raise Invalid({"public_key": ["须为见证人自己的 Ed25519 公钥：32 字节的无填充 base64url（43 个字符）"]},
                      code="invalid_public_key")
    if db.session.execute(select(Witness.id).where(Witness.community_id == community_id,
                                                   Witness.public_key == public_key)).first():
        raise Conflict("witness_key_taken", "该公钥已登记为本小区的见证人")
    active = db.session.execute(select(func.count()).select_from(Witness).where(
        Witness.community_id == community_id, Witness.retired_at.is_(None))).scalar_one()
    if active >= MAX_ACTIVE:
        raise Conflict("too_many_witnesses", f"本小区最多登记 {MAX_ACTIVE} 个见证人")
    witness = Witness(community_id=community_id, kind=kind, name=common.nfc(name), public_key=public_key,
                      created_by=user.id, created_at=now or common.now())
    db.session.add(witness)
    db.session.commit()
    return witness_view(witness)


def list_witnesses(user, community_id):
    """The community's active witnesses and the quorum a vote gets by default (any role)."""
    require_community(user, community_id)
    witnesses = _active(community_id)
    return {"items": [witness_view(w) for w in witnesses], "default_quorum": default_quorum(witnesses)}


def retire_witness(user, community_id, witness_pk, now=None):
    """Retire a witness: votes opened from now on do not name it; votes that do keep it."""
    require_community(user, community_id, "committee")
    witness = db.session.get(Witness, witness_pk)
    if witness is None or witness.community_id != community_id:
        raise NotFound("witness_not_found", "见证人不存在")
    _may_manage(user, community_id, witness.kind)
    if witness.retired_at is not None:
        raise Conflict("witness_retired", "该见证人已停用")
    witness.retired_at = now or common.now()
    db.session.commit()
    return witness_view(witness)


def freeze(vote):
    """At opening: the definition's `witnesses` and `witness_quorum`, and the vote's witness rows
    (in the opening transaction). 409 `witness_quorum_unreachable` when the committee's quorum is
    more than there are witnesses."""
    witnesses = _active(vote.community_id)
    quorum = vote.witness_quorum if vote.witness_quorum is not None else default_quorum(witnesses)
    if quorum > len(witnesses):
        raise Conflict("witness_quorum_unreachable", "见证法定数大于已登记的见证人数，请修改法定数或先登记见证人",
                       details={"witness_quorum": quorum, "witnesses": len(witnesses)})
    if witnesses:
        db.session.execute(insert(VoteWitness.__table__), [
            {"vote_id": vote.id, "witness_id": protocol_id(w), "community_id": vote.community_id, "registry_id": w.id,
             "kind": w.kind, "name": w.name, "public_key": w.public_key} for w in witnesses])
    return [{"id": protocol_id(w), "name": w.name, "public_key": w.public_key} for w in witnesses], quorum


def vote_witnesses(vote):
    """The witnesses a vote's definition names, with their kinds, in definition order."""
    rows = db.session.execute(select(VoteWitness).where(VoteWitness.vote_id == vote.id)
                              .order_by(VoteWitness.registry_id)).scalars().all()
    return [{"witness_id": w.witness_id, "kind": w.kind, "name": w.name, "public_key": w.public_key} for w in rows]

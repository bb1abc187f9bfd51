"""Reading votes: the vote as the API shows it, lists, the caller's rights, tree heads and proofs,
the signed tally with its notice, and the bundle (docs/votes.md "Proofs", "Closing, tally, notice,
bundle")."""
import json

from sqlalchemy import func, select

from backend.errors import Conflict, Forbidden, Invalid
from backend.extensions import db
from backend.models import Binding
from backend.models.vote import (Cosignature, Tally, Vote, VoteEntry, VoteKey, VoteRight, VoteRightOwner,
                                 VoteWitness)
from backend.pagination import paginate
from backend.security import require_community, roles_in
from backend.services import media
from backend.services.votes import common
from backend.services.votes.log import leaf_at, leaf_hashes, leaves, log_size, roll, stored_head
from voting import PROTOCOL_1
from voting.canonical import dumps
from voting.entries import make_receipt
from voting.merkle import consistency_proof, inclusion_proof


def view(user, vote):
    """A vote as the API shows it: the draft fields, its state, and once open the definition and head."""
    definition = head = None
    if vote.state != "draft":
        definition, head = common.opened(vote).definition.entry, stored_head(vote)
    fund = None
    if vote.fund_amount_fen is not None:
        fund = {"amount_fen": vote.fund_amount_fen, "purpose": vote.fund_purpose,
                "attachment_ids": [m.id for m in media.attached_to(common.MEDIA_FUND, vote.id)]}
    witnesses, quorum = [], vote.witness_quorum
    if definition is not None:
        quorum = definition.get("witness_quorum", 0)
        kinds = {w.witness_id: w.kind for w in db.session.execute(
            select(VoteWitness).where(VoteWitness.vote_id == vote.id)).scalars()}
        witnesses = [dict(w, kind=kinds.get(w["id"])) for w in definition.get("witnesses", [])]
    return {
        "id": vote.id, "community_id": vote.community_id, "vote_id": vote.public_id, "title": vote.title,
        "description": vote.description, "kind": vote.kind, "matter": vote.matter, "opens_at": vote.opens_at,
        "closes_at": vote.closes_at, "scope": {"buildings": vote.buildings} if vote.buildings else None,
        "candidates": vote.candidates, "seats": vote.seats, "fund": fund, "state": vote.state,
        "created_at": vote.created_at, "opened_at": vote.opened_at, "closed_at": vote.closed_at,
        "definition": definition, "tree_head": head, "my_rights": _my_rights(user, vote),
        "witnesses": witnesses, "witness_quorum": quorum,
    }


def get_vote(user, vote_pk):
    """One vote (any role in its community; drafts for the committee)."""
    return view(user, common.visible_vote(user, vote_pk))


def list_votes(user, community_id, state=None, page=1, per_page=20):
    """The votes of a community, newest first, each with the caller's rights in its roll."""
    require_community(user, community_id)
    query = select(Vote).where(Vote.community_id == community_id).order_by(Vote.id.desc())
    if state:
        query = query.where(Vote.state == state)
    if not (user.is_platform_admin or "committee" in roles_in(user, community_id)):
        query = query.where(Vote.state != "draft")
    result = paginate(query, page, per_page)
    result["items"] = [view(user, v) for v in result["items"]]
    return result


def my_votes(user, page=1, per_page=20):
    """Open votes, in every community, whose roll holds a right the caller is a verified owner of."""
    mine = (select(VoteRightOwner.vote_id).join(Binding, (Binding.owner_id == VoteRightOwner.owner_id))
            .where(Binding.user_id == user.id, Binding.status == "verified"))
    query = select(Vote).where(Vote.state == "open", Vote.id.in_(mine)).order_by(Vote.closes_at, Vote.id)
    result = paginate(query, page, per_page)
    result["items"] = [view(user, v) for v in result["items"]]
    return result


def _my_rights(user, vote):
    if vote.state == "draft":
        return []
    owner_ids = common.verified_owner_ids(user.id, vote.community_id)
    if not owner_ids:
        return []
    right_ids = select(VoteRightOwner.right_id).where(VoteRightOwner.vote_id == vote.id,
                                                      VoteRightOwner.owner_id.in_(owner_ids))
    rights = db.session.execute(select(VoteRight).where(VoteRight.vote_id == vote.id,
                                                        VoteRight.right_id.in_(right_ids))
                                .order_by(VoteRight.right_id)).scalars().all()
    keys = {}
    for right_id, public_key in db.session.execute(
        select(VoteKey.right_id, VoteKey.public_key).where(
            VoteKey.vote_id == vote.id, VoteKey.revoked_index.is_(None), VoteKey.right_id.in_([r.right_id for r in rights]))
    ):
        keys.setdefault(right_id, []).append(public_key)
    return [{"right_id": r.right_id, "label": r.label, "area": r.area, "heads": r.heads,
             "keys": sorted(keys.get(r.right_id, []))} for r in rights]


def my_rights(user, vote_pk):
    """The caller's rights in the roll, with the keys bound to them so far."""
    vote = common.visible_vote(user, vote_pk)
    common.require_opened(vote)
    return _my_rights(user, vote)


def cosignature_dict(vote, row):
    return {"type": "cosignature", "vote_id": vote.public_id, "size": row.size, "root": row.root,
            "witness": row.witness_id, "timestamp": row.timestamp, "signature": row.signature}


def cosignatures_of(vote, size=None):
    """The co-signatures received for a vote (of one size, or all), by size then witness id."""
    query = select(Cosignature).where(Cosignature.vote_id == vote.id)
    if size is not None:
        query = query.where(Cosignature.size == size)
    return [cosignature_dict(vote, row) for row in
            db.session.execute(query.order_by(Cosignature.size, Cosignature.witness_id)).scalars()]


def final_cosigners(vote, size):
    """The witnesses (definition order) whose co-signatures of the head of `size` were received.
    Only co-signatures of the stored head's root are ever stored, so one per witness counts."""
    ids = {c["witness"] for c in cosignatures_of(vote, size)}
    return [w for w in common.opened(vote).definition.witnesses if w["id"] in ids]


def tree_head(user, vote_pk, cosigned=False):
    """The latest signed tree head with its co-signatures; with `cosigned`, the latest head that has
    its quorum (409 `no_cosigned_head` while none has)."""
    vote = common.visible_vote(user, vote_pk)
    common.require_opened(vote)
    quorum = common.opened(vote).definition.witness_quorum
    size = None
    if cosigned and quorum:
        size = db.session.execute(
            select(Cosignature.size).where(Cosignature.vote_id == vote.id).group_by(Cosignature.size)
            .having(func.count() >= quorum).order_by(Cosignature.size.desc()).limit(1)).scalar()
        if size is None:
            raise Conflict("no_cosigned_head", "还没有得到足够见证人联署的树头", details={"witness_quorum": quorum})
    head = stored_head(vote, size)
    cosignatures = cosignatures_of(vote, head["size"])
    return {"id": vote.id, "vote_id": vote.public_id, "tree_head": head, "cosignatures": cosignatures,
            "witness_quorum": quorum, "cosigned": len(cosignatures) >= quorum}


def _proof_tree(user, vote_pk, size, field):
    """The vote (visible to the caller, opened) and a tree size within its log: `size`, or the latest."""
    vote = common.visible_vote(user, vote_pk)
    common.require_opened(vote)
    current = log_size(vote)
    size = current if size is None else size
    if not 1 <= size <= current:
        raise Invalid({field: [f"须在 1 到 {current} 之间"]})
    return vote, size


def inclusion(user, vote_pk, leaf_index, size=None):
    """The audit path of entry leaf_index in the tree of `size` entries (default: the latest)."""
    vote, size = _proof_tree(user, vote_pk, size, "size")
    if not 0 <= leaf_index < size:
        raise Invalid({"leaf_index": [f"须在 0 到 {size - 1} 之间"]})
    hashes = leaf_hashes(vote, size)
    return {"id": vote.id, "vote_id": vote.public_id, "leaf_index": leaf_index, "size": size,
            "leaf_hash": hashes[leaf_index].hex(),
            "inclusion_proof": [p.hex() for p in inclusion_proof(hashes, leaf_index, size)],
            "tree_head": stored_head(vote, size)}


def consistency(user, vote_pk, first, second=None):
    """RFC 9162 proof that the tree of `first` entries is a prefix of the tree of `second` (default: latest)."""
    vote, second = _proof_tree(user, vote_pk, second, "second")
    if not 1 <= first <= second:
        raise Invalid({"first": [f"须在 1 到 {second} 之间"]})
    hashes = leaf_hashes(vote, second)
    return {"id": vote.id, "vote_id": vote.public_id, "first": first, "second": second,
            "consistency_proof": [p.hex() for p in consistency_proof(hashes, first, second)],
            "first_tree_head": stored_head(vote, first), "second_tree_head": stored_head(vote, second)}


def witness_status(vote, size):
    """Who co-signed the head of `size` and who has not yet, against the definition's quorum."""
    definition = common.opened(vote).definition
    kinds = {w.witness_id: w.kind for w in db.session.execute(
        select(VoteWitness).where(VoteWitness.vote_id == vote.id)).scalars()}
    done = {w["id"] for w in final_cosigners(vote, size)}

    def listed(ids):
        return [{"witness_id": w["id"], "name": w["name"], "kind": kinds.get(w["id"])}
                for w in definition.witnesses if w["id"] in ids]

    all_ids = {w["id"] for w in definition.witnesses}
    return {"quorum": definition.witness_quorum, "size": size, "cosigned": listed(done),
            "missing": listed(all_ids - done)}


def tally_of(user, vote_pk):
    """A closed vote's tally: once published, the signed tally and the result notice; before (its
    witnesses have not co-signed the close head yet), only who has and who has not (any role). The
    close entry's receipt either way."""
    vote = common.visible_vote(user, vote_pk)
    record = db.session.get(Tally, vote.id)
    if record is None:
        raise Conflict("vote_not_closed", "表决尚未结束，计票结果和审计包在结束后提供")
    published = record.published_at is not None
    return {"id": vote.id, "vote_id": vote.public_id, "published": published,
            "tally": record.body if published else None, "close_receipt": _close_receipt(vote),
            "notice": {"text": record.notice_text, "notice_id": record.notice_id} if published else None,
            "witnesses": witness_status(vote, log_size(vote))}


def _close_receipt(vote):
    """The receipt of the close entry (the last leaf): whoever keeps it holds the whole final log
    fixed, so that not even the server key can rewrite the close entry afterwards (docs/protocol.md §12)."""
    size = log_size(vote)
    hashes = leaf_hashes(vote, size)
    return make_receipt(vote.public_id, size - 1, hashes[-1].hex(), stored_head(vote, size),
                        inclusion_proof(hashes, size - 1, size), json.loads(leaf_at(vote, size - 1)))


BUNDLE_READERS = ("owner", "regulator", "committee")


def bundle_bytes(user, vote_pk):
    """The bundle of a closed vote as canonical JSON bytes: for the community's owners and
    regulators, and the committee that ran the vote (it must be able to audit its own vote)."""
    vote = common.vote_for(user, vote_pk)
    if not (user.is_platform_admin or roles_in(user, vote.community_id) & set(BUNDLE_READERS)):
        raise Forbidden("bundle_forbidden", "审计包仅供本小区的业主、业委会和监管部门下载")
    record = db.session.get(Tally, vote.id)
    if record is None:
        raise Conflict("vote_not_closed", "表决尚未结束，计票结果和审计包在结束后提供")
    if record.published_at is None:
        raise Conflict("tally_awaiting_witnesses", "计票结果须经见证人联署后公布，审计包随之提供",
                       details={"missing": [w["witness_id"] for w in witness_status(vote, log_size(vote))["missing"]]})
    protocol = common.opened(vote).definition.protocol
    # The stored leaves are canonical JSON already: splice them instead of re-encoding every entry.
    # Keys in sorted order (cosignatures, entries, protocol, roll, tally, tree_head) keep the file canonical.
    cosignatures = [] if protocol == PROTOCOL_1 else [b'"cosignatures":', dumps(cosignatures_of(vote)), b","]
    return b"".join([
        b"{", *cosignatures, b'"entries":[', b",".join(leaves(vote)), b'],"protocol":', dumps(protocol),
        b',"roll":', dumps(roll(vote)), b',"tally":', dumps(record.body),
        b',"tree_head":', dumps(stored_head(vote)), b"}",
    ])


# ---------------------------------------------------------------- turnout (the console's live view)

# Who may see which rights have voted (the roll with `voted`): the committee, for paper ballots, and
# regulators. The totals (`turnout`) are every member's: owners follow whether their vote will count.
ROLL_ROLES = ("committee", "regulator")


def _voted_rights(vote):
    """Right ids with a ballot (signed or paper) in the log: every logged ballot passed the rule."""
    return select(VoteEntry.right_id).where(VoteEntry.vote_id == vote.id,
                                            VoteEntry.kind.in_(("ballot", "paper_ballot"))).distinct()


def turnout(user, vote_pk):
    """Turnout against the legal thresholds (any role of the community; totals only, never who): the
    roll's totals (for a draft, the committee's, the roll it would open with now), the area and heads
    of the rights with a ballot so far, and what quorum needs — two thirds of both, protocol.md §8
    (voting.counting.quorum_reached)."""
    from backend.services.rights import community_rights
    from voting.counting import quorum_reached

    vote = common.visible_vote(user, vote_pk)
    voted_area = voted_heads = voted = signed = paper = 0
    if vote.state == "draft":
        rights = community_rights(vote.community_id, vote.buildings or None)
        count, area, heads = len(rights), sum(r.area for r in rights), sum(r.heads for r in rights)
    else:
        count, area, heads = db.session.execute(
            select(func.count(), func.coalesce(func.sum(VoteRight.area), 0), func.coalesce(func.sum(VoteRight.heads), 0))
            .where(VoteRight.vote_id == vote.id)).one()
        voted, voted_area, voted_heads = db.session.execute(
            select(func.count(), func.coalesce(func.sum(VoteRight.area), 0), func.coalesce(func.sum(VoteRight.heads), 0))
            .where(VoteRight.vote_id == vote.id, VoteRight.right_id.in_(_voted_rights(vote)))).one()
        kinds = dict(db.session.execute(
            select(VoteEntry.kind, func.count()).where(VoteEntry.vote_id == vote.id,
                                                       VoteEntry.kind.in_(("ballot", "paper_ballot")))
            .group_by(VoteEntry.kind)).all())
        signed, paper = kinds.get("ballot", 0), kinds.get("paper_ballot", 0)
    area, heads, voted_area, voted_heads = int(area), int(heads), int(voted_area), int(voted_heads)
    return {"state": vote.state, "rights": count, "area": area, "heads": heads,
            "voted_rights": int(voted), "voted_area": voted_area, "voted_heads": voted_heads,
            "signed_ballots": signed, "paper_ballots": paper,
            # the smallest integers meeting 3x >= 2 total
            "quorum_area": -(-2 * area // 3), "quorum_heads": -(-2 * heads // 3),
            "quorum_reached": vote.state != "draft" and count > 0
            and quorum_reached(voted_area, voted_heads, area, heads)}


def roll_rights(user, vote_pk, q=None, page=1, per_page=50):
    """The frozen roll of an opened vote, page by page, each right with whether it has a ballot yet
    (committee, regulators): where paper ballots are entered from."""
    vote = common.vote_for(user, vote_pk, *ROLL_ROLES)
    common.require_opened(vote)
    query = select(VoteRight).where(VoteRight.vote_id == vote.id)
    if q:
        query = query.where(VoteRight.label.contains(q, autoescape=True))
    result = paginate(query.order_by(VoteRight.right_id), page, per_page)
    ids = [r.right_id for r in result["items"]]
    voted = set(db.session.execute(_voted_rights(vote).where(VoteEntry.right_id.in_(ids))).scalars())
    result["items"] = [{"right_id": r.right_id, "label": r.label, "area": r.area, "heads": r.heads,
                        "voted": r.right_id in voted} for r in result["items"]]
    return result

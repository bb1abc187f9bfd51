"""What witnesses do with the server (docs/votes.md "Witnesses", docs/protocol.md §15): read the votes
they witness and a vote's newest head with its proofs — by a request signed with the witness's key,
no WeChat account — and post co-signatures, which authenticate themselves. A caller who is not a
witness of the vote learns nothing about it: every such request gets the same answer whether the
vote exists or not."""
import logging

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict, Forbidden, Invalid, Unauthorized
from backend.extensions import db
from backend.models.vote import Cosignature, Vote, VoteFrontier, VoteWitness, Witness
from backend.services import ratelimit
from backend.services.votes import common, lifecycle
from backend.services.votes.log import leaf_hashes, stored_head
from backend.services.votes.reading import final_cosigners
from voting.keys import verify_object
from voting.merkle import consistency_proof, inclusion_proof
from voting.witnesses import cosignature_shape_problem, request_problem

log = logging.getLogger("linli.votes")

READS_PER_MINUTE = 120  # per witness key: a witness reads a few times per vote per run
POSTS_PER_MINUTE = 120  # per client address, before anything is checked


def _unknown():
    """The one answer for a co-signature that is not by a witness of the vote, or a vote that does not exist."""
    return Forbidden("witness_unknown", "签名者不是本表决的见证人，或表决不存在")


def witness_key(public_key, signature, timestamp, method, target, now=None):
    """The public key of a signed witness request (docs/protocol.md §15.3), checked: the headers hold,
    within five minutes, and the key is a witness of some community or vote; else 401/403."""
    now = now or common.now()
    if not (public_key and signature and timestamp):
        raise Unauthorized("witness_signature_required", "请求须附见证人签名（X-Linli-Witness-Key、-Time、-Signature）")
    problem = request_problem(public_key, signature, method, target, timestamp, now)
    if problem:
        raise Unauthorized("witness_signature_invalid", "见证人请求签名无效或已过期", details={"reason": problem})
    known = db.session.execute(select(
        exists().where(Witness.public_key == public_key, Witness.retired_at.is_(None))
        | exists().where(VoteWitness.public_key == public_key))).scalar()
    if not known:
        raise _unknown()
    ratelimit.hit(f"witness-read:{public_key}", READS_PER_MINUTE, 60, now)
    return public_key


def votes_to_witness(public_key, community_id=None):
    """The votes whose definition names this key that need it: open, or closed without this witness's
    co-signature of the close head."""
    final = exists().where(Cosignature.vote_id == VoteWitness.vote_id, Cosignature.witness_id == VoteWitness.witness_id,
                           Cosignature.size == VoteFrontier.size)
    query = (select(Vote.id, Vote.public_id, Vote.community_id, Vote.state, VoteFrontier.size)
             .join(VoteWitness, VoteWitness.vote_id == Vote.id).join(VoteFrontier, VoteFrontier.vote_id == Vote.id)
             .where(VoteWitness.public_key == public_key,
                    or_(Vote.state == "open", and_(Vote.state.in_(("closed", "tallied")), ~final)))
             .order_by(Vote.id))
    if community_id is not None:
        query = query.where(Vote.community_id == community_id)
    return {"votes": [{"id": row.id, "vote_id": row.public_id, "community_id": row.community_id, "state": row.state,
                       "size": row.size} for row in db.session.execute(query)]}


def _witnessed(vote_ref, public_key):
    vote = common.find_vote(vote_ref)
    if vote is None or vote.state == "draft" or not db.session.execute(select(VoteWitness.witness_id).where(
            VoteWitness.vote_id == vote.id, VoteWitness.public_key == public_key)).first():
        raise common.vote_not_found()
    return vote


def head_for_witness(public_key, vote_ref, first=None):
    """The newest signed head, entry 0 with its inclusion proof in it, and the consistency proof from
    `first` (the size the witness last co-signed; none when it is beyond the head)."""
    vote = _witnessed(vote_ref, public_key)
    head = stored_head(vote)
    size = head["size"]
    hashes = leaf_hashes(vote, size)
    proof = None
    if first is not None and 1 <= first <= size:
        proof = [p.hex() for p in consistency_proof(hashes, first, size)]
    return {"id": vote.id, "vote_id": vote.public_id, "definition": common.opened(vote).definition.entry,
            "definition_proof": [p.hex() for p in inclusion_proof(hashes, 0, size)], "tree_head": head,
            "consistency_proof": proof}


def accept_cosignature(vote_ref, cosignature, client, now=None):
    """Store a witness's co-signature of one of the vote's signed heads; publish the tally if it
    completes the close head's quorum. Refusals: 422 `malformed_cosignature`; 403 `witness_unknown`
    (not signed by a witness of this vote, or no such vote — one answer); 422 `vote_id_mismatch`,
    `cosignature_size_unknown`, `cosignature_root_mismatch`; 409 `cosignature_exists` (a replay)."""
    now = now or common.now()
    ratelimit.hit(f"cosign:{client or '-'}", POSTS_PER_MINUTE, 60, now)
    problem = cosignature_shape_problem(cosignature)
    if problem:
        raise Invalid({"cosignature": [problem]}, message="联署签名格式不正确", code="malformed_cosignature")
    vote = common.find_vote(vote_ref)
    witness = None if vote is None or vote.state == "draft" else db.session.execute(select(VoteWitness).where(
        VoteWitness.vote_id == vote.id, VoteWitness.witness_id == cosignature["witness"])).scalar_one_or_none()
    if witness is None or not verify_object(witness.public_key, cosignature):
        raise _unknown()
    if cosignature["vote_id"] != vote.public_id:
        raise Invalid({"vote_id": ["联署签名属于另一项表决"]}, message="签名内容不属于本表决", code="vote_id_mismatch",
                      details={"expected": vote.public_id})
    head = stored_head(vote, cosignature["size"])
    if head is None:
        raise Invalid({"size": ["日志从未有过这个条目数"]}, message="日志从未有过该条目数的树头",
                      code="cosignature_size_unknown")
    if head["root"] != cosignature["root"]:
        log.warning("vote %s: witness %s co-signed size %s with root %s, the server signed %s", vote.id,
                    witness.witness_id, head["size"], cosignature["root"], head["root"])
        raise Invalid({"root": ["与服务器签署的该条目数的树头不符"]}, message="该条目数的树头根哈希与联署签名不符",
                      code="cosignature_root_mismatch", details={"root": head["root"]})
    if db.session.get(Cosignature, (vote.id, cosignature["size"], witness.witness_id)) is not None:
        raise Conflict("cosignature_exists", "该见证人已联署过这个树头")
    db.session.add(Cosignature(vote_id=vote.id, size=cosignature["size"], witness_id=witness.witness_id,
                               community_id=vote.community_id, root=cosignature["root"],
                               timestamp=cosignature["timestamp"], signature=cosignature["signature"], received_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same co-signature, posted twice at once
        raise Conflict("cosignature_exists", "该见证人已联署过这个树头") from None
    vote_pk, public_id, size = vote.id, vote.public_id, cosignature["size"]
    published = lifecycle.publish_if_witnessed(vote_pk, now)
    vote = db.session.get(Vote, vote_pk)
    cosigners = final_cosigners(vote, size)
    quorum = common.opened(vote).definition.witness_quorum
    return {"id": vote_pk, "vote_id": public_id, "size": size, "witness": witness.witness_id,
            "cosigners": [w["id"] for w in cosigners], "witness_quorum": quorum, "cosigned": len(cosigners) >= quorum,
            "published": published}

"""Paper ballots: a committee member enters the ballot of an owner who voted on paper, with the photo
of the signed sheet as evidence (docs/votes.md "Paper ballots")."""
from sqlalchemy import select

from backend.errors import Conflict, Forbidden, Invalid
from backend.extensions import db
from backend.models.media import Media
from backend.models.vote import VoteEntry, VoteRight
from backend.security import pii_hash, require_community
from backend.services import media
from backend.services.votes import common
from backend.services.votes.log import Log
from voting.counting import intrinsic_problem
from voting.entries import choice_problem, make_paper_ballot


def staff_pseudonym(user):
    """The pseudonymous staff id written into paper-ballot entries (stable per user, reveals nothing)."""
    return "staff-" + pii_hash(f"linli vote staff {user.id}")[:12]


def enter_paper_ballot(user, vote_pk, right_id, choice, evidence_media_id, now=None):
    """A committee member enters a paper ballot with the photo of the signed sheet; returns its
    receipt once committed. Never for a right of which the member is an owner: another member of the
    committee must enter it (403 `paper_ballot_own_right`)."""
    vote = common.vote_for(user, vote_pk, "committee")
    moment = now or common.now()
    if vote.state == "draft":
        raise Conflict("vote_not_open", "表决尚未开始")
    if vote.state != "open":
        raise Conflict("vote_closed", "表决已截止")
    opened = common.opened(vote)
    common.received_at(moment, opened.definition)
    if not db.session.execute(select(VoteRight.id).where(VoteRight.vote_id == vote.id,
                                                         VoteRight.right_id == right_id)).first():
        raise Invalid({"right_id": ["该表决权不在本表决的名册中"]}, message="表决权不在名册中", code="right_not_in_roll")
    problem = choice_problem(choice, opened.definition)
    if problem:
        raise Invalid({"choice": [common.choice_problem_text(problem)]}, message="选择不符合本表决", code="invalid_choice")
    if common.owns_right(vote.id, vote.community_id, user.id, right_id):
        # Nobody vouches for their own ballot: a signed ballot is the owner's way; a paper one is
        # entered by someone else, so that two people stand behind it.
        raise Forbidden("paper_ballot_own_right", "您是该表决权的业主，不能为自己录入纸质选票，请由其他业委会成员录入")
    photo = db.session.get(Media, evidence_media_id)
    if photo is not None and photo.attached_type is not None:
        # One sheet, one photo: a photo already used as evidence (or elsewhere) cannot vouch again.
        raise Invalid({"evidence_media_id": ["该照片已被使用"]}, code="evidence_used")
    media.attach(user, [evidence_media_id], vote.community_id, common.MEDIA_PAPER, vote.id, field="evidence_media_id")
    evidence = media.media_sha256(evidence_media_id)
    book = Log.lock(opened)
    when = common.received_at(now or common.now(), opened.definition)
    signed = db.session.execute(select(VoteEntry.idx).where(
        VoteEntry.vote_id == vote.id, VoteEntry.right_id == right_id, VoteEntry.kind == "ballot").limit(1)).first()
    if signed:
        # A paper ballot never overrides the owner's own signed ballot (docs/protocol.md §7).
        raise Conflict("signed_ballot_exists", "该表决权已有业主本人签名的电子选票，不能再录入纸质票")
    entry = make_paper_ballot(vote.public_id, right_id, choice, evidence, staff_pseudonym(user), when)
    problem = intrinsic_problem(entry, opened.definition, {right_id: None}, None)
    if problem:
        raise common.invalid_ballot("choice", problem[1])
    receipt = book.append(entry, when, right_id=right_id, user_id=user.id).receipt
    book.write()
    db.session.commit()
    return receipt


def _may_see_paper_evidence(user, vote_pk):
    # Paper ballots are open to the owners' inspection, like the bundle that names their hash.
    require_community(user, common.vote_for(user, vote_pk).community_id, "owner", "regulator", "committee")
    return True


media.register_visibility(common.MEDIA_PAPER, _may_see_paper_evidence)

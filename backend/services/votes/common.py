"""What every part of the votes service shares: the clock, the access guard of a vote, the cached
definition of an open vote, the voting window, and small text helpers."""
import json
import unicodedata
from datetime import timedelta, timezone
from typing import NamedTuple

from sqlalchemy import select

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Binding
from backend.models.base import utcnow
from backend.models.vote import Vote, VoteEntry, VoteRightOwner
from backend.security import require_community, roles_in
from voting.canonical import format_time, parse_time
from voting.entries import parse_definition

KINDS = ("resolution", "election")
MATTERS = ("ordinary", "special")
SHANGHAI = timezone(timedelta(hours=8))  # China has no daylight saving: a fixed offset is exact
MEDIA_FUND = "vote"  # contractor quotes etc. of a maintenance-fund resolution
MEDIA_PAPER = "vote_paper_ballot"  # photos of signed paper ballots


def now():
    """The service's clock (tests move it: monkeypatch this module's utcnow)."""
    return utcnow()


def nfc(text):
    return unicodedata.normalize("NFC", text.strip())


def whole_seconds(moment):
    """Protocol times have whole seconds; stored times are truncated the same way so they agree."""
    return moment.replace(microsecond=0)


def shanghai(moment):
    """A time as people in China read it: 2026-03-01 08:00（北京时间）."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def page_of(vote):
    """The mini-program page of a vote (subscribe messages link to it)."""
    return f"pages/votes/detail?id={vote.id}"


# ---------------------------------------------------------------- who may learn about a vote



def vote_not_found():
    """The one answer for a vote that does not exist, or that the caller may not learn about."""
    return NotFound("vote_not_found", "表决不存在")


def find_vote(vote_ref):
    """The vote a URL names: its integer id, or its protocol vote_id ("v12-3f9a0c1b"); None if none."""
    if isinstance(vote_ref, str):
        return db.session.execute(select(Vote).where(Vote.public_id == vote_ref)).scalar_one_or_none()
    return db.session.get(Vote, vote_ref)


def vote_for(user, vote_ref, *roles):
    """The vote `vote_ref` (id or protocol vote_id) for `user`, the caller's role checked before
    anything about the vote's state is looked at. A caller with no role in the vote's community gets
    the same 404 as for a vote that does not exist (so the answer never reveals that a vote exists,
    nor its state); with `roles`, a caller holding none of them gets 403 `forbidden` (docs/votes.md
    "Who may ask")."""
    vote = find_vote(vote_ref)
    if vote is None:
        raise vote_not_found()
    try:
        require_community(user, vote.community_id)
    except Forbidden:
        raise vote_not_found() from None
    if roles:
        require_community(user, vote.community_id, *roles)
    return vote


def visible_vote(user, vote_pk):
    """The vote if the caller may read it: any role in its community; a draft only for the committee
    (to anyone else a draft does not exist)."""
    vote = vote_for(user, vote_pk)
    if vote.state == "draft" and not (user.is_platform_admin or "committee" in roles_in(user, vote.community_id)):
        raise vote_not_found()
    return vote


def require_opened(vote):
    if vote.state == "draft":
        raise Conflict("vote_not_open", "表决尚未开始")


def owns_right(vote_id, community_id, user_id, right_id):
    """Whether the user is verified as one of the owners of the roll right (its owner set frozen with
    the roll) — who may cast for it, and who may not enter a paper ballot for it."""
    return db.session.execute(
        select(VoteRightOwner.right_id).join(Binding, Binding.owner_id == VoteRightOwner.owner_id).where(
            VoteRightOwner.vote_id == vote_id, VoteRightOwner.right_id == right_id, Binding.user_id == user_id,
            Binding.status == "verified", Binding.community_id == community_id).limit(1)
    ).first() is not None


def verified_owner_ids(user_id, community_id=None):
    query = select(Binding.owner_id).where(Binding.user_id == user_id, Binding.status == "verified",
                                           Binding.owner_id.is_not(None))
    if community_id is not None:
        query = query.where(Binding.community_id == community_id)
    return set(db.session.execute(query).scalars())


# ---------------------------------------------------------------- an open vote's fixed facts


class OpenedVote(NamedTuple):
    """What never changes about a vote once it is open: enough to check and append a cast."""

    id: int
    public_id: str
    community_id: int
    definition: object  # voting.entries.Definition: the parsed entry 0


# public id → OpenedVote. The public id carries a random part, so a primary key reused by another
# database (a restored backup, the tests) never finds a stale entry.
_opened = {}


def opened(vote):
    """The fixed facts of an open (or closed) vote; entry 0 is read once per process."""
    key = vote.public_id
    found = _opened.get(key)
    if found is None:
        leaf = db.session.execute(
            select(VoteEntry.leaf).where(VoteEntry.vote_id == vote.id, VoteEntry.idx == 0)).scalar_one()
        found = OpenedVote(vote.id, vote.public_id, vote.community_id, parse_definition(json.loads(leaf)))
        if len(_opened) > 1000:
            _opened.clear()
        _opened[key] = found
    return found


def cached_opened(vote_ref, public_id):
    """The cached facts of the vote a URL names (`vote_ref`: id or protocol id) if it was seen open
    under `public_id` (what the ballot names), else None."""
    found = _opened.get(public_id)
    return found if found is not None and vote_ref in (found.id, found.public_id) else None


# voting/ says what is wrong in English (the verifier's report is bilingual); the API answers in Chinese.
_CHOICE_PROBLEMS = {
    "choice must be an object": "选择须为一个对象",
    "choice must be {'option': 'approve'|'reject'|'abstain'}": '决议的选择须为 {"option": "approve"|"reject"|"abstain"}',
    "choice must be {'approve': [candidate ids]}": '选举的选择须为 {"approve": [候选人编号]}',
    "choice approves an unknown candidate": "选择了本表决没有的候选人",
    "choice repeats a candidate": "同一候选人只能选一次",
}


def choice_problem_text(problem):
    """The Chinese for a problem voting.entries.choice_problem found."""
    if problem.startswith("choice approves more than"):
        return "所选候选人多于应选人数"
    return _CHOICE_PROBLEMS.get(problem, "选择不符合本表决")


def invalid_ballot(field, problem):
    """422 `invalid_ballot`: the protocol's own per-entry check refused it (`problem`, in English, in
    details for whoever debugs a client)."""
    return Invalid({field: ["选票未通过协议检查"]}, message="选票无效", code="invalid_ballot",
                   details={"problem": problem})


def received_at(moment, definition):
    """The protocol time of an entry received at `moment`; refused outside [opens_at, closes_at)."""
    text = format_time(moment)
    instant = parse_time(text)
    if instant < definition.opens_at:
        raise Conflict("vote_not_started", "表决尚未开始投票", details={"opens_at": format_time(definition.opens_at)})
    if instant >= definition.closes_at:
        raise Conflict("vote_closed", "表决已截止", details={"closes_at": format_time(definition.closes_at)})
    return text

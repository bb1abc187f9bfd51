"""A vote's life: drafts, opening with the frozen roll, closing with the signed tally, and the one
guard of its state: draft → open → closed → tallied (docs/votes.md "Life of a vote")."""
import json
import logging
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select, update

from backend import signing
from backend.errors import Conflict, DomainError, Invalid
from backend.extensions import db
from backend.models import Binding, Part
from backend.models.vote import DeviceKey, Tally, Vote, VoteEvent, VoteKey, VoteRight, VoteRightOwner
from backend.services import media, outbox
from backend.services.rights import community_rights
from backend.services.votes import announcements, common, witness_registry
from backend.security import require_community
from backend.services.votes.log import Log, leaves, log_size, roll
from backend.services.votes.reading import final_cosigners, tally_of, view
from voting.canonical import format_time
from voting.counting import count_log, tally_body
from voting.entries import build_roll, make_close, make_definition

log = logging.getLogger("linli.votes")

TRANSITIONS = {"draft": ("open",), "open": ("closed",), "closed": ("tallied",)}


def transition(vote, to_state, actor, now):
    """Move the vote to `to_state` if its current state allows it; records a VoteEvent. The UPDATE is
    conditional on the state read, so two racing requests cannot both make the same move."""
    from_state = vote.state
    if to_state not in TRANSITIONS.get(from_state, ()):
        raise Conflict("vote_state_conflict", "表决当前状态不允许此操作，请刷新后重试", details={"state": from_state, "to": to_state})
    moved = db.session.execute(
        update(Vote).where(Vote.id == vote.id, Vote.state == from_state).values(state=to_state)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("vote_state_conflict", "表决当前状态不允许此操作，请刷新后重试", details={"to": to_state})
    vote.state = to_state
    db.session.add(VoteEvent(vote_id=vote.id, community_id=vote.community_id, actor_id=actor.id if actor else None,
                             from_state=from_state, to_state=to_state, created_at=now))


# ---------------------------------------------------------------- drafts


def _apply_draft(vote, fields):
    """Copy the given draft fields onto the vote (partial: absent fields keep their value)."""
    if "title" in fields:
        vote.title = common.nfc(fields["title"])  # NFC: the title goes into entry 0, canonical JSON wants NFC
    if "description" in fields:
        vote.description = (fields["description"] or "").strip()
    for name in ("kind", "matter", "seats"):
        if name in fields:
            setattr(vote, name, fields[name])
    for name in ("opens_at", "closes_at"):
        if name in fields:
            setattr(vote, name, common.whole_seconds(fields[name]))
    if "scope" in fields:
        scope = fields["scope"]
        vote.buildings = sorted({b.strip() for b in scope["buildings"]}) if scope else None
    if "candidates" in fields:
        vote.candidates = [{"id": f"c{i}", "name": common.nfc(c["name"]), "statement": (c.get("statement") or "").strip()}
                           for i, c in enumerate(fields["candidates"], 1)] if fields["candidates"] else None
    if "fund" in fields:
        fund = fields["fund"]
        vote.fund_amount_fen = fund["amount_fen"] if fund else None
        vote.fund_purpose = fund["purpose"].strip() if fund else None
    if "witness_quorum" in fields:
        vote.witness_quorum = fields["witness_quorum"]


def _validate_draft(vote, now):
    """Closing after opening, the minimum period, seats and candidates, the scope (422 naming fields)."""
    problems = {}
    if vote.kind not in common.KINDS:
        problems["kind"] = ["须为 resolution 或 election"]
    if vote.matter not in common.MATTERS:
        problems["matter"] = ["须为 ordinary 或 special"]
    minimum = current_app.config["VOTE_MIN_HOURS"]
    if vote.closes_at <= vote.opens_at:
        problems["closes_at"] = ["结束时间须晚于开始时间"]
    elif vote.closes_at - vote.opens_at < timedelta(hours=minimum):
        problems["closes_at"] = [f"投票期不得少于 {minimum} 小时"]
    elif vote.closes_at <= now:
        problems["closes_at"] = ["结束时间已过"]
    if vote.kind == "election":
        if vote.matter != "ordinary":
            problems["matter"] = ["选举按一般事项表决，matter 须为 ordinary"]
        if not vote.seats or vote.seats < 1:
            problems["seats"] = ["应选人数须至少为 1"]
        if not vote.candidates:
            problems["candidates"] = ["选举须有候选人"]
        elif vote.seats and len(vote.candidates) < vote.seats:
            problems["candidates"] = ["候选人数不得少于应选人数"]
        if vote.fund_amount_fen is not None:
            problems["fund"] = ["维修资金使用须以决议表决，不能用于选举"]
    else:
        if vote.candidates:
            problems["candidates"] = ["只有选举才有候选人"]
        if vote.seats is not None:
            problems["seats"] = ["只有选举才有应选人数"]
    if vote.buildings is not None:
        known = set(db.session.execute(
            select(Part.building).where(Part.community_id == vote.community_id, Part.removed_at.is_(None),
                                        Part.building.in_(vote.buildings)).distinct()
        ).scalars())
        missing = [b for b in vote.buildings if b not in known]
        if missing:
            problems["scope.buildings"] = [f"楼栋 {b} 不在登记册中" for b in missing]
    if problems:
        raise Invalid(problems)


def _attach_fund_media(user, vote, attachment_ids):
    if attachment_ids:
        media.attach(user, attachment_ids, vote.community_id, common.MEDIA_FUND, vote.id, allow_pdf=True,
                     field="fund.attachment_ids")


def create_vote(user, community_id, now=None, **fields):
    """A committee drafts a resolution or an election (validated; editable until it opens)."""
    require_community(user, community_id, "committee")
    now = now or common.now()
    vote = Vote(community_id=community_id, created_by=user.id, state="draft", created_at=now, description="",
                matter="ordinary")
    _apply_draft(vote, fields)
    _validate_draft(vote, now)
    db.session.add(vote)
    db.session.flush()
    _attach_fund_media(user, vote, (fields.get("fund") or {}).get("attachment_ids"))
    db.session.add(VoteEvent(vote_id=vote.id, community_id=community_id, actor_id=user.id, from_state=None,
                             to_state="draft", created_at=now))
    db.session.commit()
    return view(user, vote)


def update_vote(user, vote_pk, **fields):
    """Edit a draft (only the fields given change); refused once the vote is open."""
    vote = common.vote_for(user, vote_pk, "committee")
    if vote.state != "draft":
        raise Conflict("vote_not_draft", "表决已开始或已结束，不能再修改或开始")
    _apply_draft(vote, fields)
    _validate_draft(vote, common.now())
    if fields.get("fund"):
        _attach_fund_media(user, vote, fields["fund"].get("attachment_ids"))
    db.session.commit()
    return view(user, vote)


def _may_see_fund_media(user, vote_pk):
    common.visible_vote(user, vote_pk)
    return True


media.register_visibility(common.MEDIA_FUND, _may_see_fund_media)


# ---------------------------------------------------------------- opening


def _keys_by_owner(community_id):
    """Active device keys of each verified owner of the community (owner id → keys)."""
    rows = db.session.execute(
        select(Binding.owner_id, DeviceKey.public_key)
        .join(DeviceKey, DeviceKey.user_id == Binding.user_id)
        .where(Binding.community_id == community_id, Binding.status == "verified", Binding.owner_id.is_not(None),
               DeviceKey.revoked_at.is_(None))
    ).all()
    keys = {}
    for owner_id, public_key in rows:
        keys.setdefault(str(owner_id), set()).add(public_key)
    return keys


def open_vote(user, vote_pk, now=None):
    """Freeze the roll for the scope, write entry 0 and sign the first tree head, in one transaction."""
    vote = common.vote_for(user, vote_pk, "committee")
    now = common.whole_seconds(now or common.now())
    if vote.state != "draft":
        raise Conflict("vote_not_draft", "表决已开始或已结束，不能再修改或开始")
    # A vote opened after its planned start starts now: entry 0 never claims an earlier opening.
    opens_at = max(vote.opens_at, now)
    if vote.closes_at - opens_at < timedelta(hours=current_app.config["VOTE_MIN_HOURS"]) or vote.closes_at <= opens_at:
        raise Conflict("voting_period_too_short", "距结束时间太近，请先修改结束时间",
                       details={"closes_at": format_time(vote.closes_at)})
    transition(vote, "open", user, now)
    rights = community_rights(vote.community_id, vote.buildings)
    if not rights:
        raise Conflict("roll_empty", "表决范围内没有业主，无法开始表决")
    owner_keys = _keys_by_owner(vote.community_id)
    keys_by_right = {r.right_id: set().union(*(owner_keys.get(o, set()) for o in r.owners)) for r in rights}
    frozen = build_roll(rights, keys_by_right)
    witnesses, quorum = witness_registry.freeze(vote)
    vote.public_id = f"v{vote.id}-{secrets.token_hex(4)}"
    vote.opens_at, vote.opened_at = opens_at, now
    definition = make_definition(
        vote_id=vote.public_id, community_id=str(vote.community_id), title=vote.title, kind=vote.kind,
        matter=vote.matter, opens_at=opens_at, closes_at=vote.closes_at, roll=frozen,
        server_key=signing.server_public_key(),
        candidates=[{"id": c["id"], "name": c["name"]} for c in vote.candidates or []] or None, seats=vote.seats,
        witnesses=witnesses, witness_quorum=quorum,
    )
    cid = vote.community_id
    db.session.execute(insert(VoteRight.__table__), [
        {"vote_id": vote.id, "community_id": cid, "right_id": item["right_id"], "label": item["label"],
         "area": item["area"], "heads": item["heads"], "keys": item["keys"]} for item in frozen])
    db.session.execute(insert(VoteRightOwner.__table__), [
        {"vote_id": vote.id, "right_id": r.right_id, "owner_id": int(o), "community_id": cid}
        for r in rights for o in sorted(r.owners)])
    key_rows = [{"vote_id": vote.id, "right_id": item["right_id"], "public_key": k, "community_id": cid}
                for item in frozen for k in item["keys"]]
    if key_rows:
        db.session.execute(insert(VoteKey.__table__), key_rows)
    book = Log.start(vote)
    book.append(definition, format_time(now), user_id=user.id)
    book.write()
    for user_id in announcements.roll_users(vote):
        outbox.enqueue(user_id, cid, "vote_opened", {"title": vote.title, "closes_at": common.shanghai(vote.closes_at)},
                       page=common.page_of(vote))
    db.session.commit()
    return view(user, vote)


# ---------------------------------------------------------------- closing


def close_vote(user, vote_pk, now=None):
    """The committee closes a vote at or after closes_at: close entry, signed tally, result notice."""
    vote = common.vote_for(user, vote_pk, "committee")
    now = now or common.now()
    if vote.state == "draft":
        raise Conflict("vote_not_open", "表决尚未开始")
    if vote.state != "open":
        raise Conflict("vote_already_closed", "表决已结束")
    if now < vote.closes_at:
        raise Conflict("vote_not_due", "未到表决结束时间，不能提前结束", details={"closes_at": format_time(vote.closes_at)})
    _close(vote, user, now)
    return tally_of(user, vote.id)


def close_due_votes(now=None):
    """Close every open vote whose closes_at has passed (for cron); returns the closed votes' ids."""
    now = now or common.now()
    due = db.session.execute(select(Vote.id).where(Vote.state == "open", Vote.closes_at <= now)
                             .order_by(Vote.id)).scalars().all()
    closed = []
    for vote_pk in due:
        try:
            _close(db.session.get(Vote, vote_pk), None, now)
            closed.append(vote_pk)
        except DomainError as exc:  # closed meanwhile by the committee: nothing to do
            db.session.rollback()
            log.info("vote %s not closed: %s", vote_pk, exc.code)
    return closed


def _close(vote, actor, now):
    """The close entry, the frontier marked closed, the log counted and the tally signed, in one
    transaction (signatures were verified when each ballot was accepted, so not again here; the
    offline verifier checks them all); then the tally is published — at once when the vote has no
    witnesses, else once its close head has its quorum of co-signatures (`publish_if_witnessed`)."""
    when = format_time(now)
    transition(vote, "closed", actor, now)
    book = Log.lock(vote)
    book.append(make_close(vote.public_id, when), when, user_id=actor.id if actor else None)
    book.write(closed=True)
    vote.closed_at = now
    result = count_log(roll(vote), [json.loads(leaf) for leaf in leaves(vote)], verify_signatures=False)
    if result.problems:
        log.error("vote %s: the log has problems: %s", vote.id, [p.message for p in result.problems[:5]])
    tally = signing.sign(tally_body(result, book.size, book.frontier.root().hex()))
    record = Tally(vote_id=vote.id, community_id=vote.community_id, body=tally, created_at=now)
    db.session.add(record)
    if result.definition.witness_quorum:
        db.session.commit()  # closed; published when the witnesses have co-signed the close head
        return record
    return _publish(vote, record, result.definition, actor, now, [])


def _publish(vote, record, definition, actor, now, cosigners):
    """closed → tallied: the result notice (naming the witnesses who co-signed the close head), the
    result messages, the notice published in the committee's name."""
    record.notice_text = announcements.result_notice_text(vote, definition, record.body, cosigners)
    record.published_at = now
    transition(vote, "tallied", actor, now)
    announcements.queue_results(vote, definition, record.body)
    db.session.commit()
    announcements.publish_notice(vote, record, actor)
    return record


def publish_if_witnessed(vote_pk, now=None):
    """Publish a closed vote's tally once its close head has the quorum of co-signatures (called after
    each co-signature is committed); True if this call published it. Two witnesses completing the
    quorum at once: the state guard lets one publish."""
    vote = db.session.get(Vote, vote_pk)
    record = db.session.get(Tally, vote_pk)
    if vote is None or vote.state != "closed" or record is None or record.published_at is not None:
        return False
    definition = common.opened(vote).definition
    cosigners = final_cosigners(vote, log_size(vote))
    if len(cosigners) < definition.witness_quorum:
        return False
    try:
        _publish(vote, record, definition, None, now or common.now(), [w["name"] for w in cosigners])
    except Conflict:
        db.session.rollback()  # published meanwhile by the other request
        return False
    return True

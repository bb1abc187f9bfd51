"""What a vote tells people: the result notice (Chinese), its publication as a community notice, the
subscribe messages of the result, and the "closing in 24 hours" reminders (docs/votes.md
"Closing, tally, notice, bundle", "Notifications")."""
import logging
from datetime import timedelta

from sqlalchemy import select

from backend.errors import DomainError
from backend.extensions import db
from backend.models import Binding, User
from backend.models.vote import Vote, VoteEntry, VoteRight, VoteRightOwner
from backend.services import notices, outbox
from backend.services.votes import common
from voting.outcome import area_text, describe_outcome

log = logging.getLogger("linli.votes")

REMIND_BEFORE = timedelta(hours=24)


def roll_users(vote, right_ids=None):
    """Users verified as owners of rights in the roll (optionally only some rights)."""
    query = (select(Binding.user_id).join(VoteRightOwner, VoteRightOwner.owner_id == Binding.owner_id)
             .where(VoteRightOwner.vote_id == vote.id, Binding.status == "verified",
                    Binding.community_id == vote.community_id).distinct())
    if right_ids is not None:
        query = query.where(VoteRightOwner.right_id.in_(list(right_ids)))
    return sorted(db.session.execute(query).scalars())


def outcome_words(definition, tally):
    """The outcome in a few characters (a subscribe message value is at most 20)."""
    if definition.is_election:
        return f"当选 {len(tally['elected'])} 人" + ("，末位同票须决选" if tally["tie"] else "")
    return "通过" if tally["passed"] else "未通过"


def result_notice_text(vote, definition, tally, witnesses=()):
    """The result announcement in Chinese: turnout, each option or candidate by area and heads, the
    outcome, the tree head's root so that anyone can check the bundle, and the witnesses who
    co-signed the final head (names, in definition order)."""
    kind = "选举" if definition.is_election else "表决"
    lines = [
        f"【{kind}结果公告】{vote.title}",
        f"表决编号：{vote.public_id}",
        f"投票时间：{common.shanghai(vote.opens_at)} 至 {common.shanghai(vote.closes_at)}（北京时间）",
        f"表决范围：{'、'.join(vote.buildings) + ' 号楼' if vote.buildings else '全体业主'}；"
        f"总面积 {area_text(tally['totals']['area'])}，总人数 {tally['totals']['heads']}。",
    ]
    zh, _ = describe_outcome(definition, tally)
    lines.extend(zh.splitlines())
    if tally["paper"]:
        lines.append(f"其中 {tally['paper']} 个表决权以纸质选票计入。")
    if definition.witness_quorum:
        lines.append(f"见证人：{'、'.join(witnesses)} 联署了最终树头（须 {definition.witness_quorum} 名见证人联署）。")
    lines += [
        f"投票日志共 {tally['size']} 条，最终树根（root）：{tally['root']}。",
        "业主可在小程序下载审计包，用 python -m voting.verify 离线核验每一张选票与计票结果。",
    ]
    return "\n".join(lines)


def queue_results(vote, definition, tally):
    """A `vote_result` subscribe message to every owner in the roll (in the closing transaction)."""
    outcome = outcome_words(definition, tally)
    for user_id in roll_users(vote):
        outbox.enqueue(user_id, vote.community_id, "vote_result", {"title": vote.title, "result": outcome},
                       page=common.page_of(vote))


def publish_notice(vote, record, actor):
    """Publish the result as a community notice in the committee's name: the closing member, or the
    member who drafted the vote when cron closed it. The tally is committed first; if publishing is
    refused (the drafter left the committee, say), the text stays with the tally and the API returns
    it there."""
    publisher = actor or db.session.get(User, vote.created_by)
    try:
        notice = notices.publish(publisher, vote.community_id, f"表决结果公告：{vote.title}"[:120],
                                 record.notice_text, "vote", publisher_role="committee")
    except DomainError as exc:
        db.session.rollback()
        log.warning("vote %s: result notice not published: %s", vote.id, exc.code)
        return
    record.notice_id = notice.id
    db.session.commit()


def send_reminders(now=None):
    """Queue 'closing in 24 hours' for owners of rights that have not voted yet (each vote once)."""
    now = now or common.now()
    due = db.session.execute(select(Vote).where(
        Vote.state == "open", Vote.reminded_at.is_(None), Vote.closes_at > now,
        Vote.closes_at <= now + REMIND_BEFORE).order_by(Vote.id)).scalars().all()
    queued = 0
    for vote in due:
        voted = set(db.session.execute(select(VoteEntry.right_id).where(
            VoteEntry.vote_id == vote.id, VoteEntry.kind.in_(("ballot", "paper_ballot")))).scalars())
        waiting = [r for r in db.session.execute(select(VoteRight.right_id).where(
            VoteRight.vote_id == vote.id)).scalars() if r not in voted]
        for user_id in roll_users(vote, waiting) if waiting else []:
            outbox.enqueue(user_id, vote.community_id, "vote_closing",
                           {"title": vote.title, "closes_at": common.shanghai(vote.closes_at)}, page=common.page_of(vote))
            queued += 1
        vote.reminded_at = now
        db.session.commit()
    return {"votes": len(due), "queued": queued}

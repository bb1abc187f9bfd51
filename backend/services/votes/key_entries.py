"""Owners' device keys followed into open logs: a `key_binding` entry when a verified owner
registers a key (or first casts with a key the log does not know for that right yet), a
`key_revocation` when a key is revoked — which also ends the proxy that key signed, if any
(docs/votes.md "Device keys", "Proxies")."""
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Binding
from backend.models.vote import Vote, VoteDelegation, VoteKey, VoteRightOwner
from backend.services.votes.log import Log
from voting.canonical import format_time
from voting.entries import make_key_binding, make_key_revocation


def end_signed_by(vote, right_id, public_key, index):
    """The key_revocation at `index` ends the right's proxy that key signed (docs/protocol.md §7)."""
    db.session.execute(update(VoteDelegation).where(
        VoteDelegation.vote_id == vote.id, VoteDelegation.right_id == right_id, VoteDelegation.signed_by == public_key,
        VoteDelegation.ended_index.is_(None)).values(ended_index=index, ended_by="key_revoked")
        .execution_options(synchronize_session=False))


def bind_key(book, vote, right_id, public_key, user_id, when):
    """Append a key_binding of `public_key` to `right_id` in the locked log `book` and record the
    key's standing; returns the entry's reference."""
    index = book.size
    book.append(make_key_binding(vote.public_id, right_id, public_key, when), when, right_id=right_id,
                user_id=user_id)
    db.session.add(VoteKey(vote_id=vote.id, right_id=right_id, public_key=public_key,
                           community_id=vote.community_id, bound_index=index))
    return {"id": vote.id, "vote_id": vote.public_id, "right_id": right_id, "leaf_index": index}


def bind_key_in_open_votes(user, public_key, now):
    """Append a key_binding to every open vote for each roll right the user is a verified owner of."""
    rows = db.session.execute(
        select(VoteRightOwner.vote_id, VoteRightOwner.right_id)
        .join(Vote, Vote.id == VoteRightOwner.vote_id)
        .join(Binding, (Binding.owner_id == VoteRightOwner.owner_id) & (Binding.community_id == Vote.community_id))
        .where(Vote.state == "open", Binding.user_id == user.id, Binding.status == "verified")
        .distinct().order_by(VoteRightOwner.vote_id, VoteRightOwner.right_id)
    ).all()
    return _follow_key(user, public_key, rows, now, bind=True)


def revoke_key_in_open_votes(user, public_key, now):
    """Append a key_revocation to every open vote where the key is bound to a right."""
    rows = db.session.execute(
        select(VoteKey.vote_id, VoteKey.right_id).join(Vote, Vote.id == VoteKey.vote_id)
        .where(Vote.state == "open", VoteKey.public_key == public_key, VoteKey.revoked_index.is_(None))
        .order_by(VoteKey.vote_id, VoteKey.right_id)
    ).all()
    return _follow_key(user, public_key, rows, now, bind=False)


def _follow_key(user, public_key, rows, now, bind):
    by_vote = {}
    for vote_pk, right_id in rows:
        by_vote.setdefault(vote_pk, []).append(right_id)
    done = []
    when = format_time(now)
    # Logs are locked in vote id order, so two requests touching several votes never deadlock.
    for vote_pk in sorted(by_vote):
        vote = db.session.get(Vote, vote_pk)
        book = Log.lock(vote)
        for right_id in by_vote[vote_pk]:
            if bind:
                known = db.session.execute(select(VoteKey.revoked_index).where(
                    VoteKey.vote_id == vote.id, VoteKey.right_id == right_id, VoteKey.public_key == public_key)).first()
                if known is None:
                    done.append(bind_key(book, vote, right_id, public_key, user.id, when))
                continue
            index = book.size
            book.append(make_key_revocation(vote.public_id, right_id, public_key, when), when, right_id=right_id,
                        user_id=user.id)
            db.session.execute(update(VoteKey).where(
                VoteKey.vote_id == vote.id, VoteKey.right_id == right_id, VoteKey.public_key == public_key
            ).values(revoked_index=index).execution_options(synchronize_session=False))
            end_signed_by(vote, right_id, public_key, index)  # a proxy lives no longer than its signing key
            done.append({"id": vote.id, "vote_id": vote.public_id, "right_id": right_id, "leaf_index": index})
        book.write()
    return done

"""Votes: drafts, opening with the frozen roll, casting with receipts, paper ballots, key bindings
that follow owners' device keys, proofs, closing, the tally, the bundle and the result notice.

Everything about the protocol — entry builders, the append step, the Merkle tree, counting, the
tally, the outcome in words — comes from voting/; this package decides who may do what and keeps the
log in the database (docs/votes.md). One module per concern:

- common        — the clock, who may learn about a vote (vote_for), the cached definition, the window
- lifecycle     — drafts, opening, closing, the state guard
- standing      — the one rule: may this signed ballot be appended now?
- casting       — the one cast path (cast_ballots), for every cast on both databases
- paper         — paper ballots
- key_entries   — key bindings and revocations following owners' device keys
- log           — the log in the database: its lock, appends, heads, leaves, the roll
- reading       — views, lists, my rights, proofs, the tally, the bundle
- announcements — the result notice, its publication, result messages and reminders
- witness_registry — [1.1] the community's witnesses, frozen into a vote's definition when it opens
- cosigning     — [1.1] what witnesses read (signed requests) and the co-signatures they post
- delegations   — [1.1] proxies: owner-signed delegations and revocations, who holds which proxy
"""
from backend.services.votes.announcements import result_notice_text, send_reminders
from backend.services.votes.cosigning import accept_cosignature, head_for_witness, votes_to_witness, witness_key
from backend.services.votes.delegations import owner_view as delegations_of
from backend.services.votes.delegations import delegate, proxies
from backend.services.votes.delegations import revoke as revoke_delegation
from backend.services.votes.witness_registry import list_witnesses, register_witness, retire_witness
from backend.services.votes.casting import cast_ballot, cast_ballots
from backend.services.votes.common import KINDS, MATTERS
from backend.services.votes.key_entries import bind_key_in_open_votes, revoke_key_in_open_votes
from backend.services.votes.lifecycle import close_due_votes, close_vote, create_vote, open_vote, update_vote
from backend.services.votes.paper import enter_paper_ballot, staff_pseudonym
from backend.services.votes.reading import (bundle_bytes, consistency, get_vote, inclusion, list_votes, my_rights,
                                            my_votes, roll_rights, tally_of, tree_head, turnout,
                                            view)

__all__ = [
    "accept_cosignature", "delegate", "delegations_of", "head_for_witness", "list_witnesses", "proxies",
    "register_witness", "retire_witness", "revoke_delegation", "votes_to_witness", "witness_key",
    "KINDS", "MATTERS", "bind_key_in_open_votes", "bundle_bytes", "cast_ballot", "cast_ballots", "close_due_votes",
    "close_vote", "consistency", "create_vote", "enter_paper_ballot", "get_vote", "inclusion", "list_votes",
    "my_rights", "my_votes", "roll_rights", "turnout", "open_vote", "result_notice_text", "revoke_key_in_open_votes", "send_reminders",
    "staff_pseudonym", "tally_of", "tree_head", "update_vote", "view",
]

"""linli-vote/1.1: the vote protocol core, the offline verifier and the witness (standard library + cryptography only).

A vote's definition names the version it follows (docs/protocol.md §0); votes opened from now on
follow PROTOCOL, and every linli-vote/1 vote still verifies."""

PROTOCOL_1 = "linli-vote/1"
PROTOCOL_1_1 = "linli-vote/1.1"
PROTOCOL = PROTOCOL_1_1  # what a vote opened now follows
PROTOCOLS = (PROTOCOL_1, PROTOCOL_1_1)

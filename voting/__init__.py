"""linli-vote/1: the vote protocol core and offline verifier (standard library + cryptography only)."""

PROTOCOL = "linli-vote/1"

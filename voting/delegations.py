"""Proxies (委托投票, docs/protocol.md §5.7, §5.8) [1.1]: the owner-signed delegation naming a delegate's
key, its revocation, and their log entries. Pure builders and shape checks; the rules that depend on
the log (the signing key bound to the right, nonces, the active delegate) are applied by
voting.counting.Replay."""

from __future__ import annotations

import os
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .canonical import b64u_encode, canonical
from .forms import exact_keys, is_id, is_nonce, is_public_key, is_signature, require, time_field, time_str

DELEGATION = "delegation"
REVOCATION = "delegation_revocation"
KINDS = (DELEGATION, REVOCATION)
SIGNED_KEYS = frozenset({"type", "vote_id", "right_id", "delegate_key", "nonce", "signed_at"})
ENTRY_KEYS = frozenset({"type", "received_at", "envelope"})


def envelope_keys(kind: str) -> frozenset:
    """The envelope's fields: the signed object (named after the entry's type), public_key, signature."""
    return frozenset({kind, "public_key", "signature"})


def make_delegation(vote_id: str, right_id: str, delegate_key: str, signed_at: str | datetime,
                    nonce: str | None = None, kind: str = DELEGATION) -> dict:  # fmt: skip
    """D (or R, with kind=delegation_revocation): what the owner's device signs."""
    require(kind in KINDS, f"kind must be one of {KINDS}")
    return {"type": kind, "vote_id": vote_id, "right_id": right_id, "delegate_key": delegate_key,
            "nonce": nonce or b64u_encode(os.urandom(16)), "signed_at": time_str(signed_at, "signed_at")}  # fmt: skip


def sign_delegation(private_key: Ed25519PrivateKey, signed: dict) -> dict:
    """The envelope {kind: signed, "public_key", "signature"} the owner's device sends."""
    return {
        signed["type"]: signed,
        "public_key": b64u_encode(private_key.public_key().public_bytes_raw()),
        "signature": b64u_encode(private_key.sign(canonical(signed))),
    }


def make_delegation_entry(envelope: dict, received_at: str | datetime) -> dict:
    """The log entry of a delegation (or revocation) envelope accepted at received_at."""
    kind = DELEGATION if DELEGATION in envelope else REVOCATION
    return {"type": kind, "received_at": time_str(received_at, "received_at"), "envelope": envelope}


def validate_signed(signed, kind: str, vote_id: str) -> None:
    """Raise ProtocolError unless `signed` is a well-formed D (or R) of this vote."""
    exact_keys(signed, SIGNED_KEYS, kind)
    require(signed["type"] == kind, f"{kind}.type must be {kind!r}")
    require(signed["vote_id"] == vote_id, f"{kind}.vote_id does not match the vote")
    require(is_id(signed["right_id"]), f"{kind}.right_id is not an identifier")
    require(is_public_key(signed["delegate_key"]), f"{kind}.delegate_key is not a b64u Ed25519 public key")
    require(is_nonce(signed["nonce"]), f"{kind}.nonce must be 16 bytes of b64u")
    time_field(signed, "signed_at", kind)


def validate_envelope_form(envelope, kind: str, vote_id: str) -> None:
    """Raise ProtocolError unless envelope is a well-formed delegation (or revocation) envelope (signature not checked)."""
    exact_keys(envelope, envelope_keys(kind), f"{kind} envelope")
    require(is_public_key(envelope["public_key"]), "envelope.public_key is not a b64u Ed25519 public key")
    require(is_signature(envelope["signature"]), "envelope.signature is not a b64u Ed25519 signature")
    validate_signed(envelope[kind], kind, vote_id)


def validate_delegation_entry(entry: dict, vote_id: str) -> None:
    """Raise ProtocolError unless entry is a well-formed delegation or delegation_revocation entry."""
    kind = entry.get("type")
    exact_keys(entry, ENTRY_KEYS, f"{kind} entry")
    time_field(entry, "received_at", f"{kind} entry")
    validate_envelope_form(entry["envelope"], kind, vote_id)


def signed_part(entry: dict) -> dict:
    """D (or R) of a validated delegation entry."""
    return entry["envelope"][entry["type"]]

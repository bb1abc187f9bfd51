"""Ed25519 keys, signed objects and the server's key file (docs/protocol.md §2)."""

import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

from voting.canonical import b64u_decode, canonical
from voting.keys import (
    generate_key,
    load_or_create_signing_key,
    load_public_key,
    load_signing_key,
    public_key_b64u,
    save_signing_key,
    sign_object,
    verify_bytes,
    verify_object,
)


def test_sign_and_verify_object():
    key = generate_key()
    signed = sign_object(key, {"type": "tree_head", "size": 3, "root": "ab" * 32})
    assert set(signed) == {"type", "size", "root", "signature"}
    assert verify_object(public_key_b64u(key), signed)
    # The signature is over the canonical JSON of the object without "signature".
    raw = b64u_decode(signed["signature"])
    key.public_key().verify(raw, canonical({"type": "tree_head", "size": 3, "root": "ab" * 32}))


def test_resigning_replaces_the_old_signature():
    key = generate_key()
    once = sign_object(key, {"a": 1})
    twice = sign_object(key, once)
    assert twice == once  # Ed25519 is deterministic and the old signature is not signed over


def test_verify_object_rejects_changes_wrong_keys_and_garbage():
    key, other = generate_key(), generate_key()
    signed = sign_object(key, {"a": 1, "b": "中文"})
    pub = public_key_b64u(key)
    assert not verify_object(pub, {**signed, "a": 2})
    assert not verify_object(pub, {**signed, "c": None})
    assert not verify_object(public_key_b64u(other), signed)
    assert not verify_object(pub, {"a": 1, "b": "中文"})
    assert not verify_object(pub, {**signed, "signature": signed["signature"][:-2]})
    assert not verify_object(pub, {**signed, "signature": 5})
    assert not verify_object(pub, {**signed, "a": 1.5})  # no canonical form
    assert not verify_object("not-a-key", signed)
    assert not verify_object(pub, "not an object")


def test_verify_bytes_never_raises_on_bad_input():
    key = generate_key()
    pub = public_key_b64u(key)
    for public, signature in [(pub, "!!"), (pub, "AA"), ("AA", "AA"), (pub + "=", "AA"), (None, None)]:
        assert verify_bytes(public, signature, b"message") is False


def test_load_public_key_wants_32_bytes():
    with pytest.raises(ValueError):
        load_public_key("AAAA")


def test_load_or_create_signing_key(tmp_path):
    path = tmp_path / "keys" / "server.pem"
    first = load_or_create_signing_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = load_or_create_signing_key(path)
    assert public_key_b64u(first) == public_key_b64u(second)
    assert public_key_b64u(load_signing_key(path)) == public_key_b64u(first)
    assert [p.name for p in path.parent.iterdir()] == ["server.pem"]  # no temporary file left behind


def test_an_existing_key_file_is_never_overwritten(tmp_path):
    path = tmp_path / "server.pem"
    original = load_or_create_signing_key(path)
    with pytest.raises(FileExistsError):
        save_signing_key(generate_key(), path)  # what a worker losing the creation race sees
    assert public_key_b64u(load_or_create_signing_key(path)) == public_key_b64u(original)


def test_a_non_ed25519_key_file_is_refused(tmp_path):
    path = tmp_path / "ec.pem"
    ec = generate_private_key(SECP256R1())
    path.write_bytes(
        ec.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        load_signing_key(path)

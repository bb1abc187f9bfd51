"""Ed25519 keys and signed objects of linli-vote/1 (docs/protocol.md §2)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import b64u_decode, b64u_encode, canonical

PUBLIC_KEY_B64U_LEN = 43  # 32 bytes
SIGNATURE_B64U_LEN = 86  # 64 bytes


def generate_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_key_b64u(private_key: Ed25519PrivateKey) -> str:
    """The unpadded base64url of the raw 32-byte public key of private_key."""
    return b64u_encode(private_key.public_key().public_bytes_raw())


def load_public_key(public_key_b64u: str) -> Ed25519PublicKey:
    """Decode a b64u public key; ValueError if it is not 32 strict-base64url bytes."""
    raw = b64u_decode(public_key_b64u)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign_bytes(private_key: Ed25519PrivateKey, message: bytes) -> str:
    """The b64u Ed25519 signature of message."""
    return b64u_encode(private_key.sign(message))


def verify_bytes(public_key_b64u: str, signature_b64u: str, message: bytes) -> bool:
    """True iff signature is a valid Ed25519 signature of message by the key; never raises on bad input."""
    try:
        key = load_public_key(public_key_b64u)
        signature = b64u_decode(signature_b64u)
    except (ValueError, TypeError):
        return False
    if len(signature) != 64:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def sign_object(private_key: Ed25519PrivateKey, obj: dict) -> dict:
    """obj plus "signature": the signature over canonical(obj without "signature")."""
    unsigned = {k: v for k, v in obj.items() if k != "signature"}
    return {**unsigned, "signature": sign_bytes(private_key, canonical(unsigned))}


def verify_object(public_key_b64u: str, signed_obj: dict) -> bool:
    """True iff signed_obj["signature"] signs the canonical JSON of the rest with that key."""
    if not isinstance(signed_obj, dict) or not isinstance(signed_obj.get("signature"), str):
        return False
    unsigned = {k: v for k, v in signed_obj.items() if k != "signature"}
    try:
        message = canonical(unsigned)
    except ValueError:
        return False
    return verify_bytes(public_key_b64u, signed_obj["signature"], message)


# --- the server's key file ------------------------------------------------------------------------


def save_signing_key(private_key: Ed25519PrivateKey, path: str | os.PathLike) -> None:
    """Write private_key as unencrypted PKCS#8 PEM, readable by its owner only, atomically."""
    path = Path(path)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    # link() refuses to overwrite: if another worker created the key first, keep theirs.
    try:
        os.link(tmp, path)
    finally:
        os.unlink(tmp)


def load_signing_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from a PEM (PKCS#8) file."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_or_create_signing_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The server's signing key at path, created (mode 0600) on first start; safe with many workers."""
    try:
        return load_signing_key(path)
    except FileNotFoundError:
        pass
    try:
        save_signing_key(generate_key(), path)
    except FileExistsError:
        pass  # another worker won the race; everyone uses the file on disk
    return load_signing_key(path)

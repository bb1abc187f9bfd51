"""The server's Ed25519 signing key (kept outside the database, in SIGNING_KEY_FILE) and signing."""
from flask import current_app

from voting.keys import load_or_create_signing_key, public_key_b64u, sign_object

_keys = {}


def server_key():
    """The server's private key, created on first use and cached per key file."""
    path = current_app.config["SIGNING_KEY_FILE"]
    if path not in _keys:
        _keys[path] = load_or_create_signing_key(path)
    return _keys[path]


def server_public_key():
    """The server's public key, unpadded base64url."""
    return public_key_b64u(server_key())


def sign(obj):
    """obj plus "signature": the server's signature over the canonical JSON of obj (docs/protocol.md "Encoding")."""
    return sign_object(server_key(), obj)

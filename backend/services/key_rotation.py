"""Rotating PII_KEY: every encrypted personal datum and every keyed hash moves to the new key in one
transaction (docs/architecture.md "Rotating the keys")."""
from sqlalchemy import select

from backend.extensions import db
from backend.models import Owner, PhoneVerification, User
from backend.security import decrypt_pii, encrypt_pii, pii_hash
from backend.services.registry import normalise_name


def rotate_pii_key(old_key, new_key):
    """Re-encrypt phones, ID numbers and WeChat session keys from `old_key` to `new_key` and recompute
    the keyed hashes they are matched by. Returns counts. A datum that does not decrypt under
    `old_key` stops the whole rotation (nothing is written): the old key given is wrong."""
    counts = {"users": 0, "owners": 0, "phone_verifications": 0}

    def move(blob):
        return encrypt_pii(decrypt_pii(blob, old_key), new_key)

    for user in db.session.execute(select(User)).scalars():
        phone = decrypt_pii(user.phone_enc, old_key)
        if user.phone_enc is None and user.session_key_enc is None:
            continue
        old_hash = user.phone_hash
        user.phone_enc, user.phone_hash = encrypt_pii(phone, new_key), pii_hash(phone, new_key)
        user.session_key_enc = move(user.session_key_enc)
        if phone is not None:
            # history rows of the current phone follow it; those of earlier phones, whose numbers are
            # not kept, keep their old hash (an audit trail, never matched against)
            for row in db.session.execute(select(PhoneVerification).filter_by(user_id=user.id, phone_hash=old_hash)).scalars():
                row.phone_hash = user.phone_hash
                counts["phone_verifications"] += 1
        counts["users"] += 1
    for owner in db.session.execute(select(Owner)).scalars():
        phone, id_number = decrypt_pii(owner.phone_enc, old_key), decrypt_pii(owner.id_number_enc, old_key)
        owner.phone_enc, owner.phone_hash = encrypt_pii(phone, new_key), pii_hash(phone, new_key)
        owner.id_number_enc, owner.id_number_hash = encrypt_pii(id_number, new_key), pii_hash(id_number, new_key)
        # the identity key the registry import matches owners by (registry._validate)
        if owner.identity_key.startswith("id:"):
            owner.identity_key = "id:" + pii_hash(id_number, new_key)
        elif owner.identity_key.startswith("np:"):
            owner.identity_key = "np:" + pii_hash(normalise_name(owner.name) + "|" + (phone or ""), new_key)
        counts["owners"] += 1
    db.session.commit()
    return counts

"""Owners' device keys: register (verified owners), list, revoke."""
import marshmallow as ma

from backend.security import current_user
from backend.services import keys as service
from miniprogram_api.common import BEARER, PageArgs, Schema, UTCDateTime, blueprint, page_schema

blp = blueprint("keys", "Owners' device keys (Ed25519)")


class KeyArgs(Schema):
    public_key = ma.fields.String(required=True, metadata={
        "description": "the raw 32-byte Ed25519 public key, unpadded base64url; the private key stays on the phone"})


class DeviceKeySchema(ma.Schema):
    public_key = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)
    revoked_at = UTCDateTime(allow_none=True)


class LogEntryRefSchema(ma.Schema):
    """A key_binding or key_revocation entry written into an open vote's log."""

    id = ma.fields.Integer(required=True, metadata={"description": "the vote's id (as in /api/v1/votes/<id>)"})
    vote_id = ma.fields.String(required=True, metadata={"description": "the vote's protocol vote_id"})
    right_id = ma.fields.String(required=True)
    leaf_index = ma.fields.Integer(required=True)


class KeyResultSchema(ma.Schema):
    key = ma.fields.Nested(DeviceKeySchema, required=True)
    entries = ma.fields.List(ma.fields.Nested(LogEntryRefSchema), required=True,
                             metadata={"description": "key_binding / key_revocation entries written in open votes"})


@blp.route("/me/keys", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(KeyArgs)
@blp.response(201, KeyResultSchema)
def register_key(args):
    """Register a device key (verified owners); bound in every open vote of the caller's rights."""
    return service.register_key(current_user(), args["public_key"])


@blp.route("/me/keys", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(DeviceKeySchema, "DeviceKeyPage"))
def list_keys(args):
    """The caller's device keys."""
    return service.list_keys(current_user(), **args)


@blp.route("/me/keys/<string:public_key>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(200, KeyResultSchema)
def revoke_key(public_key):
    """Revoke a device key (lost phone); revoked in every open vote it is bound in."""
    return service.revoke_key(current_user(), public_key)

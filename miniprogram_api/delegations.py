"""Proxies (委托投票, docs/votes.md "Proxies", docs/protocol.md §5.7): the owner posts a delegation
signed on their phone naming the delegate's key, or its revocation; the owner sees who holds the
proxy and whether it was used; the delegate sees the rights they hold a proxy for and casts with
`POST /votes/<vid>/ballots` like an owner."""
import marshmallow as ma

from backend.security import current_user
from backend.services import keys as key_service
from backend.services import votes as service
from miniprogram_api.common import BEARER, Schema, UTCDateTime, blueprint
from miniprogram_api.votes import B64U_32, B64U_64, ReceiptSchema

blp = blueprint("delegations", "Proxies signed by the owner (linli-vote/1.1)")

def _signed(kind):
    return ma.fields.Dict(required=True, metadata={
        "allOf": [{"$ref": "#/components/schemas/Delegation"}],
        "description": f"the {kind}, signed by a key bound to the owner's right"})


class DelegationArgs(Schema):
    delegation = _signed("delegation")
    public_key = ma.fields.String(required=True, metadata={"pattern": B64U_32, "description": "the owner's key"})
    signature = ma.fields.String(required=True, metadata={"pattern": B64U_64,
                                                          "description": "over the canonical JSON of `delegation`"})


class RevocationArgs(Schema):
    delegation_revocation = _signed("revocation")
    public_key = ma.fields.String(required=True, metadata={"pattern": B64U_32, "description": "the owner's key"})
    signature = ma.fields.String(required=True, metadata={
        "pattern": B64U_64, "description": "over the canonical JSON of `delegation_revocation`"})


class DelegateSchema(ma.Schema):
    public_key = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "the delegate's phone, masked"})
    leaf_index = ma.fields.Integer(required=True, metadata={"description": "the delegation's entry"})
    used = ma.fields.Boolean(required=True, metadata={"description": "the delegate has cast a ballot (never what)"})


class RightProxySchema(ma.Schema):
    right_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    delegate = ma.fields.Nested(DelegateSchema, allow_none=True, required=True)


class OwnerDelegationsSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    vote_id = ma.fields.String(required=True)
    rights = ma.fields.List(ma.fields.Nested(RightProxySchema), required=True)


class ProxySchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the vote's id"})
    vote_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    closes_at = UTCDateTime(required=True)
    right_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m²"})
    heads = ma.fields.Integer(required=True)
    delegate_key = ma.fields.String(required=True, metadata={"description": "cast with this key"})
    leaf_index = ma.fields.Integer(required=True)
    used = ma.fields.Boolean(required=True)


class ProxyKeyArgs(Schema):
    public_key = ma.fields.String(required=True, metadata={
        "description": "the raw 32-byte Ed25519 public key, unpadded base64url; the private key stays on the phone"})


class ProxyKeySchema(ma.Schema):
    public_key = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)
    revoked_at = UTCDateTime(allow_none=True)


@blp.route("/me/proxy-keys", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ProxyKeyArgs)
@blp.response(201, ProxyKeySchema)
def register_proxy_key(args):
    """Register a key of one's own to be named as a proxy (a verified phone; bound to no right)."""
    return key_service.register_proxy_key(current_user(), args["public_key"])


@blp.route("/votes/<vote:vid>/delegations", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(DelegationArgs)
@blp.response(201, ReceiptSchema)
def delegate(args, vid):
    """Name a proxy for one's right with a delegation signed on one's phone; the receipt of its entry."""
    return service.delegate(current_user(), vid, args)


@blp.route("/votes/<vote:vid>/delegation-revocations", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(RevocationArgs)
@blp.response(201, ReceiptSchema)
def revoke_delegation(args, vid):
    """Take a proxy back with a revocation signed on one's phone; the receipt of its entry."""
    return service.revoke_delegation(current_user(), vid, args)


@blp.route("/votes/<vote:vid>/delegations", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, OwnerDelegationsSchema)
def delegations(vid):
    """The caller's rights in the vote, each with who holds its proxy and whether it was used."""
    return service.delegations_of(current_user(), vid)


@blp.route("/me/proxies", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, ProxySchema(many=True))
def my_proxies():
    """Votes I hold a proxy for: the rights, in open votes, whose owners named my key."""
    return service.proxies(current_user())

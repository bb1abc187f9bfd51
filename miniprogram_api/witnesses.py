"""Witnesses (docs/votes.md "Witnesses", docs/protocol.md §15): the community's registry (bearer token:
the platform admin, the committee, any role to read), and what the witness program itself calls —
signed reads (headers X-Linli-Witness-Key/-Time/-Signature, no WeChat account) and co-signatures,
which authenticate themselves."""
import marshmallow as ma
from flask import request

from backend.models.vote import WITNESS_KINDS
from backend.security import current_user
from backend.services import votes as service
from miniprogram_api.common import BEARER, NonBlank, Schema, UTCDateTime, blueprint
from miniprogram_api.votes import MAX_ID, CosignatureSchema, TreeHeadSchema
from voting.witnesses import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME

blp = blueprint("witnesses", "Witnesses co-signing tree heads (linli-vote/1.1)")



class SignedHeaders(Schema):
    """The headers of a witness's signed read (docs/protocol.md §15.3); checked by the service, which
    answers a missing or wrong one with 401 `witness_signature_required` / `witness_signature_invalid`."""

    class Meta:
        unknown = ma.EXCLUDE  # every other header of the request

    key = ma.fields.String(data_key=HEADER_KEY, load_default=None,
                           metadata={"description": "the witness's public key (b64u)"})
    time = ma.fields.String(data_key=HEADER_TIME, load_default=None,
                            metadata={"description": "UTC time of the request, YYYY-MM-DDTHH:MM:SSZ (±5 minutes)"})
    signature = ma.fields.String(data_key=HEADER_SIGNATURE, load_default=None, metadata={
        "description": "Ed25519 signature of {type: witness_request, method, target, timestamp}"})


class WitnessArgs(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(WITNESS_KINDS), metadata={
        "description": "street_office and residents_committee: the platform admin; committee_member: the committee"})
    name = NonBlank(max=120)
    public_key = ma.fields.String(required=True, metadata={
        "description": "the witness's Ed25519 public key, unpadded base64url (python -m voting.witness --init)"})


class WitnessSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    witness_id = ma.fields.String(required=True, metadata={"description": "its id in the definitions of votes"})
    community_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(WITNESS_KINDS)})
    name = ma.fields.String(required=True)
    public_key = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)
    retired_at = UTCDateTime(allow_none=True)


class WitnessListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WitnessSchema), required=True)
    default_quorum = ma.fields.Integer(required=True, metadata={"description": "a vote's quorum when not set"})


class WitnessVotesArgs(Schema):
    community = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))


class WitnessVoteSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    vote_id = ma.fields.String(required=True)
    community_id = ma.fields.Integer(required=True)
    state = ma.fields.String(required=True, metadata={"enum": ["open", "closed", "tallied"]})
    size = ma.fields.Integer(required=True)


class WitnessVotesSchema(ma.Schema):
    votes = ma.fields.List(ma.fields.Nested(WitnessVoteSchema), required=True)


class WitnessHeadArgs(Schema):
    first = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID), metadata={
        "description": "the size this witness last co-signed: a consistency proof from it is included"})


class WitnessHeadSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    vote_id = ma.fields.String(required=True)
    definition = ma.fields.Dict(required=True, metadata={"description": "entry 0"})
    definition_proof = ma.fields.List(ma.fields.String(), required=True,
                                      metadata={"description": "inclusion proof of entry 0 in tree_head"})
    tree_head = ma.fields.Nested(TreeHeadSchema, required=True)
    consistency_proof = ma.fields.List(ma.fields.String(), allow_none=True, metadata={
        "description": "from `first` to tree_head.size; null without `first` or when it is beyond the head"})


class CosignatureArgs(Schema):
    """A co-signature (docs/protocol.md §6.4), posted as signed."""

    type = ma.fields.String(required=True, metadata={"enum": ["cosignature"]})
    vote_id = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True, strict=True)
    root = ma.fields.String(required=True)
    witness = ma.fields.String(required=True)
    timestamp = ma.fields.String(required=True)
    signature = ma.fields.String(required=True)


class CosignatureResultSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    vote_id = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    witness = ma.fields.String(required=True)
    cosigners = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "witnesses of this head"})
    witness_quorum = ma.fields.Integer(required=True)
    cosigned = ma.fields.Boolean(required=True)
    published = ma.fields.Boolean(required=True, metadata={"description": "this co-signature published the tally"})


def _signer(headers):
    target = request.path + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
    return service.witness_key(headers["key"], headers["signature"], headers["time"], request.method, target)


@blp.route("/communities/<int:cid>/witnesses", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(WitnessArgs)
@blp.response(201, WitnessSchema)
def register_witness(args, cid):
    """Register a witness's key (street office, residents' committee: platform admin; members: committee)."""
    return service.register_witness(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/witnesses", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, WitnessListSchema)
def list_witnesses(cid):
    """The community's active witnesses and the default quorum (any role)."""
    return service.list_witnesses(current_user(), cid)


@blp.route("/communities/<int:cid>/witnesses/<int:wid>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(200, WitnessSchema)
def retire_witness(cid, wid):
    """Retire a witness (votes already opened keep it)."""
    return service.retire_witness(current_user(), cid, wid)


@blp.route("/witness/votes", methods=["GET"])
@blp.arguments(SignedHeaders, location="headers")
@blp.arguments(WitnessVotesArgs, location="query")
@blp.response(200, WitnessVotesSchema)
def witness_votes(headers, args):
    """The votes the signing witness witnesses that need its co-signature (signed request)."""
    return service.votes_to_witness(_signer(headers), args.get("community"))


@blp.route("/witness/votes/<vote:vid>/head", methods=["GET"])
@blp.arguments(SignedHeaders, location="headers")
@blp.arguments(WitnessHeadArgs, location="query")
@blp.response(200, WitnessHeadSchema)
def witness_head(headers, args, vid):
    """The newest signed head, entry 0 and the proofs a witness checks before co-signing (signed request)."""
    return service.head_for_witness(_signer(headers), vid, args.get("first"))


@blp.route("/votes/<vote:vid>/cosignatures", methods=["POST"])
@blp.arguments(CosignatureArgs)
@blp.response(201, CosignatureResultSchema)
def post_cosignature(args, vid):
    """A witness's co-signature of one of the vote's signed tree heads (authenticated by its own signature)."""
    return service.accept_cosignature(vid, args, request.remote_addr)


__all__ = ["CosignatureSchema", "blp"]

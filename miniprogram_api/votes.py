"""Votes: drafts, opening, casting with receipts, paper ballots, proofs, closing, tally and bundle.

Objects of the protocol (definition, ballot envelope, tree head, receipt, co-signature, tally, bundle)
are in `linli-vote/1.1` form (docs/protocol.md); docs/votes.md lists every refusal code. Witnesses and
their co-signatures: miniprogram_api/witnesses.py; proxies: miniprogram_api/delegations.py.
"""
import marshmallow as ma
from flask import Response

from backend.models.vote import VOTE_STATES
from backend.security import bearer_session_id, current_user
from backend.services import votes as service
from miniprogram_api.common import BEARER, NonBlank, PageArgs, Schema, UTCDateTime, blueprint, page_schema

blp = blueprint("votes", "Votes and elections (linli-vote/1)")

MAX_ID = 2**31 - 1


# ---------------------------------------------------------------- arguments


class ScopeArgs(Schema):
    buildings = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=32)), required=True,
                               validate=ma.validate.Length(min=1, max=200))


class CandidateArgs(Schema):
    name = NonBlank(max=60)
    statement = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))


class FundArgs(Schema):
    amount_fen = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=2**53 - 1),
                                   metadata={"description": "fen (分)"})
    purpose = NonBlank(max=1000)
    attachment_ids = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID)),
                                    load_default=list, validate=ma.validate.Length(max=20),
                                    metadata={"description": "uploaded media (photos or PDFs with purpose=document)"})


class VoteArgs(Schema):
    title = NonBlank(max=200)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=10000))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(service.KINDS))
    matter = ma.fields.String(load_default="ordinary", validate=ma.validate.OneOf(service.MATTERS))
    opens_at = UTCDateTime(required=True)
    closes_at = UTCDateTime(required=True)
    scope = ma.fields.Nested(ScopeArgs, allow_none=True, load_default=None,
                             metadata={"description": "null: the whole community"})
    candidates = ma.fields.List(ma.fields.Nested(CandidateArgs), allow_none=True, load_default=None,
                                validate=ma.validate.Length(max=100))
    seats = ma.fields.Integer(allow_none=True, load_default=None, strict=True,
                              validate=ma.validate.Range(min=1, max=100))
    fund = ma.fields.Nested(FundArgs, allow_none=True, load_default=None,
                            metadata={"description": "maintenance-fund spending"})
    witness_quorum = ma.fields.Integer(allow_none=True, load_default=None, strict=True,
                                       validate=ma.validate.Range(min=1, max=20), metadata={
        "description": "how many witnesses must co-sign a tree head; null: all the street office's and residents' "
                       "committee's witnesses, at least 1 when any is registered (docs/votes.md \"Witnesses\")"})


class VoteUpdateArgs(VoteArgs):
    """Any subset of the draft's fields; the rest stay as they are."""

    def __init__(self, *args, **kwargs):
        # partial: absent fields are skipped, defaults included, so they never overwrite the draft
        super().__init__(*args, partial=True, **kwargs)


class VoteListArgs(PageArgs):
    state = ma.fields.String(validate=ma.validate.OneOf(VOTE_STATES))


B64U_32 = "^[A-Za-z0-9_-]{43}$"  # 32 bytes, unpadded base64url
B64U_64 = "^[A-Za-z0-9_-]{86}$"  # 64 bytes
PROTOCOL_TIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{6})?Z$"
# The ballot B of docs/protocol.md, written out for clients generated from the spec (named schemas,
# registered by the Api: miniprogram_api/api.py). The handler takes the ballot as it comes (a dict):
# the service checks it against the protocol and answers with the protocol's own refusal codes
# (malformed_envelope, invalid_choice …) rather than a generic 422.
BALLOT_SCHEMAS = {
    "ResolutionChoice": {
        "type": "object", "additionalProperties": False, "required": ["option"],
        "description": "the choice of a resolution",
        "properties": {"option": {"type": "string", "enum": ["approve", "reject", "abstain"]}}},
    "ElectionChoice": {
        "type": "object", "additionalProperties": False, "required": ["approve"],
        "description": "the choice of an election: distinct ids of the definition's candidates, at most `seats` "
                       "of them (approving nobody is allowed)",
        "properties": {"approve": {"type": "array", "uniqueItems": True, "items": {"type": "string"}}}},
    "Ballot": {
        "type": "object", "additionalProperties": False,
        "required": ["type", "vote_id", "right_id", "choice", "nonce", "signed_at"],
        "description": (
            "The ballot B the owner's device signs (docs/protocol.md, \"Ballots\"). What is signed: the "
            "canonical JSON of B — UTF-8, keys sorted, no white space, integers only, strings in NFC "
            "(docs/protocol.md, \"Encoding\") — with the device's Ed25519 key."),
        "properties": {
            "type": {"type": "string", "enum": ["ballot"]},
            "vote_id": {"type": "string", "description": "the vote's protocol vote_id (the definition's vote_id)"},
            "right_id": {"type": "string", "description": "a right of the roll the caller owns (GET …/my-rights)"},
            "choice": {"oneOf": [{"$ref": "#/components/schemas/ResolutionChoice"},
                                 {"$ref": "#/components/schemas/ElectionChoice"}]},
            "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$",
                      "description": "16 random bytes, unpadded base64url; new for every ballot (a re-vote too)"},
            "signed_at": {"type": "string", "pattern": PROTOCOL_TIME,
                          "description": "UTC, YYYY-MM-DDTHH:MM:SSZ (optionally .ffffff before the Z)"},
        }},
    "Delegation": {
        "type": "object", "additionalProperties": False,
        "required": ["type", "vote_id", "right_id", "delegate_key", "nonce", "signed_at"],
        "description": "D, the proxy authorisation the owner's device signs (docs/protocol.md §5.7); a revocation "
                       "has the same fields with type delegation_revocation (§5.8)",
        "properties": {
            "type": {"type": "string", "enum": ["delegation", "delegation_revocation"]},
            "vote_id": {"type": "string"}, "right_id": {"type": "string"},
            "delegate_key": {"type": "string", "pattern": B64U_32,
                             "description": "the delegate's Ed25519 key, registered by the delegate (POST /me/keys)"},
            "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$",
                      "description": "16 random bytes, unpadded base64url; one namespace with ballots' nonces"},
            "signed_at": {"type": "string", "pattern": PROTOCOL_TIME}}},
}


class EnvelopeArgs(Schema):
    """What `POST /votes/<vid>/ballots` takes: the signed ballot (docs/protocol.md "Ballots")."""

    ballot = ma.fields.Dict(required=True, metadata={
        "allOf": [{"$ref": "#/components/schemas/Ballot"}],
        "description": "B, signed by the device: `signature` is over its canonical JSON (docs/protocol.md)"})
    public_key = ma.fields.String(required=True, metadata={
        "pattern": B64U_32, "description": "the device's Ed25519 public key (registered with POST /me/keys)"})
    signature = ma.fields.String(required=True, metadata={
        "pattern": B64U_64, "description": "Ed25519 signature over the canonical JSON of `ballot`"})


class PaperBallotArgs(Schema):
    right_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    choice = ma.fields.Dict(required=True, metadata={
        "oneOf": [{"$ref": "#/components/schemas/ResolutionChoice"}, {"$ref": "#/components/schemas/ElectionChoice"}],
        "description": '{"option": "approve"|"reject"|"abstain"} or {"approve": [candidate ids]}'})
    evidence_media_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID),
                                          metadata={"description": "photo of the signed sheet"})


class InclusionArgs(Schema):
    leaf_index = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=MAX_ID))
    size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))


class ConsistencyArgs(Schema):
    first = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    second = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))


class TreeHeadArgs(Schema):
    cosigned = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: the newest head co-signed by the definition's quorum of witnesses"})


# ---------------------------------------------------------------- responses


class TreeHeadSchema(ma.Schema):
    type = ma.fields.String(required=True)
    vote_id = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    root = ma.fields.String(required=True)
    timestamp = ma.fields.String(required=True)
    signature = ma.fields.String(required=True)


class CosignatureSchema(ma.Schema):
    """A witness's co-signature of a tree head (docs/protocol.md §6.4), as signed."""

    type = ma.fields.String(required=True, metadata={"enum": ["cosignature"]})
    vote_id = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    root = ma.fields.String(required=True)
    witness = ma.fields.String(required=True, metadata={"description": "a witness id of the definition"})
    timestamp = ma.fields.String(required=True)
    signature = ma.fields.String(required=True)


class TreeHeadViewSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the vote's id (as in /api/v1/votes/<id>)"})
    vote_id = ma.fields.String(required=True)
    tree_head = ma.fields.Nested(TreeHeadSchema, required=True)
    cosignatures = ma.fields.List(ma.fields.Nested(CosignatureSchema), required=True,
                                  metadata={"description": "the co-signatures received for this head"})
    witness_quorum = ma.fields.Integer(required=True)
    cosigned = ma.fields.Boolean(required=True, metadata={"description": "the head has its quorum"})


class WitnessRefSchema(ma.Schema):
    witness_id = ma.fields.String(required=True, metadata={"description": "the witness's id in the definition"})
    name = ma.fields.String(required=True)
    kind = ma.fields.String(allow_none=True, metadata={
        "enum": ["street_office", "residents_committee", "committee_member"]})


class WitnessStatusSchema(ma.Schema):
    quorum = ma.fields.Integer(required=True)
    size = ma.fields.Integer(required=True, metadata={"description": "the close head's size"})
    cosigned = ma.fields.List(ma.fields.Nested(WitnessRefSchema), required=True)
    missing = ma.fields.List(ma.fields.Nested(WitnessRefSchema), required=True)


class ReceiptSchema(ma.Schema):
    vote_id = ma.fields.String(required=True)
    leaf_index = ma.fields.Integer(required=True)
    leaf_hash = ma.fields.String(required=True)
    tree_head = ma.fields.Nested(TreeHeadSchema, required=True)
    inclusion_proof = ma.fields.List(ma.fields.String(), required=True)
    entry = ma.fields.Dict(metadata={
        "description": "the entry as logged: its canonical JSON is the leaf whose hash is leaf_hash "
                       "(absent from receipts handed out before it was added)"})


class RollRightSchema(ma.Schema):
    right_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m²"})
    heads = ma.fields.Integer(required=True)
    keys = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "keys bound so far"})


class VoteWitnessSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"description": "the witness's id in the definition"})
    name = ma.fields.String(required=True)
    public_key = ma.fields.String(required=True)
    kind = ma.fields.String(allow_none=True, metadata={
        "enum": ["street_office", "residents_committee", "committee_member"]})


class CandidateSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    statement = ma.fields.String(required=True)


class ScopeSchema(ma.Schema):
    buildings = ma.fields.List(ma.fields.String(), required=True)


class FundSchema(ma.Schema):
    amount_fen = ma.fields.Integer(required=True)
    purpose = ma.fields.String(required=True)
    attachment_ids = ma.fields.List(ma.fields.Integer(), required=True)


class VoteSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    vote_id = ma.fields.String(allow_none=True, metadata={"description": "the protocol vote_id, once open"})
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    matter = ma.fields.String(required=True)
    opens_at = UTCDateTime(required=True)
    closes_at = UTCDateTime(required=True)
    scope = ma.fields.Nested(ScopeSchema, allow_none=True)
    candidates = ma.fields.List(ma.fields.Nested(CandidateSchema), allow_none=True)
    seats = ma.fields.Integer(allow_none=True)
    fund = ma.fields.Nested(FundSchema, allow_none=True)
    state = ma.fields.String(required=True, metadata={"enum": list(VOTE_STATES)})
    created_at = UTCDateTime(required=True)
    opened_at = UTCDateTime(allow_none=True)
    closed_at = UTCDateTime(allow_none=True)
    definition = ma.fields.Dict(allow_none=True, metadata={"description": "entry 0 of the log, once open"})
    tree_head = ma.fields.Nested(TreeHeadSchema, allow_none=True)
    my_rights = ma.fields.List(ma.fields.Nested(RollRightSchema), required=True)
    witnesses = ma.fields.List(ma.fields.Nested(VoteWitnessSchema), required=True, metadata={
        "description": "the witnesses the definition names (empty while a draft)"})
    witness_quorum = ma.fields.Integer(allow_none=True, metadata={
        "description": "once open: the definition's quorum; a draft: the committee's setting (null: the default)"})


class InclusionSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the vote's id (as in /api/v1/votes/<id>)"})
    vote_id = ma.fields.String(required=True)
    leaf_index = ma.fields.Integer(required=True)
    size = ma.fields.Integer(required=True)
    leaf_hash = ma.fields.String(required=True)
    inclusion_proof = ma.fields.List(ma.fields.String(), required=True)
    tree_head = ma.fields.Nested(TreeHeadSchema, allow_none=True)


class ConsistencySchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the vote's id (as in /api/v1/votes/<id>)"})
    vote_id = ma.fields.String(required=True)
    first = ma.fields.Integer(required=True)
    second = ma.fields.Integer(required=True)
    consistency_proof = ma.fields.List(ma.fields.String(), required=True)
    first_tree_head = ma.fields.Nested(TreeHeadSchema, allow_none=True)
    second_tree_head = ma.fields.Nested(TreeHeadSchema, allow_none=True)


class ResultNoticeSchema(ma.Schema):
    text = ma.fields.String(required=True)
    notice_id = ma.fields.Integer(allow_none=True)


class TallyResultSchema(ma.Schema):
    id = ma.fields.Integer(required=True, metadata={"description": "the vote's id (as in /api/v1/votes/<id>)"})
    vote_id = ma.fields.String(required=True, metadata={"description": "the vote's protocol vote_id"})
    published = ma.fields.Boolean(required=True, metadata={
        "description": "false until the close head has its quorum of co-signatures: tally and notice are null"})
    tally = ma.fields.Dict(required=True, allow_none=True,
                           metadata={"description": "the signed tally (docs/protocol.md §9), once published"})
    close_receipt = ma.fields.Nested(ReceiptSchema, required=True,
                                     metadata={"description": "receipt of the close entry: keep it to pin the final log"})
    notice = ma.fields.Nested(ResultNoticeSchema, required=True, allow_none=True)
    witnesses = ma.fields.Nested(WitnessStatusSchema, required=True, metadata={
        "description": "who co-signed the close head and who has not yet"})


VotePage = page_schema(VoteSchema, "VotePage")


# ---------------------------------------------------------------- routes


@blp.route("/communities/<int:cid>/votes", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(VoteArgs)
@blp.response(201, VoteSchema)
def create_vote(args, cid):
    """Draft a resolution or an election (committee)."""
    return service.create_vote(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/votes", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(VoteListArgs, location="query")
@blp.response(200, VotePage)
def list_votes(args, cid):
    """The community's votes with the caller's rights in each roll (drafts: committee only)."""
    return service.list_votes(current_user(), cid, **args)


@blp.route("/me/votes", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, VotePage)
def my_votes(args):
    """Open votes of all the caller's communities in which the caller holds a right."""
    return service.my_votes(current_user(), **args)


@blp.route("/votes/<vote:vid>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, VoteSchema)
def get_vote(vid):
    """One vote, with `definition` (entry 0) and the latest tree head once open."""
    return service.get_vote(current_user(), vid)


@blp.route("/votes/<vote:vid>", methods=["PATCH"])
@blp.doc(security=BEARER)
@blp.arguments(VoteUpdateArgs)
@blp.response(200, VoteSchema)
def update_vote(args, vid):
    """Edit a draft (committee); only the fields sent change."""
    return service.update_vote(current_user(), vid, **args)


@blp.route("/votes/<vote:vid>/open", methods=["POST"])
@blp.doc(security=BEARER)
@blp.response(200, VoteSchema)
def open_vote(vid):
    """Freeze the roll, write entry 0 and sign the first tree head (committee)."""
    return service.open_vote(current_user(), vid)


@blp.route("/votes/<vote:vid>/my-rights", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, RollRightSchema(many=True))
def my_rights(vid):
    """The caller's rights in the roll, with the keys bound so far."""
    return service.my_rights(current_user(), vid)


@blp.route("/votes/<vote:vid>/ballots", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(EnvelopeArgs)
@blp.response(201, ReceiptSchema)
def cast_ballot(args, vid):
    """Cast a ballot signed on the owner's device; the receipt comes after the entry is committed."""
    return service.cast_ballot(bearer_session_id(), vid, args)


@blp.route("/votes/<vote:vid>/paper-ballots", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(PaperBallotArgs)
@blp.response(201, ReceiptSchema)
def enter_paper_ballot(args, vid):
    """Enter a paper ballot with the photo of the signed sheet (committee)."""
    return service.enter_paper_ballot(current_user(), vid, **args)


@blp.route("/votes/<vote:vid>/tree-head", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(TreeHeadArgs, location="query")
@blp.response(200, TreeHeadViewSchema)
def tree_head(args, vid):
    """The latest signed tree head with its co-signatures (or, cosigned=true, the latest with a quorum)."""
    return service.tree_head(current_user(), vid, **args)


@blp.route("/votes/<vote:vid>/proofs/inclusion", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(InclusionArgs, location="query")
@blp.response(200, InclusionSchema)
def inclusion_proof(args, vid):
    """Audit path of an entry in the tree of `size` entries (default: the latest)."""
    return service.inclusion(current_user(), vid, **args)


@blp.route("/votes/<vote:vid>/proofs/consistency", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(ConsistencyArgs, location="query")
@blp.response(200, ConsistencySchema)
def consistency_proof(args, vid):
    """Proof that the tree of `first` entries is a prefix of the tree of `second` (default: the latest)."""
    return service.consistency(current_user(), vid, **args)


@blp.route("/votes/<vote:vid>/close", methods=["POST"])
@blp.doc(security=BEARER)
@blp.response(200, TallyResultSchema)
def close_vote(vid):
    """Close at or after closes_at (committee): the close entry, the signed tally and the result notice."""
    return service.close_vote(current_user(), vid)


@blp.route("/votes/<vote:vid>/tally", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, TallyResultSchema)
def tally(vid):
    """The signed tally and the result notice of a closed vote."""
    return service.tally_of(current_user(), vid)


@blp.route("/votes/<vote:vid>/bundle", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, description="the bundle (JSON, docs/protocol.md §10), for `python -m voting.verify`")
def bundle(vid):
    """The audit bundle of a closed vote (the community's owners and regulators)."""
    return Response(service.bundle_bytes(current_user(), vid), mimetype="application/json")


class TurnoutSchema(ma.Schema):
    state = ma.fields.String(required=True, metadata={"enum": list(VOTE_STATES)})
    rights = ma.fields.Integer(required=True, metadata={"description": "rights in the roll (a draft: as it would open now)"})
    area = ma.fields.Integer(required=True, metadata={"description": "the roll's area, 0.01 m²"})
    heads = ma.fields.Integer(required=True)
    voted_rights = ma.fields.Integer(required=True, metadata={"description": "rights with a ballot so far"})
    voted_area = ma.fields.Integer(required=True)
    voted_heads = ma.fields.Integer(required=True)
    signed_ballots = ma.fields.Integer(required=True, metadata={"description": "signed ballots logged (re-votes included)"})
    paper_ballots = ma.fields.Integer(required=True)
    quorum_area = ma.fields.Integer(required=True, metadata={"description": "area needed for quorum: ⌈2/3⌉ of the roll's"})
    quorum_heads = ma.fields.Integer(required=True)
    quorum_reached = ma.fields.Boolean(required=True)


class RollRightArgs(PageArgs):
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=64), metadata={"description": "part of the label"})
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=100))


class RollRightStatusSchema(ma.Schema):
    right_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True)
    heads = ma.fields.Integer(required=True)
    voted = ma.fields.Boolean(required=True, metadata={"description": "has a signed or paper ballot"})


@blp.route("/votes/<vote:vid>/turnout", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, TurnoutSchema)
def turnout(vid):
    """Turnout so far against the quorum thresholds, totals only (any role of the community); a draft:
    its roll's totals (committee)."""
    return service.turnout(current_user(), vid)


@blp.route("/votes/<vote:vid>/roll", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(RollRightArgs, location="query")
@blp.response(200, page_schema(RollRightStatusSchema, "RollRightPage"))
def roll(args, vid):
    """The frozen roll of an opened vote with which rights have voted (committee, regulators)."""
    return service.roll_rights(current_user(), vid, **args)

"""Every operation of the API: its stable operationId and the error codes it can answer.

The OpenAPI is built from this table (miniprogram_api/api.py), so clients generated from it get the
same method names from one release to the next whatever the handlers are called.

operationId: lowerCamelCase, a verb then what it acts on — `list…` a collection, `get…` one object,
`create…`/`update…`/`delete…`, else the domain's own verb (`castBallot`, `reviewBinding`,
`withdrawNotice`). Never renamed once published: a client's method names are built from it.

Error codes: beside those listed here, the contract plugin adds to every operation the ones its shape
implies — 401 `unauthorized`/`invalid_token`/`token_revoked`/`token_expired` with a bearer token,
404 `not_found` with an id in the path, 400 `invalid_json` and 413 `payload_too_large` with a body,
422 `validation_error` with a body or query parameters, and 500 `internal_error`. The test client
(tests/conftest.py) checks every error the suite receives against these lists, and
tests/app/test_error_codes.py each code and status against docs/errors.md.
"""
import re
from typing import NamedTuple

AUTH = ("unauthorized", "invalid_token", "token_revoked", "token_expired")

# The community guard (backend.security.require_community): the community, then the caller's role in it.
GUARD = {403: ["forbidden"], 404: ["community_not_found"]}
WECHAT = {400: ["wechat_code_invalid", "wechat_code_used"], 429: ["wechat_rate_limited"],
          503: ["wechat_busy", "wechat_error", "wechat_unavailable"]}
MEDIA_REFS = {422: ["validation_error"]}  # attached media ids that are not the caller's uploads
VERSIONS = {404: ["disclosure_kind_not_found", "version_not_found"]}
VOTE = {404: ["vote_not_found"]}
# A witness's signed read (docs/votes.md "Witnesses"): the request signature, then the key.
WITNESS_READ = {401: ["witness_signature_invalid", "witness_signature_required"], 403: ["witness_unknown"],
                429: ["too_many_requests"]}
SIGNED_ENTRY = {403: ["key_not_bound", "key_revoked", "not_owner", "not_your_right"],
                409: ["delegation_unsupported", "nonce_used", "vote_closed", "vote_not_open", "vote_not_started"],
                422: ["bad_signature", "invalid_delegation", "malformed_delegation", "right_not_in_roll",
                      "vote_id_mismatch"]}
CHALLENGE = {404: ["challenge_not_found"], 409: ["challenge_expired"]}
STREET = {403: ["forbidden"], 404: ["street_not_found"]}
ORGANISATION = {403: ["forbidden"], 404: ["organisation_not_found"]}


class Operation(NamedTuple):
    operation_id: str
    refusals: dict
    responses: dict


def op(operation_id, *groups, responses=None):
    """An operation: its id and the {status: [codes]} groups it can refuse with, merged."""
    refusals = {}
    for group in groups:
        for status, codes in group.items():
            listed = refusals.setdefault(status, [])
            listed += [code for code in codes if code not in listed]
    return Operation(operation_id, refusals, responses or {})


def camel(name):
    """snake_case → lowerCamelCase (the fallback id of an operation missing from the table)."""
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


# A stored file is sent with an ETag and honours Range (flask.send_file(conditional=True)).
_BYTES = {"schema": {"type": "string", "format": "binary"}}
FILE = {"206": {"description": "Partial Content: the byte range asked for with Range",
                "content": {media: _BYTES for media in ("image/jpeg", "image/png", "image/webp", "application/pdf")}},
        "304": {"description": "Not Modified: the ETag sent in If-None-Match still matches"}}

# The bundle is sent as the bytes the verifier reads (a Response, not a schema's dump).
BUNDLE = {"200": {"description": "the bundle (docs/protocol.md), for `python -m voting.verify` (docs/protocol.md)", "content": {
    "application/json": {"schema": {"type": "object", "description": "linli-vote/1 bundle (docs/protocol.md)"}}}}}

# The registry export is a spreadsheet, sent as bytes.
XLSX_FILE = {"200": {"description": "the current registry, phone and ID numbers masked", "content": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _BYTES}}}

OPERATIONS = {
    # identity
    "POST /api/v1/auth/wechat-login": op("wechatLogin", WECHAT),
    "POST /api/v1/auth/logout": op("logout"),
    "GET /api/v1/me": op("getMe"),
    "POST /api/v1/me/phone": op("verifyPhone", WECHAT, {422: ["unsupported_phone"]}),
    # communities, registry, owner verification
    "GET /api/v1/communities": op("listCommunities"),
    "POST /api/v1/communities": op("createCommunity", {403: ["platform_admin_only"]}),
    "POST /api/v1/communities/{cid}/members": op(
        "addMember", GUARD, {403: ["role_not_grantable"], 404: ["user_not_found"], 409: ["already_member"]}),
    "GET /api/v1/communities/{cid}/members": op("listMembers", GUARD),
    "DELETE /api/v1/communities/{cid}/members/{member_id}": op(
        "removeMember", GUARD, {403: ["role_not_removable"], 404: ["member_not_found"]}),
    "POST /api/v1/communities/{cid}/registry": op(
        "importRegistry", GUARD, {422: ["empty_file", "missing_columns", "registry_invalid", "too_many_rows",
                                        "unreadable_file", "unsupported_file_type"]}),
    "GET /api/v1/communities/{cid}/registry/export": op("exportRegistry", GUARD, responses=XLSX_FILE),
    "GET /api/v1/communities/{cid}/parts": op("listParts", GUARD),
    "POST /api/v1/communities/{cid}/bindings": op(
        "requestBinding", {404: ["community_not_found"], 409: ["binding_exists", "too_many_pending"],
                           429: ["too_many_claims"]}, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/bindings": op("listBindings", GUARD),
    "POST /api/v1/bindings/{bid}/review": op(
        "reviewBinding", GUARD, {403: ["own_claim", "own_part"], 404: ["binding_not_found"],
                                 409: ["binding_not_pending", "part_not_in_registry"],
                                 422: ["certificate_required", "validation_error"]}),
    # media
    "POST /api/v1/media": op(
        "uploadMedia", {422: ["document_active_content", "document_damaged", "document_encrypted",
                              "document_too_complex", "image_damaged", "image_too_large", "unsupported_file"],
                        429: ["too_many_uploads"], 503: ["media_busy", "storage_unavailable"]}),
    "GET /api/v1/media/{mid}/info": op("getMediaInfo", GUARD, {403: ["media_forbidden"], 404: ["media_not_found"]}),
    "GET /api/v1/media/{mid}": op("downloadMedia", GUARD, {403: ["media_forbidden"], 404: ["media_not_found"],
                                                           503: ["storage_unavailable"]}, responses=FILE),
    "GET /api/v1/media/{mid}/thumbnail": op(
        "downloadThumbnail", GUARD, {403: ["media_forbidden"], 404: ["media_not_found", "thumbnail_not_found"],
                                     503: ["storage_unavailable"]}, responses=FILE),
    # tickets
    "POST /api/v1/communities/{cid}/tickets": op("fileTicket", GUARD, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/tickets": op("listTickets", GUARD),
    "GET /api/v1/tickets/{tid}": op("getTicket", {404: ["ticket_not_found"]}),
    "POST /api/v1/tickets/{tid}/transitions": op(
        "transitionTicket", {403: ["own_work", "transition_forbidden"], 404: ["ticket_not_found"],
                             409: ["invalid_transition", "reopen_window_closed"]}, MEDIA_REFS),
    "POST /api/v1/tickets/{tid}/assign": op(
        "assignTicket", {403: ["assign_forbidden"], 404: ["ticket_not_found"], 409: ["ticket_closed"]}),
    "POST /api/v1/tickets/{tid}/replies": op(
        "replyToTicket", {403: ["reply_forbidden"], 404: ["ticket_not_found"], 409: ["ticket_closed"]}, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/ticket-stats": op("getTicketStats", GUARD),
    # the five disclosures, fees, revenue statements, emergency spending
    "GET /api/v1/communities/{cid}/disclosures": op("listDisclosures", GUARD),
    "POST /api/v1/communities/{cid}/disclosures": op(
        "publishDisclosure", GUARD, {409: ["version_conflict", "version_unchanged"]}, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/disclosures/{kind}/versions": op(
        "listDisclosureVersions", GUARD, {404: ["disclosure_kind_not_found"]}),
    "GET /api/v1/communities/{cid}/disclosures/{kind}/versions/{number}": op(
        "getDisclosureVersion", GUARD, VERSIONS),
    "GET /api/v1/communities/{cid}/disclosures/{kind}/diff": op("diffDisclosureVersions", GUARD, VERSIONS),
    "GET /api/v1/communities/{cid}/my-fees": op("getMyFees", GUARD),
    "GET /api/v1/communities/{cid}/revenue-statements": op("listRevenueStatements", GUARD),
    "POST /api/v1/communities/{cid}/revenue-statements": op(
        "publishRevenueStatement", GUARD, {409: ["version_conflict", "version_unchanged"]}, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/versions": op(
        "listRevenueStatementVersions", GUARD, {404: ["revenue_statement_not_found"]}),
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/versions/{number}": op(
        "getRevenueStatementVersion", GUARD, {404: ["revenue_statement_not_found", "version_not_found"]}),
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/diff": op(
        "diffRevenueStatementVersions", GUARD, {404: ["revenue_statement_not_found", "version_not_found"]}),
    "POST /api/v1/communities/{cid}/emergency-spending": op("recordEmergencySpending", GUARD, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/emergency-spending": op("listEmergencySpending", GUARD),
    "GET /api/v1/communities/{cid}/emergency-spending/{rid}": op(
        "getEmergencySpending", GUARD, {404: ["emergency_spending_not_found"]}),
    # notices
    "GET /api/v1/communities/{cid}/notices": op("listNotices", GUARD),
    "POST /api/v1/communities/{cid}/notices": op(
        "publishNotice", GUARD, {403: ["publisher_role_forbidden", "publisher_role_required"]}, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/notices/{nid}": op("getNotice", GUARD, {404: ["notice_not_found"]}),
    "PATCH /api/v1/communities/{cid}/notices/{nid}": op(
        "pinNotice", GUARD, {403: ["not_publisher"], 404: ["notice_not_found"], 409: ["notice_withdrawn"]}),
    "POST /api/v1/communities/{cid}/notices/{nid}/read": op("readNotice", GUARD, {404: ["notice_not_found"]}),
    "POST /api/v1/communities/{cid}/notices/{nid}/withdraw": op(
        "withdrawNotice", GUARD, {403: ["not_publisher"], 404: ["notice_not_found"], 409: ["notice_withdrawn"]}),
    # votes and device keys (docs/votes.md lists their refusals)
    "POST /api/v1/communities/{cid}/votes": op("createVote", GUARD, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/votes": op("listVotes", GUARD),
    "GET /api/v1/me/votes": op("listMyVotes"),
    "GET /api/v1/votes/{vid}": op("getVote", GUARD, VOTE),
    "PATCH /api/v1/votes/{vid}": op("updateVote", GUARD, VOTE, {409: ["vote_not_draft"]}, MEDIA_REFS),
    "POST /api/v1/votes/{vid}/open": op(
        "openVote", GUARD, VOTE, {409: ["roll_empty", "vote_not_draft", "vote_state_conflict",
                                        "voting_period_too_short", "witness_quorum_unreachable"]}),
    "GET /api/v1/votes/{vid}/my-rights": op("listMyRights", GUARD, VOTE, {409: ["vote_not_open"]}),
    "POST /api/v1/votes/{vid}/ballots": op(
        "castBallot", GUARD, VOTE,
        {403: ["delegate_key_mismatch", "key_not_bound", "key_revoked", "not_owner", "not_your_right"],
         409: ["nonce_used", "vote_closed", "vote_not_open", "vote_not_started"],
         422: ["bad_signature", "invalid_ballot", "invalid_choice", "malformed_envelope", "right_not_in_roll",
               "vote_id_mismatch"]}),
    "POST /api/v1/votes/{vid}/paper-ballots": op(
        "enterPaperBallot", GUARD, VOTE,
        {403: ["paper_ballot_own_right"], 404: ["media_not_found"], 409: ["signed_ballot_exists", "vote_closed", "vote_not_open", "vote_not_started"],
         422: ["evidence_used", "invalid_ballot", "invalid_choice", "right_not_in_roll"]}),
    "GET /api/v1/votes/{vid}/tree-head": op("getTreeHead", GUARD, VOTE, {409: ["no_cosigned_head", "vote_not_open"]}),
    "GET /api/v1/votes/{vid}/proofs/inclusion": op("getInclusionProof", GUARD, VOTE, {409: ["vote_not_open"]}),
    "GET /api/v1/votes/{vid}/proofs/consistency": op("getConsistencyProof", GUARD, VOTE, {409: ["vote_not_open"]}),
    "POST /api/v1/votes/{vid}/close": op(
        "closeVote", GUARD, VOTE, {409: ["vote_already_closed", "vote_not_closed", "vote_not_due", "vote_not_open",
                                         "vote_state_conflict"], 422: ["validation_error"]}),
    "GET /api/v1/votes/{vid}/turnout": op("getVoteTurnout", GUARD, VOTE),
    "GET /api/v1/votes/{vid}/roll": op("listVoteRoll", GUARD, VOTE, {409: ["vote_not_open"]}),
    "GET /api/v1/votes/{vid}/tally": op("getTally", GUARD, VOTE, {409: ["vote_not_closed"]}),
    "GET /api/v1/votes/{vid}/bundle": op("getBundle", GUARD, VOTE, {403: ["bundle_forbidden"],
                                                                    409: ["tally_awaiting_witnesses", "vote_not_closed"]},
                                          responses=BUNDLE),
    # witnesses (docs/votes.md "Witnesses"): the registry, the witness program's signed reads, co-signatures
    "POST /api/v1/communities/{cid}/witnesses": op(
        "registerWitness", GUARD, {403: ["witness_kind_forbidden"], 409: ["too_many_witnesses", "witness_key_taken"],
                                   422: ["invalid_public_key"]}),
    "GET /api/v1/communities/{cid}/witnesses": op("listWitnesses", GUARD),
    "DELETE /api/v1/communities/{cid}/witnesses/{wid}": op(
        "retireWitness", GUARD, {403: ["witness_kind_forbidden"], 404: ["witness_not_found"], 409: ["witness_retired"]}),
    "GET /api/v1/witness/votes": op("listWitnessedVotes", WITNESS_READ),
    "GET /api/v1/witness/votes/{vid}/head": op("getWitnessHead", WITNESS_READ, VOTE),
    "POST /api/v1/votes/{vid}/cosignatures": op(
        "postCosignature", {403: ["witness_unknown"], 409: ["cosignature_exists"],
                            422: ["cosignature_root_mismatch", "cosignature_size_unknown", "malformed_cosignature",
                                  "vote_id_mismatch"], 429: ["too_many_requests"]}),
    # proxies (docs/votes.md "Proxies")
    "POST /api/v1/votes/{vid}/delegations": op(
        "delegateRight", GUARD, VOTE, SIGNED_ENTRY, {422: ["delegate_ineligible", "delegate_owns_right"]}),
    "POST /api/v1/votes/{vid}/delegation-revocations": op(
        "revokeDelegation", GUARD, VOTE, SIGNED_ENTRY, {409: ["no_active_delegation"]}),
    "GET /api/v1/votes/{vid}/delegations": op("listMyDelegations", GUARD, VOTE, {409: ["vote_not_open"]}),
    "GET /api/v1/me/proxies": op("listMyProxies"),
    "POST /api/v1/me/proxy-keys": op(
        "registerProxyKey", {403: ["key_revoked", "phone_not_verified"], 409: ["key_taken", "too_many_keys"],
                             422: ["invalid_public_key"]}),
    "POST /api/v1/me/keys": op(
        "registerKey", {403: ["key_revoked", "not_owner"], 409: ["key_taken", "too_many_keys"],
                        422: ["invalid_public_key"]}),
    "GET /api/v1/me/keys": op("listKeys"),
    "DELETE /api/v1/me/keys/{public_key}": op("revokeKey", {403: ["key_revoked"], 404: ["key_not_found"]}),
    # the web console's sign-in (docs/console.md) and the user's sessions
    "POST /api/v1/console/login-challenges": op("createConsoleLoginChallenge", {429: ["too_many_requests"]}),
    "GET /api/v1/console/login-challenges/{code}": op(
        "getConsoleLoginChallenge", CHALLENGE, {403: ["no_console_role"], 409: ["challenge_used"]}),
    "POST /api/v1/console/login-challenges/{code}/confirm": op(
        "confirmConsoleLogin", CHALLENGE, {403: ["no_console_role"], 409: ["challenge_used"]}),
    "POST /api/v1/console/login-challenges/{code}/decline": op(
        "declineConsoleLogin", CHALLENGE, {409: ["challenge_used"]}),
    "POST /api/v1/console/login-challenges/{code}/poll": op(
        "pollConsoleLogin", CHALLENGE, {409: ["challenge_declined", "challenge_used"]}),
    "POST /api/v1/console/dev-login": op("devConsoleLogin", {403: ["dev_login_disabled", "no_console_role"]}),
    "GET /api/v1/me/sessions": op("listMySessions"),
    "DELETE /api/v1/me/sessions/{session_id}": op("endMySession", {404: ["session_not_found"]}),
    # subscribe messages: the template ids the mini-program asks wx.requestSubscribeMessage for
    "GET /api/v1/notifications/templates": op("listNotificationTemplates"),
    # the district (docs/district.md): streets, scopes, organisations, contracts, hotline, roll-up
    "POST /api/v1/streets": op("createStreet", {403: ["platform_admin_only"], 409: ["street_exists"]}),
    "GET /api/v1/streets": op("listStreets", {403: ["forbidden"]}),
    "PUT /api/v1/communities/{cid}/street": op(
        "placeCommunity", {403: ["platform_admin_only"], 404: ["community_not_found", "street_not_found"]}),
    "GET /api/v1/streets/{sid}/communities": op("listStreetCommunities", STREET),
    "GET /api/v1/streets/{sid}/dashboard": op("getStreetDashboard", STREET),
    "POST /api/v1/regulator-scopes": op(
        "grantRegulatorScope", {403: ["platform_admin_only"], 404: ["street_not_found", "user_not_found"],
                                409: ["scope_exists"]}),
    "GET /api/v1/regulator-scopes": op("listRegulatorScopes", {403: ["platform_admin_only"]}),
    "DELETE /api/v1/regulator-scopes/{scope_id}": op(
        "revokeRegulatorScope", {403: ["platform_admin_only"], 404: ["scope_not_found"]}),
    "POST /api/v1/organisations": op("createOrganisation", {403: ["forbidden"], 409: ["uscc_taken"]}),
    "GET /api/v1/organisations": op("listOrganisations", {403: ["forbidden"]}),
    "POST /api/v1/organisations/{oid}/managers": op("addProjectManager", ORGANISATION),
    "GET /api/v1/organisations/{oid}/managers": op("listProjectManagers", ORGANISATION),
    "POST /api/v1/communities/{cid}/service-contracts": op(
        "recordServiceContract", GUARD, {404: ["organisation_not_found"], 409: ["contract_overlap"]}),
    "GET /api/v1/communities/{cid}/service-contracts": op("listServiceContracts", GUARD),
    "POST /api/v1/hotline-imports": op(
        "importHotlineOrders", {403: ["forbidden"], 422: ["empty_file", "missing_columns", "too_many_rows",
                                                          "unreadable_file", "unsupported_file_type"]}),
    "POST /api/v1/tickets/{tid}/validity": op(
        "ruleComplaintValidity", {403: ["validity_forbidden"], 404: ["ticket_not_found"]}),
    "GET /api/v1/complaint-rollups/{week}": op("getComplaintRollup", {403: ["forbidden"], 404: ["rollup_not_found"]}),
    "POST /api/v1/open311-clients": op("issueGeoReportKey", {403: ["platform_admin_only"]}),
    "GET /api/v1/open311-clients": op("listGeoReportClients", {403: ["platform_admin_only"]}),
    "DELETE /api/v1/open311-clients/{client_id}": op(
        "revokeGeoReportKey", {403: ["platform_admin_only"], 404: ["open311_client_not_found"]}),
    # inspections, measures, circulars, the 4-2-1 routine
    "POST /api/v1/communities/{cid}/inspections": op("recordInspection", GUARD, MEDIA_REFS),
    "GET /api/v1/communities/{cid}/inspections": op("listInspections", GUARD),
    "GET /api/v1/inspections/{iid}": op("getInspection", {404: ["inspection_not_found"]}),
    "GET /api/v1/communities/{cid}/measures": op("listMeasures", GUARD),
    "GET /api/v1/measures/{mid}": op("getMeasure", {404: ["measure_not_found"]}),
    "POST /api/v1/measures/{mid}/answers": op(
        "answerMeasure", {403: ["measure_answer_forbidden"], 404: ["measure_not_found"], 409: ["measure_closed"]},
        MEDIA_REFS),
    "POST /api/v1/measures/{mid}/review": op(
        "reviewMeasure", {403: ["measure_review_forbidden"], 404: ["measure_not_found"],
                          409: ["measure_not_answered"]}),
    "POST /api/v1/streets/{sid}/circulars": op("publishCircular", STREET),
    "GET /api/v1/streets/{sid}/circulars": op("listCirculars", {403: ["forbidden"]}),
    "GET /api/v1/inspection-progress": op("getInspectionProgress", {403: ["forbidden"]}),
    # integrity scores; the public query needs no login (docs/integrity.md)
    "GET /api/v1/organisations/{oid}/integrity/{period}": op(
        "getIntegrityBreakdown", {403: ["forbidden"], 404: ["organisation_not_found", "score_not_found"]}),
    "GET /api/v1/public/organisations": op("listPublicOrganisations"),
    "GET /api/v1/public/organisations/{oid}": op("getPublicOrganisation", {404: ["organisation_not_found"]}),
    "GET /api/v1/public/organisations/{oid}/scores/{period}": op(
        "getPublicIntegrityScore", {404: ["organisation_not_found", "score_not_found"]}),
    "GET /api/v1/public/integrity-lists/{year}": op("getIntegrityLists", {404: ["lists_not_found"]}),
    # the mediation ladder
    "POST /api/v1/communities/{cid}/disputes": op("fileDispute", GUARD, {403: ["dispute_filing_forbidden"]}),
    "GET /api/v1/communities/{cid}/disputes": op("listDisputes", GUARD),
    "GET /api/v1/disputes/{did}": op("getDispute", {404: ["dispute_not_found"]}),
    "POST /api/v1/disputes/{did}/records": op(
        "recordMediation", {403: ["not_this_level"], 404: ["dispute_not_found"], 409: ["dispute_closed"]},
        MEDIA_REFS),
    "POST /api/v1/disputes/{did}/take-up": op(
        "takeUpDispute", {403: ["take_up_forbidden"], 404: ["dispute_not_found"],
                          409: ["dispute_at_top", "dispute_closed", "level_time_not_over"]}),
    "GET /api/v1/regulator/disputes": op("listOpenDisputes", {403: ["forbidden"]}),
    # operators
    "GET /api/v1/health": op("getHealth"),
}

OPERATION_ID = re.compile(r"[a-z][a-zA-Z]+")

/**
 * linli-vote/1.1 for the mini-program: witnesses' co-signatures of tree heads and proxies
 * (docs/protocol.md §5.1, §5.7, §5.8, §6.4; Python: voting/witnesses.py, voting/delegations.py).
 *
 * Not required on its own: lib/linli-vote.js loads it with its exports (L) and internal helpers (H)
 * and re-exports all of it (`require('./lib/linli-vote.js').checkCosignedHead`), so the protocol
 * library stays one module for its users and this file has no require cycle. Same rules as there:
 * ES2017, pure, no `wx`, no randomness (the page hands in nonce bytes), verify functions never throw
 * on bad input.
 */
'use strict';

module.exports = function witnessPart(L, H) {
  var DELEGATION = 'delegation';
  var REVOCATION = 'delegation_revocation';
  var isId = L.isId;
  var isPublicKey = L.isPublicKey;
  var isPlainObject = H.isPlainObject;
  var hasOwn = H.hasOwn;
  var problem = H.problem;

  function isText(value) {
    try {
      return typeof value === 'string' && !!value && !!L.canonical(value);
    } catch (e) {
      return false;
    }
  }

  var WITNESS = { id: isId, name: isText, public_key: isPublicKey };
  var COSIGNATURE = {
    type: H.equals('cosignature'), vote_id: isId, size: function (size) { return H.isIndex(size) && size > 0; },
    root: L.isHashHex, witness: isId, timestamp: L.isTime, signature: L.isSignature
  };

  // --- the definition's witnesses (§5.1) -------------------------------------------------------------

  /**
   * The witnesses of a definition (entry 0), checked as voting.witnesses.validate_witnesses:
   * {ok, protocol, witnesses: [{id, name, public_key}], quorum, keys: {id: public_key}, problem}.
   * A linli-vote/1 definition has no witnesses (quorum 0); a linli-vote/1.1 one has both fields.
   */
  function witnessesOf(definition) {
    var out = { ok: false, protocol: null, witnesses: [], quorum: 0, keys: {}, problem: null };
    var fail = function (text) {
      out.problem = text;
      return out;
    };
    if (!isPlainObject(definition)) return fail('definition must be an object');
    out.protocol = definition.protocol;
    if (definition.protocol === L.PROTOCOL) {
      if (hasOwn(definition, 'witnesses') || hasOwn(definition, 'witness_quorum')) return fail('linli-vote/1 has no witnesses');
      out.ok = true;
      return out;
    }
    if (definition.protocol !== L.PROTOCOL_1_1) return fail('unknown protocol');
    var list = definition.witnesses;
    var quorum = definition.witness_quorum;
    if (!Array.isArray(list) || list.length > 64) return fail('definition.witnesses must be a list of at most 64');
    var keys = {};
    for (var i = 0; i < list.length; i++) {
      var w = list[i];
      var where = 'definition.witnesses[' + i + ']';
      var bad = H.formProblem(w, WITNESS, where);
      if (bad) return fail(bad);
      if (w.public_key === definition.server_key) return fail(where + ' is the server key');
      if (list.some(function (v, j) { return j < i && (v.id === w.id || v.public_key === w.public_key); })) return fail('definition.witnesses repeat');
      keys[w.id] = w.public_key;
    }
    if (!H.isIndex(quorum) || quorum < Math.min(1, list.length) || quorum > list.length) return fail('definition.witness_quorum out of range');
    out.ok = true;
    out.witnesses = list.map(function (v) { return { id: v.id, name: v.name, public_key: v.public_key }; });
    out.quorum = quorum;
    out.keys = keys;
    return out;
  }

  // --- co-signatures (§6.4) --------------------------------------------------------------------------

  // [code, detail] of why cosig is not a valid co-signature of `who` (witnessesOf) for voteId, or null
  // (voting.witnesses.cosignature_problem).
  function cosignatureFault(cosig, who, voteId) {
    if (!who.ok) return ['definition_witnesses_invalid', who.problem];
    var shape = H.shapeProblem(cosig, COSIGNATURE, 'co-signature');
    if (shape) return ['cosignature_malformed', shape];
    if (cosig.vote_id !== voteId) return ['cosignature_other_vote', cosig.vote_id];
    if (!hasOwn(who.keys, cosig.witness)) return ['cosignature_unknown_witness', cosig.witness];
    if (!L.verifyObject(who.keys[cosig.witness], cosig)) return ['cosignature_forged', cosig.witness];
    return null;
  }

  /**
   * The problems of a co-signature for this vote ([] if valid): its form, the definition's vote, a
   * witness the definition names, and that witness's signature over the canonical JSON without
   * `signature` (voting.witnesses.cosignature_problem).
   */
  function cosignatureProblems(cosig, definition) {
    var fault = cosignatureFault(cosig, witnessesOf(definition), isPlainObject(definition) ? definition.vote_id : null);
    return fault ? [problem(fault[0], fault[1])] : [];
  }

  /** True iff cosig is a valid co-signature of a witness of `definition`, for its vote. */
  function verifyCosignature(cosig, definition) {
    return !cosignatureProblems(cosig, definition).length;
  }

  /**
   * A server tree head with the witnesses' co-signatures (GET …/tree-head?cosigned=true gives
   * {tree_head, cosignatures, witness_quorum, cosigned}). serverKey defaults to the definition's.
   * Returns {ok, cosigned: [witness ids, definition order], missing: [ids], quorum, problems}: ok iff
   * the head is this vote's and signed by the server key, every co-signature given is valid and
   * names exactly this head's size and root, and at least witness_quorum distinct witnesses
   * co-signed it. A co-signature that is forged, of another head or repeated is a problem, not
   * merely left out: the server stores only valid co-signatures of heads it signed, one per witness.
   */
  function checkCosignedHead(head, cosignatures, definition, serverKey) {
    var who = witnessesOf(definition);
    var out = { ok: false, cosigned: [], missing: [], quorum: who.quorum, problems: [] };
    if (!who.ok) {
      out.problems.push(problem('definition_witnesses_invalid', who.problem));
      return out;
    }
    var key = serverKey == null ? definition.server_key : serverKey;
    out.problems = L.treeHeadProblems(head, key, definition.vote_id);
    if (!out.problems.length && key !== definition.server_key) out.problems.push(problem('server_key_changed'));
    if (!Array.isArray(cosignatures)) {
      out.problems.push(problem('cosignature_malformed', 'not a list'));
      return out;
    }
    var seen = {};
    cosignatures.forEach(function (c, i) {
      var fault = cosignatureFault(c, who, definition.vote_id);
      if (fault) {
        out.problems.push(problem(fault[0], '#' + i + ' ' + fault[1]));
      } else if (!isPlainObject(head) || c.size !== head.size || c.root !== head.root) {
        out.problems.push(problem('cosignature_other_head', '#' + i + ' ' + c.witness));
      } else if (seen[c.witness]) {
        out.problems.push(problem('cosignature_repeated', c.witness));
      } else {
        seen[c.witness] = true;
      }
    });
    who.witnesses.forEach(function (w) {
      (seen[w.id] ? out.cosigned : out.missing).push(w.id);
    });
    if (out.cosigned.length < who.quorum) {
      out.problems.push(problem('quorum_missing', out.cosigned.length + ' / ' + who.quorum));
    }
    out.ok = !out.problems.length;
    return out;
  }

  // --- delegations and their revocations (§5.7, §5.8) ------------------------------------------------
  // Their envelopes {delegation | delegation_revocation, public_key, signature} are made, told apart
  // and verified by lib/linli-vote.js's envelope code, as ballots are.

  /** Why `signed` is not a well-formed D (kind 'delegation') or R ('delegation_revocation'), or null. */
  function delegationProblem(signed, kind, definition) {
    var what = kind || (isPlainObject(signed) ? signed.type : DELEGATION);
    if (what !== DELEGATION && what !== REVOCATION) return 'unknown kind';
    var spec = { type: H.equals(what), vote_id: isId, right_id: isId, delegate_key: isPublicKey, nonce: L.isNonce, signed_at: L.isTime };
    return H.formProblem(signed, spec, what, definition) ||
      (definition && definition.protocol !== L.PROTOCOL_1_1 ? 'proxies need a linli-vote/1.1 vote' : null);
  }

  function newOf(kind, args, definition) {
    return H.newSigned({ type: kind, vote_id: args.voteId, right_id: args.rightId, delegate_key: args.delegateKey }, args, definition);
  }

  /**
   * D, the delegation an owner's device signs: {voteId, rightId, delegateKey (the delegate's b64u
   * public key, from the delegate's phone), nonceBytes (16 from wx.getRandomValues), signedAt (a Date
   * or a protocol time)}; checked against the definition when given (a linli-vote/1.1 vote).
   */
  function newDelegation(args, definition) {
    return newOf(DELEGATION, args, definition);
  }

  /** R, the revocation of the proxy of args.delegateKey (same arguments as newDelegation). */
  function newRevocation(args, definition) {
    return newOf(REVOCATION, args, definition);
  }

  /**
   * The envelope POST …/delegations (or …/delegation-revocations) takes: {delegation |
   * delegation_revocation: the signed object, public_key, signature} (voting.delegations.sign_delegation).
   */
  function signDelegation(signed, secretKey) {
    return H.signEnvelope(isPlainObject(signed) && signed.type === REVOCATION ? REVOCATION : DELEGATION, signed, secretKey);
  }

  /** 'delegation' or 'delegation_revocation' for an envelope of either kind with exactly its fields, else null. */
  function delegationKind(envelope) {
    var kind = H.envelopeKind(envelope);
    return kind === 'ballot' ? null : kind;
  }

  /** True iff envelope is a well-formed delegation or revocation envelope whose signature verifies. */
  function verifyDelegation(envelope, definition) {
    var kind = H.verifiedKind(envelope, definition);
    return !!kind && kind !== 'ballot';
  }

  // --- handing a proxy key from phone to phone -------------------------------------------------------

  var KEY_TEXT_PREFIX = 'linli-proxy-key:';

  function checkKey(publicKey) {
    if (!isPublicKey(publicKey)) throw new L.FormatError('not a b64u Ed25519 public key');
    return publicKey;
  }

  /**
   * The short fingerprint two people compare by eye: the first 16 hex digits (64 bits) of
   * SHA-256 of the raw 32 key bytes, in groups of four ("3fa9 0c1b 77e2 41d0"). 64 bits: making a
   * second key with the same fingerprint costs about 2^64 tries.
   */
  function keyFingerprint(publicKey) {
    return L.sha256Hex(L.b64uDecode(checkKey(publicKey))).slice(0, 16).match(/..../g).join(' ');
  }

  /** What the delegate's phone shows as QR code and as text: `linli-proxy-key:<b64u key>`. */
  function proxyKeyText(publicKey) {
    return KEY_TEXT_PREFIX + checkKey(publicKey);
  }

  /** The key in a scanned or pasted text (`linli-proxy-key:<key>`, or the bare key; spaces ignored), or null. */
  function parseProxyKeyText(text) {
    if (typeof text !== 'string') return null;
    var t = text.replace(/\s+/g, '');
    if (t.indexOf(KEY_TEXT_PREFIX) === 0) t = t.slice(KEY_TEXT_PREFIX.length);
    return isPublicKey(t) ? t : null;
  }

  return {
    PROTOCOL_1: L.PROTOCOL,
    witnessesOf: witnessesOf,
    cosignatureProblems: cosignatureProblems,
    verifyCosignature: verifyCosignature,
    checkCosignedHead: checkCosignedHead,
    delegationProblem: delegationProblem,
    newDelegation: newDelegation,
    newRevocation: newRevocation,
    signDelegation: signDelegation,
    delegationKind: delegationKind,
    verifyDelegation: verifyDelegation,
    keyFingerprint: keyFingerprint,
    proxyKeyText: proxyKeyText,
    parseProxyKeyText: parseProxyKeyText
  };
};

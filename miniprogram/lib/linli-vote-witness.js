/**
 * linli-vote/1.1 for the mini-program: witnesses' co-signatures of tree heads and proxies
 * (docs/protocol.md §5.1, §5.7, §5.8, §6.4; Python: voting/witnesses.py, voting/delegations.py).
 *
 * Not required on its own: lib/linli-vote.js loads it with its own helpers and re-exports all of it
 * (`require('./lib/linli-vote.js').checkCosignedHead`), so the protocol library stays one module
 * for its users and this file has no require cycle. Same rules as there: ES2017, pure, no `wx`, no
 * randomness (the page hands in nonce bytes), verify functions never throw on bad input.
 */
'use strict';

module.exports = function witnessPart(L) {
  var PROTOCOL_1 = 'linli-vote/1';
  var PROTOCOL_1_1 = 'linli-vote/1.1';
  var MAX_WITNESSES = 64;
  var WITNESS_KEYS = ['id', 'name', 'public_key'];
  var COSIGNATURE_KEYS = ['type', 'vote_id', 'size', 'root', 'witness', 'timestamp', 'signature'];
  var DELEGATION = 'delegation';
  var REVOCATION = 'delegation_revocation';
  var SIGNED_KEYS = ['type', 'vote_id', 'right_id', 'delegate_key', 'nonce', 'signed_at'];
  var keyProblem = L._keyProblem;
  var isPlainObject = L._isPlainObject;
  var isSafeInt = L._isSafeInt;
  var problem = L._problem;

  // --- the definition's witnesses (§5.1) -------------------------------------------------------------

  /**
   * The witnesses of a definition (entry 0), checked as voting.witnesses.validate_witnesses:
   * {ok, protocol, witnesses: [{id, name, public_key}], quorum, keys: {id: public_key}, problem}.
   * A linli-vote/1 definition has no witnesses (quorum 0); a linli-vote/1.1 one has both fields.
   */
  function witnessesOf(definition) {
    var out = { ok: false, protocol: null, witnesses: [], quorum: 0, keys: {}, problem: null };
    if (!isPlainObject(definition)) return fail(out, 'definition must be an object');
    out.protocol = definition.protocol;
    if (definition.protocol === PROTOCOL_1) {
      if (L._hasOwn(definition, 'witnesses') || L._hasOwn(definition, 'witness_quorum')) return fail(out, 'linli-vote/1 has no witnesses');
      out.ok = true;
      return out;
    }
    if (definition.protocol !== PROTOCOL_1_1) return fail(out, 'unknown protocol');
    var list = definition.witnesses;
    var quorum = definition.witness_quorum;
    if (!Array.isArray(list) || list.length > MAX_WITNESSES) return fail(out, 'definition.witnesses must be a list of at most 64');
    var keys = {};
    var seenKeys = {};
    for (var i = 0; i < list.length; i++) {
      var w = list[i];
      var shape = keyProblem(w, WITNESS_KEYS, 'definition.witnesses[' + i + ']');
      if (shape) return fail(out, shape);
      if (!L.isId(w.id) || !isText(w.name) || !L.isPublicKey(w.public_key)) return fail(out, 'definition.witnesses[' + i + '] malformed');
      if (w.public_key === definition.server_key) return fail(out, 'definition.witnesses[' + i + '] is the server key');
      if (L._hasOwn(keys, w.id) || L._hasOwn(seenKeys, w.public_key)) return fail(out, 'definition.witnesses repeat');
      keys[w.id] = w.public_key;
      seenKeys[w.public_key] = true;
    }
    var lowest = list.length ? 1 : 0;
    var highest = list.length;
    if (!isSafeInt(quorum) || quorum < lowest || quorum > highest) return fail(out, 'definition.witness_quorum out of range');
    out.ok = true;
    out.witnesses = list.map(function (w) { return { id: w.id, name: w.name, public_key: w.public_key }; });
    out.quorum = quorum;
    out.keys = keys;
    return out;
  }

  function fail(out, text) {
    out.problem = text;
    return out;
  }

  function isText(value) {
    if (typeof value !== 'string' || !value) return false;
    try {
      L.canonical(value);
      return true;
    } catch (e) {
      return false;
    }
  }

  // --- co-signatures (§6.4) --------------------------------------------------------------------------

  /** Why cosig is not of the co-signature's form, or null (voting.witnesses.cosignature_shape_problem). */
  function cosignatureShapeProblem(cosig) {
    var shape = keyProblem(cosig, COSIGNATURE_KEYS, 'co-signature');
    if (shape) return shape;
    if (cosig.type !== 'cosignature') return 'type';
    if (!L.isId(cosig.vote_id)) return 'vote_id';
    if (!isSafeInt(cosig.size) || cosig.size < 1) return 'size';
    if (!L.isHashHex(cosig.root)) return 'root';
    if (!L.isId(cosig.witness)) return 'witness';
    if (!L.isTime(cosig.timestamp)) return 'timestamp';
    if (!L.isSignature(cosig.signature)) return 'signature';
    return null;
  }

  // [code, detail] of why cosig is not a valid co-signature of `who` (witnessesOf) for voteId, or null.
  function cosignatureFault(cosig, who, voteId) {
    if (!who.ok) return ['definition_witnesses_invalid', who.problem];
    var shape = cosignatureShapeProblem(cosig);
    if (shape) return ['cosignature_malformed', shape];
    if (cosig.vote_id !== voteId) return ['cosignature_other_vote', cosig.vote_id];
    if (!L._hasOwn(who.keys, cosig.witness)) return ['cosignature_unknown_witness', cosig.witness];
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
    return cosignatureProblems(cosig, definition).length === 0;
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
    var key = serverKey === undefined || serverKey === null ? definition.server_key : serverKey;
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
    out.ok = out.problems.length === 0;
    return out;
  }

  // --- delegations and their revocations (§5.7, §5.8) ------------------------------------------------

  /** Why `signed` is not a well-formed D (kind 'delegation') or R ('delegation_revocation'), or null. */
  function delegationProblem(signed, kind, definition) {
    var what = kind || (isPlainObject(signed) ? signed.type : DELEGATION);
    if (what !== DELEGATION && what !== REVOCATION) return 'unknown kind';
    var shape = keyProblem(signed, SIGNED_KEYS, what);
    if (shape) return shape;
    if (signed.type !== what) return what + '.type';
    if (!L.isId(signed.vote_id) || (definition && signed.vote_id !== definition.vote_id)) return what + '.vote_id: not this vote';
    if (definition && definition.protocol !== PROTOCOL_1_1) return 'proxies need a linli-vote/1.1 vote';
    if (!L.isId(signed.right_id)) return what + '.right_id';
    if (!L.isPublicKey(signed.delegate_key)) return what + '.delegate_key';
    if (!L.isNonce(signed.nonce)) return what + '.nonce';
    if (!L.isTime(signed.signed_at)) return what + '.signed_at';
    return null;
  }

  function newSigned(kind, args, definition) {
    var signedAt = args.signedAt instanceof Date ? L.formatTime(args.signedAt) : args.signedAt;
    var signed = {
      type: kind,
      vote_id: args.voteId,
      right_id: args.rightId,
      delegate_key: args.delegateKey,
      nonce: L.b64uEncode(L._toBytes(args.nonceBytes, 16, 'nonceBytes')),
      signed_at: signedAt
    };
    var bad = delegationProblem(signed, kind, definition);
    if (bad) throw new L.FormatError(bad);
    return JSON.parse(L.canonicalString(signed));
  }

  /**
   * D, the delegation an owner's device signs: {voteId, rightId, delegateKey (the delegate's b64u
   * public key, from the delegate's phone), nonceBytes (16 from wx.getRandomValues), signedAt (a Date
   * or a protocol time)}; checked against the definition when given (a linli-vote/1.1 vote).
   */
  function newDelegation(args, definition) {
    return newSigned(DELEGATION, args, definition);
  }

  /** R, the revocation of the proxy of args.delegateKey (same arguments as newDelegation). */
  function newRevocation(args, definition) {
    return newSigned(REVOCATION, args, definition);
  }

  /**
   * The envelope POST …/delegations (or …/delegation-revocations) takes: {delegation |
   * delegation_revocation: the signed object, public_key, signature} (voting.delegations.sign_delegation).
   */
  function signDelegation(signed, secretKey) {
    var key = L._toBytes(secretKey, 64, 'secretKey');
    var bad = delegationProblem(signed);
    if (bad) throw new L.FormatError(bad);
    var text = L.canonicalString(signed);
    var envelope = {};
    envelope[signed.type] = JSON.parse(text);
    envelope.public_key = L.b64uEncode(key.subarray(32, 64));
    envelope.signature = L.b64uEncode(L._sign(L.utf8Encode(text), key));
    return envelope;
  }

  /** 'delegation' or 'delegation_revocation' for an envelope of either kind with exactly its fields, else null. */
  function delegationKind(envelope) {
    if (!isPlainObject(envelope)) return null;
    var kinds = [DELEGATION, REVOCATION];
    for (var i = 0; i < kinds.length; i++) {
      if (!keyProblem(envelope, [kinds[i], 'public_key', 'signature'], 'envelope')) return kinds[i];
    }
    return null;
  }

  function delegationFormOk(envelope, definition) {
    var kind = delegationKind(envelope);
    return kind !== null && L.isPublicKey(envelope.public_key) && L.isSignature(envelope.signature) &&
      !delegationProblem(envelope[kind], kind, definition);
  }

  /** True iff envelope is a well-formed delegation or revocation envelope whose signature verifies. */
  function verifyDelegation(envelope, definition) {
    if (!delegationFormOk(envelope, definition)) return false;
    var kind = delegationKind(envelope);
    var message;
    try {
      message = L.canonical(envelope[kind]);
    } catch (e) {
      return false;
    }
    return L.verifyBytes(envelope.public_key, envelope.signature, message);
  }

  // --- handing a proxy key from phone to phone -------------------------------------------------------

  var KEY_TEXT_PREFIX = 'linli-proxy-key:';

  /**
   * The short fingerprint two people compare by eye: the first 16 hex digits (64 bits) of
   * SHA-256 of the raw 32 key bytes, in groups of four ("3fa9 0c1b 77e2 41d0"). 64 bits: making a
   * second key with the same fingerprint costs about 2^64 tries.
   */
  function keyFingerprint(publicKey) {
    if (!L.isPublicKey(publicKey)) throw new L.FormatError('not a b64u Ed25519 public key');
    var hex = L.sha256Hex(L.b64uDecode(publicKey)).slice(0, 16);
    return hex.slice(0, 4) + ' ' + hex.slice(4, 8) + ' ' + hex.slice(8, 12) + ' ' + hex.slice(12, 16);
  }

  /** What the delegate's phone shows as QR code and as text: `linli-proxy-key:<b64u key>`. */
  function proxyKeyText(publicKey) {
    if (!L.isPublicKey(publicKey)) throw new L.FormatError('not a b64u Ed25519 public key');
    return KEY_TEXT_PREFIX + publicKey;
  }

  /** The key in a scanned or pasted text (`linli-proxy-key:<key>`, or the bare key; spaces ignored), or null. */
  function parseProxyKeyText(text) {
    if (typeof text !== 'string') return null;
    var t = text.replace(/\s+/g, '');
    if (t.indexOf(KEY_TEXT_PREFIX) === 0) t = t.slice(KEY_TEXT_PREFIX.length);
    return L.isPublicKey(t) ? t : null;
  }

  return {
    PROTOCOL_1: PROTOCOL_1,
    PROTOCOL_1_1: PROTOCOL_1_1,
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
    _delegationFormOk: delegationFormOk,
    keyFingerprint: keyFingerprint,
    proxyKeyText: proxyKeyText,
    parseProxyKeyText: parseProxyKeyText
  };
};

/**
 * linli-vote/1 and linli-vote/1.1 client library for the Linli mini-program (docs/protocol.md is normative).
 * The 1.1 parts — witnesses' co-signatures and proxies' delegations — are the last section.
 *
 * Plain ES2017 CommonJS, pure functions, no `wx` and no randomness inside: the page hands in the
 * 32 random bytes of a key seed and the 16 of a nonce (from wx.getRandomValues), and a storage
 * adapter for HeadMemory. The same file runs unchanged under Node (`require`), so anyone can audit
 * a phone's checks on a computer; its tests compare it byte for byte with the server's Python
 * package voting/ (miniprogram/README.md).
 *
 * Numbers: sizes and indexes are JavaScript numbers, handled with arithmetic (never 32-bit bit
 * operators), so every integer up to 2^53 - 1 works. No BigInt anywhere.
 *
 * The code is kept small (it ships inside the mini-program, issue 12: ≤ 60 KB minified with its
 * dependencies): one table-driven shape check for every protocol object, one envelope code for
 * ballots and delegations, one Merkle walk for both proofs.
 */
'use strict';

var nacl = require('tweetnacl');
var sha256 = require('fast-sha256'); // sha256(bytes) → Uint8Array(32); new sha256.Hash() streams

var PROTOCOL = 'linli-vote/1';
var PROTOCOL_1_1 = 'linli-vote/1.1';
var SPLIT_VIEW_1 = PROTOCOL + ' split view'; // the evidence types
var SPLIT_VIEW_1_1 = PROTOCOL_1_1 + ' split view';
var MAX_SAFE_INT = 9007199254740991; // 2^53 - 1, the protocol's integer bound (voting/canonical.py)
var isArray = Array.isArray;
var stringify = JSON.stringify;

// --- errors ----------------------------------------------------------------------------------------

/** A value with no canonical JSON form in linli-vote/1 (Python: voting.canonical.CanonicalError). */
class CanonicalError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CanonicalError';
  }
}

/** A string or object that breaks an encoding or shape rule of the protocol (Python: ValueError/ProtocolError). */
class FormatError extends Error {
  constructor(message) {
    super(message);
    this.name = 'FormatError';
  }
}

// --- small helpers ---------------------------------------------------------------------------------

var isString = (value) => typeof value === 'string';

var hasOwn = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

/** '[object Object]', '[object Uint8Array]', '[object Date]', … — whatever realm value comes from. */
var typeName = (value) => Object.prototype.toString.call(value);

// A JSON object: made by a literal, JSON.parse or Object.create(null), in this realm or another
// (the page's data may come from another JS context); never a class instance, Date, Map, array.
function isPlainObject(value) {
  if (typeName(value) !== '[object Object]') return false;
  var proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

var isSafeInt = (value) => Number.isInteger(value) && Math.abs(value) <= MAX_SAFE_INT;

var isIndex = (value) => isSafeInt(value) && value >= 0;

/** A test that value is a string matching re (and, when given, passing more(value)). */
var matcher = (re, more) => (value) => isString(value) && re.test(value) && (!more || more(value));

/** A test that value is exactly `expected`. */
var equals = (expected) => (value) => value === expected;

/**
 * Why obj is not a protocol object of the form `spec` — {field: test, or 0 for a field checked
 * elsewhere}, in the protocol's order — or null. The answer is `<what> must be an object with
 * exactly the fields …`, or the name of the first field whose test fails. `optional` names a field
 * that may be absent (a receipt's entry).
 */
function shapeProblem(obj, spec, what, optional) {
  var fields = Object.keys(spec).filter((k) => k !== optional || (isPlainObject(obj) && hasOwn(obj, k)));
  if (!isPlainObject(obj) || Object.keys(obj).length !== fields.length || !fields.every((k) => hasOwn(obj, k))) {
    return what + ' must be an object with exactly the fields ' + fields.join(', ');
  }
  for (var i = 0; i < fields.length; i++) if (spec[fields[i]] && !spec[fields[i]](obj[fields[i]])) return fields[i];
  return null;
}

// --- UTF-8 -----------------------------------------------------------------------------------------

/**
 * encodeURIComponent(text) (ES5: the UTF-8 bytes as %XX, but ASCII letters, digits and -_.!~*'()
 * kept), which throws URIError exactly for a lone surrogate: then CanonicalError (`where` says where).
 */
function uriEscape(text, where) {
  try {
    return encodeURIComponent(text);
  } catch (e) {
    throw new CanonicalError(where + ': string contains a lone surrogate');
  }
}

/** UTF-8 bytes of a string; throws on a lone surrogate (it has no UTF-8 form). */
function utf8Encode(text) {
  var escaped = uriEscape(text, 'utf8Encode');
  var out = [];
  for (var i = 0; i < escaped.length; i++) {
    if (escaped.charAt(i) === '%') {
      out.push(parseInt(escaped.substr(i + 1, 2), 16));
      i += 2;
    } else {
      out.push(escaped.charCodeAt(i));
    }
  }
  return new Uint8Array(out);
}

// --- canonical JSON (docs/protocol.md §1; voting/canonical.py) --------------------------------------

/**
 * The canonical JSON text of value at `path`. Strings are written with JSON.stringify, which
 * escapes exactly what Python's json.dumps(ensure_ascii=False) escapes (`"`, `\\`, \b \f \n \r \t
 * and the other controls as lowercase \u00XX; U+007F, U+2028/2029 and all non-ASCII raw) once lone
 * surrogates — the only strings where engines differ, with no canonical form — are refused.
 */
function canonicalText(value, path) {
  var refuse = (what) => {
    throw new CanonicalError(path + ': ' + what);
  };
  if (value === null || value === true || value === false) return String(value);
  if (isString(value)) {
    uriEscape(value, path);
    if (value.normalize('NFC') !== value) refuse('string is not NFC-normalised');
    return stringify(value);
  }
  if (typeof value === 'number') {
    // Python refuses floats, NaN and Infinity; the protocol, integers beyond ±(2^53 - 1)
    if (!isSafeInt(value)) refuse(value + ' is not a safe integer');
    return String(value); // -0 (JSON.parse('-0')) is written 0, as Python reads it: int 0
  }
  var parts = [];
  if (isArray(value)) {
    for (var i = 0; i < value.length; i++) {
      if (!(i in value)) refuse('array hole at [' + i + ']');
      parts.push(canonicalText(value[i], path + '[' + i + ']'));
    }
    return '[' + parts.join(',') + ']';
  }
  if (!isPlainObject(value)) refuse(typeName(value) + ' is not allowed'); // undefined, functions, Dates, typed arrays, Maps, class instances…
  Object.keys(value).sort().forEach((key) => { // ASCII keys: UTF-16 order is code-point order, as Python's sort_keys
    if (/[^\x00-\x7f]/.test(key)) refuse('object key ' + stringify(key) + ' is not ASCII');
    if (value[key] === undefined) refuse(key + ' is undefined');
    parts.push(stringify(key) + ':' + canonicalText(value[key], path + '.' + key));
  });
  return '{' + parts.join(',') + '}';
}

/**
 * The canonical JSON text of value (a string). Equal, as UTF-8, to Python's
 * json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for every value that
 * voting.canonical.canonical accepts; throws CanonicalError where it refuses (floats, NaN,
 * integers beyond ±(2^53−1), non-ASCII keys, lone surrogates, non-NFC strings, and non-JSON
 * values such as undefined, functions, Dates, typed arrays and array holes).
 */
var canonicalString = (value) => canonicalText(value, '$');

/** The canonical JSON bytes (UTF-8 Uint8Array) of value: what is hashed and signed. */
var canonical = (value) => utf8Encode(canonicalString(value));

// --- base64url and hex -----------------------------------------------------------------------------

var B64U_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Unpadded base64url (RFC 4648 §5) of bytes. */
function b64uEncode(bytes) {
  var out = '';
  var acc = 0; // the bits not written yet: `bits` of them, as a number below 2^bits
  var bits = 0;
  for (var i = 0; i < bytes.length; i++) {
    acc = acc * 256 + bytes[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += B64U_ALPHABET.charAt(acc >> bits);
      acc &= (1 << bits) - 1;
    }
  }
  return bits ? out + B64U_ALPHABET.charAt(acc << (6 - bits)) : out;
}

/**
 * True iff text is unpadded base64url whose last character leaves no unused bit set (so every
 * byte string has one spelling), as voting.canonical.b64u_decode accepts it.
 */
var isB64u = matcher(/^[A-Za-z0-9_-]*$/, (text) => {
  var rem = text.length % 4;
  var last = B64U_ALPHABET.indexOf(text.charAt(text.length - 1));
  return rem !== 1 && (rem === 0 || last % (rem === 2 ? 16 : 4) === 0);
});

/** Strict unpadded base64url, as voting.canonical.b64u_decode: no padding, no other alphabet, no stray bits. */
function b64uDecode(text) {
  if (!isB64u(text)) throw new FormatError('not canonical unpadded base64url');
  var out = new Uint8Array(Math.floor((text.length * 6) / 8));
  var acc = 0;
  var bits = 0;
  var p = 0;
  for (var i = 0; i < text.length; i++) {
    acc = acc * 64 + B64U_ALPHABET.indexOf(text.charAt(i));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[p++] = acc >> bits;
      acc &= (1 << bits) - 1;
    }
  }
  return out; // the unused low bits left in acc are zero: isB64u checked them
}

/** Lowercase hex of bytes. */
function bytesToHex(bytes) {
  var out = '';
  for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}

/** True iff value is a lowercase hex SHA-256 (64 characters). */
var isHashHex = matcher(/^[0-9a-f]{64}$/);

/** The 32 bytes of a lowercase hex SHA-256; throws FormatError otherwise. */
function hashFromHex(text) {
  if (!isHashHex(text)) throw new FormatError('not a lowercase hex SHA-256');
  return new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16)));
}

// --- identifiers, keys, times ----------------------------------------------------------------------

/** True iff value is a protocol identifier: 1–64 of A-Z a-z 0-9 . _ : - */
var isId = matcher(/^[A-Za-z0-9._:-]{1,64}$/);

/** True iff value is the b64u of 32 bytes (an Ed25519 public key). */
var isPublicKey = matcher(/^.{43}$/, isB64u);

/** True iff value is the b64u of 64 bytes (an Ed25519 signature). */
var isSignature = matcher(/^.{86}$/, isB64u);

/** True iff value is the b64u of 16 bytes (a ballot nonce). */
var isNonce = matcher(/^.{22}$/, isB64u);

/** True iff value is a protocol time: UTC 'YYYY-MM-DDTHH:MM:SSZ' or with exactly six fraction digits. */
var isTime = matcher(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/, (text) => {
  var n = text.match(/\d+/g).map(Number); // year, month, day, hour, minute, second[, fraction]
  // The month's last day: day 0 of the next month, in a year of the same place in the 400-year leap cycle.
  var days = new Date(Date.UTC(2000 + (n[0] % 400), n[1], 0)).getUTCDate();
  return n[0] >= 1 && n[1] >= 1 && n[1] <= 12 && n[2] >= 1 && n[2] <= days && n[3] <= 23 && n[4] <= 59 && n[5] <= 59;
});

/** A protocol time of a Date: UTC, whole seconds, truncated (a recorded time is never later than the real one). */
function formatTime(date) {
  var text = date instanceof Date && Number.isFinite(date.getTime()) ? date.toISOString().slice(0, 19) + 'Z' : '';
  if (!isTime(text)) throw new FormatError('not a valid Date of a protocol time');
  return text;
}

// --- hashing and the Merkle log (docs/protocol.md §4, §6; RFC 9162) ---------------------------------

/** Lowercase hex SHA-256 of bytes (a Uint8Array or an array of byte values). */
function sha256Hex(bytes) {
  if (isString(bytes)) throw new TypeError('sha256Hex takes bytes, not text');
  return bytesToHex(sha256(bytes));
}

/** Hex leaf hash of raw leaf bytes: SHA-256(0x00 ‖ bytes) (RFC 9162 §2.1.1). */
var leafHashOfBytes = (bytes) => bytesToHex(new sha256.Hash().update([0]).update(bytes).digest());

/** Hex leaf hash of a log entry (or roll entry): SHA-256(0x00 ‖ canonical JSON of the entry). */
var leafHash = (entry) => leafHashOfBytes(canonical(entry));

/** SHA-256(0x01 ‖ left ‖ right) as 32 bytes. */
var nodeHash = (left, right) => new sha256.Hash().update([1]).update(left).update(right).digest();

/** The root of the empty tree, SHA-256(""). */
var EMPTY_ROOT = sha256Hex([]);

/** A proof's hashes as bytes, or null unless it is a list of lowercase hex SHA-256 (without holes). */
var hashList = (proof) => isArray(proof) && proof.filter(isHashHex).length === proof.length ? proof.map(hashFromHex) : null;

var isHashList = (proof) => hashList(proof) !== null;

var half = (n) => Math.floor(n / 2);

/**
 * The climb both RFC 9162 verifications share (§2.1.3.2 and §2.1.4.2): from node fn of a tree whose
 * last node is sn, the path's hashes are combined into sr (the larger tree's root) and, if `fr` is
 * given, fr (the smaller tree's root, which takes only the hashes on the left). Returns [fr, sr],
 * or null if the path does not end exactly at the root.
 */
function climb(fn, sn, path, fr, sr) {
  for (var i = 0; i < path.length; i++) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      if (fr) fr = nodeHash(path[i], fr);
      sr = nodeHash(path[i], sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, path[i]);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? [fr, sr] : null;
}

/**
 * RFC 9162 §2.1.3.2: true iff proof (hex hashes, bottom-up) shows the leaf hash at leafIndex in the
 * tree of `size` leaves with root rootHex. Never throws on bad input: anything malformed is false.
 */
function verifyInclusion(leafIndex, size, leafHashHex, proof, rootHex) {
  var path = hashList(proof);
  if (!path || !isIndex(leafIndex) || !isSafeInt(size) || leafIndex >= size || !isHashHex(leafHashHex) || !isHashHex(rootHex)) return false;
  var roots = climb(leafIndex, size - 1, path, null, hashFromHex(leafHashHex));
  return !!roots && bytesToHex(roots[1]) === rootHex;
}

/**
 * RFC 9162 §2.1.4.2: true iff proof shows that the tree (first, firstRoot) is a prefix of
 * (second, secondRoot). As voting.merkle.verify_consistency: 0 < first ≤ second; for first =
 * second the proof is empty and the roots equal. Never throws on bad input.
 */
function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (!isSafeInt(first) || !isSafeInt(second) || !(first > 0 && first <= second)) return false;
  if (first === second) {
    // As voting.merkle and the reference vectors: an empty proof and equal roots, whatever they hold.
    return isArray(proof) && proof.length === 0 && isString(firstRoot) && firstRoot === secondRoot;
  }
  var path = hashList(proof);
  if (!path || !path.length || !isHashHex(firstRoot) || !isHashHex(secondRoot)) return false;
  var fn = first - 1;
  var sn = second - 1;
  for (var odd = first; odd % 2 === 0; odd /= 2);
  if (odd === 1) path.unshift(hashFromHex(firstRoot)); // first is a power of two: the old root is itself a node of the new tree
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  var roots = climb(fn, sn, path.slice(1), path[0], path[0]);
  return !!roots && bytesToHex(roots[0]) === firstRoot && bytesToHex(roots[1]) === secondRoot;
}

// --- Ed25519 (docs/protocol.md §2) -----------------------------------------------------------------

// The group order L = 2^252 + 27742317777372353535851937790883648493, as 64 hex digits. tweetnacl's
// verify does not refuse S ≥ L (a second spelling of a signature); the server's OpenSSL does, so
// this library refuses it too. S is the signature's last 32 bytes, little-endian: reversed, its hex
// compares with L's as the numbers do.
var ORDER_L = '1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed';

/** True iff signatureB64u is publicKeyB64u's Ed25519 signature of messageBytes; never throws on bad input. */
function verifyBytes(publicKeyB64u, signatureB64u, messageBytes) {
  if (!isPublicKey(publicKeyB64u) || !isSignature(signatureB64u)) return false;
  var signature = b64uDecode(signatureB64u);
  return bytesToHex(signature.slice(32).reverse()) < ORDER_L && nacl.sign.detached.verify(messageBytes, signature, b64uDecode(publicKeyB64u));
}

/** True iff signedObject.signature signs the canonical JSON of the rest of it (tree heads, tallies). */
function verifyObject(publicKeyB64u, signedObject) {
  if (!isPlainObject(signedObject)) return false;
  var unsigned = Object.assign({}, signedObject);
  delete unsigned.signature;
  try {
    return verifyBytes(publicKeyB64u, signedObject.signature, canonical(unsigned));
  } catch (e) {
    return false;
  }
}

function toBytes(value, length, what) {
  if (typeName(value) !== '[object Uint8Array]' || value.length !== length) {
    throw new TypeError(what + ' must be a Uint8Array of ' + length + ' bytes');
  }
  return new Uint8Array(value); // a copy of this realm's kind: tweetnacl checks with instanceof
}

/**
 * The owner's key pair from 32 random bytes (the page takes them from wx.getRandomValues):
 * {publicKey: b64u, secretKey: Uint8Array(64) — seed ‖ public key, as tweetnacl keeps it}.
 */
function keyPairFromSeed(seed32) {
  var pair = nacl.sign.keyPair.fromSeed(toBytes(seed32, 32, 'seed'));
  return { publicKey: b64uEncode(pair.publicKey), secretKey: pair.secretKey };
}

// --- ballots and the envelopes of ballots and delegations (docs/protocol.md §5.5, §5.7, §5.8) -------

// The kinds of signed objects: each is the `type` of the object and the field that holds it in its envelope.
var BALLOT_KIND = 'ballot';
var DELEGATION = 'delegation';
var REVOCATION = 'delegation_revocation';

var BALLOT = { type: equals(BALLOT_KIND), vote_id: isId, right_id: isId, choice: 0, nonce: isNonce, signed_at: isTime };

var isOption = (value) => ['approve', 'reject', 'abstain'].indexOf(value) >= 0;

/**
 * Why choice is not well-formed, or null. Without a definition only the form is checked; with one
 * (entry 0 of the vote's log) also the option list or the candidates and seats, as the server does.
 */
function choiceProblem(choice, definition) {
  if (!isPlainObject(choice)) return 'choice must be an object';
  if (!(definition ? definition.kind === 'election' : hasOwn(choice, 'approve'))) {
    return shapeProblem(choice, { option: isOption }, 'choice') ? 'choice must be {option: approve|reject|abstain}' : null;
  }
  if (shapeProblem(choice, { approve: isArray }, 'choice')) return 'choice must be {approve: [candidate ids]}';
  var approve = choice.approve;
  var known = definition && isArray(definition.candidates) ? definition.candidates.map((c) => c && c.id) : null;
  for (var i = 0; i < approve.length; i++) {
    if (!isId(approve[i]) || (known && known.indexOf(approve[i]) < 0)) return 'choice approves an unknown candidate';
    if (approve.indexOf(approve[i]) !== i) return 'choice repeats a candidate';
  }
  return definition && isSafeInt(definition.seats) && approve.length > definition.seats ? 'choice approves more candidates than seats' : null;
}

/**
 * Why obj is not a well-formed `what` (a ballot B, a delegation D, a revocation R, a witness) — of
 * the form `spec`, and of the definition's vote when one is given — or null.
 */
function formProblem(obj, spec, what, definition) {
  var bad = shapeProblem(obj, spec, what);
  if (bad) return hasOwn(spec, bad) ? what + '.' + bad + ' is malformed' : bad;
  return definition && obj.vote_id !== definition.vote_id ? what + '.vote_id: not this vote' : null;
}

/** Why ballot (B, the object the owner signs) is not well-formed, or null (voting.entries.validate_ballot). */
function ballotProblem(ballot, definition) {
  var bad = formProblem(ballot, BALLOT, BALLOT_KIND, definition);
  if (bad) return bad;
  bad = choiceProblem(ballot.choice, definition);
  return bad && 'ballot: ' + bad;
}

/** Why `signed` of the envelope field `kind` is not well-formed, or null. */
var problemOfKind = (kind, signed, definition) => kind === BALLOT_KIND ? ballotProblem(signed, definition) : delegationProblem(signed, kind, definition);

/**
 * The signed object made from the page's arguments: nonceBytes (16 fresh random bytes from
 * wx.getRandomValues) and signedAt (a Date, written as whole UTC seconds, or a protocol time) become
 * `nonce` and `signed_at`. Throws FormatError if it would not be well-formed (for the definition's
 * vote when one is given); the result is a plain copy.
 */
function newSigned(fields, args, definition) {
  fields.signed_at = args.signedAt instanceof Date ? formatTime(args.signedAt) : args.signedAt;
  fields.nonce = b64uEncode(toBytes(args.nonceBytes, 16, 'nonceBytes'));
  var bad = problemOfKind(fields.type, fields, definition);
  if (bad) throw new FormatError(bad);
  return JSON.parse(canonicalString(fields));
}

/**
 * B, the object an owner's device signs. nonceBytes: 16 fresh random bytes (wx.getRandomValues);
 * signedAt: a Date (written as whole UTC seconds) or a protocol time string. Throws FormatError if
 * the result would not be a well-formed ballot (checked against definition when one is given).
 */
var newBallot = (args, definition) => newSigned({ type: BALLOT_KIND, vote_id: args.voteId, right_id: args.rightId, choice: args.choice }, args, definition);

/**
 * The envelope {<kind>: signed, public_key, signature} for a signed object of the kind `kind`:
 * secretKey (from keyPairFromSeed) signs the canonical JSON of `signed`; the envelope holds a copy
 * of exactly the signed object. Throws FormatError for an object the server would refuse for its form.
 */
function signEnvelope(kind, signed, secretKey) {
  var key = toBytes(secretKey, 64, 'secretKey');
  var bad = problemOfKind(kind, signed);
  if (bad) throw new FormatError(bad);
  var text = canonicalString(signed);
  var envelope = {};
  envelope[kind] = JSON.parse(text);
  envelope.public_key = b64uEncode(key.subarray(32, 64));
  envelope.signature = b64uEncode(nacl.sign.detached(utf8Encode(text), key));
  return envelope;
}

/** The envelope {ballot, public_key, signature} that POST /api/v1/votes/<vid>/ballots takes. */
var signBallot = (ballot, secretKey) => signEnvelope(BALLOT_KIND, ballot, secretKey);

/**
 * 'ballot', 'delegation' or 'delegation_revocation' for an envelope of that kind with exactly its
 * fields {<kind>, public_key, signature} (whatever their values), else null.
 */
function envelopeKind(envelope) {
  var keys = isPlainObject(envelope) ? Object.keys(envelope).sort() : []; // each kind sorts before public_key
  return keys.length === 3 && keys[1] === 'public_key' && keys[2] === 'signature' &&
    [BALLOT_KIND, DELEGATION, REVOCATION].indexOf(keys[0]) >= 0 ? keys[0] : null;
}

/** True iff envelope is an envelope of its kind, well formed (for the definition's vote, when given). */
function envelopeFormOk(envelope, definition) {
  var kind = envelopeKind(envelope);
  return !!kind && isPublicKey(envelope.public_key) && isSignature(envelope.signature) && !problemOfKind(kind, envelope[kind], definition);
}

/** The kind of envelope if it is well formed (for the definition's vote, when given) and its signature verifies, else null. */
function verifiedKind(envelope, definition) {
  var kind = envelopeKind(envelope);
  return envelopeFormOk(envelope, definition) && verifyBytes(envelope.public_key, envelope.signature, canonical(envelope[kind])) ? kind : null;
}

/** True iff envelope is a well-formed ballot envelope and its signature verifies (voting.entries.validate_envelope). */
var verifyEnvelope = (envelope, definition) => verifiedKind(envelope, definition) === BALLOT_KIND;

// --- problems: stable codes, Chinese text ----------------------------------------------------------

var PROBLEMS = {
  server_key_invalid: '服务器公钥无效',
  receipt_malformed: '回执格式不正确',
  receipt_lacks_entry: '回执缺少日志条目，无法确认记录的是您的选票 (receipt lacks entry)',
  receipt_other_vote: '回执不属于本次表决',
  head_malformed: '树头格式不正确',
  head_other_vote: '树头不属于本次表决',
  head_signature_invalid: '树头签名与服务器公钥不符',
  leaf_outside_tree: '条目序号超出树头范围',
  inclusion_failed: '包含证明不成立',
  entry_malformed: '日志条目无法规范化',
  entry_hash_mismatch: '日志条目与叶哈希不符',
  entry_not_ballot: '日志条目不是签名选票',
  entry_not_this_ballot: '日志记录的选票与本机签署的不同',
  envelope_invalid: '本机保存的选票信封格式无效',
  entry_not_delegation: '日志条目不是本机签署的那种委托书',
  definition_witnesses_invalid: '表决定义中的见证人名单无效',
  definition_missing: '缺少表决定义，无法核对见证人联署',
  cosignature_malformed: '见证人联署格式不正确',
  cosignature_other_vote: '见证人联署不属于本次表决',
  cosignature_unknown_witness: '联署者不是表决定义中的见证人',
  cosignature_forged: '见证人联署的签名与见证人公钥不符',
  cosignature_other_head: '见证人联署的不是这个树头',
  cosignature_repeated: '同一见证人的联署重复出现',
  quorum_missing: '联署的见证人不足法定数',
  proof_missing: '缺少一致性证明',
  server_key_changed: '服务器公钥与本机记住的不同',
  stored_head_invalid: '本机记住的树头已损坏，改记新树头',
  split_same_size: '分叉视图：两个签名树头大小相同而根不同',
  split_inconsistent: '分叉视图：两个签名树头之间的一致性证明不成立'
};

var problem = (code, detail) => ({ code: code, message: PROBLEMS[code] + (detail ? '（' + detail + '）' : '') });

// --- tree heads (docs/protocol.md §6) --------------------------------------------------------------

var TREE_HEAD = { type: equals('tree_head'), vote_id: isId, size: isIndex, root: isHashHex, timestamp: isTime, signature: isSignature };

/**
 * The problems of a tree head ([] if it is a well-formed head of voteId signed by serverKey).
 * voteId may be omitted; then any identifier is accepted. Mirrors voting.entries.tree_head_problem.
 */
function treeHeadProblems(head, serverKey, voteId) {
  if (!isPublicKey(serverKey)) return [problem('server_key_invalid')];
  var shape = shapeProblem(head, TREE_HEAD, 'tree head');
  if (shape) return [problem('head_malformed', shape)];
  if (voteId != null && head.vote_id !== voteId) return [problem('head_other_vote', head.vote_id + ' ≠ ' + voteId)];
  return verifyObject(serverKey, head) ? [] : [problem('head_signature_invalid')];
}

/** True iff head is a well-formed tree head (of voteId, when given) signed by serverKey (b64u). */
var verifyTreeHead = (head, serverKey, voteId) => !treeHeadProblems(head, serverKey, voteId).length;

// --- receipts --------------------------------------------------------------------------------------

var RECEIPT = { vote_id: isId, leaf_index: isIndex, leaf_hash: isHashHex, tree_head: 0, inclusion_proof: isHashList, entry: 0 };
var ENTRY = { type: 0, received_at: isTime, envelope: 0 };

/** The server key of options: options.serverKey, or else the definition's. */
var serverKeyOf = (opts, definition) => opts.serverKey !== undefined ? opts.serverKey : definition ? definition.server_key : undefined;

/**
 * Check a receipt the server returned for an envelope this phone signed: a ballot (the owner's, or
 * a proxy's signed with the delegate key — the same form), or [1.1] a delegation or its revocation.
 * options: {serverKey: the vote's pinned server key (definition.server_key), envelope: the
 * envelope this phone sent, definition: optional entry 0 — then serverKey defaults to its
 * server_key, the receipt must be of its vote and a delegation needs a linli-vote/1.1 vote}.
 * Returns {ok, problems: [{code, message}]}: ok iff the tree head is signed by serverKey and is for
 * the envelope's vote, the inclusion proof puts leaf_hash at leaf_index in that tree, and the
 * receipt's `entry` is the log entry (of the envelope's kind) of exactly this envelope whose leaf
 * hash is leaf_hash. Receipts have the same form in linli-vote/1 and 1.1.
 */
function checkReceipt(receipt, options) {
  var opts = options || {};
  var definition = isPlainObject(opts.definition) ? opts.definition : null;
  var serverKey = serverKeyOf(opts, definition);
  var envelope = opts.envelope;
  var problems = [];
  var add = (code, detail) => {
    problems.push(problem(code, detail));
  };
  var done = () => ({ ok: !problems.length, problems: problems });
  if (!isPublicKey(serverKey)) add('server_key_invalid');
  // The phone's envelope: a ballot (its owner's or, with 1.1, a proxy's), or a delegation or its revocation.
  var kind = envelopeKind(envelope) || BALLOT_KIND;
  var envelopeOk = envelopeFormOk(envelope, definition);
  if (!envelopeOk) add('envelope_invalid');
  var hasEntry = isPlainObject(receipt) && hasOwn(receipt, 'entry');
  if (isPlainObject(receipt) && !hasEntry) add('receipt_lacks_entry');
  var shape = shapeProblem(receipt, RECEIPT, 'receipt', 'entry');
  if (shape) {
    add('receipt_malformed', shape);
    return done();
  }
  var voteId = definition ? definition.vote_id : envelopeOk ? envelope[kind].vote_id : receipt.vote_id;
  if (receipt.vote_id !== voteId) add('receipt_other_vote', receipt.vote_id + ' ≠ ' + voteId);

  var head = receipt.tree_head;
  if (isPublicKey(serverKey)) problems.push.apply(problems, treeHeadProblems(head, serverKey, voteId));
  if (isPlainObject(head) && isSafeInt(head.size) && isHashHex(head.root)) {
    if (receipt.leaf_index >= head.size) add('leaf_outside_tree', receipt.leaf_index + ' ≥ ' + head.size);
    else if (!verifyInclusion(receipt.leaf_index, head.size, receipt.leaf_hash, receipt.inclusion_proof, head.root)) add('inclusion_failed');
  }

  if (hasEntry) {
    var entry = receipt.entry;
    try {
      if (leafHash(entry) !== receipt.leaf_hash) add('entry_hash_mismatch');
    } catch (e) {
      add('entry_malformed', e.message);
    }
    if (shapeProblem(entry, ENTRY, 'entry') || entry.type !== kind) add(kind === BALLOT_KIND ? 'entry_not_ballot' : 'entry_not_delegation');
    else if (envelopeOk && !sameCanonical(entry.envelope, envelope)) add('entry_not_this_ballot');
  }
  return done();
}

function sameCanonical(a, b) {
  try {
    return canonicalString(a) === canonicalString(b);
  } catch (e) {
    return false;
  }
}

// --- remembered tree heads and split views ---------------------------------------------------------

var SAME_SIZE = 'same_size_different_root';
var SPLIT_VIEW = '给不同的人看了不同的日志（分叉视图）';
var SPLIT_TEXT = {
  same_size_different_root: '服务器签署了两个条目数相同而根哈希不同的树头，只追加的日志不会这样：它' + SPLIT_VIEW + '或改写了记录。',
  consistency_proof_fails: '服务器签署了两个树头，却证明不了小的日志是大的日志的前缀：它可能改写或删除了记录，或' + SPLIT_VIEW + '。'
};
var COSIGNED_SPLIT_TEXT = '见证人联署了其中的树头：见证人看到的日志也不一致。';
var SPLIT_TAIL = '两个树头都有服务器签名，任何人可用表决定义中的服务器公钥核验。请保存并转交业主委员会或街道办。';

/**
 * Remembers, per vote, the largest signed tree head this phone has seen, and catches a split view.
 * storage: a synchronous adapter {get(key), set(key, value)} — the page passes
 * {get: wx.getStorageSync, set: wx.setStorageSync}; a missing key may read as undefined, null or ''.
 * Values are stored as JSON text under `${prefix}head/${voteId}` and `${prefix}split/${voteId}`.
 */
class HeadMemory {
  constructor(storage, options) {
    if (!storage || typeof storage.get !== 'function' || typeof storage.set !== 'function') {
      throw new TypeError('HeadMemory needs storage {get, set}');
    }
    this.storage = storage;
    this.prefix = (options && options.prefix) || 'linli-vote/';
  }

  _read(key) {
    var text = this.storage.get(this.prefix + key);
    try {
      return isString(text) ? JSON.parse(text) : text || null;
    } catch (e) {
      return null; // '' (nothing stored) or damaged
    }
  }

  _write(key, value) {
    this.storage.set(this.prefix + key, stringify(value));
  }

  /** The remembered {head, server_key[, cosignatures]} of a vote, or null. */
  remembered(voteId) {
    var record = this._read('head/' + voteId);
    return isPlainObject(record) && isPlainObject(record.head) ? record : null;
  }

  /** The split-view evidence recorded for a vote (the first one found), or null. */
  splitEvidence(voteId) {
    return this._read('split/' + voteId);
  }

  /**
   * Show the memory a signed tree head of a vote. options: {serverKey (the definition's
   * server_key), proof: the consistency proof (hex list) between the remembered head's size and
   * this head's size, smaller first — `GET …/proofs/consistency?first=&second=`; not needed when
   * nothing is remembered yet or the sizes are equal}.
   * [1.1] head may be the answer of `GET …/tree-head[?cosigned=true]`, {tree_head, cosignatures, …}
   * (or a head with options.cosignatures), with options.definition (then serverKey and voteId
   * default to the definition's): the co-signatures are checked with checkCosignedHead.
   * Returns {ok, status, head, problems, evidence, cosigned, quorum, quorumMet}:
   *   status 'first'    nothing was remembered: this head is remembered (trust on first sight);
   *          'newer'    larger and consistent with the remembered one: remembered instead;
   *          'same'     same size and root as the remembered one;
   *          'older'    smaller and consistent: the remembered (larger) head stays;
   *          'rejected' not a head of this vote signed by serverKey, or no proof given: nothing changes;
   *          'split'    the two signed heads cannot both be true: `evidence` (also stored, see
   *                     splitEvidence) holds both heads, the proof and a Chinese explanation;
   *                     the remembered head stays.
   * `head` is the head remembered afterwards.
   */
  update(head, options) {
    var opts = options || {};
    var definition = isPlainObject(opts.definition) ? opts.definition : null;
    var cosignatures = opts.cosignatures;
    if (isPlainObject(head) && hasOwn(head, 'tree_head')) { // GET …/tree-head: {tree_head, cosignatures, …}
      cosignatures = head.cosignatures;
      head = head.tree_head;
    }
    var serverKey = serverKeyOf(opts, definition);
    var voteId = opts.voteId !== undefined ? opts.voteId : definition ? definition.vote_id : isPlainObject(head) ? head.vote_id : undefined;
    var withCosigs = cosignatures != null;
    var record = isId(voteId) ? this.remembered(voteId) : null;
    var old = record ? record.head : null;
    var check = { cosigned: [], quorum: null, ok: false }; // [1.1] the co-signature check of this head (none: a plain head)
    var cos = check; // … in results once the head is accepted
    var result = (status, kept, problems, evidence) => {
      return { ok: status !== 'rejected' && status !== 'split', status: status, head: kept, problems: problems, evidence: evidence || null,
        cosigned: cos.cosigned, quorum: cos.quorum, quorumMet: cos.ok };
    };
    var remember = (kept, list, status, notes) => { // remembers kept (with its co-signatures) and says so
      var value = { head: kept, server_key: serverKey };
      if (list.length) value.cosignatures = list;
      this._write('head/' + voteId, value);
      return result(status, kept, notes || []);
    };
    var problems = withCosigs && !definition ? [problem('definition_missing')] : treeHeadProblems(head, serverKey, voteId);
    if (!problems.length && !isId(voteId)) problems = [problem('head_malformed', 'no vote id')];
    if (!problems.length && head.size === 0 && head.root !== EMPTY_ROOT) problems = [problem('head_malformed', 'size 0, root not empty')];
    if (withCosigs && !problems.length) {
      check = checkCosignedHead(head, cosignatures, definition, serverKey);
      problems = brokenCosigned(check);
    }
    if (!problems.length && record && record.server_key !== serverKey) problems = [problem('server_key_changed')];
    if (problems.length) return result('rejected', old, problems);
    cos = check;
    var cosigs = withCosigs ? cosignatures.slice() : [];
    if (!record) return remember(head, cosigs, 'first');
    var oldCosigs = isArray(record.cosignatures) ? record.cosignatures : [];
    var proof = opts.proof;
    var reason = null;
    if (old.size === head.size) {
      if (old.root === head.root) {
        var more = cosigs.filter((c) => !oldCosigs.some((o) => o.witness === c.witness));
        return more.length ? remember(old, oldCosigs.concat(more), 'same') : result('same', old, []);
      }
      reason = SAME_SIZE;
      proof = null;
    } else if (!isArray(proof)) {
      return result('rejected', old, [problem('proof_missing')]);
    }
    var newIsLarger = old.size < head.size;
    var small = newIsLarger ? old : head;
    var large = newIsLarger ? head : old;
    if (!reason && small.size > 0 && !verifyConsistency(small.size, large.size, small.root, large.root, proof)) reason = 'consistency_proof_fails';
    if (!reason) return newIsLarger ? remember(head, cosigs, 'newer') : result('older', old, []);
    // The remembered head was verified when it was stored; only evidence re-checks it (storage can rot).
    if (!verifyTreeHead(old, serverKey, voteId)) return remember(head, cosigs, 'first', [problem('stored_head_invalid')]);
    // Co-signatures go into the evidence only if they still verify (storage can rot here too).
    var keptOld = definition ? oldCosigs.filter((c) => verifyCosignature(c, definition) && c.size === old.size && c.root === old.root) : [];
    var firstCosigs = newIsLarger ? keptOld : cosigs;
    var secondCosigs = newIsLarger ? cosigs : keptOld;
    var evidence = {
      type: SPLIT_VIEW_1,
      vote_id: voteId,
      server_key: serverKey,
      reason: reason,
      first_tree_head: small,
      second_tree_head: large,
      consistency_proof: proof ? proof.slice() : null,
      explanation: SPLIT_TEXT[reason] + SPLIT_TAIL
    };
    if (firstCosigs.length || secondCosigs.length) {
      // [1.1] Heads the witnesses co-signed: the evidence carries their co-signatures and the
      // definition's witness list, so it proves that witnesses were shown different logs too.
      evidence.type = SPLIT_VIEW_1_1;
      evidence.witnesses = witnessesOf(definition).witnesses;
      evidence.witness_quorum = definition.witness_quorum;
      evidence.first_cosignatures = firstCosigs;
      evidence.second_cosignatures = secondCosigs;
      evidence.explanation = SPLIT_TEXT[reason] + COSIGNED_SPLIT_TEXT + SPLIT_TAIL;
    }
    if (!this._read('split/' + voteId)) this._write('split/' + voteId, evidence);
    return result('split', old, [problem(reason === SAME_SIZE ? 'split_same_size' : 'split_inconsistent')], evidence);
  }
}

/** The problems of a checkCosignedHead result but too few co-signers: a head co-signed by fewer than the quorum is no refusal. */
var brokenCosigned = (check) => check.problems.filter((p) => p.code !== 'quorum_missing');

var EVIDENCE = { type: 0, vote_id: 0, server_key: 0, reason: 0, first_tree_head: 0, second_tree_head: 0, consistency_proof: 0, explanation: 0 };
var COSIGNED_EVIDENCE = Object.assign({ witnesses: 0, witness_quorum: 0, first_cosignatures: isArray, second_cosignatures: isArray }, EVIDENCE);

/**
 * Re-check split-view evidence on its own (anyone it is forwarded to can run this): true iff both
 * heads are tree heads of the evidence's vote signed by its server key and cannot both be true —
 * same size with different roots, or the given consistency proof fails between them. [1.1] Evidence
 * of co-signed heads also needs every co-signature in it valid for its own head, under the
 * witness list it carries, and at least one of them.
 */
function checkSplitEvidence(evidence) {
  var cosigned = isPlainObject(evidence) && evidence.type === SPLIT_VIEW_1_1;
  if (shapeProblem(evidence, cosigned ? COSIGNED_EVIDENCE : EVIDENCE, '') || (!cosigned && evidence.type !== SPLIT_VIEW_1)) return false;
  var a = evidence.first_tree_head;
  var b = evidence.second_tree_head;
  if (!verifyTreeHead(a, evidence.server_key, evidence.vote_id) || !verifyTreeHead(b, evidence.server_key, evidence.vote_id)) return false;
  if (cosigned) {
    // The witnesses as a definition names them; every co-signature valid and of its own head.
    var definition = Object.assign({}, evidence, { protocol: PROTOCOL_1_1 }); // its vote_id, server_key, witnesses, witness_quorum
    var firsts = evidence.first_cosignatures;
    var seconds = evidence.second_cosignatures;
    // (an invalid witness list is a problem of each check)
    if (!(firsts.length || seconds.length) || brokenCosigned(checkCosignedHead(a, firsts, definition)).length ||
      brokenCosigned(checkCosignedHead(b, seconds, definition)).length) return false;
  }
  if (evidence.reason === SAME_SIZE) return a.size === b.size && a.root !== b.root;
  return evidence.reason === 'consistency_proof_fails' && isArray(evidence.consistency_proof) && a.size < b.size &&
    !verifyConsistency(a.size, b.size, a.root, b.root, evidence.consistency_proof);
}

// --- linli-vote/1.1: witnesses' co-signatures and proxies -------------------------------------------
// (docs/protocol.md §5.1, §5.7, §5.8, §6.4; Python: voting/witnesses.py, voting/delegations.py)

function isText(value) {
  try {
    return isString(value) && !!value && !!canonical(value);
  } catch (e) {
    return false;
  }
}

var WITNESS = { id: isId, name: isText, public_key: isPublicKey };
var COSIGNATURE = {
  type: equals('cosignature'), vote_id: isId, size: (size) => isIndex(size) && size > 0,
  root: isHashHex, witness: isId, timestamp: isTime, signature: isSignature
};

// --- the definition's witnesses (§5.1) -------------------------------------------------------------

/**
 * The witnesses of a definition (entry 0), checked as voting.witnesses.validate_witnesses:
 * {ok, protocol, witnesses: [{id, name, public_key}], quorum, keys: {id: public_key}, problem}.
 * A linli-vote/1 definition has no witnesses (quorum 0); a linli-vote/1.1 one has both fields.
 */
function witnessesOf(definition) {
  var out = { ok: false, protocol: null, witnesses: [], quorum: 0, keys: {}, problem: null };
  var fail = (text) => {
    out.problem = text;
    return out;
  };
  if (!isPlainObject(definition)) return fail('definition must be an object');
  out.protocol = definition.protocol;
  if (definition.protocol === PROTOCOL) {
    if (hasOwn(definition, 'witnesses') || hasOwn(definition, 'witness_quorum')) return fail('linli-vote/1 has no witnesses');
    out.ok = true;
    return out;
  }
  if (definition.protocol !== PROTOCOL_1_1) return fail('unknown protocol');
  var list = definition.witnesses;
  var quorum = definition.witness_quorum;
  if (!isArray(list) || list.length > 64) return fail('definition.witnesses must be a list of at most 64');
  var keys = {};
  for (var i = 0; i < list.length; i++) {
    var w = list[i];
    var where = 'definition.witnesses[' + i + ']';
    var bad = formProblem(w, WITNESS, where);
    if (bad) return fail(bad);
    if (w.public_key === definition.server_key) return fail(where + ' is the server key');
    if (list.some((v, j) => j < i && (v.id === w.id || v.public_key === w.public_key))) return fail('definition.witnesses repeat');
    keys[w.id] = w.public_key;
  }
  if (!isIndex(quorum) || quorum < Math.min(1, list.length) || quorum > list.length) return fail('definition.witness_quorum out of range');
  out.ok = true;
  out.witnesses = JSON.parse(stringify(list)); // a copy: each has exactly {id, name, public_key}, all strings
  out.quorum = quorum;
  out.keys = keys;
  return out;
}

// --- co-signatures (§6.4) --------------------------------------------------------------------------

// The problem why cosig is not a valid co-signature for the definition whose witnesses are `who`
// (witnessesOf), its detail after `at`; or null (voting.witnesses.cosignature_problem).
function cosignatureFault(cosig, who, definition, at) {
  if (!who.ok) return problem('definition_witnesses_invalid', at + who.problem);
  var shape = shapeProblem(cosig, COSIGNATURE, 'co-signature');
  if (shape) return problem('cosignature_malformed', at + shape);
  if (cosig.vote_id !== definition.vote_id) return problem('cosignature_other_vote', at + cosig.vote_id);
  if (!hasOwn(who.keys, cosig.witness)) return problem('cosignature_unknown_witness', at + cosig.witness);
  if (!verifyObject(who.keys[cosig.witness], cosig)) return problem('cosignature_forged', at + cosig.witness);
  return null;
}

/**
 * The problems of a co-signature for this vote ([] if valid): its form, the definition's vote, a
 * witness the definition names, and that witness's signature over the canonical JSON without
 * `signature` (voting.witnesses.cosignature_problem).
 */
function cosignatureProblems(cosig, definition) {
  var fault = cosignatureFault(cosig, witnessesOf(definition), definition, '');
  return fault ? [fault] : [];
}

/** True iff cosig is a valid co-signature of a witness of `definition`, for its vote. */
var verifyCosignature = (cosig, definition) => !cosignatureProblems(cosig, definition).length;

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
  var add = (code, detail) => out.problems.push(problem(code, detail));
  if (!who.ok) {
    add('definition_witnesses_invalid', who.problem);
    return out;
  }
  var key = serverKey == null ? definition.server_key : serverKey;
  out.problems = treeHeadProblems(head, key, definition.vote_id);
  if (!out.problems.length && key !== definition.server_key) add('server_key_changed');
  if (!isArray(cosignatures)) {
    add('cosignature_malformed', 'not a list');
    return out;
  }
  var seen = {};
  cosignatures.forEach((c, i) => {
    var at = '#' + i + ' ';
    var fault = cosignatureFault(c, who, definition, at);
    if (fault) out.problems.push(fault);
    else if (!isPlainObject(head) || c.size !== head.size || c.root !== head.root) add('cosignature_other_head', at + c.witness);
    else if (seen[c.witness]) add('cosignature_repeated', c.witness);
    else seen[c.witness] = true;
  });
  who.witnesses.forEach((w) => {
    (seen[w.id] ? out.cosigned : out.missing).push(w.id);
  });
  if (out.cosigned.length < who.quorum) add('quorum_missing', out.cosigned.length + ' / ' + who.quorum);
  out.ok = !out.problems.length;
  return out;
}

// --- delegations and their revocations (§5.7, §5.8) ------------------------------------------------
// Their envelopes {delegation | delegation_revocation, public_key, signature} are made, told apart
// and verified by the envelope code above, as ballots are.

/** Why `signed` is not a well-formed D (kind 'delegation') or R ('delegation_revocation'), or null. */
function delegationProblem(signed, kind, definition) {
  var what = kind || (isPlainObject(signed) ? signed.type : DELEGATION);
  if (what !== DELEGATION && what !== REVOCATION) return 'unknown kind';
  var spec = { type: equals(what), vote_id: isId, right_id: isId, delegate_key: isPublicKey, nonce: isNonce, signed_at: isTime };
  return formProblem(signed, spec, what, definition) ||
    (definition && definition.protocol !== PROTOCOL_1_1 ? 'proxies need a linli-vote/1.1 vote' : null);
}

var newOf = (kind, args, definition) => newSigned({ type: kind, vote_id: args.voteId, right_id: args.rightId, delegate_key: args.delegateKey }, args, definition);

/**
 * D, the delegation an owner's device signs: {voteId, rightId, delegateKey (the delegate's b64u
 * public key, from the delegate's phone), nonceBytes (16 from wx.getRandomValues), signedAt (a Date
 * or a protocol time)}; checked against the definition when given (a linli-vote/1.1 vote).
 */
var newDelegation = (args, definition) => newOf(DELEGATION, args, definition);

/** R, the revocation of the proxy of args.delegateKey (same arguments as newDelegation). */
var newRevocation = (args, definition) => newOf(REVOCATION, args, definition);

/**
 * The envelope POST …/delegations (or …/delegation-revocations) takes: {delegation |
 * delegation_revocation: the signed object, public_key, signature} (voting.delegations.sign_delegation).
 */
var signDelegation = (signed, secretKey) => signEnvelope(isPlainObject(signed) && signed.type === REVOCATION ? REVOCATION : DELEGATION, signed, secretKey);

/** 'delegation' or 'delegation_revocation' for an envelope of either kind with exactly its fields, else null. */
function delegationKind(envelope) {
  var kind = envelopeKind(envelope);
  return kind === BALLOT_KIND ? null : kind;
}

/** True iff envelope is a well-formed delegation or revocation envelope whose signature verifies. */
function verifyDelegation(envelope, definition) {
  var kind = verifiedKind(envelope, definition);
  return !!kind && kind !== BALLOT_KIND;
}

// --- handing a proxy key from phone to phone -------------------------------------------------------

var KEY_TEXT_PREFIX = 'linli-proxy-key:';

function checkKey(publicKey) {
  if (!isPublicKey(publicKey)) throw new FormatError('not a b64u Ed25519 public key');
  return publicKey;
}

/**
 * The short fingerprint two people compare by eye: the first 16 hex digits (64 bits) of
 * SHA-256 of the raw 32 key bytes, in groups of four ("3fa9 0c1b 77e2 41d0"). 64 bits: making a
 * second key with the same fingerprint costs about 2^64 tries.
 */
var keyFingerprint = (publicKey) => sha256Hex(b64uDecode(checkKey(publicKey))).slice(0, 16).match(/..../g).join(' ');

/** What the delegate's phone shows as QR code and as text: `linli-proxy-key:<b64u key>`. */
var proxyKeyText = (publicKey) => KEY_TEXT_PREFIX + checkKey(publicKey);

/** The key in a scanned or pasted text (`linli-proxy-key:<key>`, or the bare key; spaces ignored), or null. */
function parseProxyKeyText(text) {
  if (!isString(text)) return null;
  var t = text.replace(/\s+/g, '');
  if (t.indexOf(KEY_TEXT_PREFIX) === 0) t = t.slice(KEY_TEXT_PREFIX.length);
  return isPublicKey(t) ? t : null;
}

module.exports = {
  PROTOCOL: PROTOCOL,
  PROTOCOL_1_1: PROTOCOL_1_1,
  MAX_SAFE_INT: MAX_SAFE_INT,
  EMPTY_ROOT: EMPTY_ROOT,
  PROBLEMS: PROBLEMS,
  CanonicalError: CanonicalError,
  FormatError: FormatError,
  canonical: canonical,
  canonicalString: canonicalString,
  utf8Encode: utf8Encode,
  b64uEncode: b64uEncode,
  b64uDecode: b64uDecode,
  bytesToHex: bytesToHex,
  hashFromHex: hashFromHex,
  isHashHex: isHashHex,
  isId: isId,
  isPublicKey: isPublicKey,
  isSignature: isSignature,
  isNonce: isNonce,
  isTime: isTime,
  formatTime: formatTime,
  sha256Hex: sha256Hex,
  leafHash: leafHash,
  leafHashOfBytes: leafHashOfBytes,
  verifyInclusion: verifyInclusion,
  verifyConsistency: verifyConsistency,
  verifyBytes: verifyBytes,
  verifyObject: verifyObject,
  keyPairFromSeed: keyPairFromSeed,
  choiceProblem: choiceProblem,
  ballotProblem: ballotProblem,
  newBallot: newBallot,
  signBallot: signBallot,
  verifyEnvelope: verifyEnvelope,
  treeHeadProblems: treeHeadProblems,
  verifyTreeHead: verifyTreeHead,
  checkReceipt: checkReceipt,
  HeadMemory: HeadMemory,
  checkSplitEvidence: checkSplitEvidence,
  // [1.1]
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

/**
 * linli-vote/1 and linli-vote/1.1 client library for the Linli mini-program (docs/protocol.md is normative).
 * The 1.1 parts — witnesses' co-signatures and proxies' delegations — are in lib/linli-vote-witness.js,
 * loaded here with this file's helpers and re-exported: users require this file only.
 *
 * Plain ES2017 CommonJS, pure functions, no `wx` and no randomness inside: the page hands in the
 * 32 random bytes of a key seed and the 16 of a nonce (from wx.getRandomValues), and a storage
 * adapter for HeadMemory. The same file runs unchanged under Node (`require`), so anyone can audit
 * a phone's checks on a computer; its tests compare it byte for byte with the server's Python
 * package voting/ (miniprogram/README.md).
 *
 * Numbers: sizes and indexes are JavaScript numbers, handled with arithmetic (never 32-bit bit
 * operators), so every integer up to 2^53 - 1 works. No BigInt anywhere.
 */
'use strict';

var nacl = require('tweetnacl');
var sha256 = require('fast-sha256'); // sha256(bytes) → Uint8Array(32); sha256.Hash streams

var PROTOCOL = 'linli-vote/1';
var PROTOCOL_1_1 = 'linli-vote/1.1';
var MAX_SAFE_INT = 9007199254740991; // 2^53 - 1, the protocol's integer bound (voting/canonical.py)
var OPTIONS = ['approve', 'reject', 'abstain'];

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

var hasOwn = function (obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
};

// A JSON object: made by a literal, JSON.parse or Object.create(null), in this realm or another
// (the page's data may come from another JS context); never a class instance, Date, Map, array.
function isPlainObject(value) {
  if (value === null || typeof value !== 'object' || Object.prototype.toString.call(value) !== '[object Object]') return false;
  var proto = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function isSafeInt(value) {
  return typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_SAFE_INT;
}

function sameKeys(obj, expected) {
  var keys = Object.keys(obj);
  if (keys.length !== expected.length) return false;
  for (var i = 0; i < expected.length; i++) if (!hasOwn(obj, expected[i])) return false;
  return true;
}

function keyProblem(obj, expected, what) {
  if (!isPlainObject(obj)) return what + ' must be an object';
  return sameKeys(obj, expected) ? null : what + ' must have exactly the fields ' + expected.join(', ');
}

// --- UTF-8 -----------------------------------------------------------------------------------------

/** UTF-8 bytes of a string; throws on a lone surrogate (it has no UTF-8 form). */
function utf8Encode(text) {
  var out = new Uint8Array(text.length * 3);
  var p = 0;
  for (var i = 0; i < text.length; i++) {
    var c = text.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 63);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      var d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) throw new CanonicalError('string contains a lone surrogate');
      var cp = 0x10000 + (c - 0xd800) * 1024 + (d - 0xdc00);
      out[p++] = 0xf0 | (cp >> 18);
      out[p++] = 0x80 | ((cp >> 12) & 63);
      out[p++] = 0x80 | ((cp >> 6) & 63);
      out[p++] = 0x80 | (cp & 63);
      i++;
    } else {
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 63);
      out[p++] = 0x80 | (c & 63);
    }
  }
  return out.slice(0, p);
}

// --- canonical JSON (docs/protocol.md §1; voting/canonical.py) --------------------------------------

var ASCII_ONLY = /^[\x00-\x7f]*$/;
/**
 * The JSON string literal as Python's json.dumps(ensure_ascii=False) writes it: JSON.stringify
 * escapes exactly `"`, `\\`, \b \f \n \r \t and the other controls as lowercase \u00XX, and
 * writes everything else raw (U+007F, U+2028/2029, all non-ASCII) — the same, once lone surrogates
 * (the only strings where engines differ, and which have no canonical form) are refused.
 */
var quote = JSON.stringify;

function hasLoneSurrogate(text) {
  try {
    encodeURIComponent(text); // ES5: throws URIError exactly for a lone surrogate
    return false;
  } catch (e) {
    return true;
  }
}

function checkString(text, path) {
  if (ASCII_ONLY.test(text)) return;
  if (hasLoneSurrogate(text)) throw new CanonicalError(path + ': string contains a lone surrogate');
  if (text.normalize('NFC') !== text) throw new CanonicalError(path + ': string is not NFC-normalised');
}

function writeCanonical(value, path, out) {
  if (value === null) {
    out.push('null');
  } else if (value === true) {
    out.push('true');
  } else if (value === false) {
    out.push('false');
  } else if (typeof value === 'string') {
    checkString(value, path);
    out.push(quote(value));
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalError(path + ': ' + value + ' is not JSON');
    if (!Number.isInteger(value)) throw new CanonicalError(path + ': floats are not allowed');
    if (Math.abs(value) > MAX_SAFE_INT) throw new CanonicalError(path + ': integer ' + value + ' outside ±(2^53−1)');
    out.push(value === 0 ? '0' : String(value)); // -0 is JSON.parse('-0'); Python reads it as int 0
  } else if (Array.isArray(value)) {
    out.push('[');
    for (var i = 0; i < value.length; i++) {
      if (i) out.push(',');
      if (!(i in value)) throw new CanonicalError(path + '[' + i + ']: an array hole is not allowed');
      writeCanonical(value[i], path + '[' + i + ']', out);
    }
    out.push(']');
  } else if (isPlainObject(value)) {
    var keys = Object.keys(value);
    for (var k = 0; k < keys.length; k++) {
      if (!ASCII_ONLY.test(keys[k])) throw new CanonicalError(path + ': object key ' + JSON.stringify(keys[k]) + ' is not ASCII');
    }
    keys.sort(); // ASCII keys: UTF-16 order is code-point order, as Python's sort_keys
    out.push('{');
    for (var j = 0; j < keys.length; j++) {
      if (j) out.push(',');
      out.push(quote(keys[j]), ':');
      var item = value[keys[j]];
      if (item === undefined) throw new CanonicalError(path + '.' + keys[j] + ': undefined is not allowed');
      writeCanonical(item, path + '.' + keys[j], out);
    }
    out.push('}');
  } else {
    var kind = value === undefined ? 'undefined' : typeof value === 'object' ? Object.prototype.toString.call(value) : typeof value;
    throw new CanonicalError(path + ': type ' + kind + ' is not allowed');
  }
}

/**
 * The canonical JSON text of value (a string). Equal, as UTF-8, to Python's
 * json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for every value that
 * voting.canonical.canonical accepts; throws CanonicalError where it refuses (floats, NaN,
 * integers beyond ±(2^53−1), non-ASCII keys, lone surrogates, non-NFC strings, and non-JSON
 * values such as undefined, functions, Dates, typed arrays and array holes).
 */
function canonicalString(value) {
  var out = [];
  writeCanonical(value, '$', out);
  return out.join('');
}

/** The canonical JSON bytes (UTF-8 Uint8Array) of value: what is hashed and signed. */
function canonical(value) {
  return utf8Encode(canonicalString(value));
}

// --- base64url and hex -----------------------------------------------------------------------------

var B64U_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
var B64U_VALUE = {};
for (var bi = 0; bi < B64U_ALPHABET.length; bi++) B64U_VALUE[B64U_ALPHABET.charAt(bi)] = bi;
var B64U_TEXT = /^[A-Za-z0-9_-]*$/;

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

/** True iff the last character leaves no unused bit set (so every byte string has one spelling). */
function b64uLastCharOk(text) {
  var rem = text.length % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  var last = B64U_VALUE[text.charAt(text.length - 1)];
  return rem === 2 ? last % 16 === 0 : last % 4 === 0;
}

/** Strict unpadded base64url, as voting.canonical.b64u_decode: no padding, no other alphabet, no stray bits. */
function b64uDecode(text) {
  if (typeof text !== 'string' || !B64U_TEXT.test(text)) throw new FormatError('not unpadded base64url');
  if (!b64uLastCharOk(text)) throw new FormatError('not canonical unpadded base64url');
  var out = new Uint8Array(Math.floor((text.length * 6) / 8));
  var acc = 0;
  var bits = 0;
  var p = 0;
  for (var i = 0; i < text.length; i++) {
    acc = acc * 64 + B64U_VALUE[text.charAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[p++] = acc >> bits;
      acc &= (1 << bits) - 1;
    }
  }
  return out; // the unused low bits left in acc are zero: b64uLastCharOk checked them
}

var HEX = '0123456789abcdef';
var HASH_HEX = /^[0-9a-f]{64}$/;

/** Lowercase hex of bytes. */
function bytesToHex(bytes) {
  var out = '';
  for (var i = 0; i < bytes.length; i++) out += HEX.charAt(bytes[i] >> 4) + HEX.charAt(bytes[i] & 15);
  return out;
}

/** True iff value is a lowercase hex SHA-256 (64 characters). */
function isHashHex(value) {
  return typeof value === 'string' && HASH_HEX.test(value);
}

/** The 32 bytes of a lowercase hex SHA-256; throws FormatError otherwise. */
function hashFromHex(text) {
  if (!isHashHex(text)) throw new FormatError('not a lowercase hex SHA-256');
  var out = new Uint8Array(32);
  for (var i = 0; i < 32; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

// --- identifiers, keys, times ----------------------------------------------------------------------

var ID = /^[A-Za-z0-9._:-]{1,64}$/;
var B64U_32 = /^[A-Za-z0-9_-]{43}$/;
var B64U_64 = /^[A-Za-z0-9_-]{86}$/;
var B64U_16 = /^[A-Za-z0-9_-]{22}$/;
var TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{6}))?Z$/;

/** True iff value is a protocol identifier: 1–64 of A-Z a-z 0-9 . _ : - */
function isId(value) {
  return typeof value === 'string' && ID.test(value);
}

function b64uFixed(value, pattern) {
  return typeof value === 'string' && pattern.test(value) && b64uLastCharOk(value);
}

/** True iff value is the b64u of 32 bytes (an Ed25519 public key). */
function isPublicKey(value) {
  return b64uFixed(value, B64U_32);
}

/** True iff value is the b64u of 64 bytes (an Ed25519 signature). */
function isSignature(value) {
  return b64uFixed(value, B64U_64);
}

/** True iff value is the b64u of 16 bytes (a ballot nonce). */
function isNonce(value) {
  return b64uFixed(value, B64U_16);
}

function daysInMonth(year, month) {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].indexOf(month) >= 0 ? 30 : 31;
}

/** True iff value is a protocol time: UTC 'YYYY-MM-DDTHH:MM:SSZ' or with exactly six fraction digits. */
function isTime(value) {
  if (typeof value !== 'string') return false;
  var m = TIME.exec(value);
  if (!m) return false;
  var year = +m[1], month = +m[2], day = +m[3];
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) &&
    +m[4] <= 23 && +m[5] <= 59 && +m[6] <= 59;
}

/** A protocol time of a Date: UTC, whole seconds, truncated (a recorded time is never later than the real one). */
function formatTime(date) {
  if (!(date instanceof Date) || !Number.isFinite(date.getTime())) throw new FormatError('not a valid Date');
  var text = date.toISOString().slice(0, 19) + 'Z';
  if (!isTime(text)) throw new FormatError('not a protocol time: ' + text);
  return text;
}

// --- hashing and the Merkle log (docs/protocol.md §4, §6; RFC 9162) ---------------------------------

function digest(bytes) {
  return sha256(bytes);
}

/** Lowercase hex SHA-256 of bytes (a Uint8Array or an array of byte values). */
function sha256Hex(bytes) {
  if (typeof bytes === 'string') throw new TypeError('sha256Hex takes bytes (utf8Encode text first)');
  return bytesToHex(digest(bytes));
}

var LEAF_PREFIX = [0];

/** SHA-256(0x00 ‖ leaf) as 32 bytes. */
function leafHashRaw(leafBytes) {
  return new sha256.Hash().update(LEAF_PREFIX).update(leafBytes).digest();
}

/** SHA-256(0x01 ‖ left ‖ right) as 32 bytes. */
function nodeHash(left, right) {
  var buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return digest(buf);
}

/** Hex leaf hash of a log entry (or roll entry): SHA-256(0x00 ‖ canonical JSON of the entry). */
function leafHash(entry) {
  return bytesToHex(leafHashRaw(canonical(entry)));
}

/** Hex leaf hash of raw leaf bytes: SHA-256(0x00 ‖ bytes) (RFC 9162 §2.1.1). */
function leafHashOfBytes(bytes) {
  return bytesToHex(leafHashRaw(bytes));
}

/** The root of the empty tree, SHA-256(""). */
var EMPTY_ROOT = sha256Hex(new Uint8Array(0));

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  var diff = 0;
  for (var i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function hashList(proof) {
  if (!Array.isArray(proof)) return null;
  var out = [];
  for (var i = 0; i < proof.length; i++) {
    if (!isHashHex(proof[i])) return null;
    out.push(hashFromHex(proof[i]));
  }
  return out;
}

function isOdd(n) {
  return n % 2 === 1;
}

function half(n) {
  return Math.floor(n / 2);
}

/**
 * RFC 9162 §2.1.3.2: true iff proof (hex hashes, bottom-up) shows the leaf hash at leafIndex in the
 * tree of `size` leaves with root rootHex. Never throws on bad input: anything malformed is false.
 */
function verifyInclusion(leafIndex, size, leafHashHex, proof, rootHex) {
  if (!isSafeInt(leafIndex) || !isSafeInt(size) || leafIndex < 0 || leafIndex >= size) return false;
  if (!isHashHex(leafHashHex) || !isHashHex(rootHex)) return false;
  var path = hashList(proof);
  if (path === null) return false;
  var fn = leafIndex;
  var sn = size - 1;
  var r = hashFromHex(leafHashHex);
  for (var i = 0; i < path.length; i++) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(path[i], r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, path[i]);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, hashFromHex(rootHex));
}

function isPowerOfTwo(n) {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
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
    return Array.isArray(proof) && proof.length === 0 && typeof firstRoot === 'string' && firstRoot === secondRoot;
  }
  if (!isHashHex(firstRoot) || !isHashHex(secondRoot)) return false;
  var path = hashList(proof);
  if (path === null) return false;
  if (path.length === 0) return false;
  var rootM = hashFromHex(firstRoot);
  if (isPowerOfTwo(first)) path.unshift(rootM); // the old root is itself a node of the new tree
  var fn = first - 1;
  var sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  var fr = path[0];
  var sr = path[0];
  for (var i = 1; i < path.length; i++) {
    if (sn === 0) return false;
    var c = path[i];
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, rootM) && equalBytes(sr, hashFromHex(secondRoot));
}

// --- Ed25519 (docs/protocol.md §2) -----------------------------------------------------------------

// The group order L, little-endian. tweetnacl's verify does not refuse S ≥ L (a second spelling of a
// signature); the server's OpenSSL does, so this library refuses it too.
var ORDER_L = [
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10
];

function scalarBelowOrder(signature) {
  for (var i = 31; i >= 0; i--) {
    var s = signature[32 + i];
    if (s < ORDER_L[i]) return true;
    if (s > ORDER_L[i]) return false;
  }
  return false;
}

/** True iff signatureB64u is publicKeyB64u's Ed25519 signature of messageBytes; never throws on bad input. */
function verifyBytes(publicKeyB64u, signatureB64u, messageBytes) {
  if (!isPublicKey(publicKeyB64u) || !isSignature(signatureB64u)) return false;
  var signature = b64uDecode(signatureB64u);
  if (!scalarBelowOrder(signature)) return false;
  return nacl.sign.detached.verify(messageBytes, signature, b64uDecode(publicKeyB64u));
}

/** True iff signedObject.signature signs the canonical JSON of the rest of it (tree heads, tallies). */
function verifyObject(publicKeyB64u, signedObject) {
  if (!isPlainObject(signedObject) || typeof signedObject.signature !== 'string') return false;
  var unsigned = {};
  Object.keys(signedObject).forEach(function (k) {
    if (k !== 'signature') unsigned[k] = signedObject[k];
  });
  var message;
  try {
    message = canonical(unsigned);
  } catch (e) {
    return false;
  }
  return verifyBytes(publicKeyB64u, signedObject.signature, message);
}

function toBytes(value, length, what) {
  if (Object.prototype.toString.call(value) !== '[object Uint8Array]' || value.length !== length) {
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

// --- ballots (docs/protocol.md §5.5) ---------------------------------------------------------------

var BALLOT_KEYS = ['type', 'vote_id', 'right_id', 'choice', 'nonce', 'signed_at'];
var ENVELOPE_KEYS = ['ballot', 'public_key', 'signature'];
var BALLOT_ENTRY_KEYS = ['type', 'received_at', 'envelope'];
var TREE_HEAD_KEYS = ['type', 'vote_id', 'size', 'root', 'timestamp', 'signature'];
var RECEIPT_KEYS = ['vote_id', 'leaf_index', 'leaf_hash', 'tree_head', 'inclusion_proof', 'entry'];

/**
 * Why choice is not well-formed, or null. Without a definition only the form is checked; with one
 * (entry 0 of the vote's log) also the option list or the candidates and seats, as the server does.
 */
function choiceProblem(choice, definition) {
  if (!isPlainObject(choice)) return 'choice must be an object';
  var election = definition ? definition.kind === 'election' : hasOwn(choice, 'approve');
  if (!election) {
    if (!sameKeys(choice, ['option']) || OPTIONS.indexOf(choice.option) < 0) {
      return 'choice must be {option: approve|reject|abstain}';
    }
    return null;
  }
  if (!sameKeys(choice, ['approve']) || !Array.isArray(choice.approve)) return 'choice must be {approve: [candidate ids]}';
  var approve = choice.approve;
  var known = definition && Array.isArray(definition.candidates)
    ? definition.candidates.map(function (c) { return c && c.id; })
    : null;
  for (var i = 0; i < approve.length; i++) {
    if (!isId(approve[i]) || (known && known.indexOf(approve[i]) < 0)) return 'choice approves an unknown candidate';
    if (approve.indexOf(approve[i]) !== i) return 'choice repeats a candidate';
  }
  if (definition && isSafeInt(definition.seats) && approve.length > definition.seats) {
    return 'choice approves more candidates than seats';
  }
  return null;
}

/** Why ballot (B, the object the owner signs) is not well-formed, or null (voting.entries.validate_ballot). */
function ballotProblem(ballot, definition) {
  var shape = keyProblem(ballot, BALLOT_KEYS, 'ballot');
  if (shape) return shape;
  if (ballot.type !== 'ballot') return "ballot.type must be 'ballot'";
  if (!isId(ballot.vote_id) || (definition && ballot.vote_id !== definition.vote_id)) return 'ballot.vote_id: not this vote';
  if (!isId(ballot.right_id)) return 'ballot.right_id: not an identifier';
  if (!isNonce(ballot.nonce)) return 'ballot.nonce: not 16 bytes of b64u';
  if (!isTime(ballot.signed_at)) return 'ballot.signed_at: not a protocol time';
  var problem = choiceProblem(ballot.choice, definition);
  return problem ? 'ballot: ' + problem : null;
}

/**
 * B, the object an owner's device signs. nonceBytes: 16 fresh random bytes (wx.getRandomValues);
 * signedAt: a Date (written as whole UTC seconds) or a protocol time string. Throws FormatError if
 * the result would not be a well-formed ballot (checked against definition when one is given).
 */
function newBallot(args, definition) {
  var signedAt = args.signedAt instanceof Date ? formatTime(args.signedAt) : args.signedAt;
  var ballot = {
    type: 'ballot',
    vote_id: args.voteId,
    right_id: args.rightId,
    choice: args.choice,
    nonce: b64uEncode(toBytes(args.nonceBytes, 16, 'nonceBytes')),
    signed_at: signedAt
  };
  var problem = ballotProblem(ballot, definition);
  if (problem) throw new FormatError(problem);
  return JSON.parse(canonicalString(ballot));
}

/**
 * The envelope {ballot, public_key, signature} that POST /api/v1/votes/<vid>/ballots takes:
 * secretKey (from keyPairFromSeed) signs the canonical JSON of ballot. The envelope holds a copy of
 * exactly the signed object. Throws FormatError for a ballot the server would refuse for its form.
 */
function signBallot(ballot, secretKey) {
  var key = toBytes(secretKey, 64, 'secretKey');
  var problem = ballotProblem(ballot);
  if (problem) throw new FormatError(problem);
  var text = canonicalString(ballot);
  var signature = nacl.sign.detached(utf8Encode(text), key);
  return { ballot: JSON.parse(text), public_key: b64uEncode(key.subarray(32, 64)), signature: b64uEncode(signature) };
}

function envelopeFormOk(envelope, definition) {
  return !keyProblem(envelope, ENVELOPE_KEYS, 'envelope') && isPublicKey(envelope.public_key) &&
    isSignature(envelope.signature) && !ballotProblem(envelope.ballot, definition);
}

/** True iff envelope is well-formed and its signature verifies (voting.entries.validate_envelope). */
function verifyEnvelope(envelope, definition) {
  return envelopeFormOk(envelope, definition) && verifyBytes(envelope.public_key, envelope.signature, canonical(envelope.ballot));
}

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

function problem(code, detail) {
  return { code: code, message: PROBLEMS[code] + (detail ? '（' + detail + '）' : '') };
}

// --- tree heads (docs/protocol.md §6) --------------------------------------------------------------

/**
 * The problems of a tree head ([] if it is a well-formed head of voteId signed by serverKey).
 * voteId may be omitted; then any identifier is accepted. Mirrors voting.entries.tree_head_problem.
 */
function treeHeadProblems(head, serverKey, voteId) {
  if (!isPublicKey(serverKey)) return [problem('server_key_invalid')];
  var shape = keyProblem(head, TREE_HEAD_KEYS, 'tree head');
  if (!shape) {
    if (head.type !== 'tree_head') shape = 'type';
    else if (!isId(head.vote_id)) shape = 'vote_id';
    else if (!isSafeInt(head.size) || head.size < 0) shape = 'size';
    else if (!isHashHex(head.root)) shape = 'root';
    else if (!isTime(head.timestamp)) shape = 'timestamp';
    else if (!isSignature(head.signature)) shape = 'signature';
  }
  if (shape) return [problem('head_malformed', shape)];
  if (voteId !== undefined && voteId !== null && head.vote_id !== voteId) {
    return [problem('head_other_vote', head.vote_id + ' ≠ ' + voteId)];
  }
  if (!verifyObject(serverKey, head)) return [problem('head_signature_invalid')];
  return [];
}

/** True iff head is a well-formed tree head (of voteId, when given) signed by serverKey (b64u). */
function verifyTreeHead(head, serverKey, voteId) {
  return treeHeadProblems(head, serverKey, voteId).length === 0;
}

// --- receipts --------------------------------------------------------------------------------------

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
  var serverKey = opts.serverKey !== undefined ? opts.serverKey : definition ? definition.server_key : undefined;
  var envelope = opts.envelope;
  var problems = [];
  if (!isPublicKey(serverKey)) problems.push(problem('server_key_invalid'));
  // The phone's envelope: a ballot (its owner's or, with 1.1, a proxy's), or a delegation or its revocation.
  var kind = W.delegationKind(envelope) || 'ballot';
  var envelopeOk = kind === 'ballot' ? envelopeFormOk(envelope, definition) : W._delegationFormOk(envelope, definition);
  if (!envelopeOk) problems.push(problem('envelope_invalid'));
  if (!isPlainObject(receipt)) {
    problems.push(problem('receipt_malformed', 'not an object'));
    return { ok: false, problems: problems };
  }
  if (!hasOwn(receipt, 'entry')) problems.push(problem('receipt_lacks_entry'));
  var shape = keyProblem(receipt, RECEIPT_KEYS.filter(function (k) { return k !== 'entry' || hasOwn(receipt, 'entry'); }), 'receipt');
  if (!shape) {
    if (!isId(receipt.vote_id)) shape = 'vote_id';
    else if (!isSafeInt(receipt.leaf_index) || receipt.leaf_index < 0) shape = 'leaf_index';
    else if (!isHashHex(receipt.leaf_hash)) shape = 'leaf_hash';
    else if (hashList(receipt.inclusion_proof) === null) shape = 'inclusion_proof';
  }
  if (shape) {
    problems.push(problem('receipt_malformed', shape));
    return { ok: false, problems: problems };
  }
  var voteId = definition ? definition.vote_id : envelopeOk ? envelope[kind].vote_id : receipt.vote_id;
  if (receipt.vote_id !== voteId) problems.push(problem('receipt_other_vote', receipt.vote_id + ' ≠ ' + voteId));

  var head = receipt.tree_head;
  var headProblems = isPublicKey(serverKey) ? treeHeadProblems(head, serverKey, voteId) : [];
  problems.push.apply(problems, headProblems);
  if (isPlainObject(head) && isSafeInt(head.size) && isHashHex(head.root)) {
    if (receipt.leaf_index >= head.size) {
      problems.push(problem('leaf_outside_tree', receipt.leaf_index + ' ≥ ' + head.size));
    } else if (!verifyInclusion(receipt.leaf_index, head.size, receipt.leaf_hash, receipt.inclusion_proof, head.root)) {
      problems.push(problem('inclusion_failed'));
    }
  }

  if (hasOwn(receipt, 'entry')) {
    var entry = receipt.entry;
    var entryHash = null;
    try {
      entryHash = leafHash(entry);
    } catch (e) {
      problems.push(problem('entry_malformed', e.message));
    }
    if (entryHash !== null && entryHash !== receipt.leaf_hash) problems.push(problem('entry_hash_mismatch'));
    if (keyProblem(entry, BALLOT_ENTRY_KEYS, 'entry') || entry.type !== kind || !isTime(entry.received_at)) {
      problems.push(problem(kind === 'ballot' ? 'entry_not_ballot' : 'entry_not_delegation'));
    } else if (envelopeOk && !sameCanonical(entry.envelope, envelope)) {
      problems.push(problem('entry_not_this_ballot'));
    }
  }
  return { ok: problems.length === 0, problems: problems };
}

function sameCanonical(a, b) {
  try {
    return canonicalString(a) === canonicalString(b);
  } catch (e) {
    return false;
  }
}

// --- remembered tree heads and split views ---------------------------------------------------------

var SPLIT_TEXT = {
  same_size_different_root: '服务器签署了两个条目数相同而根哈希不同的树头，只追加的日志不会这样：它给不同的人看了不同的日志（分叉视图）或改写了记录。',
  consistency_proof_fails: '服务器签署了两个树头，却证明不了小的日志是大的日志的前缀：它可能改写或删除了记录，或给不同的人看了不同的日志（分叉视图）。'
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
      throw new TypeError('HeadMemory needs a storage adapter {get(key), set(key, value)}');
    }
    this.storage = storage;
    this.prefix = (options && options.prefix) || 'linli-vote/';
  }

  _read(key) {
    var text = this.storage.get(this.prefix + key);
    if (text === undefined || text === null || text === '') return null;
    try {
      return typeof text === 'string' ? JSON.parse(text) : text;
    } catch (e) {
      return null;
    }
  }

  _write(key, value) {
    this.storage.set(this.prefix + key, JSON.stringify(value));
  }

  /** The remembered {head, server_key} of a vote, or null. */
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
   * Returns {ok, status, head, problems, evidence}:
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
    var serverKey = opts.serverKey !== undefined ? opts.serverKey : definition ? definition.server_key : undefined;
    var voteId = opts.voteId !== undefined ? opts.voteId : definition ? definition.vote_id : isPlainObject(head) ? head.vote_id : undefined;
    var withCosigs = cosignatures !== undefined && cosignatures !== null;
    var problems = withCosigs && !definition ? [problem('definition_missing')] : treeHeadProblems(head, serverKey, voteId);
    if (!problems.length && !isId(voteId)) problems = [problem('head_malformed', 'no vote id')];
    if (!problems.length && head.size === 0 && head.root !== EMPTY_ROOT) problems = [problem('head_malformed', 'size 0, root not empty')];
    var record = isId(voteId) ? this.remembered(voteId) : null;
    var old = record ? record.head : null;
    if (problems.length) return result('rejected', old, problems);
    var cos = null;
    if (withCosigs) {
      cos = W.checkCosignedHead(head, cosignatures, definition, serverKey);
      var broken = cos.problems.filter(function (p) { return p.code !== 'quorum_missing'; });
      if (broken.length) return result('rejected', old, broken);
    }
    var cosigs = cos ? cosignatures.slice() : [];
    if (record && record.server_key !== serverKey) return result('rejected', old, [problem('server_key_changed')]);
    if (!record) return withCos(this._remember(voteId, serverKey, head, cosigs, 'first', []), cos);
    var oldCosigs = Array.isArray(record.cosignatures) ? record.cosignatures : [];
    var proof = opts.proof;
    var reason = null;
    if (old.size === head.size) {
      if (old.root === head.root) {
        var more = cosigs.filter(function (c) { return !oldCosigs.some(function (o) { return o.witness === c.witness; }); });
        if (more.length) this._remember(voteId, serverKey, old, oldCosigs.concat(more), 'same', []);
        return withCos(result('same', old, []), cos);
      }
      reason = 'same_size_different_root';
      proof = null;
    } else if (!Array.isArray(proof)) {
      return withCos(result('rejected', old, [problem('proof_missing')]), cos);
    }
    var newIsLarger = old.size < head.size;
    var small = newIsLarger ? old : head;
    var large = newIsLarger ? head : old;
    if (!reason && small.size > 0 && !verifyConsistency(small.size, large.size, small.root, large.root, proof)) {
      reason = 'consistency_proof_fails';
    }
    // The remembered head was verified when it was stored; only evidence re-checks it (storage can rot).
    if (reason && !verifyTreeHead(old, serverKey, voteId)) return withCos(this._remember(voteId, serverKey, head, cosigs, 'first', [problem('stored_head_invalid')]), cos);
    if (reason) {
      // Co-signatures go into the evidence only if they still verify (storage can rot here too).
      var keptOld = definition ? oldCosigs.filter(function (c) { return W.verifyCosignature(c, definition) && c.size === old.size && c.root === old.root; }) : [];
      return withCos(this._split(reason, {
        vote_id: voteId, server_key: serverKey, first: small, second: large, proof: proof, definition: definition,
        firstCosigs: newIsLarger ? keptOld : cosigs, secondCosigs: newIsLarger ? cosigs : keptOld
      }, old), cos);
    }
    return withCos(newIsLarger ? this._remember(voteId, serverKey, head, cosigs, 'newer', []) : result('older', old, []), cos);
  }

  _remember(voteId, serverKey, head, cosignatures, status, notes) {
    var record = { head: head, server_key: serverKey };
    if (cosignatures.length) record.cosignatures = cosignatures;
    this._write('head/' + voteId, record);
    return result(status, head, notes);
  }

  _split(reason, s, remembered) {
    var evidence = {
      type: PROTOCOL + ' split view',
      vote_id: s.vote_id,
      server_key: s.server_key,
      reason: reason,
      first_tree_head: s.first,
      second_tree_head: s.second,
      consistency_proof: s.proof ? s.proof.slice() : null,
      explanation: SPLIT_TEXT[reason] + SPLIT_TAIL
    };
    if (s.firstCosigs.length || s.secondCosigs.length) {
      // [1.1] Heads the witnesses co-signed: the evidence carries their co-signatures and the
      // definition's witness list, so it proves that witnesses were shown different logs too.
      evidence.type = PROTOCOL_1_1 + ' split view';
      evidence.witnesses = W.witnessesOf(s.definition).witnesses;
      evidence.witness_quorum = s.definition.witness_quorum;
      evidence.first_cosignatures = s.firstCosigs;
      evidence.second_cosignatures = s.secondCosigs;
      evidence.explanation = SPLIT_TEXT[reason] + COSIGNED_SPLIT_TEXT + SPLIT_TAIL;
    }
    if (!this._read('split/' + s.vote_id)) this._write('split/' + s.vote_id, evidence);
    var out = result('split', remembered, [problem(reason === 'same_size_different_root' ? 'split_same_size' : 'split_inconsistent')]);
    out.evidence = evidence;
    return out;
  }
}

// [1.1] The co-signature check of a head shown to HeadMemory, on its result.
function withCos(out, cos) {
  out.cosigned = cos ? cos.cosigned : [];
  out.quorum = cos ? cos.quorum : null;
  out.quorumMet = !!cos && cos.ok;
  return out;
}

function result(status, head, problems) {
  return { ok: status !== 'rejected' && status !== 'split', status: status, head: head, problems: problems, evidence: null,
    cosigned: [], quorum: null, quorumMet: false };
}

/**
 * Re-check split-view evidence on its own (anyone it is forwarded to can run this): true iff both
 * heads are tree heads of the evidence's vote signed by its server key and cannot both be true —
 * same size with different roots, or the given consistency proof fails between them.
 */
var EVIDENCE_KEYS = ['type', 'vote_id', 'server_key', 'reason', 'first_tree_head', 'second_tree_head', 'consistency_proof', 'explanation'];
var COSIGNED_EVIDENCE_KEYS = EVIDENCE_KEYS.concat(['witnesses', 'witness_quorum', 'first_cosignatures', 'second_cosignatures']);

function checkSplitEvidence(evidence) {
  var cosigned = isPlainObject(evidence) && evidence.type === PROTOCOL_1_1 + ' split view';
  if (keyProblem(evidence, cosigned ? COSIGNED_EVIDENCE_KEYS : EVIDENCE_KEYS, 'evidence')) return false;
  if (!cosigned && evidence.type !== PROTOCOL + ' split view') return false;
  var a = evidence.first_tree_head;
  var b = evidence.second_tree_head;
  if (!verifyTreeHead(a, evidence.server_key, evidence.vote_id) || !verifyTreeHead(b, evidence.server_key, evidence.vote_id)) return false;
  if (cosigned) {
    // The witnesses as a definition names them; every co-signature valid and of its own head.
    var definition = { protocol: PROTOCOL_1_1, vote_id: evidence.vote_id, server_key: evidence.server_key,
      witnesses: evidence.witnesses, witness_quorum: evidence.witness_quorum };
    if (!W.witnessesOf(definition).ok) return false;
    var pairs = [[a, evidence.first_cosignatures], [b, evidence.second_cosignatures]];
    for (var i = 0; i < 2; i++) {
      if (!Array.isArray(pairs[i][1])) return false;
      var check = W.checkCosignedHead(pairs[i][0], pairs[i][1], definition);
      if (check.problems.some(function (p) { return p.code !== 'quorum_missing'; })) return false;
    }
    if (!evidence.first_cosignatures.length && !evidence.second_cosignatures.length) return false;
  }
  if (evidence.reason === 'same_size_different_root') return a.size === b.size && a.root !== b.root;
  if (evidence.reason !== 'consistency_proof_fails' || !Array.isArray(evidence.consistency_proof)) return false;
  if (!(a.size < b.size)) return false;
  return !verifyConsistency(a.size, b.size, a.root, b.root, evidence.consistency_proof);
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
  // helpers lent to lib/linli-vote-witness.js (not part of the API)
  _hasOwn: hasOwn,
  _isPlainObject: isPlainObject,
  _isSafeInt: isSafeInt,
  _keyProblem: keyProblem,
  _problem: problem,
  _toBytes: toBytes,
  _sign: function (message, secretKey) { return nacl.sign.detached(message, secretKey); }
};

// [1.1] witnesses and proxies: built on the exports above, re-exported here.
var W = require('./linli-vote-witness.js')(module.exports);
Object.keys(W).forEach(function (name) {
  module.exports[name] = W[name];
});

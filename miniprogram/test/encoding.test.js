'use strict';
// Strict base64url, hex, identifiers and times against voting.canonical / voting.entries.
const test = require('node:test');
const assert = require('node:assert/strict');
const { L, fixture, fromHex, hex } = require('../test-support/helpers.js');

const data = fixture('b64u.json');

test('b64u encodes and decodes as Python does', () => {
  for (const c of data.encode) {
    assert.equal(L.b64uEncode(fromHex(c.hex)), c.b64u, c.hex);
    assert.equal(hex(L.b64uDecode(c.b64u)), c.hex, c.b64u);
  }
  for (const c of data.decode) assert.equal(hex(L.b64uDecode(c.b64u)), c.hex, c.b64u);
});

test('b64u refuses what Python refuses: padding, other alphabets, stray bits, impossible lengths', () => {
  assert.ok(data.refuse.length > 20);
  for (const text of data.refuse) assert.throws(() => L.b64uDecode(text), L.FormatError, JSON.stringify(text));
  for (const bad of [null, undefined, 12, ['AA']]) assert.throws(() => L.b64uDecode(bad), L.FormatError);
});

test('fixed-length b64u checks', () => {
  const key = 'z-NC1yISpZ9pCyQ1Go3QcfBpFSFNP5PwXKSPjsNCtAU';
  assert.ok(L.isPublicKey(key));
  assert.ok(!L.isPublicKey(key.slice(0, -1) + 'V')); // stray bits in the last character
  assert.ok(!L.isPublicKey(key + '='));
  assert.ok(L.isNonce('vNjIjoH4KxWCF1alo4do1g'));
  assert.ok(!L.isNonce('vNjIjoH4KxWCF1alo4do1h'));
  assert.ok(!L.isSignature(key));
});

test('hashes are lowercase hex of 32 bytes', () => {
  const h = L.EMPTY_ROOT;
  assert.equal(h, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(L.sha256Hex(new Uint8Array(0)), h);
  assert.equal(L.sha256Hex(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.throws(() => L.sha256Hex('abc'), TypeError);
  assert.ok(L.isHashHex(h) && !L.isHashHex(h.toUpperCase()) && !L.isHashHex(h + '0') && !L.isHashHex(null));
  assert.throws(() => L.hashFromHex(h.slice(1)), L.FormatError);
});

test('identifiers and protocol times', () => {
  for (const id of ['v-3f9a2c', 'r0', 'a.b_c:d-e', 'x'.repeat(64)]) assert.ok(L.isId(id), id);
  for (const id of ['', 'x'.repeat(65), 'a b', 'é', 'a/b', 'a\n', 12]) assert.ok(!L.isId(id), String(id));
  for (const t of ['2025-03-01T00:00:00Z', '2025-03-01T23:59:59.000001Z', '2024-02-29T12:00:00Z', '0001-01-01T00:00:00Z']) assert.ok(L.isTime(t), t);
  for (const t of ['2025-03-01T00:00:00', '2025-03-01T00:00:00+00:00', '2025-03-01 00:00:00Z', '2025-03-01T00:00:00.5Z',
    '2025-02-29T00:00:00Z', '2025-13-01T00:00:00Z', '2025-03-01T24:00:00Z', '2025-03-01T00:60:00Z', '2025-03-01T00:00:60Z',
    '0000-01-01T00:00:00Z', '2025-03-01T00:00:00Z\n', '２０２５-03-01T00:00:00Z']) assert.ok(!L.isTime(t), t);
  assert.equal(L.formatTime(new Date(Date.UTC(2025, 2, 1, 1, 34, 0, 999))), '2025-03-01T01:34:00Z'); // truncated, never rounded up
  assert.throws(() => L.formatTime(new Date(NaN)), L.FormatError);
});

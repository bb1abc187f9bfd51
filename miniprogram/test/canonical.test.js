'use strict';
// Canonical JSON byte for byte against voting.canonical (fixtures made by tests/js/make_fixtures.py).
const test = require('node:test');
const assert = require('node:assert/strict');
const { L, fixture, hex } = require('../test-support/helpers.js');

const data = fixture('canonical.json');

test('canonical bytes and leaf hashes equal Python for every fixture value', () => {
  assert.ok(data.accepts.length > 200);
  for (const c of data.accepts) {
    assert.equal(hex(L.canonical(c.value)), c.canonical_hex, c.name);
    assert.equal(Buffer.from(L.canonicalString(c.value), 'utf8').toString('hex'), c.canonical_hex, c.name);
    assert.equal(L.leafHash(c.value), c.leaf_hash, c.name);
  }
});

test('every value Python refuses is refused', () => {
  assert.ok(data.refuses.length >= 20);
  for (const c of data.refuses) {
    const value = JSON.parse(c.json);
    assert.throws(() => L.canonical(value), L.CanonicalError, c.name);
    assert.throws(() => L.leafHash(value), L.CanonicalError, c.name);
  }
});

test('JavaScript values with no JSON form are refused', () => {
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  class Thing { constructor() { this.a = 1; } }
  const cases = [NaN, Infinity, -Infinity, 0.5, -1e-300, 2 ** 53, -(2 ** 53), undefined, () => 1, Symbol('s'), BigInt(1),
    new Date(0), new Uint8Array(2), new Map(), sparse, new Thing(), { a: undefined }, [undefined], { n: NaN }, 'e\u0301',
    '\ud800', { 'é': 1 }];
  for (const value of cases) assert.throws(() => L.canonical(value), L.CanonicalError, String(typeof value));
});

test('-0 and integral floats read from JSON are integers, as Python reads -0; 1.0 is one value in JavaScript', () => {
  // JSON.parse('-0') is -0 and Python's json.loads('-0') is the int 0: both canonicalise to "0".
  assert.equal(L.canonicalString(JSON.parse('[-0]')), '[0]');
  // JSON.parse('1.0') === 1: JavaScript cannot see the fraction Python would refuse. Values the
  // library builds itself never contain one; a verifier that must refuse such text parses strictly.
  assert.equal(L.canonicalString(JSON.parse('1.0')), '1');
  assert.equal(L.canonicalString(Object.create(null)), '{}');
});

test('the worked example of docs/protocol.md §13', () => {
  const roll0 = { area: 9012, heads: 1, keys: ['z-NC1yISpZ9pCyQ1Go3QcfBpFSFNP5PwXKSPjsNCtAU'], label: '3-1-102', right_id: 'r062baa1a7736e833' };
  assert.equal(L.canonicalString(roll0),
    '{"area":9012,"heads":1,"keys":["z-NC1yISpZ9pCyQ1Go3QcfBpFSFNP5PwXKSPjsNCtAU"],"label":"3-1-102","right_id":"r062baa1a7736e833"}');
  assert.equal(L.leafHash(roll0), '219d2bdc11c851fefed4641fd9619b56a76db0558b7eeb0180d4b84f59dcb4ef');
  const close = { type: 'close', vote_id: 'v-3f9a2c', closed_at: '2025-03-15T12:00:03Z' };
  assert.equal(L.leafHash(close), '986fb0c6a5922fee561d18ee9a148c632422bd7b42c493b5e5d3fe57e7b1a2f0');
});

test('UTF-8 encoding equals Node\'s for strings without lone surrogates', () => {
  for (const c of data.accepts) {
    if (typeof c.value === 'string') assert.deepEqual(Buffer.from(L.utf8Encode(c.value)), Buffer.from(c.value, 'utf8'));
  }
  assert.throws(() => L.utf8Encode('a\udc00'), L.CanonicalError);
});

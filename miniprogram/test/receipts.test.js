'use strict';
// checkReceipt on receipts made by voting/ (with the logged entry), and every single change of them.
const test = require('node:test');
const assert = require('node:assert/strict');
const { L, fixture, clone, mutations } = require('../test-support/helpers.js');

const data = fixture('receipts.json');
const codes = (result) => result.problems.map((p) => p.code);

test('honest receipts with their entry pass', () => {
  assert.ok(data.good.length >= 15);
  for (const c of data.good) {
    const result = L.checkReceipt(c.receipt, { serverKey: data.server_key, envelope: c.envelope });
    assert.deepEqual(result, { ok: true, problems: [] }, c.name);
  }
});

test('the worked example: Chen\'s receipt with entry 6 of docs/example-bundle.json', () => {
  const ex = data.example;
  assert.equal(L.leafHash(ex.receipt.entry), ex.leaf_hash);
  assert.deepEqual(L.checkReceipt(ex.receipt, { serverKey: ex.server_key, envelope: ex.envelope }), { ok: true, problems: [] });
  assert.ok(!L.checkReceipt(ex.receipt, { serverKey: data.server_key, envelope: ex.envelope }).ok, 'another server key');
});

test('receipts made wrong by voting/ fail with the right problem codes', () => {
  for (const c of data.bad) {
    const result = L.checkReceipt(c.receipt, { serverKey: data.server_key, envelope: c.envelope });
    assert.equal(result.ok, false, c.name);
    assert.deepEqual(codes(result), c.codes, c.name);
    for (const p of result.problems) assert.match(p.message, /[\u4e00-\u9fff]/, 'Chinese text');
  }
  const lacking = data.bad.find((c) => c.codes[0] === 'receipt_lacks_entry');
  assert.match(L.checkReceipt(lacking.receipt, { serverKey: data.server_key, envelope: lacking.envelope }).problems[0].message, /receipt lacks entry/);
});

test('every single-field change of a receipt, its head, its proof or its entry is refused', () => {
  let count = 0;
  for (const c of [data.good[0], data.good[data.good.length - 1], { receipt: data.example.receipt, envelope: data.example.envelope, key: data.example.server_key }]) {
    const serverKey = c.key || data.server_key;
    for (const [desc, receipt] of mutations(c.receipt)) {
      const result = L.checkReceipt(receipt, { serverKey, envelope: c.envelope });
      assert.equal(result.ok, false, desc);
      assert.ok(result.problems.length > 0, desc);
      count++;
    }
  }
  assert.ok(count > 200, `${count} mutations`);
});

test('a receipt checked against a changed envelope (not the ballot this phone signed) is refused', () => {
  const c = data.good[1];
  let count = 0;
  for (const [desc, envelope] of mutations(c.envelope)) {
    const result = L.checkReceipt(c.receipt, { serverKey: data.server_key, envelope });
    assert.equal(result.ok, false, desc);
    count++;
  }
  assert.ok(count > 20);
});

test('missing or broken options are problems, never exceptions', () => {
  const c = data.good[0];
  assert.deepEqual(codes(L.checkReceipt(c.receipt, { envelope: c.envelope })), ['server_key_invalid']);
  assert.deepEqual(codes(L.checkReceipt(c.receipt, { serverKey: data.server_key })), ['envelope_invalid']);
  assert.deepEqual(codes(L.checkReceipt(null, { serverKey: data.server_key, envelope: c.envelope })), ['receipt_malformed']);
  assert.equal(L.checkReceipt(c.receipt).ok, false);
  const r = clone(c.receipt);
  r.entry = { a: 0.5 };
  assert.deepEqual(codes(L.checkReceipt(r, { serverKey: data.server_key, envelope: c.envelope })), ['entry_malformed', 'entry_not_ballot']);
});

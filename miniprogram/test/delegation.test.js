'use strict';
// [1.1] Proxies: delegation and revocation envelopes byte-identical to voting.delegations, their
// receipts and a proxy's ballot receipt checked, every single change refused; the key hand-over text.
const test = require('node:test');
const assert = require('node:assert/strict');
const { L, fixture, clone, fromHex, mutations } = require('../test-support/helpers.js');

const d = fixture('delegation.json');
const w = fixture('witness.json');
const codes = (result) => result.problems.map((p) => p.code);

test('delegations and revocations signed here are byte for byte those of voting.delegations.sign_delegation', () => {
  for (const c of d.cases) {
    const make = c.kind === 'delegation' ? L.newDelegation : L.newRevocation;
    const args = { voteId: c.vote_id, rightId: c.right_id, delegateKey: c.delegate_key, nonceBytes: fromHex(c.nonce_hex), signedAt: c.signed_at };
    const signed = make(args, d.definition);
    assert.equal(Buffer.from(L.canonical(signed)).toString('hex'), c.canonical_hex);
    const pair = L.keyPairFromSeed(fromHex(c.owner_seed_hex));
    const envelope = L.signDelegation(signed, pair.secretKey);
    assert.deepEqual(envelope, c.envelope, c.kind);
    assert.deepEqual(Object.keys(envelope).sort(), [c.kind, 'public_key', 'signature'].sort());
    assert.equal(L.delegationKind(envelope), c.kind);
    assert.ok(L.verifyDelegation(envelope, d.definition));
    assert.ok(L.verifyDelegation(envelope));
    assert.equal(L.verifyEnvelope(envelope), false, 'not a ballot envelope');
  }
});

test('newDelegation refuses what the server would refuse for its form, and a linli-vote/1 vote', () => {
  const c = d.cases[0];
  const args = { voteId: c.vote_id, rightId: c.right_id, delegateKey: c.delegate_key, nonceBytes: fromHex(c.nonce_hex), signedAt: new Date('2025-03-01T00:00:05.900Z') };
  assert.equal(L.newDelegation(args, d.definition).signed_at, '2025-03-01T00:00:05Z', 'whole seconds, truncated');
  assert.throws(() => L.newDelegation(args, w.linli_1_definition), L.FormatError);
  assert.throws(() => L.newDelegation(Object.assign({}, args, { delegateKey: 'abc' })), L.FormatError);
  assert.throws(() => L.newDelegation(Object.assign({}, args, { rightId: 'r 1' })), L.FormatError);
  assert.throws(() => L.newDelegation(Object.assign({}, args, { voteId: 'v-other' }), d.definition), L.FormatError);
  assert.throws(() => L.newRevocation(Object.assign({}, args, { nonceBytes: new Uint8Array(15) })), TypeError);
  assert.throws(() => L.signDelegation({ type: 'ballot' }, new Uint8Array(64)), L.FormatError);
});

test('every single-field change of a delegation or revocation envelope is refused', () => {
  let count = 0;
  for (const c of d.cases) {
    for (const [desc, envelope] of mutations(c.envelope)) {
      assert.equal(L.verifyDelegation(envelope, d.definition), false, `${c.kind}: ${desc}`);
      count++;
    }
  }
  assert.ok(count >= 30, `${count}`);
});

test('receipts of a delegation, a proxy ballot and a revocation check with the envelope this phone signed', () => {
  for (const [name, r] of Object.entries(d.receipts)) {
    assert.deepEqual(L.checkReceipt(r.receipt, { definition: d.definition, envelope: r.envelope }), { ok: true, problems: [] }, name);
    assert.deepEqual(L.checkReceipt(r.receipt, { serverKey: d.server_key, envelope: r.envelope }), { ok: true, problems: [] }, name);
  }
  const { delegation, revocation, proxy_ballot: proxy } = d.receipts;
  // The proxy ballot is signed by the delegate's key, not a key of the right's owners.
  const delegateKey = L.keyPairFromSeed(fromHex(d.delegate_seed_hex)).publicKey;
  assert.equal(proxy.envelope.public_key, delegateKey);
  assert.equal(delegation.envelope.delegation.delegate_key, delegateKey);
  // A receipt shown with the wrong envelope of the same right is refused.
  assert.deepEqual(codes(L.checkReceipt(delegation.receipt, { definition: d.definition, envelope: revocation.envelope })), ['entry_not_delegation']);
  assert.deepEqual(codes(L.checkReceipt(proxy.receipt, { definition: d.definition, envelope: delegation.envelope })), ['entry_not_delegation']);
  assert.deepEqual(codes(L.checkReceipt(delegation.receipt, { definition: d.definition, envelope: proxy.envelope })), ['entry_not_ballot']);
  // Against another vote's definition, and a delegation under a linli-vote/1 definition.
  assert.ok(codes(L.checkReceipt(proxy.receipt, { definition: w.definition, envelope: proxy.envelope })).includes('receipt_other_vote'));
  const v1 = Object.assign(clone(w.linli_1_definition), { vote_id: d.definition.vote_id, server_key: d.server_key });
  assert.deepEqual(codes(L.checkReceipt(delegation.receipt, { definition: v1, envelope: delegation.envelope })), ['envelope_invalid']);
});

test('every single-field change of a delegation receipt or a proxy ballot receipt is refused', () => {
  let count = 0;
  for (const r of [d.receipts.delegation, d.receipts.proxy_ballot, d.receipts.revocation]) {
    for (const [desc, receipt] of mutations(r.receipt)) {
      assert.equal(L.checkReceipt(receipt, { definition: d.definition, envelope: r.envelope }).ok, false, desc);
      count++;
    }
    for (const [desc, envelope] of mutations(r.envelope)) {
      assert.equal(L.checkReceipt(r.receipt, { definition: d.definition, envelope }).ok, false, 'envelope ' + desc);
      count++;
    }
  }
  assert.ok(count > 250, `${count}`);
});

test('the proxy key from phone to phone: text, QR payload and fingerprint', () => {
  const key = L.keyPairFromSeed(fromHex(d.delegate_seed_hex)).publicKey;
  const text = L.proxyKeyText(key);
  assert.equal(text, 'linli-proxy-key:' + key);
  assert.equal(L.parseProxyKeyText(text), key);
  assert.equal(L.parseProxyKeyText('  linli-proxy-key:\n' + key.slice(0, 20) + ' ' + key.slice(20) + ' '), key, 'pasted with spaces');
  assert.equal(L.parseProxyKeyText(key), key);
  for (const bad of ['', 'linli-proxy-key:', 'linli-console-login:abc', text + 'A', text.slice(0, -1), null, 42]) {
    assert.equal(L.parseProxyKeyText(bad), null, String(bad));
  }
  const fp = L.keyFingerprint(key);
  assert.match(fp, /^[0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}$/);
  assert.equal(fp.replace(/ /g, ''), L.sha256Hex(L.b64uDecode(key)).slice(0, 16));
  assert.notEqual(L.keyFingerprint(d.cases[0].envelope.public_key), fp);
  assert.throws(() => L.keyFingerprint('nope'), L.FormatError);
});

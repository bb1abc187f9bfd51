'use strict';
// Ed25519 keys, signatures and ballots against the server's cryptography-based voting/ package.
const test = require('node:test');
const assert = require('node:assert/strict');
const nacl = require('tweetnacl');
const { L, fixture, fromHex, hex } = require('../test-support/helpers.js');

test('key pairs from seeds and deterministic signatures equal Python\'s', () => {
  const data = fixture('keys.json');
  assert.ok(data.keys.length >= 10);
  for (const k of data.keys) {
    const pair = L.keyPairFromSeed(fromHex(k.seed_hex));
    assert.equal(pair.publicKey, k.public_key);
    assert.equal(pair.secretKey.length, 64);
    for (const s of k.signatures) {
      const message = fromHex(s.message_hex);
      assert.equal(L.b64uEncode(nacl.sign.detached(message, pair.secretKey)), s.signature);
      assert.ok(L.verifyBytes(k.public_key, s.signature, message));
      assert.ok(!L.verifyBytes(k.public_key, s.signature, Uint8Array.from([...message, 0])));
      const other = data.keys.find((x) => x.public_key !== k.public_key).public_key;
      assert.ok(!L.verifyBytes(other, s.signature, message));
    }
  }
  assert.throws(() => L.keyPairFromSeed(new Uint8Array(31)), TypeError);
  assert.throws(() => L.keyPairFromSeed([...new Uint8Array(32)]), TypeError);
});

test('a second spelling of a signature (S + L) is refused, as the server\'s OpenSSL refuses it', () => {
  const k = fixture('keys.json').keys[2];
  const s = k.signatures[1];
  const sig = L.b64uDecode(s.signature);
  const order = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
  const malleated = Uint8Array.from(sig);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const v = malleated[32 + i] + order[i] + carry;
    malleated[32 + i] = v & 255;
    carry = v >> 8;
  }
  assert.equal(carry, 0);
  const message = fromHex(s.message_hex);
  const pk = L.b64uDecode(k.public_key);
  assert.ok(nacl.sign.detached.verify(message, malleated, pk), 'tweetnacl alone accepts S + L');
  assert.ok(!L.verifyBytes(k.public_key, L.b64uEncode(malleated), message));
});

test('ballots: newBallot and signBallot give exactly the B and envelope voting/ gives', () => {
  const data = fixture('ballots.json');
  for (const c of data.cases) {
    const ballot = L.newBallot({ voteId: c.vote_id, rightId: c.right_id, choice: c.choice, nonceBytes: fromHex(c.nonce_hex), signedAt: c.signed_at }, data.definition);
    assert.equal(hex(L.canonical(ballot)), c.canonical_ballot_hex);
    const pair = L.keyPairFromSeed(fromHex(c.seed_hex));
    const envelope = L.signBallot(ballot, pair.secretKey);
    assert.deepEqual(envelope, c.envelope);
    assert.ok(L.verifyEnvelope(envelope, data.definition));
    assert.ok(L.verifyEnvelope(c.envelope));
  }
});

test('ballots the server would refuse for their form are refused before signing', () => {
  const data = fixture('ballots.json');
  const def = data.definition;
  const c = data.cases[2];
  const args = { voteId: c.vote_id, rightId: c.right_id, choice: c.choice, nonceBytes: fromHex(c.nonce_hex), signedAt: c.signed_at };
  const bad = [
    { choice: { approve: ['c9'] } },
    { choice: { approve: ['c1', 'c1'] } },
    { choice: { approve: ['c1', 'c2', 'c3'] } }, // seats: 2
    { choice: { option: 'approve' } },
    { choice: { approve: 'c1' } },
    { voteId: 'v-other' },
    { rightId: 'r x' },
    { signedAt: '2025-03-01 00:00:00' }
  ];
  for (const change of bad) assert.throws(() => L.newBallot(Object.assign({}, args, change), def), L.FormatError, JSON.stringify(change));
  assert.throws(() => L.newBallot(Object.assign({}, args, { nonceBytes: new Uint8Array(15) }), def), TypeError);
  // Without a definition only the form is checked.
  assert.ok(L.newBallot(Object.assign({}, args, { choice: { approve: ['c9'] } })));
  assert.ok(L.newBallot(Object.assign({}, args, { choice: { option: 'abstain' } })));
  assert.throws(() => L.newBallot(Object.assign({}, args, { choice: { option: 'maybe' } })), L.FormatError);
  assert.equal(L.newBallot(Object.assign({}, args, { signedAt: new Date(Date.UTC(2025, 2, 1, 1, 2, 3, 900)) })).signed_at, '2025-03-01T01:02:03Z');
  const pair = L.keyPairFromSeed(fromHex(c.seed_hex));
  const ballot = L.newBallot(args, def);
  assert.throws(() => L.signBallot(Object.assign({}, ballot, { extra: 1 }), pair.secretKey), L.FormatError);
  assert.throws(() => L.signBallot(Object.assign({}, ballot, { nonce: 'short' }), pair.secretKey), L.FormatError);
  assert.throws(() => L.signBallot(ballot, pair.secretKey.subarray(0, 32)), TypeError);
});

'use strict';
// HeadMemory: a forked log made with the Python tree (two logs sharing a prefix, every head signed
// by the same key) is caught as a split view; honest heads are accepted; single changes are refused.
const test = require('node:test');
const assert = require('node:assert/strict');
const { L, fixture, clone, mutations, memoryStorage } = require('../test-support/helpers.js');

const fork = fixture('fork.json');
const serverKey = fork.server_key;

test('every scenario of the forked log ends as voting.merkle says', () => {
  let splits = 0;
  for (const scenario of fork.scenarios) {
    const storage = memoryStorage();
    const memory = new L.HeadMemory(storage);
    let remembered = null;
    for (const [i, step] of scenario.steps.entries()) {
      const result = memory.update(step.head, { serverKey, proof: step.proof || undefined });
      const where = `${scenario.name}, step ${i}`;
      assert.equal(result.status, step.expect, where);
      assert.equal(result.ok, step.expect !== 'split', where);
      if (step.expect === 'first' || step.expect === 'newer') remembered = step.head;
      assert.deepEqual(result.head, remembered, where);
      assert.deepEqual(memory.remembered('v-js-fork').head, remembered, where);
      if (step.expect === 'split') {
        splits++;
        const evidence = result.evidence;
        assert.ok(L.checkSplitEvidence(evidence), where);
        assert.deepEqual(JSON.parse(JSON.stringify(evidence)), evidence, 'plain JSON');
        assert.deepEqual(memory.splitEvidence('v-js-fork'), evidence, 'stored for the page');
        assert.match(evidence.explanation, /分叉视图/);
        assert.equal(evidence.server_key, serverKey);
        const heads = [evidence.first_tree_head, evidence.second_tree_head];
        assert.ok(heads.every((h) => L.verifyTreeHead(h, serverKey, 'v-js-fork')));
        assert.ok(heads.some((h) => h.root === step.head.root) && heads.some((h) => h.root === remembered.root));
        assert.ok(result.problems.some((p) => p.code === 'split_same_size' || p.code === 'split_inconsistent'));
      } else {
        assert.equal(memory.splitEvidence('v-js-fork'), null);
      }
    }
  }
  assert.ok(splits >= 5);
});

test('split evidence stands on its own and a changed copy does not', () => {
  const memory = new L.HeadMemory(memoryStorage());
  const s = fork.scenarios.find((x) => x.name === 'larger head of the other log, its own proof');
  memory.update(s.steps[0].head, { serverKey });
  const evidence = memory.update(s.steps[1].head, { serverKey, proof: s.steps[1].proof }).evidence;
  assert.equal(evidence.reason, 'consistency_proof_fails');
  for (const [desc, changed] of mutations(evidence)) {
    if (/^explanation=/.test(desc)) continue; // words, not evidence
    if (/^consistency_proof/.test(desc)) continue; // another failing proof is still a failing proof
    assert.equal(L.checkSplitEvidence(changed), false, desc);
  }
  const honest = fork.scenarios[0].steps;
  assert.equal(L.checkSplitEvidence(Object.assign({}, evidence, { first_tree_head: honest[1].head, second_tree_head: honest[2].head, consistency_proof: honest[2].proof })), false);
});

function honestPair() {
  const steps = fork.scenarios[0].steps; // A5, A9 (proof 5→9), …
  return { first: steps[0].head, next: steps[1].head, proof: steps[1].proof };
}

test('every single-field change of the new head or of the proof is refused', () => {
  const { first, next, proof } = honestPair();
  let count = 0;
  for (const [desc, head] of mutations(next)) {
    const memory = new L.HeadMemory(memoryStorage());
    memory.update(first, { serverKey });
    const result = memory.update(head, { serverKey, proof });
    assert.equal(result.ok, false, desc);
    assert.deepEqual(memory.remembered('v-js-fork').head, first, desc);
    count++;
  }
  const proofChanges = mutations({ proof }).filter(([d, o]) => d.startsWith('proof') && Array.isArray(o.proof));
  assert.ok(proofChanges.length >= proof.length + 2);
  for (const [desc, { proof: changed }] of proofChanges) {
    const memory = new L.HeadMemory(memoryStorage());
    memory.update(first, { serverKey });
    const result = memory.update(next, { serverKey, proof: changed });
    assert.equal(result.ok, false, desc);
    assert.equal(result.status, 'split', desc);
    assert.deepEqual(memory.remembered('v-js-fork').head, first, desc);
    count++;
  }
  assert.ok(count > 20, `${count}`);
});

test('refusals that are not evidence: bad key, other vote, no proof, another server key', () => {
  const { first, next, proof } = honestPair();
  const stranger = fixture('receipts.json').example.server_key;
  let memory = new L.HeadMemory(memoryStorage());
  assert.deepEqual(memory.update(first, { serverKey: stranger }).problems.map((p) => p.code), ['head_signature_invalid']);
  assert.equal(memory.remembered('v-js-fork'), null);
  assert.equal(memory.update(first, { serverKey: 'nope' }).status, 'rejected');
  assert.equal(memory.update(first, { serverKey, voteId: 'v-other' }).problems[0].code, 'head_other_vote');
  assert.equal(memory.update(first, { serverKey }).status, 'first');
  const noProof = memory.update(next, { serverKey });
  assert.equal(noProof.status, 'rejected');
  assert.equal(noProof.problems[0].code, 'proof_missing');
  assert.equal(memory.update(first, { serverKey: stranger }).status, 'rejected');
  assert.equal(memory.update(next, { serverKey, proof }).status, 'newer');

  // A head signed by another key for the same vote while one is remembered: not evidence.
  const storage = memoryStorage();
  memory = new L.HeadMemory(storage);
  memory.update(first, { serverKey });
  storage.set('linli-vote/head/v-js-fork', JSON.stringify({ head: first, server_key: stranger }));
  assert.equal(memory.update(next, { serverKey, proof }).problems[0].code, 'server_key_changed');

  // A remembered head that no longer verifies (storage damaged) is replaced, with a note.
  storage.set('linli-vote/head/v-js-fork', JSON.stringify({ head: Object.assign({}, first, { size: 6 }), server_key: serverKey }));
  const replaced = memory.update(next, { serverKey, proof });
  assert.equal(replaced.status, 'first');
  assert.deepEqual(replaced.problems.map((p) => p.code), ['stored_head_invalid']);
  storage.set('linli-vote/head/v-js-fork', '{not json');
  assert.equal(memory.update(next, { serverKey }).status, 'first');
  assert.throws(() => new L.HeadMemory({}), TypeError);
});

test('works over storage that keeps objects, as wx storage can', () => {
  const data = new Map();
  const memory = new L.HeadMemory({ get: (k) => data.get(k), set: (k, v) => data.set(k, JSON.parse(v)) }, { prefix: 'x/' });
  const { first, next, proof } = honestPair();
  assert.equal(memory.update(first, { serverKey }).status, 'first');
  assert.equal(memory.update(next, { serverKey, proof }).status, 'newer');
  assert.deepEqual(memory.remembered('v-js-fork').head, next);
  assert.ok(data.has('x/head/v-js-fork'));
});

test('tree heads signed by voting/ verify; single changes do not', () => {
  const data = fixture('heads.json');
  for (const head of data.heads) {
    assert.ok(L.verifyTreeHead(head, data.server_key, data.vote_id));
    assert.ok(L.verifyTreeHead(head, data.server_key));
    assert.ok(!L.verifyTreeHead(head, data.server_key, 'v-other'));
  }
  let count = 0;
  for (const [desc, head] of mutations(data.heads[3])) {
    assert.ok(!L.verifyTreeHead(head, data.server_key, data.vote_id), desc);
    count++;
  }
  assert.ok(count >= 12);
  const h = clone(data.heads[3]);
  assert.deepEqual(L.treeHeadProblems(h, data.server_key, data.vote_id), []);
  h.size = 2.5;
  assert.equal(L.treeHeadProblems(h, data.server_key, data.vote_id)[0].code, 'head_malformed');
});

'use strict';
// [1.1] Witnesses: the definition's list, co-signatures made by voting.witnesses, co-signed heads,
// and HeadMemory over co-signed heads of a log shown differently to two pairs of witnesses.
const test = require('node:test');
const assert = require('node:assert/strict');
const { L, fixture, clone, mutations, memoryStorage } = require('../test-support/helpers.js');

const w = fixture('witness.json');
const split = fixture('cosigned_split.json');
const codes = (result) => result.problems.map((p) => p.code);

test('the witnesses and quorum of a 1.1 definition; a linli-vote/1 definition has none', () => {
  const who = L.witnessesOf(w.definition);
  assert.equal(who.ok, true);
  assert.equal(who.protocol, 'linli-vote/1.1');
  assert.equal(who.quorum, 2);
  assert.deepEqual(who.witnesses.map((x) => x.id), ['w-0', 'w-1', 'w-2']);
  assert.equal(who.keys['w-1'], w.definition.witnesses[1].public_key);
  assert.deepEqual(L.witnessesOf(w.linli_1_definition), { ok: true, protocol: 'linli-vote/1', witnesses: [], quorum: 0, keys: {}, problem: null });
  const broken = [
    (d) => { d.witness_quorum = 0; }, (d) => { d.witness_quorum = 4; }, (d) => { d.witness_quorum = 1.5; },
    (d) => { d.witnesses[1].id = d.witnesses[0].id; }, (d) => { d.witnesses[1].public_key = d.witnesses[0].public_key; },
    (d) => { d.witnesses[0].public_key = d.server_key; }, (d) => { d.witnesses[0].name = ''; }, (d) => { d.witnesses[0].id = 'w 0'; },
    (d) => { d.witnesses[0].extra = 1; }, (d) => { delete d.witnesses; }, (d) => { d.witnesses = {}; }, (d) => { d.protocol = 'linli-vote/2'; },
    (d) => { d.witnesses = []; }
  ];
  for (const change of broken) {
    const d = clone(w.definition);
    change(d);
    assert.equal(L.witnessesOf(d).ok, false, change.toString());
  }
  const none = clone(w.definition);
  none.witnesses = [];
  none.witness_quorum = 0;
  assert.equal(L.witnessesOf(none).ok, true, '1.1 without witnesses: quorum 0');
});

test('co-signatures made by voting/ verify; those it refuses are refused with the reason', () => {
  for (const c of w.all_cosignatures.concat([w.smaller_cosignature])) {
    assert.ok(L.verifyCosignature(c, w.definition));
    assert.deepEqual(L.cosignatureProblems(c, w.definition), []);
    assert.ok(!L.verifyCosignature(c, w.linli_1_definition), 'a linli-vote/1 vote has no witnesses');
  }
  for (const b of w.bad) {
    assert.equal(L.verifyCosignature(b.cosignature, w.definition), false, b.name);
    assert.equal(L.cosignatureProblems(b.cosignature, w.definition)[0].code, b.code, b.name);
  }
});

test('every single-field change of a co-signature is refused', () => {
  let count = 0;
  for (const [desc, c] of mutations(w.all_cosignatures[2])) {
    assert.equal(L.verifyCosignature(c, w.definition), false, desc);
    count++;
  }
  assert.ok(count >= 15, `${count}`);
  assert.equal(L.verifyCosignature(null, w.definition), false);
  assert.equal(L.verifyCosignature(w.all_cosignatures[0], null), false);
});

test('a head with its quorum of co-signatures is co-signed; two or three of three', () => {
  const two = L.checkCosignedHead(w.head, w.quorum_cosignatures, w.definition, w.server_key);
  assert.deepEqual(two, { ok: true, cosigned: ['w-0', 'w-1'], missing: ['w-2'], quorum: 2, problems: [] });
  const three = L.checkCosignedHead(w.head, w.all_cosignatures, w.definition);
  assert.deepEqual(three.cosigned, ['w-0', 'w-1', 'w-2']);
  assert.equal(three.ok, true);
  const one = L.checkCosignedHead(w.smaller_head, [w.smaller_cosignature], w.definition, w.server_key);
  assert.deepEqual([one.ok, one.cosigned, codes(one)], [false, ['w-0'], ['quorum_missing']]);
  // A co-signature of another head, a repeated witness, a bad one: problems, even beside a quorum.
  assert.deepEqual(codes(L.checkCosignedHead(w.head, w.all_cosignatures.concat([w.smaller_cosignature]), w.definition)), ['cosignature_other_head']);
  assert.deepEqual(codes(L.checkCosignedHead(w.head, w.all_cosignatures.concat([w.all_cosignatures[0]]), w.definition)), ['cosignature_repeated']);
  for (const b of w.bad) {
    assert.deepEqual(codes(L.checkCosignedHead(w.head, w.all_cosignatures.concat([b.cosignature]), w.definition)), [b.code], b.name);
  }
  assert.deepEqual(codes(L.checkCosignedHead(w.head, w.quorum_cosignatures, w.definition, split.definition.witnesses[3].public_key)), ['head_signature_invalid']);
  assert.deepEqual(codes(L.checkCosignedHead(w.head, 'x', w.definition)), ['cosignature_malformed']);
  assert.deepEqual(codes(L.checkCosignedHead(w.head, w.quorum_cosignatures, {})), ['definition_witnesses_invalid']);
});

test('every single-field change of the head or of the co-signatures (exactly a quorum) is refused', () => {
  let count = 0;
  for (const [desc, head] of mutations(w.head)) {
    assert.equal(L.checkCosignedHead(head, w.quorum_cosignatures, w.definition, w.server_key).ok, false, desc);
    count++;
  }
  for (const [desc, list] of mutations(w.quorum_cosignatures)) {
    assert.equal(L.checkCosignedHead(w.head, list, w.definition, w.server_key).ok, false, desc);
    count++;
  }
  assert.ok(count > 40, `${count}`);
});

test('changes of the definition that matter to a co-signed head are refused', () => {
  // The co-signers' ids and keys, the quorum raised, the vote, the server key. (Another witness's
  // name or key, or a lower quorum, still leave a co-signed head: they are no changes of the proof.)
  let count = 0;
  for (const [desc, d] of mutations(w.definition)) {
    const relevant = /^witnesses\.[01]\.(id|public_key)=|^remove witnesses\.[01]\.(id|public_key)$|^witness_quorum=3|^vote_id=|^server_key=|^remove (witnesses|witness_quorum|vote_id|server_key)$|^protocol=/;
    if (!relevant.test(desc)) continue;
    assert.equal(L.checkCosignedHead(w.head, w.quorum_cosignatures, d, w.server_key).ok, false, desc);
    count++;
  }
  assert.ok(count >= 10, `${count}`);
});

test('HeadMemory: two co-signed heads that conflict are a split view with the co-signatures as evidence', () => {
  for (const scenario of split.scenarios) {
    const memory = new L.HeadMemory(memoryStorage());
    for (const [i, step] of scenario.steps.entries()) {
      const where = `${scenario.name}, step ${i}`;
      const result = memory.update(step.view, { definition: split.definition, proof: step.proof || undefined });
      assert.equal(result.status, step.expect, where);
      assert.deepEqual(result.cosigned, step.view.cosignatures.map((c) => c.witness), where);
      assert.equal(result.quorumMet, true, where);
      if (step.expect === 'split') {
        const ev = result.evidence;
        assert.equal(ev.type, 'linli-vote/1.1 split view');
        assert.ok(L.checkSplitEvidence(ev), where);
        assert.deepEqual(JSON.parse(JSON.stringify(ev)), ev);
        assert.match(ev.explanation, /见证人/);
        assert.deepEqual(ev.witnesses, split.definition.witnesses);
        const cosigners = ev.first_cosignatures.concat(ev.second_cosignatures).map((c) => c.witness).sort();
        assert.deepEqual(cosigners, ['w-0', 'w-1', 'w-2', 'w-3']);
        assert.deepEqual(memory.splitEvidence('v-js-cosplit'), ev);
      } else {
        assert.deepEqual(memory.remembered('v-js-cosplit').head, step.view.tree_head);
        assert.deepEqual(memory.remembered('v-js-cosplit').cosignatures, step.view.cosignatures);
      }
    }
  }
});

test('co-signed split evidence stands on its own; a changed copy does not', () => {
  const s = split.scenarios[1];
  const memory = new L.HeadMemory(memoryStorage());
  memory.update(s.steps[0].view, { definition: split.definition });
  const ev = memory.update(s.steps[1].view, { definition: split.definition, proof: s.steps[1].proof }).evidence;
  assert.ok(L.checkSplitEvidence(ev));
  let count = 0;
  for (const [desc, changed] of mutations(ev)) {
    if (/^explanation=/.test(desc) || /^consistency_proof/.test(desc)) continue; // words; another failing proof still fails
    if (/^witnesses\.\d\.name=/.test(desc)) continue; // a name is not signed by anyone
    if (/^witness_quorum=[1-4]$/.test(desc)) continue; // any quorum the list allows: the co-signatures prove the same
    const list = /^(first|second)_cosignatures=\[/.test(desc) ? changed[desc.split('=')[0]] : null;
    if (list && list.length && list.length < ev[desc.split('=')[0]].length) continue; // one co-signature fewer still proves it
    assert.equal(L.checkSplitEvidence(changed), false, desc);
    count++;
  }
  assert.ok(count > 60, `${count}`);
});

test('HeadMemory refuses a co-signed view whose co-signatures are not valid, and merges new ones of the same head', () => {
  const [a7, a12] = split.scenarios[2].steps;
  let memory = new L.HeadMemory(memoryStorage());
  const forged = clone(a7.view);
  forged.cosignatures[1].root = forged.cosignatures[0].root.replace(/^./, (c) => (c === '1' ? '2' : '1'));
  assert.deepEqual(codes(memory.update(forged, { definition: split.definition })), ['cosignature_forged']);
  assert.equal(memory.remembered('v-js-cosplit'), null);
  assert.deepEqual(codes(memory.update(a7.view, {})), ['definition_missing']);
  const lone = clone(a7.view);
  lone.cosignatures = lone.cosignatures.slice(0, 1);
  const first = memory.update(lone, { definition: split.definition });
  assert.deepEqual([first.status, first.ok, first.quorumMet, first.cosigned], ['first', true, false, ['w-0']]);
  const again = memory.update(a7.view, { definition: split.definition });
  assert.deepEqual([again.status, again.quorumMet], ['same', true]);
  assert.deepEqual(memory.remembered('v-js-cosplit').cosignatures.map((c) => c.witness), ['w-0', 'w-1']);
  // A plain head (no co-signatures) still works as in linli-vote/1.
  memory = new L.HeadMemory(memoryStorage());
  assert.equal(memory.update(a7.view.tree_head, { serverKey: split.server_key }).status, 'first');
  const grown = memory.update(a12.view, { definition: split.definition, proof: a12.proof });
  assert.deepEqual([grown.status, grown.quorumMet], ['newer', true]);
  // The view's own witness_quorum and cosigned are the server's words: the phone uses the definition's
  // quorum and its own count, so changing them changes nothing; every change of what is signed is refused.
  const signedParts = mutations(a12.view).filter(([d]) => /^(tree_head|cosignatures)/.test(d) || /^remove (tree_head|cosignatures)$/.test(d));
  assert.ok(signedParts.length > 30, `${signedParts.length}`);
  for (const [desc, view] of signedParts) {
    const m = new L.HeadMemory(memoryStorage());
    m.update(a7.view, { definition: split.definition });
    const r = m.update(view, { definition: split.definition, proof: a12.proof });
    assert.equal(r.ok && r.quorumMet && r.status === 'newer', false, desc);
  }
});

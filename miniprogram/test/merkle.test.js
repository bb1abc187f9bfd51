'use strict';
// RFC 9162 inclusion and consistency proofs: every size up to 64 from voting.merkle, and the
// transparency-dev vectors under tests/vectors/merkle (with voting.merkle's verdict on each).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { L, VECTORS, fixture, fromHex, b64ToHex, Tree, nodeHashHex } = require('../test-support/helpers.js');

const m = fixture('merkle.json');
const nodes = m.nodes;
const proofOf = (refs) => refs.map((i) => nodes[i]);

function flip(h) {
  return (h[0] === '0' ? '1' : '0') + h.slice(1);
}

test('leaf hashes of raw leaves equal Python', () => {
  m.leaf_inputs_hex.forEach((x, i) => assert.equal(L.leafHashOfBytes(fromHex(x)), m.leaf_hashes[i]));
  const tree = new Tree(m.leaf_hashes);
  m.roots.forEach((root, size) => assert.equal(tree.root(size), root, `root of ${size}`));
});

test('every inclusion proof of every index in every size up to 64 verifies, and no single change does', () => {
  assert.equal(m.inclusion.length, (64 * 65) / 2);
  for (const [size, index, refs] of m.inclusion) {
    const proof = proofOf(refs);
    const leaf = m.leaf_hashes[index];
    const root = m.roots[size];
    const where = `leaf ${index} of ${size}`;
    assert.ok(L.verifyInclusion(index, size, leaf, proof, root), where);
    assert.ok(!L.verifyInclusion(index, size, flip(leaf), proof, root), where);
    assert.ok(!L.verifyInclusion(index, size, leaf, proof, flip(root)), where);
    if (index === size - 1) {
      // As tests/voting/test_merkle.py: the last leaf's proof checked at another position or size fails.
      // (Not every index: a proof for leaf 0 of 3 leaves is also one for leaf 0 of 4 leaves whose
      // root is the 3-leaf root — RFC 6962 roots do not commit to the size; signed heads do.)
      assert.ok(!L.verifyInclusion(index, size + 1, leaf, proof, root), where);
      if (size > 1) assert.ok(!L.verifyInclusion(index - 1, size, leaf, proof, root), where);
    }
    proof.forEach((p, i) => {
      const changed = proof.slice();
      changed[i] = flip(p);
      assert.ok(!L.verifyInclusion(index, size, leaf, changed, root), `${where}, element ${i}`);
    });
    if (proof.length) assert.ok(!L.verifyInclusion(index, size, leaf, proof.slice(0, -1), root), where);
    assert.ok(!L.verifyInclusion(index, size, leaf, proof.concat([leaf]), root), where);
  }
});

test('every consistency proof of every pair up to 64 verifies, and no single change does', () => {
  assert.equal(m.consistency.length, (64 * 65) / 2);
  for (const [first, second, refs] of m.consistency) {
    const proof = proofOf(refs);
    const r1 = m.roots[first];
    const r2 = m.roots[second];
    const where = `${first} → ${second}`;
    assert.ok(L.verifyConsistency(first, second, r1, r2, proof), where);
    assert.ok(!L.verifyConsistency(first, second, flip(r1), r2, proof), where);
    assert.ok(!L.verifyConsistency(first, second, r1, flip(r2), proof), where);
    if (first < second) {
      assert.ok(!L.verifyConsistency(first, second, first > 1 ? m.roots[first - 1] : r2, r2, proof), where);
      assert.ok(!L.verifyConsistency(first, second, r1, m.roots[second - 1], proof), where);
      proof.forEach((p, i) => {
        const changed = proof.slice();
        changed[i] = flip(p);
        assert.ok(!L.verifyConsistency(first, second, r1, r2, changed), `${where}, element ${i}`);
      });
      assert.ok(!L.verifyConsistency(first, second, r1, r2, proof.slice(0, -1)), where);
      assert.ok(!L.verifyConsistency(first, second, r1, r2, proof.concat([r1])), where);
      assert.ok(!L.verifyConsistency(first, second, r1, r2, []), where);
    } else {
      assert.ok(!L.verifyConsistency(first, second, r1, r2, [r1]), where);
    }
  }
});

test('nothing is proved about the empty tree, and malformed input is false, never an exception', () => {
  assert.ok(!L.verifyConsistency(0, 5, L.EMPTY_ROOT, m.roots[5], []));
  const [size, index, refs] = m.inclusion[100];
  const args = [index, size, m.leaf_hashes[index], proofOf(refs), m.roots[size]];
  for (const [pos, bad] of [[0, -1], [0, 1.5], [0, '1'], [1, 0], [1, 2 ** 53], [2, 'xyz'], [2, null], [3, null], [3, ['zz']], [4, undefined]]) {
    const copy = args.slice();
    copy[pos] = bad;
    assert.equal(L.verifyInclusion(...copy), false, `${pos} ${bad}`);
  }
});

test('sizes beyond 2^32 work (arithmetic, not 32-bit operators)', () => {
  // A tree of 2^40 + 1 leaves: the last leaf stands alone on the right, so its audit path is the
  // root of the first 2^40 leaves, and that root plus the leaf prove consistency from 2^40.
  const n = 2 ** 40 + 1;
  const left = m.roots[64]; // stands in for the root of the first 2^40 leaves
  const leaf = m.leaf_hashes[0];
  const root = nodeHashHex(left, leaf);
  assert.ok(L.verifyInclusion(n - 1, n, leaf, [left], root));
  assert.ok(!L.verifyInclusion(n - 2, n, leaf, [left], root));
  assert.ok(!L.verifyInclusion(n - 1, n + 1, leaf, [left], root));
  assert.ok(L.verifyConsistency(n - 1, n, left, root, [leaf]));
  assert.ok(!L.verifyConsistency(n - 2, n, left, root, [leaf]));
  assert.ok(!L.verifyInclusion(2 ** 53, 2 ** 53 + 1, leaf, [left], root)); // beyond the safe integers
});

function vectorFiles(dir) {
  const out = [];
  for (const name of fs.readdirSync(dir)) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isDirectory()) out.push(...vectorFiles(full));
    else if (name.endsWith('.json')) out.push(full);
  }
  return out;
}

test('every transparency-dev vector: the JS verdict equals wantErr and voting.merkle\'s', () => {
  const verdicts = new Map(fixture('merkle_vectors.json').verdicts.map((v) => [v.file, v.python_ok]));
  const files = vectorFiles(VECTORS).map((f) => path.relative(VECTORS, f).split(path.sep).join('/')).filter((f) => f !== 'roots.json').sort();
  assert.deepEqual(files, [...verdicts.keys()].sort(), 'the fixture covers exactly the vectors on disk');
  let inclusion = 0;
  let consistency = 0;
  for (const file of files) {
    const c = JSON.parse(fs.readFileSync(path.join(VECTORS, file), 'utf8'));
    let ok;
    if (file.startsWith('inclusion/')) {
      ok = L.verifyInclusion(c.leafIdx, c.treeSize, b64ToHex(c.leafHash), (c.proof || []).map(b64ToHex), b64ToHex(c.root));
      inclusion++;
    } else {
      ok = L.verifyConsistency(c.size1, c.size2, b64ToHex(c.root1), b64ToHex(c.root2), (c.proof || []).map(b64ToHex));
      consistency++;
    }
    assert.equal(ok, !c.wantErr, `${file}: ${c.desc}`);
    assert.equal(ok, verdicts.get(file), file);
  }
  assert.ok(inclusion > 50 && consistency > 50);
});

test('roots.json: roots of the first n reference leaves', () => {
  const r = JSON.parse(fs.readFileSync(path.join(VECTORS, 'roots.json'), 'utf8'));
  const hashes = r.leaf_inputs_hex.map((x) => L.leafHashOfBytes(fromHex(x)));
  const tree = new Tree(hashes);
  assert.equal(r.root_by_size_hex.length, 9);
  r.root_by_size_hex.forEach((root, size) => assert.equal(tree.root(size), root));
});

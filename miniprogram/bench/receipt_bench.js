'use strict';
/**
 * Figures for the mini-program's linli-vote/1 library, with a baseline measured in the same run:
 *
 *   1. checkReceipt of a ballot's receipt in a 100,000-entry log (target ≤ 20 ms);
 *   2. HeadMemory.update from a remembered head to a newer one with a consistency proof at 100,000
 *      entries (target ≤ 20 ms);
 *   baseline: one raw Ed25519 verification with tweetnacl, and the SHA-256 node hashes a proof of
 *   that log takes, with fast-sha256 (the pure-JavaScript code a phone runs);
 *   3. the shipped JavaScript: esbuild --minify of an entry that requires lib/linli-vote.js, resolved
 *      as WeChat's npm build does (each package's `main`) (target ≤ 60 KB).
 *
 * Node runs the same JavaScript as the phone's engine, on a faster CPU: read the ratios to the
 * baseline as the portable figures. Usage: node bench/receipt_bench.js [--runs N] [--size N]
 */
const path = require('path');
const zlib = require('zlib');
const { performance } = require('perf_hooks');
const nacl = require('tweetnacl');
const sha256 = require('fast-sha256');
const crypto = require('crypto');
const L = require('../lib/linli-vote.js');
const { Tree } = require('../test-support/helpers.js');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const RUNS = arg('--runs', 300);
const SIZE = arg('--size', 100000);
if (!(Number.isInteger(SIZE) && SIZE >= 2)) throw new Error('--size: a log of at least 2 entries');
const WARMUP = 20;

function seed(label) {
  return Uint8Array.from(crypto.createHash('sha256').update('linli bench ' + label).digest());
}

const ROUNDS = arg('--rounds', 10);

/**
 * Time every subject in alternating rounds (subject A's batch, B's, C's, … then again), so that the
 * machine's changing load (other work shares its two cores) falls on baseline and subjects alike.
 */
function measureAll(subjects) {
  const times = subjects.map(() => []);
  subjects.forEach(([, fn]) => { for (let i = 0; i < WARMUP; i++) fn(); });
  const batch = Math.max(1, Math.round(RUNS / ROUNDS));
  for (let r = 0; r < ROUNDS; r++) {
    subjects.forEach(([, fn], k) => {
      for (let i = 0; i < batch; i++) {
        const t0 = performance.now();
        fn();
        times[k].push(performance.now() - t0);
      }
    });
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    const at = (q) => t[Math.min(t.length - 1, Math.ceil(q * t.length) - 1)];
    return { median: at(0.5), p99: at(0.99), min: t[0], n: t.length };
  });
}

function show(label, m, extra) {
  console.log(`${label.padEnd(58)} median ${m.median.toFixed(3).padStart(7)} ms   p99 ${m.p99.toFixed(3).padStart(7)} ms${extra || ''}`);
}

// --- a log of SIZE entries: one real signed ballot at `index`, the rest stand-in leaf hashes ----------

const server = L.keyPairFromSeed(seed('server'));
const owner = L.keyPairFromSeed(seed('owner'));
const voteId = 'v-bench';
const ballot = L.newBallot({ voteId, rightId: 'r0123456789abcdef', choice: { option: 'approve' }, nonceBytes: seed('nonce').subarray(0, 16), signedAt: '2025-03-01T08:00:00Z' });
const envelope = L.signBallot(ballot, owner.secretKey);
const entry = { type: 'ballot', received_at: '2025-03-01T08:00:01Z', envelope };
const index = Math.floor(SIZE * 0.7);

const t0 = performance.now();
const leaves = [];
for (let i = 0; i < SIZE; i++) leaves.push(i === index ? L.leafHash(entry) : L.leafHashOfBytes(Buffer.from('entry ' + i)));
const tree = new Tree(leaves);
const buildMs = performance.now() - t0;

function signedHead(size) {
  const head = { type: 'tree_head', vote_id: voteId, size, root: tree.root(size), timestamp: '2025-03-02T00:00:00Z' };
  head.signature = L.b64uEncode(nacl.sign.detached(L.canonical(head), server.secretKey));
  return head;
}

function inclusionProof(i, size) {
  const proof = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    if (i < lo + k) {
      proof.push(tree.rangeRoot(lo + k, hi));
      hi = lo + k;
    } else {
      proof.push(tree.rangeRoot(lo, lo + k));
      lo += k;
    }
  }
  return proof.reverse();
}

const head = signedHead(SIZE);
const receipt = { vote_id: voteId, leaf_index: index, leaf_hash: leaves[index], tree_head: head, inclusion_proof: inclusionProof(index, SIZE), entry };
// the phone last saw the log a little smaller (1,234 entries; a tenth of a log under 12,340 entries)
const firstSize = SIZE - Math.max(1, Math.min(1234, Math.floor(SIZE / 10)));
const oldHead = signedHead(firstSize);
const consistency = tree.consistencyProof(firstSize, SIZE);

const check = L.checkReceipt(receipt, { serverKey: server.publicKey, envelope });
if (!check.ok) throw new Error('bench receipt does not check: ' + JSON.stringify(check.problems));

const storage = new Map();
const memory = new L.HeadMemory({ get: (k) => storage.get(k), set: (k, v) => storage.set(k, v) });
const remembered = JSON.stringify({ head: oldHead, server_key: server.publicKey });
function headUpdate() {
  storage.set('linli-vote/head/' + voteId, remembered);
  const r = memory.update(head, { serverKey: server.publicKey, proof: consistency });
  if (r.status !== 'newer') throw new Error('bench head update: ' + r.status);
}
headUpdate();

// --- baseline -------------------------------------------------------------------------------------

const message = L.canonical(ballot);
const signature = L.b64uDecode(envelope.signature);
const publicKey = L.b64uDecode(owner.publicKey);
const hashesPerProof = receipt.inclusion_proof.length + consistency.length * 2;
const nodeInput = new Uint8Array(65);
nodeInput[0] = 1;

console.log(`linli-vote/1 JS library bench — Node ${process.version}, ${RUNS} runs of each in ${ROUNDS} alternating rounds, after ${WARMUP} warm-up runs`);
console.log(`log of ${SIZE} entries built in ${(buildMs / 1000).toFixed(1)} s; receipt of entry ${index} (${receipt.inclusion_proof.length} proof hashes); ` +
  `consistency ${firstSize} → ${SIZE} (${consistency.length} hashes)`);
console.log('');
const [verify, hashes, receiptTimes, headTimes] = measureAll([
  ['verify', () => nacl.sign.detached.verify(message, signature, publicKey)],
  ['hashes', () => { for (let i = 0; i < hashesPerProof; i++) sha256(nodeInput); }],
  ['receipt', () => L.checkReceipt(receipt, { serverKey: server.publicKey, envelope })],
  ['head', headUpdate]
]);
show('baseline: one Ed25519 verify (tweetnacl)', verify);
show(`baseline: ${hashesPerProof} SHA-256 of 65 bytes (fast-sha256)`, hashes);
const verdict = (m) => `   = ${(m.median / verify.median).toFixed(2)} verifies   ≤ 20 ms: median ${m.median <= 20 ? 'met' : 'MISSED'}, p99 ${m.p99 <= 20 ? 'met' : 'MISSED'}`;
show(`checkReceipt (${SIZE}-entry log)`, receiptTimes, verdict(receiptTimes));
show(`HeadMemory.update with consistency proof (${SIZE})`, headTimes, verdict(headTimes));
console.log('  (each verifies one signature, the tree head\'s; checkReceipt also hashes the entry and walks the audit path, HeadMemory.update the consistency proof and its storage JSON)');

// --- size -----------------------------------------------------------------------------------------

const esbuild = require('esbuild');
function bundle(charset) {
  return esbuild.buildSync({
    stdin: { contents: "module.exports = require('./lib/linli-vote.js');", resolveDir: path.join(__dirname, '..'), sourcefile: 'entry.js' },
    bundle: true, minify: true, write: false, format: 'cjs', platform: 'browser', target: 'es2017', charset,
    mainFields: ['main'], // WeChat's npm build packs each package's `main`
    external: ['crypto'], // tweetnacl's guarded Node fallback: not packed by WeChat either (the shim package answers it)
    logLevel: 'error', metafile: true
  });
}
const asciiBuild = bundle('ascii'); // esbuild's default: non-ASCII written as \uXXXX escapes (6 bytes a Chinese character)
const ascii = asciiBuild.outputFiles[0].contents;
const utf8 = bundle('utf8').outputFiles[0].contents; // as the files ship: UTF-8 (3 bytes a Chinese character)
console.log('');
console.log(`shipped JS, esbuild --minify of require('./lib/linli-vote.js') with tweetnacl and fast-sha256 (target ≤ 60 KB = 60000 bytes):`);
console.log(`  default (ASCII escapes): ${ascii.length} bytes: ${ascii.length <= 60000 ? 'met' : 'MISSED'}   --charset=utf8: ${utf8.length} bytes   gzip: ${zlib.gzipSync(utf8).length} bytes`);
const inBundle = Object.values(asciiBuild.metafile.outputs)[0].inputs;
const share = (file) => (Object.entries(inBundle).find(([k]) => k.endsWith(file)) || [null, { bytesInOutput: 0 }])[1].bytesInOutput;
for (const [name, file] of [['tweetnacl', 'node_modules/tweetnacl/nacl-fast.js'], ['fast-sha256', 'node_modules/fast-sha256/sha256.js'],
  ['linli-vote/1 and 1.1', 'lib/linli-vote.js']]) {
  const alone = esbuild.buildSync({ entryPoints: [path.join(__dirname, '..', file)], minify: true, write: false, target: 'es2017', logLevel: 'error' }).outputFiles[0].contents;
  console.log(`  of which ${name} (${file}): ${share(file)} bytes in the bundle (${alone.length} minified alone)`);
}
console.log(`  and esbuild's module wrappers: ${ascii.length - Object.values(inBundle).reduce((sum, i) => sum + i.bytesInOutput, 0)} bytes`);

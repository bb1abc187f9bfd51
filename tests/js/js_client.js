'use strict';
// Runs the mini-program's library for tests/js/test_cross.py: reads one JSON request on stdin,
// writes one JSON answer on stdout.
//   {"sign": [{seed_hex, vote_id, right_id, choice, nonce_hex, signed_at}]} → {"sign": [{public_key, envelope}]}
//   {"heads": {server_key, definition?, steps: [{head (or a tree-head view with cosignatures), proof}]}}
//     → {"heads": [{status, ok, problems, evidence}]}
//   {"delegate": [{kind, seed_hex, vote_id, right_id, delegate_key, nonce_hex, signed_at}]} → {"delegate": [envelope]}
//   {"cosigned": {definition, checks: [{head, cosignatures}]}} → {"cosigned": [{ok, cosigned, missing, problems}]}
const path = require('path');
const L = require(path.join(__dirname, '..', '..', 'miniprogram', 'lib', 'linli-vote.js'));

function bytes(hex) {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const request = JSON.parse(input);
  const answer = {};
  if (request.sign) {
    answer.sign = request.sign.map((b) => {
      const pair = L.keyPairFromSeed(bytes(b.seed_hex));
      const ballot = L.newBallot({ voteId: b.vote_id, rightId: b.right_id, choice: b.choice, nonceBytes: bytes(b.nonce_hex), signedAt: b.signed_at });
      return { public_key: pair.publicKey, envelope: L.signBallot(ballot, pair.secretKey) };
    });
  }
  if (request.delegate) {
    answer.delegate = request.delegate.map((x) => {
      const pair = L.keyPairFromSeed(bytes(x.seed_hex));
      const make = x.kind === 'delegation' ? L.newDelegation : L.newRevocation;
      const signed = make({ voteId: x.vote_id, rightId: x.right_id, delegateKey: x.delegate_key, nonceBytes: bytes(x.nonce_hex), signedAt: x.signed_at });
      return L.signDelegation(signed, pair.secretKey);
    });
  }
  if (request.cosigned) {
    answer.cosigned = request.cosigned.checks.map((c) => {
      const r = L.checkCosignedHead(c.head, c.cosignatures, request.cosigned.definition);
      return { ok: r.ok, cosigned: r.cosigned, missing: r.missing, problems: r.problems.map((p) => p.code),
        each: c.cosignatures.map((x) => L.verifyCosignature(x, request.cosigned.definition)) };
    });
  }
  if (request.heads) {
    const data = new Map();
    const memory = new L.HeadMemory({ get: (k) => data.get(k), set: (k, v) => data.set(k, v) });
    answer.heads = request.heads.steps.map((step) => {
      const r = memory.update(step.head, { serverKey: request.heads.server_key, proof: step.proof === null ? undefined : step.proof,
        definition: request.heads.definition });
      return { status: r.status, ok: r.ok, problems: r.problems.map((p) => p.code), evidence: r.evidence };
    });
  }
  process.stdout.write(JSON.stringify(answer));
});

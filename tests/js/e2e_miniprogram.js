'use strict';
// End to end: the mini-program's own request wrapper, API and vote code (miniprogram/lib) driven
// with a wx over Node's fetch against the real app under gunicorn (tests/js/test_e2e.py starts it
// with the fake WeChat and prepares the community). Reads its settings as JSON on stdin; prints one
// line per step and `E2E OK` at the end; any failure exits non-zero with the reason.
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');

const MP = path.join(__dirname, '..', '..', 'miniprogram');
const { createNodeWx } = require(path.join(MP, 'test-support', 'wx-node.js'));

// The witness, played by this test code (not the app): it co-signs the server's newest signed head
// with the key the pytest side registered (docs/protocol.md §6.4) and posts it as the witness
// program does — no token, the co-signature's signature is the credential.
async function cosign(cfg, L, nacl, view) {
  const head = view.tree_head;
  const vote = view.vote_id;
  const pair = nacl.sign.keyPair.fromSeed(Uint8Array.from(Buffer.from(cfg.witness_seed_hex, 'hex')));
  const body = { type: 'cosignature', vote_id: vote, size: head.size, root: head.root, witness: cfg.witness_id,
    timestamp: new Date().toISOString().slice(0, 19) + 'Z' };
  const signed = Object.assign({}, body, { signature: L.b64uEncode(nacl.sign.detached(L.canonical(body), pair.secretKey)) });
  const res = await fetch(cfg.base + '/api/v1/votes/' + cfg.vote + '/cosignatures', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(signed) });
  assert.equal(res.status, 201, await res.text());
  return signed;
}

/** Run fn as the user of `phone` (a wx of its own: its storage, its token, its keys), then give the owner's phone back. */
async function as(phone, fn) {
  const before = global.wx;
  global.wx = phone;
  try {
    return await fn();
  } finally {
    global.wx = before;
  }
}

function step(name, detail) {
  process.stdout.write('STEP ' + name + (detail === undefined ? '' : ' ' + JSON.stringify(detail)) + '\n');
}

async function main() {
  const cfg = JSON.parse(fs.readFileSync(0, 'utf8'));
  global.wx = createNodeWx({ openid: cfg.openid });
  const ownerPhone = global.wx;
  const delegatePhone = createNodeWx({ openid: cfg.delegate.openid });
  const nacl = require(path.join(MP, 'node_modules', 'tweetnacl'));
  require(path.join(MP, 'lib', 'config.js')).setBaseUrl(cfg.base);
  const request = require(path.join(MP, 'lib', 'request.js'));
  const api = require(path.join(MP, 'lib', 'api.js'));
  const voteClient = require(path.join(MP, 'lib', 'vote-client.js'));
  const subscribe = require(path.join(MP, 'lib', 'subscribe.js'));
  const L = require(path.join(MP, 'lib', 'linli-vote.js'));

  // 1. log in (the wrapper does it on the first call), nothing of the community yet
  let me = await api.me();
  assert.equal(wx.__calls.login, 1);
  assert.deepEqual(me.communities, []);
  step('login', { user: me.user.id });

  // 2. the phone button, then the claim: verified at once (phone and name match the registry)
  const user = await api.verifyPhone(`phone-${cfg.phone}~${Date.now()}`);
  assert.match(user.phone, /^\d{3}\*{4}\d{4}$/, 'the phone comes back masked');
  const binding = await api.claim(cfg.community, { building: cfg.building, unit: cfg.unit, room: cfg.room, name: cfg.name });
  assert.equal(binding.status, 'verified', JSON.stringify(binding));
  me = await api.me();
  assert.deepEqual(me.communities.map((c) => c.id), [cfg.community]);
  assert.ok(me.communities[0].roles.includes('owner'));
  step('claim', { status: binding.status, label: binding.label });

  // 3. a refusal's Chinese message through the wrapper
  await assert.rejects(api.claim(cfg.community, { building: cfg.building, unit: cfg.unit, room: cfg.room, name: cfg.name }), (e) => {
    assert.ok(e instanceof request.ApiError);
    assert.ok(e.status >= 400 && e.status < 500);
    assert.match(e.message, /[\u4e00-\u9fff]/, 'a Chinese message: ' + e.message);
    return true;
  });
  step('refusal', 'Chinese message');

  // 4. the vote: rights, the key made and registered on first cast, ballot signed, receipt checked
  await subscribe.prefetch();
  assert.deepEqual(subscribe.idsFor('vote_cast'), [cfg.template_result], 'the template id comes from the server');
  const vote = await api.vote(cfg.vote);
  assert.equal(vote.state, 'open');
  assert.equal(vote.definition.protocol, 'linli-vote/1.1');
  assert.deepEqual(voteClient.witnessInfo(vote.definition), { witnesses: [{ id: cfg.witness_id, name: '幸福街道办事处' }], quorum: 1 });
  assert.equal(vote.my_rights.length, 1, JSON.stringify(vote.my_rights));
  const right = vote.my_rights[0];
  assert.equal(voteClient.devicePublicKey(), null, 'no key before the first cast');
  const first = await voteClient.cast(vote, right, { option: 'approve' });
  assert.equal(first.ok, true, JSON.stringify(first.problems));
  assert.ok(first.record.receipt.entry, 'the receipt carries its entry');
  assert.ok(first.head.ok && ['first', 'newer'].includes(first.head.status), JSON.stringify(first.head));
  const keys = await voteClient.listKeys();
  assert.deepEqual(keys.filter((k) => k.mine).map((k) => k.public_key), [voteClient.devicePublicKey()]);
  assert.equal(L.checkReceipt(first.record.receipt, { serverKey: vote.definition.server_key, envelope: first.record.envelope }).ok, true);
  assert.equal(first.witnessed.status, 'waiting', 'no co-signed head yet: ' + JSON.stringify(first.witnessed));
  step('cast', { leaf_index: first.record.receipt.leaf_index, size: first.record.receipt.tree_head.size });

  // 5. re-vote: the last ballot counts
  const second = await voteClient.cast(await api.vote(cfg.vote), right, { option: 'reject' });
  assert.equal(second.ok, true, JSON.stringify(second.problems));
  assert.ok(second.record.receipt.leaf_index > first.record.receipt.leaf_index);
  assert.equal(voteClient.receiptsOf(vote.definition.vote_id).length, 2);
  step('revote', { leaf_index: second.record.receipt.leaf_index });

  // 6. my receipts re-checked against the latest head
  let again = await voteClient.recheck(cfg.vote);
  assert.equal(again.latestOk, true, JSON.stringify(again.latestProblems));
  assert.deepEqual(again.receipts.map((r) => r.ok), [true, true]);
  assert.equal(again.evidence, null);
  assert.equal(again.witnessed.status, 'waiting');
  step('recheck', { latest: again.latest.size, statuses: again.receipts.map((r) => r.status) });

  // 6b. the witness co-signs the newest head; the receipts now hold in a co-signed log
  const cosigned = await cosign(cfg, L, nacl, await api.treeHead(cfg.vote));
  again = await voteClient.recheck(cfg.vote);
  assert.equal(again.latestOk, true, JSON.stringify(again.latestProblems));
  assert.deepEqual([again.witnessed.status, again.witnessed.count, again.witnessed.size], ['cosigned', 1, cosigned.size], JSON.stringify(again.witnessed));
  step('witness', { size: cosigned.size });

  // 6c. a proxy: the delegate (another resident, verified phone) makes a proxy key on their phone;
  // the key reaches the owner's phone as the QR text; the owner signs the delegation; the proxy
  // casts with its key; the owner sees the proxy was used (never what it chose)
  const shown = await as(delegatePhone, async () => {
    await api.verifyPhone(`phone-${cfg.delegate.phone}~${Date.now()}`);
    const claim = await api.claim(cfg.community, { building: cfg.building, unit: cfg.unit, room: cfg.delegate.room, name: cfg.delegate.name });
    assert.equal(claim.status, 'verified', JSON.stringify(claim));
    return voteClient.ensureProxyKey();
  });
  assert.equal(shown.registered, true);
  const scanned = L.parseProxyKeyText(shown.text);
  assert.equal(L.keyFingerprint(scanned), shown.fingerprint, 'the fingerprints on both phones agree');
  const given = await voteClient.delegate(await api.vote(cfg.vote), right, scanned);
  assert.equal(given.ok, true, JSON.stringify(given.problems));
  assert.equal(given.record.envelope.public_key, voteClient.devicePublicKey(), 'signed by the owner\'s device key');
  let mine = await voteClient.delegations(cfg.vote);
  assert.deepEqual(mine.rights.map((r) => [r.right_id, r.delegate && r.delegate.public_key, r.delegate && r.delegate.used]), [[right.right_id, scanned, false]]);
  assert.equal(mine.rights[0].delegate.fingerprint, shown.fingerprint);
  const proxyCast = await as(delegatePhone, async () => {
    const held = await voteClient.myProxies();
    assert.deepEqual(held.map((p) => [p.id, p.right_id, p.here, p.used]), [[cfg.vote, right.right_id, true, false]]);
    const outcome = await voteClient.castAsProxy(await api.vote(cfg.vote), held[0], { option: 'reject' });
    assert.equal(outcome.ok, true, JSON.stringify(outcome.problems));
    assert.equal(outcome.record.envelope.public_key, scanned);
    return outcome;
  });
  mine = await voteClient.delegations(cfg.vote);
  assert.equal(mine.rights[0].delegate.used, true, 'the owner sees the proxy voted');
  step('proxy', { delegation: given.record.receipt.leaf_index, ballot: proxyCast.record.receipt.leaf_index });

  // 7. 401: a token revoked on the server → the wrapper logs in again once, by itself
  await api.logout();
  const logins = wx.__calls.login;
  me = await api.me();
  assert.equal(wx.__calls.login, logins + 1);
  assert.deepEqual(me.communities.map((c) => c.id), [cfg.community]);
  step('relogin');

  // 8. a ticket with a photo: uploaded with wx.uploadFile, then fetched back with the bearer header
  const progress = [];
  const media = await api.upload(cfg.photo, (p) => progress.push(p));
  assert.ok(media.id > 0 && progress.includes(100));
  const ticket = await api.fileTicket(cfg.community, { category: 'repair', subject: 'elevator', description: '电梯门关不上', location: '3 号楼 1 单元', photo_ids: [media.id] });
  assert.equal(ticket.status, 'submitted');
  const detail = await api.ticket(ticket.id);
  assert.deepEqual(detail.photos.map((p) => p.id), [media.id]);
  const thumb = await api.download(detail.photos[0].thumbnail_url);
  const bytes = fs.readFileSync(thumb);
  assert.equal(bytes.slice(0, 3).toString('hex'), 'ffd8ff', 'the thumbnail is a JPEG');
  const reply = await api.replyTicket(ticket.id, { body: '请尽快处理', photo_ids: [] });
  assert.equal(reply.body, '请尽快处理');
  step('ticket', { id: ticket.id, photo: media.id, thumbnail_bytes: bytes.length });

  // 9. the close (the committee's console does it at closes_at), then the result
  const wait = Date.parse(cfg.closes_at) - Date.now();
  assert.ok(wait > 0, 'the steps before the close took longer than the vote was open');
  step('waiting', { ms: wait });
  await new Promise((r) => setTimeout(r, wait + 1500));
  const closed = await fetch(cfg.base + '/api/v1/votes/' + cfg.vote + '/close', { method: 'POST', headers: { Authorization: 'Bearer ' + cfg.committee_token } });
  assert.equal(closed.status, 200, await closed.text());
  // The tally waits for the witness: the close head co-signed, then published.
  const waiting = await api.tally(cfg.vote);
  assert.equal(waiting.published, false);
  const finalCosig = await cosign(cfg, L, nacl, await api.treeHead(cfg.vote));
  const result = await voteClient.result(cfg.vote);
  assert.equal(result.ok, true, JSON.stringify(result.problems));
  assert.equal(result.tally.counts.reject.heads, 1, 'the last ballot counts (the proxy\'s reject after the owner\'s re-vote)');
  assert.equal(result.tally.size, finalCosig.size);
  assert.equal(result.tally.counts.approve.heads, 0);
  assert.match(result.notice.text, /[\u4e00-\u9fff]/);
  step('result', { passed: result.tally.passed, quorum: result.tally.quorum, size: result.tally.size });

  // 10. the receipts against the final head; a cast now is refused with the Chinese reason
  again = await voteClient.recheck(cfg.vote);
  assert.equal(again.latestOk, true, JSON.stringify(again.latestProblems));
  assert.deepEqual(again.receipts.map((r) => [r.record.kind, r.ok]), [['ballot', true], ['ballot', true], ['delegation', true]]);
  assert.deepEqual([again.witnessed.status, again.witnessed.size], ['cosigned', finalCosig.size]);
  // Every receipt kept on both phones, for the verifier (the pytest side runs python -m voting.verify).
  const kept = voteClient.receiptsOf(vote.definition.vote_id).concat(await as(delegatePhone, async () => voteClient.receiptsOf(vote.definition.vote_id)));
  assert.equal(kept.length, 4);
  kept.forEach((r, i) => fs.writeFileSync(path.join(cfg.receipts_dir, `receipt-${i}.json`), JSON.stringify(r.receipt)));
  await assert.rejects(voteClient.cast(await api.vote(cfg.vote), right, { option: 'approve' }), (e) => {
    assert.equal(e.code, 'vote_closed');
    assert.match(e.message, /[\u4e00-\u9fff]/);
    return true;
  });
  step('closed', 'cast refused');
  process.stdout.write('E2E OK\n');
}

main().catch((e) => {
  process.stderr.write('E2E FAILED: ' + (e && e.stack ? e.stack : String(e)) + '\n');
  process.exit(1);
});

/**
 * Voting on the phone (docs/protocol.md, docs/votes.md), built on the protocol library
 * lib/linli-vote.js:
 *
 * - the device key: made on first use from 32 bytes of wx.getRandomValues, kept in the
 *   mini-program's own storage (never sent: only its public half is registered), registered with
 *   POST /api/v1/me/keys (idempotent: a retry after a lost answer changes nothing);
 * - cast: the ballot made and signed here, posted, and its receipt checked here *before* the page may
 *   say 投票成功: signed by the vote's pinned server key, the inclusion proof, and the logged entry
 *   being exactly the envelope this phone signed; then the receipt's tree head is shown to the
 *   HeadMemory (one growing log per vote, or split-view evidence);
 * - my receipts: kept per vote; re-checked against the latest signed head (consistency proofs);
 * - the result: the signed tally verified with the server key, the close receipt's head likewise.
 *
 * Storage: `linli/device-key` {seed, public_key, registered}, `linli/receipts` {vote_id: [record]},
 * and the library's HeadMemory keys `linli-vote/head/<vote_id>`, `linli-vote/split/<vote_id>`.
 */
'use strict';

var L = require('./linli-vote.js');
var api = require('./api.js');

var KEY_STORE = 'linli/device-key';
var RECEIPT_STORE = 'linli/receipts';

var TEXT = {
  randomFailed: '无法取得安全随机数，不能生成密钥或选票',
  keyRevoked: '本机密钥已被撤销，已生成新密钥',
  noDefinition: '表决尚未开始，没有表决定义',
  tallySignature: '计票结果的签名与表决定义中的服务器公钥不符',
  tallyHead: '计票结果的日志根与关闭回执的树头不符'
};

function storage() {
  return {
    get: function (key) { return wx.getStorageSync(key); },
    set: function (key, value) { wx.setStorageSync(key, value); }
  };
}

/** n bytes from wx.getRandomValues (the only source of randomness in the app). */
function randomBytes(n) {
  return new Promise(function (resolve, reject) {
    wx.getRandomValues({
      length: n,
      success: function (res) {
        var bytes = new Uint8Array(res.randomValues);
        if (bytes.length !== n) return reject(new Error(TEXT.randomFailed));
        resolve(bytes);
      },
      fail: function () { reject(new Error(TEXT.randomFailed)); }
    });
  });
}

// ---- the device key -------------------------------------------------------------------------------

function storedKey() {
  var record = wx.getStorageSync(KEY_STORE);
  if (!record || typeof record !== 'object' || typeof record.seed !== 'string') return null;
  try {
    var seed = L.b64uDecode(record.seed);
    if (seed.length !== 32) return null;
    var pair = L.keyPairFromSeed(seed);
    if (pair.publicKey !== record.public_key) return null;
    return { publicKey: pair.publicKey, secretKey: pair.secretKey, registered: !!record.registered };
  } catch (e) {
    return null;
  }
}

/** This phone's public key (b64u), or null when none was made yet. */
function devicePublicKey() {
  var key = storedKey();
  return key ? key.publicKey : null;
}

function saveKey(seed, publicKey, registered) {
  wx.setStorageSync(KEY_STORE, { seed: L.b64uEncode(seed), public_key: publicKey, registered: registered });
}

function newKey() {
  return randomBytes(32).then(function (seed) {
    var pair = L.keyPairFromSeed(seed);
    saveKey(seed, pair.publicKey, false);
    return { publicKey: pair.publicKey, secretKey: pair.secretKey, registered: false, seed: seed };
  });
}

/**
 * The device key, made on first use and registered (POST /me/keys). A key the server says was
 * revoked (a lost phone's key revoked from another phone, say) is replaced by a new one.
 * Resolves {publicKey, secretKey, created, replaced}.
 */
function ensureKey() {
  var key = storedKey();
  var created = false;
  var start = key ? Promise.resolve(key) : newKey().then(function (k) { created = true; return k; });
  return start.then(function (k) {
    if (k.registered) return { publicKey: k.publicKey, secretKey: k.secretKey, created: false, replaced: false };
    return register(k).then(function () {
      return { publicKey: k.publicKey, secretKey: k.secretKey, created: created, replaced: false };
    }, function (error) {
      if (error && error.code === 'key_revoked') {
        return forgetKey().then(newKey).then(function (fresh) {
          return register(fresh).then(function () {
            return { publicKey: fresh.publicKey, secretKey: fresh.secretKey, created: true, replaced: true };
          });
        });
      }
      throw error;
    });
  });
}

function register(key) {
  return api.registerKey(key.publicKey).then(function (answer) {
    var record = wx.getStorageSync(KEY_STORE);
    saveKey(L.b64uDecode(record.seed), key.publicKey, true);
    return answer;
  });
}

function forgetKey() {
  wx.removeStorageSync(KEY_STORE);
  return Promise.resolve();
}

/**
 * The caller's keys (GET /me/keys) with `mine` marking this phone's. Revoking this phone's own key
 * forgets it here too (the next cast makes a new one).
 */
function listKeys() {
  var mine = devicePublicKey();
  return api.myKeys().then(function (page) {
    return (page.items || []).map(function (k) {
      return Object.assign({}, k, { mine: k.public_key === mine, revoked: !!k.revoked_at });
    });
  });
}

function revokeKey(publicKey) {
  return api.revokeKey(publicKey).then(function (answer) {
    if (publicKey === devicePublicKey()) wx.removeStorageSync(KEY_STORE);
    return answer;
  });
}

// ---- receipts -------------------------------------------------------------------------------------

function allReceipts() {
  var all = wx.getStorageSync(RECEIPT_STORE);
  return all && typeof all === 'object' ? all : {};
}

/** The receipts kept for a vote (its protocol vote_id), oldest first. */
function receiptsOf(voteId) {
  var list = allReceipts()[voteId];
  return Array.isArray(list) ? list : [];
}

function keepReceipt(record) {
  var all = allReceipts();
  var list = Array.isArray(all[record.vote_id]) ? all[record.vote_id] : [];
  list.push(record);
  all[record.vote_id] = list;
  wx.setStorageSync(RECEIPT_STORE, all);
}

// ---- tree heads -----------------------------------------------------------------------------------

function memory() {
  return new L.HeadMemory(storage());
}

/**
 * Show the phone's HeadMemory a signed head of vote `vid` (API id): fetches the consistency proof
 * between the remembered size and this one when they differ. Resolves the library's update result
 * ({ok, status, head, problems, evidence}).
 */
function observeHead(vid, definition, head) {
  var mem = memory();
  var remembered = mem.remembered(definition.vote_id);
  var need = remembered && head && typeof head.size === 'number' && remembered.head.size !== head.size;
  var proof = need
    ? api.consistency(vid, Math.min(remembered.head.size, head.size), Math.max(remembered.head.size, head.size))
      .then(function (answer) { return answer.consistency_proof; })
    : Promise.resolve(undefined);
  return proof.then(function (p) {
    return mem.update(head, { serverKey: definition.server_key, proof: p, voteId: definition.vote_id });
  });
}

/** Split-view evidence recorded for a vote, or null. */
function splitEvidence(voteId) {
  return memory().splitEvidence(voteId);
}

// ---- casting --------------------------------------------------------------------------------------

/**
 * Make, sign and cast a ballot, then check the receipt on this phone.
 * vote: the API's vote (GET /votes/<vid>, with `definition`); right: one of its my_rights;
 * choice: {option} or {approve: [...]}.
 * Resolves {ok, problems: [{code, message}], record, head (the HeadMemory result), evidence}.
 * ok is true only if the receipt checks and its head is consistent with every head seen before.
 * Rejects with the server's ApiError when the ballot is refused (the Chinese reason in .message).
 */
function cast(vote, right, choice) {
  var definition = vote.definition;
  if (!definition || !definition.vote_id) return Promise.reject(new Error(TEXT.noDefinition));
  var tries = 0;
  var attempt = function () {
    tries += 1;
    return ensureKey().then(function (key) {
      return randomBytes(16).then(function (nonce) {
        var ballot = L.newBallot({ voteId: definition.vote_id, rightId: right.right_id, choice: choice, nonceBytes: nonce, signedAt: new Date() }, definition);
        var envelope = L.signBallot(ballot, key.secretKey);
        return api.castBallot(vote.id, envelope).then(function (receipt) {
          return { envelope: envelope, receipt: receipt, key: key };
        });
      });
    }).catch(function (error) {
      // A key revoked since it was registered here (from another phone): a new key, once.
      if (error && error.code === 'key_revoked' && tries === 1) {
        return forgetKey().then(attempt);
      }
      throw error;
    });
  };
  return attempt().then(function (sent) {
    var check = L.checkReceipt(sent.receipt, { serverKey: definition.server_key, envelope: sent.envelope });
    var headStep = check.ok ? observeHead(vote.id, definition, sent.receipt.tree_head) : Promise.resolve(null);
    return headStep.then(function (head) {
      var problems = check.problems.concat(head && !head.ok ? head.problems : []);
      var record = {
        vid: vote.id,
        vote_id: definition.vote_id,
        title: vote.title,
        right_id: right.right_id,
        right_label: right.label,
        choice: choice,
        envelope: sent.envelope,
        receipt: sent.receipt,
        cast_at: new Date().toISOString(),
        ok: problems.length === 0,
        problems: problems
      };
      keepReceipt(record);
      return { ok: record.ok, problems: problems, record: record, head: head, evidence: head ? head.evidence : null };
    });
  });
}

/**
 * Re-check every receipt kept for vote `vid` against the latest signed head: each receipt's head and
 * the latest one are shown to the HeadMemory in turn, each step proved by a consistency proof from
 * the server. Resolves {vote, latest, receipts: [{record, status, ok, problems}], evidence}.
 */
function recheck(vid) {
  return api.vote(vid).then(function (vote) {
    var definition = vote.definition;
    if (!definition) return { vote: vote, latest: null, receipts: [], evidence: null };
    var records = receiptsOf(definition.vote_id).slice().sort(function (a, b) {
      return a.receipt.tree_head.size - b.receipt.tree_head.size;
    });
    var results = [];
    var chain = Promise.resolve();
    records.forEach(function (record) {
      chain = chain.then(function () {
        var check = L.checkReceipt(record.receipt, { serverKey: definition.server_key, envelope: record.envelope });
        if (!check.ok) {
          results.push({ record: record, status: 'invalid', ok: false, problems: check.problems });
          return null;
        }
        return observeHead(vid, definition, record.receipt.tree_head).then(function (seen) {
          results.push({ record: record, status: seen.status, ok: seen.ok, problems: seen.problems });
        });
      });
    });
    var latest = null;
    var latestResult = null;
    return chain.then(function () {
      return api.treeHead(vid);
    }).then(function (head) {
      latest = head;
      return observeHead(vid, definition, head);
    }).then(function (seen) {
      latestResult = seen;
      return {
        vote: vote,
        latest: latest,
        latestStatus: seen.status,
        latestOk: seen.ok,
        latestProblems: seen.problems,
        receipts: results,
        evidence: splitEvidence(definition.vote_id) || (latestResult && latestResult.evidence) || null
      };
    });
  });
}

// ---- the result -----------------------------------------------------------------------------------

/**
 * The signed tally of a closed vote, verified here: the tally's signature by the vote's server key,
 * its size and root equal to the close receipt's tree head, that receipt's inclusion proof, and the
 * final head shown to the HeadMemory. Resolves {vote, tally, notice, ok, problems, head}.
 */
function result(vid) {
  return api.vote(vid).then(function (vote) {
    return api.tally(vid).then(function (answer) {
      var definition = vote.definition;
      var problems = [];
      var tally = answer.tally;
      if (!L.verifyObject(definition.server_key, tally)) problems.push({ code: 'tally_signature', message: TEXT.tallySignature });
      var closeReceipt = answer.close_receipt;
      var head = closeReceipt && closeReceipt.tree_head;
      if (!head || head.size !== tally.size || head.root !== tally.root) problems.push({ code: 'tally_head', message: TEXT.tallyHead });
      var inclusion = head && L.verifyInclusion(closeReceipt.leaf_index, head.size, closeReceipt.leaf_hash, closeReceipt.inclusion_proof, head.root);
      if (head && !inclusion) problems.push({ code: 'inclusion_failed', message: L.PROBLEMS.inclusion_failed });
      var heads = head ? L.treeHeadProblems(head, definition.server_key, definition.vote_id) : [];
      problems = problems.concat(heads);
      var step = head && !heads.length ? observeHead(vid, definition, head) : Promise.resolve(null);
      return step.then(function (seen) {
        if (seen && !seen.ok) problems = problems.concat(seen.problems);
        return { vote: vote, tally: tally, notice: answer.notice, ok: problems.length === 0, problems: problems, head: seen };
      });
    });
  });
}

module.exports = {
  KEY_STORE: KEY_STORE,
  RECEIPT_STORE: RECEIPT_STORE,
  randomBytes: randomBytes,
  devicePublicKey: devicePublicKey,
  ensureKey: ensureKey,
  listKeys: listKeys,
  revokeKey: revokeKey,
  receiptsOf: receiptsOf,
  allReceipts: allReceipts,
  observeHead: observeHead,
  splitEvidence: splitEvidence,
  cast: cast,
  recheck: recheck,
  result: result
};

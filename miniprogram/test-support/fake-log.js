'use strict';
// A vote's log as the server keeps it, in a few lines, for the page tests: entries, signed tree
// heads, receipts with their entry, inclusion and consistency proofs (RFC 6962, built with the
// reference Tree of helpers.js and Node's crypto; the library under test only verifies).
const crypto = require('crypto');
const nacl = require('tweetnacl');
const { L, Tree } = require('./helpers.js');

function seedOf(label) {
  return Uint8Array.from(crypto.createHash('sha256').update('linli page test ' + label).digest());
}

class FakeLog {
  constructor(voteId, options) {
    const opts = options || {};
    this.server = nacl.sign.keyPair.fromSeed(seedOf(opts.serverLabel || 'server'));
    this.serverKey = L.b64uEncode(this.server.publicKey);
    this.voteId = voteId;
    this.definition = {
      type: 'definition', protocol: 'linli-vote/1', vote_id: voteId, community_id: '1', title: opts.title || '更换3号楼电梯',
      kind: 'resolution', matter: opts.matter || 'ordinary', options: ['approve', 'reject', 'abstain'], candidates: null, seats: null,
      opens_at: '2026-11-01T00:00:00Z', closes_at: '2026-12-31T00:00:00Z',
      roll: { root: '0'.repeat(64), size: 3, area: 30000, heads: 3 }, server_key: this.serverKey
    };
    if (opts.witnesses) {
      // [1.1] A vote with witnesses: each with its own key; co-signatures kept as the server keeps them.
      this.witnesses = opts.witnesses.map((name, i) => ({ id: 'w-' + i, name, pair: nacl.sign.keyPair.fromSeed(seedOf('witness ' + i)) }));
      this.definition.protocol = 'linli-vote/1.1';
      this.definition.witnesses = this.witnesses.map((w) => ({ id: w.id, name: w.name, public_key: L.b64uEncode(w.pair.publicKey) }));
      this.definition.witness_quorum = opts.quorum || 1;
    } else if (opts.protocol === 'linli-vote/1.1') {
      this.definition.protocol = 'linli-vote/1.1';
      this.definition.witnesses = [];
      this.definition.witness_quorum = 0;
    }
    this.cosignatures = [];
    this.entries = [this.definition];
  }

  /** [1.1] Witness i co-signs the head of `size` entries (default: the log as it stands). */
  cosign(i, size) {
    const w = this.witnesses[i];
    const n = size === undefined ? this.entries.length : size;
    const body = { type: 'cosignature', vote_id: this.voteId, size: n, root: this.tree().root(n), witness: w.id, timestamp: '2026-11-27T08:30:00Z' };
    const signed = Object.assign({}, body, { signature: L.b64uEncode(nacl.sign.detached(L.canonical(body), w.pair.secretKey)) });
    this.cosignatures.push(signed);
    return signed;
  }

  /** GET …/tree-head's answer: the newest head with its co-signatures; cosigned=true: the newest with a quorum, or null. */
  view(cosigned) {
    const quorum = this.definition.witness_quorum || 0;
    const of = (size) => this.cosignatures.filter((c) => c.size === size);
    let size = this.entries.length;
    if (cosigned) {
      const sizes = [...new Set(this.cosignatures.map((c) => c.size))].filter((n) => of(n).length >= quorum).sort((a, b) => b - a);
      if (!sizes.length) return null;
      size = sizes[0];
    }
    return { id: 5, vote_id: this.voteId, tree_head: this.head(size), cosignatures: of(size), witness_quorum: quorum, cosigned: quorum > 0 && of(size).length >= quorum };
  }

  /** Append any entry and return its receipt. */
  append(entry) {
    this.entries.push(entry);
    const index = this.entries.length - 1;
    const size = this.entries.length;
    return { vote_id: this.voteId, leaf_index: index, leaf_hash: L.leafHash(entry), tree_head: this.head(size), inclusion_proof: this.inclusion(index, size), entry: entry };
  }

  sign(object) {
    const signature = nacl.sign.detached(L.canonical(object), this.server.secretKey);
    return Object.assign({}, object, { signature: L.b64uEncode(signature) });
  }

  tree() {
    return new Tree(this.entries.map((e) => L.leafHash(e)));
  }

  head(size) {
    const n = size === undefined ? this.entries.length : size;
    return this.sign({ type: 'tree_head', vote_id: this.voteId, size: n, root: this.tree().root(n), timestamp: '2026-11-27T08:00:00Z' });
  }

  inclusion(index, size) {
    // RFC 6962 §2.1.1 PATH(m, D[n]), bottom-up.
    const tree = this.tree();
    const path = (m, lo, hi) => {
      if (hi - lo <= 1) return [];
      let k = 1;
      while (k * 2 < hi - lo) k *= 2;
      return m < k ? path(m, lo, lo + k).concat([tree.rangeRoot(lo + k, hi)]) : path(m - k, lo + k, hi).concat([tree.rangeRoot(lo, lo + k)]);
    };
    return path(index, 0, size);
  }

  consistency(first, second) {
    return this.tree().consistencyProof(first, second);
  }

  /** Append a signed ballot's entry and return the receipt the server would give. */
  cast(envelope) {
    const entry = { type: 'ballot', received_at: '2026-11-27T08:00:00Z', envelope: envelope };
    this.entries.push(entry);
    const index = this.entries.length - 1;
    const size = this.entries.length;
    return { vote_id: this.voteId, leaf_index: index, leaf_hash: L.leafHash(entry), tree_head: this.head(size), inclusion_proof: this.inclusion(index, size), entry: entry };
  }
}

module.exports = { FakeLog, seedOf };

'use strict';
// Shared by the node tests and the bench: fixtures, a reference Merkle tree, single-field mutations.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const L = require('../lib/linli-vote.js');

const FIXTURES = path.join(__dirname, '..', 'test', 'fixtures');
const REPO = path.join(__dirname, '..', '..');
const VECTORS = path.join(REPO, 'tests', 'vectors', 'merkle');

function fixture(name) {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
}

function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

function fromHex(hex) {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** Standard base64 (the transparency-dev vectors) → lowercase hex; null stays null. */
function b64ToHex(value) {
  return value === null || value === undefined ? value : Buffer.from(value, 'base64').toString('hex');
}

/**
 * A reference RFC 6962 tree over leaf hashes (hex): every level kept, O(n) to build, then roots
 * and proofs of any prefix. Test and bench code only: the library verifies, it never builds proofs.
 */
class Tree {
  constructor(leafHashes) {
    this.levels = [leafHashes.map(fromHex)];
    while (this.levels[this.levels.length - 1].length > 1) {
      const below = this.levels[this.levels.length - 1];
      const up = [];
      for (let i = 0; i + 1 < below.length; i += 2) up.push(fromHex(nodeHashHex(hex(below[i]), hex(below[i + 1]))));
      this.levels.push(up);
    }
    this.size = leafHashes.length;
  }

  rangeRoot(lo, hi) {
    const nodes = [];
    while (lo < hi) {
      let k = 0;
      while (2 ** (k + 1) <= hi - lo) k++;
      nodes.push(this.levels[k][lo / 2 ** k]);
      lo += 2 ** k;
    }
    let r = hex(nodes[nodes.length - 1]);
    for (let i = nodes.length - 2; i >= 0; i--) r = nodeHashHex(hex(nodes[i]), r);
    return r;
  }

  root(size) {
    return size === 0 ? L.EMPTY_ROOT : this.rangeRoot(0, size);
  }

  consistencyProof(m, n) {
    if (m === n) return [];
    const proof = [];
    let lo = 0;
    let hi = n;
    let whole = true;
    for (;;) {
      if (m === hi - lo) {
        if (!whole) proof.push(this.rangeRoot(lo, hi));
        break;
      }
      let k = 1;
      while (k * 2 < hi - lo) k *= 2;
      if (m <= k) {
        proof.push(this.rangeRoot(lo + k, hi));
        hi = lo + k;
      } else {
        proof.push(this.rangeRoot(lo, lo + k));
        lo += k;
        m -= k;
        whole = false;
      }
    }
    return proof.reverse();
  }
}

/** SHA-256(0x01 ‖ left ‖ right) in hex, with Node's own crypto (an implementation apart from the library's). */
function nodeHashHex(leftHex, rightHex) {
  return crypto.createHash('sha256').update(Buffer.from([1])).update(Buffer.from(leftHex, 'hex')).update(Buffer.from(rightHex, 'hex')).digest('hex');
}

function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

// --- single-field mutations (as tests/voting/helpers.py field_mutations) ----------------------------

const OPTIONS = ['approve', 'reject', 'abstain'];

function shiftTime(text, seconds) {
  const ms = Date.parse(text) + seconds * 1000;
  const iso = new Date(ms).toISOString();
  return text.length > 20 ? iso.slice(0, 19) + text.slice(19) : iso.slice(0, 19) + 'Z';
}

function alternatives(value) {
  if (typeof value === 'boolean') return [!value];
  if (value === null) return [1];
  if (typeof value === 'number') return [value + 1, value - 1];
  if (Array.isArray(value)) return value.length ? [value.slice(0, -1), value.concat([value[0]])] : [['x']];
  if (typeof value !== 'string') return [];
  if (L.isTime(value)) return [shiftTime(value, 1), shiftTime(value, -1)];
  if (OPTIONS.includes(value)) return OPTIONS.filter((o) => o !== value);
  if (L.isHashHex(value)) return [(value[0] === '1' ? '2' : '1') + value.slice(1)];
  if (L.isSignature(value) || L.isNonce(value) || L.isPublicKey(value)) return [(value[0] === 'B' ? 'C' : 'B') + value.slice(1)];
  return [value + 'x', ''];
}

/** [description, mutated copy] for every single change of a JSON tree: each value altered, each key removed, one key added per object, each array element altered. */
function mutations(obj, trail = []) {
  const out = [];
  if (Array.isArray(obj)) {
    obj.forEach((item, i) => {
      const alts = typeof item === 'object' && item !== null ? [] : alternatives(item);
      for (const alt of alts) {
        const copy = clone(obj);
        copy[i] = alt;
        out.push([trail.concat(i).join('.') + '=' + JSON.stringify(alt), copy]);
      }
      if (typeof item === 'object' && item !== null) {
        for (const [desc, sub] of mutations(item, trail.concat(i))) {
          const copy = clone(obj);
          copy[i] = sub;
          out.push([desc, copy]);
        }
      }
    });
  } else if (obj !== null && typeof obj === 'object') {
    for (const key of Object.keys(obj)) {
      for (const alt of alternatives(obj[key])) {
        const copy = clone(obj);
        copy[key] = alt;
        out.push([trail.concat(key).join('.') + '=' + JSON.stringify(alt).slice(0, 40), copy]);
      }
      if (obj[key] !== null && typeof obj[key] === 'object') {
        for (const [desc, sub] of mutations(obj[key], trail.concat(key))) {
          const copy = clone(obj);
          copy[key] = sub;
          out.push([desc, copy]);
        }
      }
      const copy = clone(obj);
      delete copy[key];
      out.push(['remove ' + trail.concat(key).join('.'), copy]);
    }
    const copy = clone(obj);
    copy.extra = 1;
    out.push(['add ' + trail.concat('extra').join('.'), copy]);
  }
  return out;
}

/** A synchronous storage adapter that behaves like wx.getStorageSync/setStorageSync ('' when missing). */
function memoryStorage() {
  const data = new Map();
  return {
    data,
    get: (key) => (data.has(key) ? data.get(key) : ''),
    set: (key, value) => data.set(key, value)
  };
}

module.exports = { L, nodeHashHex, REPO, VECTORS, FIXTURES, fixture, clone, fromHex, hex, b64ToHex, Tree, mutations, memoryStorage };

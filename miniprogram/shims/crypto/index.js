/**
 * A stand-in for Node's `crypto` inside WeChat (never loaded by Node: its built-in module wins).
 *
 * tweetnacl ends with a random-generator setup that, finding no `self.crypto`, runs
 * `require('crypto')` at load; WeChat's require throws for a module it does not have, and WeChat's
 * npm build packs this package as `miniprogram_npm/crypto`, so the require finds it. It offers no
 * `randomBytes`, so tweetnacl leaves its generator unset and `nacl.randomBytes` throws if anything
 * ever calls it. Nothing in the app does: keys are made from seeds taken from `wx.getRandomValues`
 * (lib/vote-client.js), nonces likewise.
 */
'use strict';

module.exports = {
  linliShim: true
};

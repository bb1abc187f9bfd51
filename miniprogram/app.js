// The app: first the crypto shim (before anything loads the voting library and tweetnacl; see
// lib/crypto-shim.js), then the usual App().
var shim = require('./lib/crypto-shim.js');

shim.install(shim.globalObject());

App({
  onLaunch: function () {
    // The request wrapper logs in on the first call that needs it (wx.login → bearer token).
  }
});

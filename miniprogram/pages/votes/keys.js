// 表决密钥: this phone's key (made on first use, kept only on this phone) and the other keys
// registered under my account; a lost phone's key can be revoked here (it then can no longer cast;
// ballots already cast stay). A key once revoked is never accepted again.
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var voteClient = require('../../lib/vote-client.js');

Component({
  data: { loading: true, error: '', keys: [], hasLocal: false, making: false },
  methods: {
    onLoad: function () {
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return voteClient.listKeys().then(function (keys) {
          self.setData({
            hasLocal: !!voteClient.devicePublicKey() && keys.some(function (k) { return k.mine && !k.revoked; }),
            keys: keys.map(function (k) {
              return {
                publicKey: k.public_key, short: k.public_key.slice(0, 8) + '…' + k.public_key.slice(-6), mine: k.mine, proxy: k.proxy, revoked: k.revoked,
                created: format.time(k.created_at), revokedAt: format.time(k.revoked_at)
              };
            })
          });
        });
      });
    },
    makeKey: function () {
      var self = this;
      self.setData({ making: true });
      return voteClient.ensureKey().then(function () {
        self.setData({ making: false });
        return self.refresh();
      }, function (error) {
        self.setData({ making: false });
        return page.alert(error);
      });
    },
    revoke: function (e) {
      var self = this;
      var key = e.currentTarget.dataset.key;
      var mine = key === voteClient.devicePublicKey();
      var proxy = this.data.keys.some(function (k) { return k.publicKey === key && k.proxy; });
      var text = mine ? '撤销后本机需要生成新密钥才能投票。'
        : proxy ? '撤销后业主对这把代理人密钥的委托失效，需要重新委托新密钥。' : '撤销后这把密钥（如丢失的手机上的）不能再投票；已投的票不受影响。';
      return page.confirm('撤销密钥', text).then(function (yes) {
        if (!yes) return null;
        return voteClient.revokeKey(key).then(function () {
          page.toast('已撤销');
          return self.refresh();
        }, function (error) { return page.alert(error); });
      });
    }
  }
});

// 代理人密钥与我代理的表决 (the delegate's page, linli-vote/1.1): this phone's proxy key — made here
// from wx.getRandomValues on first use and registered with POST /me/proxy-keys (a verified phone is
// enough) — shown as a QR code for the owner's phone to scan, and as text with its fingerprint; and
// the votes I hold a proxy for (GET /me/proxies), each opening the vote page to cast as the proxy.
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var voteClient = require('../../lib/vote-client.js');

Component({
  data: { loading: true, error: '', key: null, making: false, makeError: '', proxies: [] },
  methods: {
    onLoad: function () {
      return this.refresh();
    },
    onShow: function () {
      if (this._loaded) return this.refresh();
      return null;
    },
    refresh: function () {
      var self = this;
      self._loaded = true;
      self.setData({ key: voteClient.proxyKey() });
      return page.load(self, function () {
        return voteClient.myProxies().then(function (list) {
          self.setData({
            proxies: list.map(function (p) {
              return {
                key: p.id + '/' + p.right_id, id: p.id, right_id: p.right_id, title: p.title, label: p.label, area: format.area(p.area),
                closes: format.time(p.closes_at), used: p.used, here: p.here
              };
            })
          });
        });
      });
    },
    /** Make (first time) and register this phone's proxy key, then show it. */
    makeKey: function () {
      var self = this;
      self.setData({ making: true, makeError: '' });
      return voteClient.ensureProxyKey().then(function (key) {
        self.setData({ making: false, key: key });
      }, function (error) {
        self.setData({ making: false, makeError: require('../../lib/request.js').messageOf(error) });
      });
    },
    copyKey: function () {
      if (this.data.key) wx.setClipboardData({ data: this.data.key.text });
    },
    castFor: function (e) {
      var d = e.currentTarget.dataset;
      page.go('/pages/votes/detail?id=' + d.id + '&proxy=' + encodeURIComponent(d.right));
    }
  }
});

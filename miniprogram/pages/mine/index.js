// 我的: my flat, device keys, the console sign-in (scan), the consoles signed in.
var page = require('../../lib/page.js');
var request = require('../../lib/request.js');

var PREFIX = 'linli-console-login:';

Component({
  data: { scanError: '' },
  methods: {
    onLoad: function () {},
    goMyFlat: function () { page.go('/pages/login/index'); },
    goKeys: function () { page.go('/pages/votes/keys'); },
    goProxyKey: function () { page.go('/pages/votes/proxy-key'); },
    goSessions: function () { page.go('/pages/console/sessions'); },
    goTickets: function () { wx.switchTab({ url: '/pages/tickets/index' }); },
    /** 扫码登录管理后台: only a QR whose text starts with linli-console-login: is accepted. */
    scanConsole: function () {
      var self = this;
      wx.scanCode({
        onlyFromCamera: true,
        scanType: ['qrCode'],
        success: function (res) {
          var text = res && typeof res.result === 'string' ? res.result : '';
          if (text.indexOf(PREFIX) !== 0 || text.length === PREFIX.length) {
            self.setData({ scanError: '这不是邻里管理后台的登录二维码' });
            return;
          }
          self.setData({ scanError: '' });
          page.go('/pages/console/confirm?code=' + encodeURIComponent(text.slice(PREFIX.length)));
        }
      });
    },
    logout: function () {
      var client = request.client();
      return client.request({ method: 'POST', path: '/api/v1/auth/logout', data: {} }).then(function () {
        client.forget();
        page.toast('已退出');
      }, function (error) { return page.alert(error); });
    }
  }
});

// 登录管理后台 (issue 13): reached by scanning a QR `linli-console-login:<code>`. Shows which
// console asks (address, browser, IP) and which roles will be signed in; confirm or decline.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', code: '', challenge: null, roles: [], done: '' },
  methods: {
    onLoad: function (query) {
      this.setData({ code: decodeURIComponent((query && query.code) || '') });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.consoleChallenge(self.data.code).then(function (challenge) {
          var roles = challenge.communities.map(function (c) {
            return { name: c.community_name, roles: c.roles.map(function (r) { return format.label('role', r); }).join('、') };
          });
          if (challenge.is_platform_admin) roles.unshift({ name: '全平台', roles: '平台管理员' });
          self.setData({ challenge: challenge, roles: roles, expires: format.time(challenge.expires_at) });
        });
      });
    },
    confirm: function () {
      var self = this;
      return api.confirmConsole(self.data.code).then(function () {
        self.setData({ done: 'confirmed' });
      }, function (error) { return page.alert(error); });
    },
    decline: function () {
      var self = this;
      return api.declineConsole(self.data.code).then(function () {
        self.setData({ done: 'declined' });
      }, function (error) { return page.alert(error); });
    }
  }
});

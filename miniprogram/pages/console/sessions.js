// 已登录的管理后台: the caller's live sessions (GET /me/sessions) with 退出 (DELETE) for each.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', sessions: [] },
  methods: {
    onLoad: function () {
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.sessions().then(function (list) {
          self.setData({
            sessions: list.map(function (s) {
              return {
                id: s.id, kind: format.label('sessionKind', s.kind), isConsole: s.kind === 'console', current: s.current,
                agent: s.user_agent || '', ip: s.client_ip || '', since: format.time(s.created_at), until: format.time(s.expires_at)
              };
            })
          });
        });
      });
    },
    end: function (e) {
      var self = this;
      var id = e.currentTarget.dataset.id;
      return page.confirm('退出登录', '让这个管理后台退出登录？').then(function (yes) {
        if (!yes) return null;
        return api.endSession(id).then(function () {
          page.toast('已退出');
          return self.refresh();
        }, function (error) { return page.alert(error); });
      });
    }
  }
});

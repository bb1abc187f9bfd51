// 公告: pinned first, then newest (the server's order).
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, notices: [] },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity() });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.notices(self.data.cid, { per_page: 50 }).then(function (answer) {
          self.setData({
            notices: answer.items.map(function (n) {
              return {
                id: n.id, title: n.title, pinned: n.pinned, important: n.important, read: !!n.read_at,
                category: format.label('noticeCategory', n.category), time: format.time(n.published_at)
              };
            })
          });
        });
      });
    },
    open: function (e) {
      page.go('/pages/notices/detail?cid=' + this.data.cid + '&id=' + e.currentTarget.dataset.id);
    }
  }
});

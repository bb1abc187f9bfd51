// One notice; opening it sends the read receipt (POST …/read, idempotent).
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, id: null, notice: null, attachments: [], readAt: '' },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity(), id: page.intParam(query, 'id') });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.notice(self.data.cid, self.data.id).then(function (n) {
          self.setData({
            notice: {
              title: n.title, body: n.body, category: format.label('noticeCategory', n.category), time: format.time(n.published_at),
              publisher: n.publisher_role === 'committee' ? '业主委员会' : '物业服务企业', withdrawn: n.status === 'withdrawn',
              withdrawReason: n.withdraw_reason || ''
            },
            attachments: n.attachment_ids.map(function (mid) {
              return { id: mid, thumb: '/api/v1/media/' + mid + '/thumbnail', full: '/api/v1/media/' + mid };
            })
          });
          return api.readNotice(self.data.cid, self.data.id).then(function (receipt) {
            self.setData({ readAt: format.time(receipt && receipt.read_at) });
          }, function () { return null; });
        });
      });
    }
  }
});

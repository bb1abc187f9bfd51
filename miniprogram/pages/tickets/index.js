// 工单: my tickets (a resident sees their own), newest first; file a new one.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, tickets: [] },
  methods: {
    onLoad: function () {
      this.setData({ cid: page.currentCommunity() });
      return this.refresh();
    },
    onShow: function () {
      if (!this.data.loading) this.refresh();
    },
    refresh: function () {
      var self = this;
      var cid = self.data.cid || page.currentCommunity();
      if (!cid) {
        self.setData({ loading: false, error: '', tickets: [] });
        return Promise.resolve(null);
      }
      return page.load(self, function () {
        return api.tickets(cid, { mine: true, per_page: 50 }).then(function (answer) {
          self.setData({
            cid: cid,
            tickets: answer.items.map(function (t) {
              return {
                id: t.id, title: format.label('ticketCategory', t.category) + ' · ' + format.label('ticketSubject', t.subject),
                description: t.description, status: t.status, statusText: format.label('ticketStatus', t.status),
                time: format.time(t.created_at), overdue: !!t.overdue
              };
            })
          });
        });
      });
    },
    open: function (e) {
      page.go('/pages/tickets/detail?id=' + e.currentTarget.dataset.id);
    },
    create: function () {
      page.go('/pages/tickets/new?cid=' + this.data.cid);
    }
  }
});

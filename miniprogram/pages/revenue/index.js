// 公共收益收支: the current version of each half-year's statement, latest first; a statement opens
// the shared version/diff page.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, statements: [] },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity() });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.revenueStatements(self.data.cid).then(function (answer) {
          self.setData({
            statements: answer.items.map(function (v) {
              var c = v.content || {};
              return {
                period: v.series, version: v.version, time: format.time(v.published_at),
                income: format.yuan(c.income_total_fen), expense: format.yuan(c.expense_total_fen),
                opening: format.yuan(c.opening_balance_fen), closing: format.yuan(c.closing_balance_fen)
              };
            })
          });
        });
      });
    },
    open: function (e) {
      page.go('/pages/disclosures/detail?cid=' + this.data.cid + '&period=' + e.currentTarget.dataset.period);
    }
  }
});

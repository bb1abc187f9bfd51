// 维修资金应急使用: emergency payments from the maintenance fund (paid without a vote, disclosed).
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, records: [] },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity() });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.emergencySpending(self.data.cid).then(function (answer) {
          self.setData({
            records: answer.items.map(function (r) {
              return {
                id: r.id, amount: format.yuan(r.amount_fen), reason: r.reason, contractor: r.contractor, location: r.location || '',
                spentOn: r.spent_on, reference: r.street_office_reference, confirmedOn: r.street_office_confirmed_on,
                photos: r.photo_ids.map(function (mid) { return { id: mid }; })
              };
            })
          });
        });
      });
    }
  }
});

// 我的回执: every receipt this phone kept for the vote, re-checked against the latest signed tree
// head (each step proved consistent by the server's consistency proof). If the server's log is
// inconsistent — two signed heads that cannot both be true — a red warning and the evidence.
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var voteClient = require('../../lib/vote-client.js');

var STATUS = {
  first: '一致', newer: '一致', same: '一致', older: '一致（已包含在更新的日志中）',
  rejected: '无法核验', split: '不一致', invalid: '回执无效'
};

Component({
  data: { loading: true, error: '', id: null, title: '', latest: null, receipts: [], evidence: null, problems: [], allOk: false, open: false },
  methods: {
    onLoad: function (query) {
      this.setData({ id: page.intParam(query, 'id') });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return voteClient.recheck(self.data.id).then(function (r) {
          var receipts = r.receipts.map(function (x) {
            return {
              key: x.record.cast_at + x.record.receipt.leaf_index, at: format.time(x.record.cast_at), right: x.record.right_label,
              choice: x.record.choice.option ? format.label('option', x.record.choice.option) : '选举选票',
              leafIndex: x.record.receipt.leaf_index, size: x.record.receipt.tree_head.size,
              ok: x.ok, statusText: STATUS[x.status] || x.status, problems: x.problems
            };
          });
          var problems = (r.latestProblems || []).slice();
          receipts.forEach(function (x) { if (!x.ok) problems = problems.concat(x.problems); });
          self.setData({
            title: r.vote.title,
            open: r.vote.state === 'open',
            latest: r.latest ? { size: r.latest.size, time: format.time(r.latest.timestamp), root: r.latest.root } : null,
            receipts: receipts,
            evidence: r.evidence,
            problems: problems,
            allOk: !r.evidence && problems.length === 0
          });
        });
      });
    },
    revote: function () {
      page.go('/pages/votes/detail?id=' + this.data.id);
    }
  }
});

// 我的回执: every receipt this phone kept for the vote, re-checked against the latest signed tree
// head (each step proved consistent by the server's consistency proof). If the server's log is
// inconsistent — two signed heads that cannot both be true — a red warning and the evidence.
// [1.1] The newest receipt against the newest co-signed head: how many witnesses co-signed a log
// that holds it, or that they are still to come.
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var voteClient = require('../../lib/vote-client.js');

var STATUS = {
  first: '一致', newer: '一致', same: '一致', older: '一致（已包含在更新的日志中）',
  rejected: '无法核验', split: '不一致', invalid: '回执无效'
};

// What a kept record was: a ballot (the owner's own, or cast as a proxy), or [1.1] a delegation or its revocation.
function describe(record) {
  if (record.kind === 'delegation') return '委托代理人';
  if (record.kind === 'delegation_revocation') return '撤销委托';
  var choice = record.choice || {};
  var text = choice.option ? format.label('option', choice.option) : '选举选票';
  return record.proxy ? text + '（代理投票）' : text;
}

Component({
  data: { loading: true, error: '', id: null, title: '', latest: null, receipts: [], evidence: null, problems: [], allOk: false, open: false, witness: '' },
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
              choice: describe(x.record),
              leafIndex: x.record.receipt.leaf_index, size: x.record.receipt.tree_head.size,
              ok: x.ok, statusText: STATUS[x.status] || x.status, problems: x.problems
            };
          });
          var problems = (r.latestProblems || []).slice();
          var w = r.witnessed;
          receipts.forEach(function (x) { if (!x.ok) problems = problems.concat(x.problems); });
          self.setData({
            title: r.vote.title,
            open: r.vote.state === 'open',
            latest: r.latest ? { size: r.latest.size, time: format.time(r.latest.timestamp), root: r.latest.root } : null,
            receipts: receipts,
            evidence: r.evidence,
            problems: problems,
            allOk: !r.evidence && problems.length === 0,
            witness: !w || w.status === 'none' || w.status === 'invalid' ? ''
              : w.status === 'cosigned' ? '最新一张回执已获 ' + w.count + ' 位见证人联署（' + w.names.join('、') + '）：见证人核对过的日志（共 ' + w.size + ' 条）包含它。'
                : '最新一张回执正在等待见证人联署：见证人定期核对公开日志' + (w.size ? '，最近联署的日志共 ' + w.size + ' 条' : '') + '。'
          });
        });
      });
    },
    revote: function () {
      page.go('/pages/votes/detail?id=' + this.data.id);
    }
  }
});

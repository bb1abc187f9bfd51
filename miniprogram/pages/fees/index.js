// 我的物业费: each of my flats, each monthly fee with its arithmetic (area × price, rounded half up
// to the fen, integer arithmetic as the server's), the total, and my share of the latest public
// utility apportionment.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, fees: null, parts: [] },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity() });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.myFees(self.data.cid).then(function (f) {
          var standards = f.fee_standards || null;
          var apportionment = f.apportionment || null;
          self.setData({
            fees: {
              total: format.yuan(f.monthly_total_fen),
              apportionmentTotal: format.yuan(f.apportionment_total_fen),
              standards: standards ? '收费标准第 ' + standards.version + ' 版，' + standards.effective_date + ' 起执行' : '尚未公开收费标准',
              apportionment: apportionment ? '公共水电费分摊第 ' + apportionment.version + ' 版（' + apportionment.period + '）' : '',
              rounding: '计算方式：面积（m²）× 单价（元/m²/月），四舍五入到分；只用整数运算。'
            },
            parts: f.parts.map(function (p) {
              return {
                id: p.part_id, label: p.label, area: format.area(p.area), total: format.yuan(p.monthly_total_fen),
                apportionment: p.apportionment_fen === null || p.apportionment_fen === undefined ? '' : format.yuan(p.apportionment_fen),
                lines: p.fees.map(function (line) {
                  return { code: line.code, name: line.name, amount: format.yuan(line.monthly_fen), arithmetic: format.feeArithmetic(line, p.area), mandatory: line.mandatory };
                })
              };
            })
          });
        });
      });
    }
  }
});

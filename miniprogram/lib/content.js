/**
 * Published content (the five disclosures, revenue statements) as rows a resident can read, and
 * the server's field-by-field diff (JSON Pointer paths, docs/disclosures.md "Differences") in
 * Chinese. Amounts (`…_fen`) are shown in yuan, `area` in m², booleans as 是/否.
 */
'use strict';

var format = require('./format.js');

var FIELDS = {
  items: '项目', name: '名称', description: '说明', frequency: '频次', grade: '等级', reference: '依据', clauses: '条款',
  title: '标题', text: '内容', code: '代码', basis: '计费方式', mandatory: '必须缴纳', filing_reference: '备案号',
  effective_date: '生效日期', default_building_type: '默认楼型', buildings: '楼栋', building: '楼栋', type: '类型',
  prices: '价格', item_code: '收费项目', building_type: '楼型', price_fen: '单价', period: '期间', category: '类别',
  total_fen: '总额', method: '分摊方式', installations: '设施', shares: '分摊', part_id: '房屋编号', label: '房屋',
  area: '面积', amount_fen: '金额', rounding: '取整规则', opening_balance_fen: '期初余额', income: '收入', expenses: '支出',
  income_total_fen: '收入合计', expense_total_fen: '支出合计', closing_balance_fen: '期末余额'
};

var VALUES = {
  basis: format.LABELS.basis,
  building_type: { high_rise: '高层', multi_storey: '多层', villa: '别墅', shop: '商铺' },
  default_building_type: { high_rise: '高层', multi_storey: '多层', villa: '别墅', shop: '商铺' },
  type: { high_rise: '高层', multi_storey: '多层', villa: '别墅', shop: '商铺' },
  method: { by_area: '按面积', equal: '平均', metered: '按表计' },
  rounding: { largest_remainder: '最大余额法（合计分毫不差）', metered: '按表计' },
  category: {
    electricity: '电费', water: '水费', advertising: '广告', parking: '停车', venue_rental: '场地租赁', other: '其他',
    maintenance: '维修', management_fee: '管理费', committee_operation: '业委会运行', tax: '税费'
  }
};

function fieldLabel(key) {
  return Object.prototype.hasOwnProperty.call(FIELDS, key) ? FIELDS[key] : key;
}

/** A leaf value as text, knowing the field it belongs to. */
function value(key, v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (typeof v === 'number' && /_fen$/.test(key)) return format.yuan(v);
  if (typeof v === 'number' && key === 'area') return format.area(v);
  if (typeof v === 'string' && VALUES[key] && Object.prototype.hasOwnProperty.call(VALUES[key], v)) return VALUES[key][v];
  if (Array.isArray(v) || typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** [{label, value, depth}] for every leaf of content, labels like 价格 · 第 3 项 · 单价. */
function rows(content) {
  var out = [];
  var walk = function (node, labels, key, depth) {
    if (Array.isArray(node)) {
      if (!node.length) out.push({ label: labels.join(' · '), value: '（无）', depth: depth });
      node.forEach(function (item, i) { walk(item, labels.concat(['第 ' + (i + 1) + ' 项']), key, depth + 1); });
    } else if (node && typeof node === 'object') {
      Object.keys(node).forEach(function (k) { walk(node[k], labels.concat([fieldLabel(k)]), k, depth + 1); });
    } else {
      out.push({ label: labels.join(' · '), value: value(key, node), depth: depth });
    }
  };
  walk(content, [], '', 0);
  return out;
}

/** A JSON Pointer (RFC 6901) as Chinese labels: /prices/2/price_fen → 价格 · 第 3 项 · 单价. */
function pathLabel(pointer) {
  if (!pointer) return '（全部内容）';
  return pointer.split('/').slice(1).map(function (seg) {
    var s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(s) ? '第 ' + (Number(s) + 1) + ' 项' : fieldLabel(s);
  }).join(' · ');
}

function lastKey(pointer) {
  var segs = (pointer || '').split('/');
  for (var i = segs.length - 1; i > 0; i--) if (!/^\d+$/.test(segs[i])) return segs[i];
  return '';
}

/** The diff's changes as [{path, op, opText, old, new}] in Chinese. */
function changes(list) {
  return (list || []).map(function (c) {
    var key = lastKey(c.path);
    return {
      path: pathLabel(c.path), op: c.op, opText: format.label('change', c.op),
      old: c.op === 'added' ? '' : value(key, c.old), new: c.op === 'removed' ? '' : value(key, c.new)
    };
  });
}

module.exports = { rows: rows, pathLabel: pathLabel, changes: changes, value: value, fieldLabel: fieldLabel };

/**
 * What a resident reads: money in fen and areas in 0.01 m² (integers, never floats: integer
 * arithmetic only), times in Beijing time, the Chinese names of codes, and a vote's thresholds in
 * plain Chinese (docs/protocol.md §8).
 */
'use strict';

function pad(n, width) {
  var s = String(n);
  while (s.length < width) s = '0' + s;
  return s;
}

function groups(intText) {
  return intText.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** ¥1,234.56 from 123456 fen. */
function yuan(fen) {
  if (typeof fen !== 'number' || !Number.isInteger(fen)) return '—';
  var sign = fen < 0 ? '-' : '';
  var abs = Math.abs(fen);
  return sign + '¥' + groups(String(Math.floor(abs / 100))) + '.' + pad(abs % 100, 2);
}

/** 89.50 m² from 8950 (0.01 m²). */
function area(hundredths) {
  if (typeof hundredths !== 'number' || !Number.isInteger(hundredths)) return '—';
  var sign = hundredths < 0 ? '-' : '';
  var abs = Math.abs(hundredths);
  return sign + groups(String(Math.floor(abs / 100))) + '.' + pad(abs % 100, 2) + ' m²';
}

/** An integer divided by 10^places, written exactly with trailing zeros dropped (at least 2 places). */
function decimal(value, places) {
  var unit = 1;
  for (var i = 0; i < places; i++) unit *= 10;
  var sign = value < 0 ? '-' : '';
  var abs = Math.abs(value);
  var frac = pad(abs % unit, places).replace(/0+$/, '');
  while (frac.length < 2) frac += '0';
  return sign + groups(String(Math.floor(abs / unit))) + '.' + frac;
}

var SHANGHAI_MS = 8 * 3600 * 1000;

/** '2026-03-01 10:00' (Beijing time) from a UTC ISO time. */
function time(iso) {
  if (!iso) return '';
  var ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return String(iso);
  var d = new Date(ms + SHANGHAI_MS);
  return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1, 2) + '-' + pad(d.getUTCDate(), 2) + ' ' +
    pad(d.getUTCHours(), 2) + ':' + pad(d.getUTCMinutes(), 2);
}

var LABELS = {
  binding: { verified: '已认证', pending: '待审核', rejected: '未通过' },
  role: { owner: '业主', resident: '住户', committee: '业委会', property_staff: '物业', regulator: '街道/监管' },
  voteState: { draft: '草稿', open: '进行中', closed: '已截止', tallied: '已计票' },
  option: { approve: '同意', reject: '反对', abstain: '弃权' },
  matter: { ordinary: '一般事项', special: '重大事项' },
  kind: { resolution: '决议', election: '选举' },
  ticketCategory: { repair: '报修', complaint: '投诉', suggestion: '建议' },
  ticketSubject: {
    elevator: '电梯', parking: '停车', sanitation: '环境卫生', security: '安保', greenery: '绿化',
    illegal_construction: '违章搭建', fire_lane: '消防通道', pets: '宠物', noise: '噪音', utilities: '水电', other: '其他'
  },
  ticketStatus: {
    submitted: '已提交', accepted: '已受理', in_progress: '处理中', resolved: '已解决', confirmed: '已确认', reopened: '已重新打开'
  },
  ticketEvent: { submitted: '提交工单', transition: '状态变更', assigned: '指派处理人', escalated: '超时上报街道' },
  noticeCategory: {
    general: '通知', maintenance: '维修', outage: '停水停电', safety: '安全', meeting: '会议', finance: '财务', vote: '表决', other: '其他'
  },
  disclosure: {
    service_content: '服务内容', service_standard: '服务标准', fee_items: '收费项目', fee_standards: '收费标准',
    utility_apportionment: '公共水电费分摊'
  },
  basis: { per_m2_month: '按面积每月', per_part_month: '每户每月', per_use: '按次' },
  change: { added: '新增', removed: '删除', changed: '修改' },
  sessionKind: { miniprogram: '小程序', console: '管理后台' }
};

function label(group, code) {
  var table = LABELS[group] || {};
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code] : String(code);
}

/** The smallest integer x with num·x ≥ den·total, i.e. ⌈den·total/num⌉, without floats. */
function atLeast(total, den, num) {
  return Math.floor((den * total + num - 1) / num);
}

/**
 * The vote's rules in plain Chinese, with the numbers of its roll (definition.roll: area in
 * 0.01 m², heads): the quorum (≥ 2/3 of area and of owners), and what passes (ordinary: more than
 * half of the area and of the owners taking part; special: at least 3/4 of each), or for an election
 * how candidates are elected. Returns a list of sentences.
 */
function thresholds(definition) {
  if (!definition || !definition.roll) return [];
  var A = definition.roll.area;
  var H = definition.roll.heads;
  var lines = [
    '本次表决共 ' + definition.roll.size + ' 个表决权，专有部分总面积 ' + area(A) + '，业主总人数 ' + H + ' 人。',
    '参与表决的面积须达到总面积的三分之二以上（至少 ' + area(atLeast(A, 2, 3)) + '），且参与表决的人数须达到总人数的三分之二以上（至少 ' +
      atLeast(H, 2, 3) + ' 人），否则表决不成立。弃权也算参与表决。'
  ];
  if (definition.kind === 'election') {
    lines.push('每位候选人须获得超过参与表决面积一半、且超过参与表决人数一半的同意，才有资格当选；本次选出 ' + definition.seats +
      ' 人，合格者超过名额时按同意人数、再按面积排序，同分无法区分时不自动选取，由业委会另行表决。');
  } else if (definition.matter === 'special') {
    lines.push('本事项为重大事项：同意的面积须达到参与表决面积的四分之三以上，且同意的人数须达到参与表决人数的四分之三以上，才算通过。');
  } else {
    lines.push('本事项为一般事项：同意的面积须超过参与表决面积的一半，且同意的人数须超过参与表决人数的一半，才算通过。');
  }
  lines.push('投票截止前可以改投，以最后一次有效投票为准。');
  return lines;
}

/**
 * Turnout so far (GET /votes/<vid>/turnout: totals only) against the ⅔ participation lines, in plain
 * Chinese: [{what, done, need, met}] for area and heads, and a closing sentence.
 */
function turnout(t) {
  if (!t || !t.rights) return null;
  return {
    lines: [
      { what: '参与面积', done: area(t.voted_area) + ' / ' + area(t.area), need: '需 ' + area(t.quorum_area), met: t.voted_area >= t.quorum_area },
      { what: '参与人数', done: t.voted_heads + ' / ' + t.heads + ' 人', need: '需 ' + t.quorum_heads + ' 人', met: t.voted_heads >= t.quorum_heads }
    ],
    summary: '已有 ' + t.voted_rights + ' / ' + t.rights + ' 个表决权投票（含纸质票 ' + t.paper_ballots + ' 张）；' +
      (t.quorum_reached ? '参与面积和人数都已过三分之二，表决成立。' : '面积和人数都过三分之二，表决才成立。')
  };
}

/**
 * A fee line's arithmetic: per_m2_month → '89.50 m² × ¥2.35 = ¥210.325 → ¥210.33（四舍五入到分）'.
 * area in 0.01 m², price in fen per m² per month: area × price is in 1/10000 yuan exactly.
 */
function feeArithmetic(line, partArea) {
  if (line.basis === 'per_m2_month') {
    var exact = partArea * line.price_fen; // 0.0001 yuan
    return area(partArea) + ' × ' + yuan(line.price_fen) + '/m² = ¥' + decimal(exact, 4) + ' → ' + yuan(line.monthly_fen) + '（四舍五入到分）';
  }
  if (line.basis === 'per_part_month') return '每户每月 ' + yuan(line.price_fen);
  return yuan(line.price_fen) + '/次';
}

module.exports = {
  yuan: yuan,
  area: area,
  decimal: decimal,
  time: time,
  label: label,
  LABELS: LABELS,
  atLeast: atLeast,
  thresholds: thresholds,
  turnout: turnout,
  feeArithmetic: feeArithmetic
};

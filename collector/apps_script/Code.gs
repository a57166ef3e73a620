/**
 * hailong collector: a Google Apps Script web app that appends each survey answer to the
 * `Responses` tab of the spreadsheet it is bound to (deployment: collector/README.md).
 *
 * POST (doPost): the survey page sends either a text/plain JSON object (fetch; answered with
 * JSON {ok, response_id}) or an ordinary form (no JavaScript; answered with a small Vietnamese
 * thank-you page). Every answer is checked (survey id, unit code, scale answers, lengths, size),
 * stamped with submitted_at, and written as one row under the script lock, so two phones sending
 * at the same moment never write over each other. GET (doGet): a small status for IT staff.
 *
 * Settings (Script Properties, or a `Config` tab with a key column and a value column; a Script
 * Property wins over the tab):
 *   SURVEY_ID         required: the survey's id in survey.toml
 *   QUESTIONS         required: every question id, in survey.toml order, comma-separated
 *   SCALE_QUESTIONS   the scale (scored) question ids, whose answers must be whole numbers in
 *                     the scale. Unset: no answer is range-checked here (every answer is kept as
 *                     text; `hailong score` still quarantines a bad one), because a choice or
 *                     text answer must never be refused for a missing setting.
 *   SCALE_MIN, SCALE_MAX           the scale; default 1 and 5 (0 or empty = no opinion)
 *   UNITS             unit codes, comma-separated; default: column `code` of the `Units` tab
 *   RESPONDENT_TYPES  default individual,organization
 *   TIMEZONE          default Asia/Ho_Chi_Minh
 *   MAX_TEXT          longest text answer or comment, in characters; default 2000
 *   MAX_BODY          largest request, in characters; default 32768
 *   WINDOW_START, WINDOW_END  the survey's first and last day, YYYY-MM-DD ([window] in
 *                     survey.toml, local dates in TIMEZONE). Outside them an answer is refused
 *                     with the page's "đợt khảo sát đã kết thúc" (or "chưa bắt đầu") message, so
 *                     that no one is told "recorded" for an answer `hailong score` throws away.
 *                     A staff member trying the form with ?xem-thu sends xem_thu=1: that answer
 *                     is written, and score quarantines it as outside the window; so is an
 *                     answer the page saved while the survey was open (started_at inside) and
 *                     could only send later. Unset: no check.
 * A number setting that is not a whole number (or a scale whose SCALE_MIN is not below
 * SCALE_MAX) stops the collector (not_configured) rather than turning its limit off; doGet's
 * `problems` names the setting and what it holds.
 *
 * The contract (shared/CONTRACT.md, section 2) fixes the header of the Responses tab.
 */

var META_COLUMNS = ['submitted_at', 'response_id', 'survey_id', 'unit_code', 'respondent_type',
  'respondent_key', 'device_id', 'ticket', 'started_at', 'channel', 'entered_by', 'entry'];
var COMMENT_COLUMN = 'comment';
var RESPONSES_TAB = 'Responses';
var UNITS_TAB = 'Units';
var CONFIG_TAB = 'Config';
var LOCK_WAIT_MS = 20000;  // how long a submission waits for another one to finish writing
var DEDUPE_WINDOW = 300;   // rows at the bottom searched for a resubmitted response_id
var ID_PATTERN = /^[A-Za-z0-9_-]{8,100}$/;
var SHORT_LIMITS = { unit_code: 100, survey_id: 100, respondent_type: 40, respondent_key: 500,
  device_id: 100, ticket: 500, started_at: 40, channel: 20, entered_by: 20, entry: 2 };
var DEFAULTS = { SCALE_MIN: '1', SCALE_MAX: '5', RESPONDENT_TYPES: 'individual,organization',
  TIMEZONE: 'Asia/Ho_Chi_Minh', MAX_TEXT: '2000', MAX_BODY: '32768' };
var VERSION = '1';

var MESSAGES = {
  too_large: 'Phiếu gửi lên quá lớn; xin rút ngắn phần ý kiến rồi gửi lại.',
  bad_body: 'Nội dung phiếu không đọc được; xin tải lại trang rồi gửi lại.',
  wrong_survey: 'Phiếu không thuộc cuộc khảo sát đang mở ở đây.',
  unknown_unit: 'Mã đơn vị trên phiếu không có trong danh sách; xin quét lại mã QR tại nơi làm thủ tục.',
  bad_respondent_type: 'Tư cách người trả lời trên phiếu không hợp lệ.',
  bad_response_id: 'Mã phiếu không hợp lệ; xin tải lại trang rồi gửi lại.',
  not_configured: 'Nơi nhận phiếu chưa được cài đặt xong; xin báo cán bộ phụ trách khảo sát.',
  // the page's own words (site/static/survey.js), for a form sent without a single answer
  empty: 'Ông/bà chưa trả lời câu nào. Xin chọn ít nhất một câu trả lời rồi bấm "Gửi ý kiến".',
  busy: 'Máy chủ đang bận; phiếu sẽ được gửi lại sau ít giây.',
  failed: 'Máy chủ chưa ghi được phiếu; xin thử lại sau ít phút.'
};

/** A submission the collector refuses: a short code for programs, a Vietnamese message for people. */
function Refusal(code, message, retry) {
  this.code = code;
  this.message = message || MESSAGES[code];
  this.retry = !!retry;
}

// -- entry points ---------------------------------------------------------------------------------
function doPost(e) {
  var form = isForm_(e);
  var result;
  try {
    result = accept_(e, form);
  } catch (err) {
    if (!(err instanceof Refusal)) {
      console.error('hailong collector: ' + (err && err.stack || err));
      err = new Refusal('failed', null, true);
    }
    return form ? refusalPage_(err) : json_({ ok: false, error: err.message, code: err.code, retry: err.retry });
  }
  if (form) { return thanksPage_(); }
  var answer = { ok: true, response_id: result.responseId };
  if (result.duplicate) { answer.duplicate = true; }
  return json_(answer);
}

function doGet() {
  var config = null;
  try { config = readConfig_(spreadsheet_()); } catch (err) { config = null; }
  return json_({ ok: true, service: 'hailong collector', version: VERSION,
    survey_id: config && config.surveyId || '', configured: !!(config && config.ready),
    scale_checked: !!(config && config.scaleKnown),
    problems: config ? config.problems : ['the settings cannot be read'] });
}

// -- reading and checking a submission ------------------------------------------------------------
function isForm_(e) {
  var type = e && e.postData && e.postData.type ? String(e.postData.type).toLowerCase() : '';
  return type.indexOf('application/x-www-form-urlencoded') === 0;
}

function readFields_(e, form, config) {
  var post = e && e.postData;
  var size = post ? (post.length || String(post.contents || '').length) : 0;
  if (size > config.maxBody) { throw new Refusal('too_large'); }
  var data;
  if (form) {
    data = (e && e.parameter) || {};
  } else {
    try { data = JSON.parse(post ? String(post.contents || '') : ''); } catch (err) { throw new Refusal('bad_body'); }
    if (!data || typeof data !== 'object' || Array.isArray(data)) { throw new Refusal('bad_body'); }
  }
  var fields = {};
  Object.keys(data).forEach(function (name) { fields[name] = clean_(data[name]); });
  return fields;
}

/** A field's value as NFC text without control characters other than tab and line breaks
 * (a lone CR included: it reaches raw.csv as sent). */
function clean_(value) {
  if (value === null || value === undefined) { return ''; }
  if (typeof value === 'object') { value = JSON.stringify(value); }
  var text = String(value);
  if (text.normalize) { text = text.normalize('NFC'); }
  // an unpaired surrogate (JSON can carry one) cannot be stored as UTF-8: U+FFFD, as hailong does
  text = text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '').trim();
}

function check_(fields, config, units) {
  var record = {};
  var survey = fields.survey_id || '';
  if (survey && survey !== config.surveyId) { throw new Refusal('wrong_survey'); }
  Object.keys(SHORT_LIMITS).forEach(function (name) {
    var value = fields[name] || '';
    if (value.length > SHORT_LIMITS[name]) { throw tooLong_(name, SHORT_LIMITS[name]); }
    record[name] = value;
  });
  record.survey_id = config.surveyId;
  var unit = units[record.unit_code.toUpperCase()];
  if (!unit) { throw new Refusal('unknown_unit'); }
  record.unit_code = unit;
  if (record.respondent_type && config.respondentTypes.indexOf(record.respondent_type) < 0) {
    throw new Refusal('bad_respondent_type');
  }
  var id = fields.response_id || '';
  if (id && !ID_PATTERN.test(id)) { throw new Refusal('bad_response_id'); }
  record.response_id = id || Utilities.getUuid();
  config.questions.forEach(function (q) {
    var value = fields[q] || '';
    if (config.scale[q]) {
      record[q] = scaleAnswer_(q, value, config);
    } else {
      if (value.length > config.maxText) { throw tooLong_(q, config.maxText); }
      record[q] = value;
    }
  });
  var comment = fields[COMMENT_COLUMN] || '';
  if (comment.length > config.maxText) { throw tooLong_(COMMENT_COLUMN, config.maxText); }
  record[COMMENT_COLUMN] = comment;
  return record;
}

/** Refuses an answer sent on a day outside WINDOW_START..WINDOW_END (local dates), except a
 *  staff trial (xem_thu), which is kept for score to quarantine. */
function refuseOutsideWindow_(fields, config, now) {
  if (fields.xem_thu || (!config.windowStart && !config.windowEnd)) { return; }
  // an answer the page saved in its outbox while the survey was open is kept, so nothing saved
  // is lost (score quarantines it as outside the window, as it always did)
  var started = Date.parse(fields.started_at || '');
  if (!isNaN(started) && inWindow_(localDay_(new Date(started), config), config)) { return; }
  var today = localDay_(now, config);
  if (config.windowEnd && today > config.windowEnd) {
    throw new Refusal('closed', 'Đợt khảo sát đã kết thúc ngày ' + vnDate_(config.windowEnd) +
      '. Cảm ơn ông/bà đã quan tâm.');
  }
  if (config.windowStart && today < config.windowStart) {
    throw new Refusal('closed', 'Đợt khảo sát chưa bắt đầu, sẽ bắt đầu ngày ' +
      vnDate_(config.windowStart) + '. Cảm ơn ông/bà đã quan tâm.');
  }
}

function localDay_(date, config) {
  return Utilities.formatDate(date, config.timeZone, "yyyy-MM-dd'T'HH:mm:ssXXX").slice(0, 10);
}

function inWindow_(day, config) {
  return (!config.windowStart || day >= config.windowStart) && (!config.windowEnd || day <= config.windowEnd);
}

function vnDate_(iso) { return iso.split('-').reverse().join('/'); }

/** A submission answering no question (every one empty, or 0 on a scale question; the comment
 * does not count) is refused, not written: `hailong score` would quarantine it as `empty`. */
function refuseEmpty_(record, config) {
  var answered = config.questions.some(function (q) {
    var value = record[q];
    return value !== '' && value !== undefined && !(config.scale[q] && value === 0);
  });
  if (!answered) { throw new Refusal('empty'); }
}

function scaleAnswer_(q, value, config) {
  if (value === '') { return ''; }
  var ok = /^\d{1,3}$/.test(value);
  var n = ok ? parseInt(value, 10) : NaN;
  if (!ok || (n !== 0 && (n < config.scaleMin || n > config.scaleMax))) {
    throw new Refusal('bad_answer', 'Câu trả lời cho câu ' + q + ' không hợp lệ: phải là một số từ ' +
      config.scaleMin + ' đến ' + config.scaleMax + '.');
  }
  return n;
}

function tooLong_(name, limit) {
  return new Refusal('too_long', 'Nội dung ô "' + name + '" quá dài (tối đa ' + limit +
    ' ký tự); xin rút ngắn rồi gửi lại.');
}

// -- writing --------------------------------------------------------------------------------------
function accept_(e, form) {
  var book = spreadsheet_();
  var config = readConfig_(book);
  if (!config.ready) {
    console.error('hailong collector: ' + (config.problems.length ? 'settings that cannot be read: ' +
      config.problems.join('; ') + ' (fix them in Script Properties or the Config tab)'
      : 'set SURVEY_ID and QUESTIONS in Script Properties or the Config tab'));
    throw new Refusal('not_configured');
  }
  if (!config.scaleKnown) {
    console.warn('hailong collector: SCALE_QUESTIONS is not set, so scale answers are not checked ' +
      'here; set it to the scale question ids (collector/README.md, step 3)');
  }
  var fields = readFields_(e, form, config);
  refuseOutsideWindow_(fields, config, new Date());
  var record = check_(fields, config, readUnits_(book, config));
  refuseEmpty_(record, config);
  var lock = LockService.getScriptLock();
  if (!lock.tryLock(LOCK_WAIT_MS)) { throw new Refusal('busy', null, true); }
  try {
    var sheet = book.getSheetByName(RESPONSES_TAB) || book.insertSheet(RESPONSES_TAB);
    var header = ensureHeader_(sheet, config);
    if (alreadyWritten_(sheet, header, record.response_id)) {
      return { responseId: record.response_id, duplicate: true };
    }
    // stamped under the lock, so rows stand in the order of their submitted_at
    record.submitted_at = Utilities.formatDate(new Date(), config.timeZone, "yyyy-MM-dd'T'HH:mm:ssXXX");
    sheet.appendRow(header.map(function (name) { return cell_(record[name]); }));
    SpreadsheetApp.flush(); // written before the next submission takes the lock
  } finally {
    lock.releaseLock();
  }
  return { responseId: record.response_id, duplicate: false };
}

/**
 * A value as it is written to the sheet. Text always gets Sheets' quote prefix ('), which is not
 * stored as part of the value: nothing typed can become a formula or a link (=, +, -, @, or a
 * leading tab or line break), and nothing is turned into a number or a date ("0912…", "1/2").
 */
function cell_(value) {
  if (value === undefined || value === null || value === '') { return ''; }
  if (typeof value === 'number') { return value; }
  return "'" + String(value);
}

function ensureHeader_(sheet, config) {
  var wanted = META_COLUMNS.concat(config.questions, [COMMENT_COLUMN]);
  var width = sheet.getLastColumn();
  var header = width ? sheet.getRange(1, 1, 1, width).getValues()[0].map(function (v) { return String(v).trim(); }) : [];
  while (header.length && !header[header.length - 1]) { header.pop(); }
  if (!header.length) {
    ensureColumns_(sheet, wanted.length);
    sheet.getRange(1, 1, 1, wanted.length).setValues([wanted]);
    sheet.setFrozenRows(1);
    return wanted;
  }
  var missing = wanted.filter(function (name) { return header.indexOf(name) < 0; });
  if (missing.length) { // a question added to the survey: its column goes at the end
    ensureColumns_(sheet, header.length + missing.length);
    sheet.getRange(1, header.length + 1, 1, missing.length).setValues([missing]);
    header = header.concat(missing);
  }
  return header;
}

/** A new tab has 26 columns; a range past them cannot be written. */
function ensureColumns_(sheet, count) {
  var have = sheet.getMaxColumns();
  if (have < count) { sheet.insertColumnsAfter(have, count - have); }
}

function alreadyWritten_(sheet, header, responseId) {
  var column = header.indexOf('response_id') + 1;
  var last = sheet.getLastRow();
  if (column < 1 || last < 2) { return false; }
  var first = Math.max(2, last - DEDUPE_WINDOW + 1);
  var ids = sheet.getRange(first, column, last - first + 1, 1).getValues();
  for (var i = ids.length - 1; i >= 0; i--) {
    if (String(ids[i][0]) === responseId) { return true; }
  }
  return false;
}

// -- settings and units ---------------------------------------------------------------------------
/** The spreadsheet the script is bound to (made from it with Extensions → Apps Script). */
function spreadsheet_() {
  return SpreadsheetApp.getActiveSpreadsheet();
}

function readConfig_(book) {
  var raw = {};
  var tab = book.getSheetByName(CONFIG_TAB);
  if (tab && tab.getLastRow() > 0) {
    tab.getRange(1, 1, tab.getLastRow(), 2).getValues().forEach(function (row) {
      var key = String(row[0]).trim().toUpperCase();
      if (key && key !== 'KEY') { raw[key] = configText_(row[1], book); }
    });
  }
  var props = PropertiesService.getScriptProperties().getProperties() || {};
  Object.keys(props).forEach(function (key) { raw[key.toUpperCase()] = String(props[key]).trim(); });
  Object.keys(DEFAULTS).forEach(function (key) { if (!raw[key]) { raw[key] = DEFAULTS[key]; } });
  var questions = list_(raw.QUESTIONS);
  // Which questions are scale questions is known only from SCALE_QUESTIONS: guessing "all of
  // QUESTIONS" refused every choice and text answer. Unset, nothing is range-checked here.
  var scale = {};
  list_(raw.SCALE_QUESTIONS).forEach(function (q) { scale[q] = true; });
  var problems = [];
  var scaleMin = whole_(raw, 'SCALE_MIN', 0, problems);
  var scaleMax = whole_(raw, 'SCALE_MAX', 1, problems);
  if (scaleMin >= scaleMax) {
    problems.push('SCALE_MIN (' + scaleMin + ') must be below SCALE_MAX (' + scaleMax + ')');
  }
  var maxText = whole_(raw, 'MAX_TEXT', 1, problems);
  var maxBody = whole_(raw, 'MAX_BODY', 1, problems);
  if (!/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(raw.TIMEZONE)) {
    problems.push("TIMEZONE: '" + raw.TIMEZONE + "' is not a time zone such as Asia/Ho_Chi_Minh");
  }
  return {
    surveyId: raw.SURVEY_ID || '',
    ready: !!(raw.SURVEY_ID && questions.length) && !problems.length,
    problems: problems,
    questions: questions,
    scale: scale,
    scaleKnown: list_(raw.SCALE_QUESTIONS).length > 0,
    scaleMin: scaleMin,
    scaleMax: scaleMax,
    respondentTypes: list_(raw.RESPONDENT_TYPES),
    timeZone: raw.TIMEZONE,
    maxText: maxText,
    maxBody: maxBody,
    units: raw.UNITS ? list_(raw.UNITS) : null,
    windowStart: isoDate_(raw.WINDOW_START),
    windowEnd: isoDate_(raw.WINDOW_END)
  };
}

/** A YYYY-MM-DD setting, or '' (a Config tab cell holding a date reads back as a Date). */
function isoDate_(value) {
  var text = String(value || '').trim();
  var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  return m ? m[0] : '';
}

/** A Config cell as text; a date that Sheets made of a pasted 2024-06-12 as YYYY-MM-DD again. */
function configText_(value, book) {
  if (Object.prototype.toString.call(value) === '[object Date]') {
    var zone = (book.getSpreadsheetTimeZone && book.getSpreadsheetTimeZone()) || 'Asia/Ho_Chi_Minh';
    return Utilities.formatDate(value, zone, "yyyy-MM-dd'T'HH:mm:ssXXX").slice(0, 10);
  }
  return String(value).trim();
}

/** A whole-number setting of at least `least`; anything else is a problem, never "no limit"
 * (parseInt('abc') is NaN, and every comparison with NaN is false). */
function whole_(raw, key, least, problems) {
  var text = raw[key];
  var n = /^\d{1,9}$/.test(text) ? parseInt(text, 10) : NaN;
  if (!(n >= least)) {
    problems.push(key + ": '" + text + "' is not a whole number" + (least ? ' of at least ' + least : ''));
    return NaN;
  }
  return n;
}

function list_(text) {
  return String(text || '').split(/[,;\s]+/).filter(function (x) { return x; });
}

/** Unit codes by upper-case code: from the UNITS setting, or the `code` column of the Units tab. */
function readUnits_(book, config) {
  var codes = config.units;
  if (!codes) {
    codes = [];
    var tab = book.getSheetByName(UNITS_TAB);
    if (tab && tab.getLastRow() > 0) {
      var rows = tab.getRange(1, 1, tab.getLastRow(), Math.max(1, tab.getLastColumn())).getValues();
      var head = rows[0].map(function (v) { return String(v).trim().toLowerCase(); });
      var column = Math.max(0, head.indexOf('code'));
      var start = head.indexOf('code') >= 0 ? 1 : 0;
      for (var i = start; i < rows.length; i++) { codes.push(String(rows[i][column]).trim()); }
    }
  }
  var units = {};
  codes.forEach(function (code) { if (code) { units[code.toUpperCase()] = code; } });
  if (!Object.keys(units).length) {
    console.error('hailong collector: no unit codes; fill the Units tab (column "code") or set UNITS');
  }
  return units;
}

// -- answers --------------------------------------------------------------------------------------
function json_(value) {
  return ContentService.createTextOutput(JSON.stringify(value)).setMimeType(ContentService.MimeType.JSON);
}

function escape_(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function page_(title, paragraphs) {
  var body = paragraphs.map(function (p) { return '<p>' + escape_(p) + '</p>'; }).join('');
  return HtmlService.createHtmlOutput(
    '<!doctype html><html lang="vi"><head><meta charset="utf-8"></head>' +
    '<body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.5;font-size:18px">' +
    '<h1 style="font-size:1.4em">' + escape_(title) + '</h1>' + body + '</body></html>')
    .setTitle(title)
    .addMetaTag('viewport', 'width=device-width, initial-scale=1');
}

function thanksPage_() {
  return page_('Cảm ơn ông/bà!', ['Phiếu đánh giá của ông/bà đã được ghi nhận.',
    'Cảm ơn ông/bà đã dành thời gian góp ý.']);
}

function refusalPage_(refusal) {
  if (refusal.code === 'closed') { return page_('Đợt khảo sát không nhận phiếu', [refusal.message]); }
  return page_('Chưa gửi được phiếu', [refusal.message, refusal.retry ?
    'Xin quay lại trang trước và bấm "Gửi ý kiến" lần nữa sau ít giây.' :
    'Xin quay lại trang trước, kiểm tra rồi gửi lại phiếu.']);
}

'use strict';
/* Fakes of the Apps Script services Code.gs uses, and a loader that runs Code.gs in a fresh
   V8 context with them. The fake sheet stores what Google Sheets would store for a value a
   script writes (setValues / appendRow): a leading apostrophe is Sheets' quote prefix (the rest
   stays text), a leading '=' makes a formula, and number-like text becomes a number. */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const crypto = require('node:crypto');

const CODE = fs.readFileSync(path.join(__dirname, '..', 'Code.gs'), 'utf8');

class Formula {
  constructor(text) { this.text = text; }
}

function entered(value) {
  if (typeof value !== 'string') { return value; }
  if (value.startsWith("'")) { return value.slice(1); }
  if (value.startsWith('=')) { return new Formula(value); }
  if (/^\s*[+-]?\d+(\.\d+)?\s*$/.test(value)) { return Number(value); }
  return value;
}

function shown(cell) {
  if (cell === undefined || cell === null) { return ''; }
  return cell instanceof Formula ? '#ERROR!' : cell;
}

function empty(cell) { return cell === undefined || cell === null || cell === ''; }

class FakeRange {
  constructor(sheet, row, col, rows, cols) {
    Object.assign(this, { sheet, row, col, rows, cols });
  }
  getValues() {
    const out = [];
    for (let r = 0; r < this.rows; r++) {
      const line = this.sheet.cells[this.row - 1 + r] || [];
      const values = [];
      for (let c = 0; c < this.cols; c++) { values.push(shown(line[this.col - 1 + c])); }
      out.push(values);
    }
    return out;
  }
  setValues(values) {
    if (values.length !== this.rows || Array.from(values).some((v) => v.length !== this.cols)) {
      throw new Error('The number of rows or columns in the data does not match the range.');
    }
    this.sheet.writes.push({ kind: 'setValues', row: this.row, values: Array.from(values, (v) => Array.from(v)) });
    for (let r = 0; r < this.rows; r++) {
      const at = this.row - 1 + r;
      while (this.sheet.cells.length <= at) { this.sheet.cells.push([]); }
      for (let c = 0; c < this.cols; c++) { this.sheet.cells[at][this.col - 1 + c] = entered(values[r][c]); }
    }
    return this;
  }
  setNumberFormat() { return this; }
}

class FakeSheet {
  constructor(name, rows) {
    this.name = name;
    this.cells = (rows || []).map((r) => r.slice());
    this.maxRows = Math.max(1000, this.cells.length);
    this.maxColumns = 26;
    this.writes = [];
    this.frozenRows = 0;
    this.beforeAppend = null; // called once, just before the next appendRow writes
    this.failAppend = null;
  }
  getName() { return this.name; }
  getLastRow() {
    for (let i = this.cells.length - 1; i >= 0; i--) {
      if ((this.cells[i] || []).some((c) => !empty(c))) { return i + 1; }
    }
    return 0;
  }
  getLastColumn() {
    let width = 0;
    for (const row of this.cells) {
      for (let c = (row || []).length - 1; c >= 0; c--) {
        if (!empty(row[c])) { width = Math.max(width, c + 1); break; }
      }
    }
    return width;
  }
  getMaxRows() { return this.maxRows; }
  getMaxColumns() { return this.maxColumns; }
  getRange(row, col, rows = 1, cols = 1) {
    if (row < 1 || col < 1 || rows < 1 || cols < 1 || row + rows - 1 > this.maxRows ||
        col + cols - 1 > this.maxColumns) {
      throw new Error('The coordinates of the range are outside the dimensions of the sheet.');
    }
    return new FakeRange(this, row, col, rows, cols);
  }
  appendRow(values) {
    const hook = this.beforeAppend;
    this.beforeAppend = null;
    if (hook) { hook(); }
    if (this.failAppend) { throw new Error(this.failAppend); }
    const at = this.getLastRow();
    this.cells.length = at;
    this.cells.push(Array.from(values, entered));
    this.maxRows = Math.max(this.maxRows, this.cells.length);
    if (values.length > this.maxColumns) { throw new Error('The number of columns in the data exceeds the sheet.'); }
    this.writes.push({ kind: 'appendRow', row: at + 1, values: Array.from(values) });
    return this;
  }
  insertColumnsAfter(after, count) {
    if (after < 1 || after > this.maxColumns || count < 1) { throw new Error('Invalid argument'); }
    this.maxColumns += count;
    return this;
  }
  setFrozenRows(n) { this.frozenRows = n; return this; }
  /** The sheet as a person sees it: rows of displayed values, trailing empty cells left off. */
  table() {
    return this.cells.slice(0, this.getLastRow()).map((row) => {
      const out = Array.from(row || [], shown);
      while (out.length && empty(out[out.length - 1])) { out.pop(); }
      return out;
    });
  }
}

class FakeSpreadsheet {
  constructor(tabs) {
    this.tabs = {};
    Object.keys(tabs || {}).forEach((name) => { this.tabs[name] = new FakeSheet(name, tabs[name]); });
  }
  getSheetByName(name) { return this.tabs[name] || null; }
  insertSheet(name) { this.tabs[name] = new FakeSheet(name, []); return this.tabs[name]; }
}

class FakeLock {
  constructor() { this.held = false; this.exclusive = true; this.waits = []; this.releases = 0; this.waited = 0; }
  tryLock(ms) {
    this.waits.push(ms);
    if (this.held && this.exclusive) { this.waited += ms; return false; } // the holder outlasts the wait
    this.held = true;
    return true;
  }
  waitLock(ms) { if (!this.tryLock(ms)) { throw new Error('Lock timeout'); } }
  releaseLock() { this.held = false; this.releases++; }
  hasLock() { return this.held; }
}

function formatDate(date, timeZone, pattern) {
  if (pattern !== "yyyy-MM-dd'T'HH:mm:ssXXX") { throw new Error('fake formatDate: unsupported pattern ' + pattern); }
  const parts = {};
  new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(date).forEach((p) => { parts[p.type] = p.value; });
  const local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offset = Math.round((local - Math.floor(date.getTime() / 1000) * 1000) / 60000);
  const abs = Math.abs(offset);
  const zone = offset === 0 ? 'Z' : (offset < 0 ? '-' : '+') + String(Math.floor(abs / 60)).padStart(2, '0') +
    ':' + String(abs % 60).padStart(2, '0');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${zone}`;
}

const DEFAULT_PROPS = { SURVEY_ID: 'thu-nghiem', QUESTIONS: 'q1,q2,q3,kenh,gop_y', SCALE_QUESTIONS: 'q1,q2,q3' };
const DEFAULT_UNITS = [['code', 'name'], ['X01', 'Xã Tiên Điền'], ['X02', 'Xã Xuân An'], ['X03', 'Thị trấn Xuân Hải']];

/** A fresh Apps Script world running Code.gs: `env.post(fields)`, `env.sheet()`, `env.lock` ... */
function makeEnv(options = {}) {
  const props = Object.assign({}, options.props === undefined ? DEFAULT_PROPS : options.props);
  const tabs = Object.assign({ Units: DEFAULT_UNITS }, options.tabs || {});
  const book = new FakeSpreadsheet(tabs);
  const lock = new FakeLock();
  const logs = [];
  let flushes = 0;
  const world = {
    SpreadsheetApp: { getActiveSpreadsheet: () => book, flush: () => { flushes++; } },
    LockService: { getScriptLock: () => lock },
    PropertiesService: { getScriptProperties: () => ({
      getProperty: (k) => (k in props ? props[k] : null),
      getProperties: () => Object.assign({}, props),
    }) },
    ContentService: {
      MimeType: { JSON: 'application/json', TEXT: 'text/plain' },
      createTextOutput: (text) => ({ text, mime: 'text/plain', setMimeType(m) { this.mime = m; return this; },
        getContent() { return this.text; }, getMimeType() { return this.mime; } }),
    },
    HtmlService: {
      createHtmlOutput: (html) => ({ html, title: '', meta: {}, setTitle(t) { this.title = t; return this; },
        addMetaTag(n, c) { this.meta[n] = c; return this; }, getContent() { return this.html; },
        getTitle() { return this.title; } }),
    },
    Utilities: { getUuid: () => crypto.randomUUID(), formatDate },
    console: { log: (...a) => logs.push(a.join(' ')), warn: (...a) => logs.push(a.join(' ')),
      error: (...a) => logs.push(a.join(' ')) },
  };
  const context = vm.createContext(world);
  vm.runInContext(CODE, context, { filename: 'Code.gs' });
  const env = {
    context, book, lock, props, logs,
    get flushes() { return flushes; },
    sheet: (name = 'Responses') => book.getSheetByName(name),
    post(fields, opts = {}) {
      let e;
      if (opts.form) {
        const contents = new URLSearchParams(fields).toString();
        const parameters = {};
        Object.keys(fields).forEach((k) => { parameters[k] = [String(fields[k])]; });
        e = { postData: { type: 'application/x-www-form-urlencoded', contents, length: contents.length },
          parameter: Object.assign({}, fields), parameters, queryString: '' };
      } else {
        const contents = opts.raw !== undefined ? opts.raw : JSON.stringify(fields);
        e = { postData: { type: 'text/plain', contents, length: Buffer.byteLength(contents) },
          parameter: {}, parameters: {}, queryString: '' };
      }
      const out = context.doPost(e);
      return opts.form ? { html: out.getContent(), title: out.getTitle(), meta: out.meta }
        : Object.assign(JSON.parse(out.getContent()), { mime: out.getMimeType() });
    },
    get: () => JSON.parse(context.doGet({ parameter: {} }).getContent()),
  };
  return env;
}

module.exports = { makeEnv, Formula, formatDate, DEFAULT_PROPS, DEFAULT_UNITS };

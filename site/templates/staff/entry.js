/* hailong data-entry page for paper questionnaires (staff only; contract v3 section 9).
   ES5, no framework. The keyboard alone: a digit answers a question and moves to the next,
   Backspace clears and moves back, Enter sends. The clerk's code and the keying number are
   asked once per session (sessionStorage). The form's code is checked before sending: its
   shape, and, where build knew the codes printed for the unit, a 24-bit fingerprint of each
   (FNV-1a; a mistyped code is caught, and the page holds no code itself). Sending goes through
   the survey page's outbox (localStorage "hailong:outbox", the same items), so a form typed
   offline is kept and resent, by this page or by any survey page of the site. */
(function () {
  'use strict';
  var form = document.getElementById('phieu-giay'), session = document.getElementById('phien');
  if (!form || !window.JSON) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var P = 'hailong:', OUTBOX = P + 'outbox', S = P + 'entry:';
  var CLERK = /^[A-Za-z0-9_-]{1,20}$/;
  var kind = form.getAttribute('data-kind'), lo = +form.getAttribute('data-scale-min');
  var known = {};
  try { known = JSON.parse($('ma-hop-le').textContent) || {}; } catch (e) { known = {}; }
  var ticketLength = +(known.length || 0), lists = known.units || {};
  function get(store, k) { try { return window[store].getItem(k); } catch (e) { return null; } }
  function put(store, k, v) { try { window[store].setItem(k, v); return true; } catch (e) { return false; } }
  function uuid() {
    var c = window.crypto, b = [], i, h = '';
    if (c && c.randomUUID) { return c.randomUUID(); }
    if (c && c.getRandomValues) { b = Array.prototype.slice.call(c.getRandomValues(new Uint8Array(16))); }
    for (i = b.length; i < 16; i++) { b[i] = Math.floor(Math.random() * 256); }
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i++) { h += (b[i] + 256).toString(16).slice(1) + (i === 3 || i === 5 || i === 7 || i === 9 ? '-' : ''); }
    return h;
  }

  // -- the session: clerk and keying, asked once ------------------------------------------
  function start() {
    var clerk = get('sessionStorage', S + 'clerk'), entry = get('sessionStorage', S + 'entry');
    var ready = clerk && CLERK.test(clerk) && /^[123]$/.test(entry || '');
    session.hidden = !!ready;
    form.hidden = !ready;
    if (ready) {
      $('ai').textContent = clerk;
      $('lan').textContent = entry === '3' ? 'Lần 3 (giám sát)' : 'Lần ' + entry;
      ($('don-vi').value ? $('ma-phieu') : $('don-vi')).focus();
    } else {
      $('nguoi-nhap').focus();
    }
    count();
  }
  // Enter on the keying's list starts too (a <select> does not submit its form by itself)
  $('lan-nhap').addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { e.preventDefault(); begin(); }
  });
  session.addEventListener('submit', function (e) { e.preventDefault(); begin(); });
  function begin() {
    var clerk = $('nguoi-nhap').value.trim(), entry = $('lan-nhap').value;
    if (!CLERK.test(clerk)) { $('nguoi-nhap').focus(); return; }
    if (!/^[123]$/.test(entry)) { $('lan-nhap').focus(); return; }
    put('sessionStorage', S + 'clerk', clerk);
    put('sessionStorage', S + 'entry', entry);
    start();
  }
  $('doi-phien').addEventListener('click', function (e) {
    e.preventDefault();
    try { window.sessionStorage.removeItem(S + 'entry'); } catch (x) { /* asked again anyway */ }
    $('nguoi-nhap').value = get('sessionStorage', S + 'clerk') || '';
    session.hidden = false; form.hidden = true; $('lan-nhap').value = ''; $('nguoi-nhap').focus();
  });

  // -- the form's code ---------------------------------------------------------------------
  function fnv(text) {
    var h = 0x811c9dc5, bytes = unescape(encodeURIComponent(text)), i;
    for (i = 0; i < bytes.length; i++) { h ^= bytes.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
    return ('000000' + (h >>> 8).toString(16)).slice(-6);
  }
  function normal(code) {
    if (kind !== 'ticket') { return code.trim(); }
    return code.replace(/[\s\-_.\u00a0]/g, '').toUpperCase().replace(/O/g, '0').replace(/[IL]/g, '1');
  }
  function unitCode() {
    var typed = $('don-vi').value.trim().toUpperCase(), opts = $('ds-don-vi').options, i;
    for (i = 0; i < opts.length; i++) { if (opts[i].value.toUpperCase() === typed) { return opts[i]; } }
    return null;
  }
  // '' when the code is right as far as this page can tell, else why not
  function codeProblem() {
    var unit = unitCode(), code = normal($('ma-phieu').value), list;
    if (!unit) { return 'Mã đơn vị không có trong danh sách.'; }
    if (!code) { return 'Chưa nhập mã phiếu.'; }
    if (kind === 'ticket' && !(new RegExp('^[0-9A-HJKMNP-TV-Z]{' + ticketLength + '}$')).test(code)) {
      return 'Mã vé phải có ' + ticketLength + ' chữ và số như in trên phiếu.';
    }
    if (kind !== 'ticket' && !/^[A-Za-z0-9_.-]+\.[A-Za-z0-9_-]{22}$/.test(code)) {
      return 'Mã phiếu không đúng dạng (mã người trả lời, dấu chấm, rồi 22 ký tự).';
    }
    list = lists[unit.value.toUpperCase()];
    if (list && list.indexOf(fnv(code)) < 0) { return 'Mã phiếu không có trong danh sách phiếu đã in cho đơn vị này: xin xem lại từng ký tự.'; }
    return '';
  }
  function showCheck() {
    var unit = unitCode(), problem = $('ma-phieu').value ? codeProblem() : '';
    $('ten-don-vi').textContent = unit ? unit.textContent : '';
    $('kiem-tra-ma').className = problem ? 'bad' : 'ok';
    $('kiem-tra-ma').textContent = !$('ma-phieu').value ? '' : problem || 'Mã phiếu hợp lệ: ' + normal($('ma-phieu').value);
  }
  $('don-vi').addEventListener('input', showCheck);
  $('ma-phieu').addEventListener('input', showCheck);

  // -- answers: a digit answers and moves on -------------------------------------------------
  var fields = form.querySelectorAll('[data-q]');
  function move(el, step) {
    var all = [$('don-vi'), $('ma-phieu')].concat(Array.prototype.slice.call(fields)), i = all.indexOf(el);
    var to = all[i + step];
    if (to) { to.focus(); if (to.select) { to.select(); } }
  }
  Array.prototype.forEach.call(fields, function (el) {
    if (el.className !== 'a') { return; }
    el.addEventListener('keydown', function (e) {
      var max = +el.getAttribute('data-max'), q = el.getAttribute('data-q'), d;
      if (e.ctrlKey || e.altKey || e.metaKey || e.key === 'Tab' || e.key === 'Enter') { return; }
      e.preventDefault();
      if (e.key === 'Backspace') { el.value = ''; move(el, -1); return; }
      if (!/^[0-9]$/.test(e.key)) { return; }
      d = +e.key;
      // a scale question: lo..max; a choice or the type: 1..number of options; 0: no answer
      if (d !== 0 && (d > max || (el.getAttribute('data-scale') === '1' && d < lo))) { say('Câu ' + q + ' chỉ nhận số 0 đến ' + max + '.', true); return; }
      el.value = String(d);
      say('');
      move(el, 1);
    });
  });
  function say(text, bad) { $('trang-thai').textContent = text; $('trang-thai').className = bad ? 'bad' : 'ok'; }

  // -- sending through the outbox -----------------------------------------------------------
  function box() { try { return JSON.parse(get('localStorage', OUTBOX) || '[]') || []; } catch (e) { return []; } }
  function keep(items) { put('localStorage', OUTBOX, JSON.stringify(items)); count(); }
  function count() { if ($('cho-gui')) { $('cho-gui').textContent = String(box().length); } }
  var busy = false, delay = 2000, waiting = null;
  function flush() {
    var item = box()[0];
    if (busy || !item || !window.fetch) { return; }
    busy = true;
    clearTimeout(waiting);
    fetch(item.url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: item.body, credentials: 'omit' })
      .then(function (res) {
        return res.text().then(function (t) {
          var j = null;
          try { j = JSON.parse(t); } catch (e) { /* not the collector */ }
          // as the survey page judges it: only the collector's JSON {ok: true} is sent; a
          // refusal ({ok: false} or a 4xx) is dropped and said; anything else is retried
          var ok = res.ok && j && j.ok === true, no = j && j.ok === false;
          var retry = !ok && (res.status >= 500 || res.status === 429 || res.status === 408 ||
            (no ? j.retry : res.ok));
          busy = false;
          var rest = box().filter(function (x) { return x.id !== item.id; });
          if (retry) { keep(rest.concat([item])); delay = Math.min(delay * 2, 60000); waiting = setTimeout(flush, delay); return; }
          keep(rest);
          if (!ok) { say('Máy chủ không nhận một phiếu' + (j && j.error ? ': ' + j.error : '') + '.', true); }
          delay = 2000;
          flush();
        });
      })
      .then(null, function () { busy = false; keep(box().filter(function (x) { return x.id !== item.id; }).concat([item])); delay = Math.min(delay * 2, 60000); waiting = setTimeout(flush, delay); });
  }
  form.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && e.target.tagName !== 'BUTTON') { e.preventDefault(); send(); }
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); send(); });
  function send() {
    var problem = codeProblem(), data, item, i, q, values;
    if (problem) { $('kiem-tra-ma').className = 'bad'; $('kiem-tra-ma').textContent = problem; (unitCode() ? $('ma-phieu') : $('don-vi')).focus(); return; }
    data = { survey_id: form.getAttribute('data-survey'), unit_code: unitCode().value,
      response_id: uuid(), started_at: new Date().toISOString(), channel: 'paper',
      entered_by: get('sessionStorage', S + 'clerk'), entry: get('sessionStorage', S + 'entry'),
      device_id: get('localStorage', P + 'device') || '' };
    data[kind] = normal($('ma-phieu').value);
    for (i = 0; i < fields.length; i++) {
      q = fields[i].getAttribute('data-q');
      values = fields[i].getAttribute('data-values');
      if (values) {  // a choice or the respondent type: digit n is the n-th option, 0 none
        data[q] = fields[i].value && fields[i].value !== '0' ? JSON.parse(values)[+fields[i].value - 1] : '';
      } else {
        data[q] = fields[i].value;
      }
    }
    // a unit's own collector (units.csv collector_url) first, as its survey page posts there
    item = { id: data.response_id, url: unitCode().getAttribute('data-url') || form.action, key: '',
      body: JSON.stringify(data) };
    keep([item].concat(box().filter(function (x) { return x.id !== item.id; })));
    say('Đã lưu phiếu ' + data[kind] + ' (' + $('lan').textContent + '); ' + (navigator.onLine === false ? 'sẽ gửi khi có mạng.' : 'đang gửi…'));
    for (i = 0; i < fields.length; i++) { fields[i].value = ''; }
    $('ma-phieu').value = '';
    showCheck();
    $('ma-phieu').focus();
    delay = 2000;
    flush();
  }
  window.addEventListener('online', function () { delay = 2000; flush(); });
  start();
  flush();
}());

/* hailong survey page: enhances a plain HTML form that already works without JavaScript.
   ES5 on purpose (old Android WebViews, Zalo's in-app browser); no framework, no other host.
   - response_id (UUID) and a device_id kept in localStorage go with every answer;
   - required answers are checked before sending, with a Vietnamese message, and a page with
     no scale question answered is not sent (it would count as an answer with nothing in it);
   - outside the survey's dates the page says so instead of showing the form;
   - the answer is saved in an outbox before the first try and resent with backoff (and on the
     next page load or the `online` event) with the same response_id, so a retry is never
     counted twice; the collector's dedupe by response_id stays the real guard;
   - only a JSON {ok: true} counts as sent (a captive portal's 200 page does not);
   - no saved answer is ever dropped for room: past MAX_OUTBOX the page tells staff;
   - helper mode (?ho-tro=<helper code>, remembered on a helper's phone): ho-tro.js, loaded
     only then, so that a citizen's page carries none of it (the 30 KB budget). */
(function () {
  'use strict';
  var form = document.getElementById('phieu');
  if (!form || !window.JSON || !document.querySelector) { return; }
  var P = 'hailong:', OUTBOX = P + 'outbox', MAX_OUTBOX = 500, trial = /[?&]xem-thu\b/.test(location.search);
  var $ = function (id) { return document.getElementById(id); };

  function get(k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } }
  // false where storage is refused (private mode) or full
  function put(k, v) { try { window.localStorage.setItem(k, v); return true; } catch (e) { return false; } }

  function uuid() {
    var c = window.crypto, b = [], i, h = '';
    if (c && c.randomUUID) { return c.randomUUID(); }
    if (c && c.getRandomValues) { b = Array.prototype.slice.call(c.getRandomValues(new Uint8Array(16))); }
    for (i = b.length; i < 16; i++) { b[i] = Math.floor(Math.random() * 256); }
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i++) { h += (b[i] + 256).toString(16).slice(1) + (i === 3 || i === 5 || i === 7 || i === 9 ? '-' : ''); }
    return h;
  }
  // a personal link's token: ?t=… or #t=…
  function param(name) {
    var parts = (location.search.slice(1) + '&' + location.hash.slice(1)).split('&'), i, kv;
    for (i = 0; i < parts.length; i++) {
      kv = parts[i].split('=');
      if (kv[0] === name && kv.length > 1) {
        try { return decodeURIComponent(kv.slice(1).join('=').replace(/\+/g, ' ')); } catch (e) { return ''; }
      }
    }
    return '';
  }
  function hidden(name, value) {
    var f = form.elements[name];
    if (f && value !== undefined) { f.value = value; }
    return f ? f.value : '';
  }

  if (/ho-tro/.test(location.href) || get(P + 'ht')) {
    var s = document.createElement('script');
    s.src = document.currentScript.getAttribute('data-h');
    form.appendChild(s);
  }
  var device = get(P + 'device');
  if (!device) { device = uuid(); put(P + 'device', device); }
  var token = param('t');
  hidden('device_id', device);
  hidden('respondent_key', token);
  // roster access: without the personal token the answer cannot be counted
  if ($('can-link') && !token) { $('can-link').hidden = false; }
  // a tickets survey: the slip's QR code carries the ticket after #ve= (never sent to a
  // server's log); a new slip scanned on this phone opens a fresh form
  var ticket = param('ve') || param('ticket');
  hidden('ticket', ticket);
  if ($('can-ve') && ticket) { $('can-ve').hidden = true; }
  window.addEventListener('hashchange', function () { location.reload(); });
  var doneKey = P + 'done:' + hidden('survey_id') + ':' + hidden('unit_code') + (token ? ':' + token : '') +
    (ticket ? ':' + ticket : '');
  function fresh() { hidden('response_id', uuid()); hidden('started_at', new Date().toISOString()); }
  fresh();

  // -- progress and checking ------------------------------------------------------------------
  var boxes = form.querySelectorAll('[data-q]'), scales = form.querySelectorAll('.s'),
    total = +form.getAttribute('data-total');
  var bar = $('tien-trinh'), alertBox = $('thong-bao'), button = $('gui');
  function answered(box) {
    var els = box.querySelectorAll('input,textarea'), i;
    for (i = 0; i < els.length; i++) {
      if (els[i].type === 'radio' ? els[i].checked : /\S/.test(els[i].value)) { return true; }
    }
    return false;
  }
  function mark(box, missing) {
    var err = box.querySelector('.err');
    box.className = box.className.replace(/ ?missing/g, '') + (missing ? ' missing' : '');
    if (missing && !err) {
      err = document.createElement('p');
      err.className = 'err';
      err.appendChild(document.createTextNode('Xin chọn hoặc ghi câu trả lời cho câu này.'));
      box.insertBefore(err, box.querySelector(box.tagName === 'FIELDSET' ? 'label' : 'textarea'));
    } else if (!missing && err) { err.parentNode.removeChild(err); }
  }
  // at least one scale question answered (or none to answer)
  function some() {
    for (var i = 0; i < scales.length; i++) { if (answered(scales[i])) { return true; } }
    return !scales.length;
  }
  function progress() {
    var n = 0, i, b, radios = form.querySelectorAll('input[type=radio]');
    // fills the chosen answer where CSS :has() is missing (old WebViews)
    for (i = 0; i < radios.length; i++) { radios[i].parentNode.className = radios[i].checked ? 'on' : ''; }
    for (i = 0; i < boxes.length; i++) {
      b = boxes[i];
      if (!/^(respondent_type|ticket)$/.test(b.getAttribute('data-q')) && answered(b)) { n++; }
      // a mark goes once its box is answered; the "answer something" mark once any scale is
      if (/missing/.test(b.className) && (answered(b) || !b.hasAttribute('data-required') && some())) { mark(b, false); }
    }
    $('tien-trinh-chu').innerHTML = 'Đã trả lời ' + n + '/' + total + ' câu';
    $('tien-trinh-thanh').style.width = (total ? Math.round(100 * n / total) : 0) + '%';
  }
  function say(text) {
    alertBox.innerHTML = '';
    alertBox.appendChild(document.createTextNode(text));
    alertBox.hidden = !text;
  }
  // the message, and the citizen taken to the first question to answer
  function stop(text, first) {
    say(text);
    first.querySelector('input,textarea').focus();
    // clear of the sticky progress bar
    if (first.scrollIntoView) { first.scrollIntoView(); window.scrollBy(0, -90); }
    return false;
  }
  function check() {
    var missing = [], i, num = [], el = form.elements.ticket;
    // 14 letters and digits once spaces and dashes are gone (score checks the signature)
    if (el && el.type !== 'hidden' && /\S/.test(el.value) && !/^[0-9a-z]{14}$/i.test(el.value.replace(/[\s-]/g, ''))) {
      return stop('Mã phiếu phải có 14 chữ và số như in trên vé.', $('o-ve'));
    }
    for (i = 0; i < boxes.length; i++) {
      if (boxes[i].hasAttribute('data-required') && !answered(boxes[i])) { missing.push(boxes[i]); }
      mark(boxes[i], missing[missing.length - 1] === boxes[i]);
    }
    for (i = 0; i < missing.length; i++) {
      el = missing[i].getAttribute('data-q');
      num.push(el === 'respondent_type' ? 'tư cách trả lời' : el === 'ticket' ? 'mã phiếu'
        : (missing[i].querySelector('.num') || {}).textContent);
    }
    if (missing.length) {
      return stop('Còn ' + missing.length + ' câu bắt buộc chưa trả lời: ' + num.join(', ') +
        '. Xin trả lời rồi bấm "Gửi ý kiến" lần nữa.', missing[0]);
    }
    // no scale answer at all: an empty row the page would call an answer
    if (!some()) {
      mark(scales[0], true);
      return stop('Ông/Bà chưa trả lời câu nào. Xin chọn ít nhất một câu trả lời rồi bấm "Gửi ý kiến".', scales[0]);
    }
    say('');
    return true;
  }

  // -- the outbox: saved before sending, resent until the collector takes it -------------------
  // memo: the outbox for this page alone where storage refuses it (private mode, full)
  var memo = [], saved = 1;
  function box() {
    var s = saved ? get(OUTBOX) : null;
    try { return s === null ? memo : JSON.parse(s) || []; } catch (e) { return []; }
  }
  function keep(items) { memo = items; saved = put(OUTBOX, JSON.stringify(items)); }
  function without(id) { return box().filter(function (x) { return x.id !== id; }); }
  function drop(id) { keep(without(id)); }
  function send(item, cb) {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, 30000) : null;
    // text/plain is a "simple" request: no CORS preflight, which Apps Script cannot answer
    fetch(item.url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
      body: item.body, credentials: 'omit', signal: ctl && ctl.signal })
      .then(function (res) {
        return res.text().then(function (t) {
          var j = null;
          clearTimeout(timer);
          try { j = JSON.parse(t); } catch (e) { /* an HTML answer */ }
          // a refusal is {ok: false} (Apps Script answers it with a 200) or a 4xx;
          // a 200 that is not the collector's JSON is some other page in the way: try again
          var no = j && j.ok === false;
          cb(res.ok && j && j.ok === true ? 'ok' : res.status >= 500 || res.status === 429 || res.status === 408 ||
            (no ? j.retry : res.ok) ? 'retry' : 'refused', j && j.error);
        });
      })
      .then(null, function () { clearTimeout(timer); cb('retry'); });
  }
  var delay = 2000, waiting = null, busy = false, current = null;
  // one at a time from the front: the answer just given is put there, and one that fails goes
  // to the back, so an older answer that keeps failing holds up neither it nor the others
  function flush() {
    var item = box()[0];
    if (busy || !item || !window.fetch) { return; }
    busy = true;
    clearTimeout(waiting);
    send(item, function (result, error) {
      busy = false;
      if (result === 'retry') {
        keep(without(item.id).concat([item]));
        // whichever answer failed: the citizen is told this one is saved, never left waiting
        if (without(current).length < box().length) { done(false); }
        delay = Math.min(delay * 2, 60000);
        waiting = setTimeout(flush, delay * (0.75 + Math.random() / 2));
        return;
      }
      drop(item.id);
      if (item.id === current) {
        if (result === 'ok') { done(true); } else { refused(item, error); }
      }
      delay = 2000;
      flush();
    });
  }
  // the form, or the thank-you note in its place
  function show(f) {
    form.hidden = bar.hidden = $('huong-dan').hidden = !f;
    $('cam-on').hidden = f;
  }
  function done(sent) {
    var n = box().length;
    $('cam-on-chu').innerHTML = (sent ? 'Ý kiến của Ông/Bà đã được gửi. Xin cảm ơn!'
      : 'Mạng đang yếu nên phiếu chưa gửi đi được. Phiếu đã được lưu trên máy này và sẽ tự gửi lại khi có mạng; Ông/Bà không cần điền lại.') +
      (n > MAX_OUTBOX ? ' Máy này đang giữ ' + n + ' phiếu chưa gửi được: xin báo cán bộ kiểm tra mạng.' : '');
    if ($('cam-on').hidden) { show(false); $('cam-on').focus(); }
  }
  // the form comes back with the answers and the reason, also after a "saved, will resend"
  function refused(item, error) {
    put(item.key, '');
    show(true);
    button.disabled = false;
    button.innerHTML = 'Gửi ý kiến';
    say('Máy chủ không nhận phiếu' + (error ? ': ' + error : '.') + ' Xin báo cán bộ tại nơi làm thủ tục.');
    alertBox.focus();
  }

  form.setAttribute('novalidate', '');
  form.addEventListener('change', progress);
  form.addEventListener('input', progress);
  form.addEventListener('submit', function (e) {
    var data = {}, els = form.elements, i, el, item;
    if (!check()) { e.preventDefault(); return; }
    // the plain POST still carries the ids filled in above
    if (!window.fetch) { return; }
    e.preventDefault();
    for (i = 0; i < els.length; i++) {
      el = els[i];
      if (el.name && (el.type !== 'radio' || el.checked)) { data[el.name] = el.value; }
    }
    // staff trying a closed survey: the collector keeps the answer, score quarantines it
    if (trial) { data.xem_thu = '1'; }
    item = { id: data.response_id, url: form.action, key: doneKey, body: JSON.stringify(data) };
    keep([item].concat(without(item.id)));
    put(doneKey, item.id);
    current = item.id;
    button.disabled = true;
    button.innerHTML = 'Đang gửi…';
    delay = 2000;
    flush();
  });
  window.addEventListener('online', function () { delay = 2000; flush(); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { flush(); } });

  // the survey's dates, local to Vietnam (UTC+7 all year: no summer time there): a poster
  // left up after the survey would collect answers that are thrown away. ?xem-thu opens the
  // form anyway, for staff trying a past survey (its answers are still quarantined by score)
  // the inline script in the page's head has already judged the dates and marked <html>
  // "dong" (survey/_window.html), so CSS put the notice in the form's place before the
  // first paint; here the elements are hidden as well, for what reads the DOM
  var shut = /\bdong\b/.test(document.documentElement.className),
    intro = document.querySelector('.intro');
  if (shut || get(doneKey)) { form.hidden = $('huong-dan').hidden = true; }
  if (shut) {
    if ($('can-link')) { $('can-link').hidden = true; }
    if ($('can-ve')) { $('can-ve').hidden = true; }
    if (intro) { intro.hidden = true; }
  } else if (get(doneKey)) {
    // this browser already answered for this unit
    $('da-gui').hidden = false;
    // a shared kiosk (dedupe.by_device = false): let the next person answer; on roster
    // access the button reads "send again": a cooperative may correct its answer
    if ($('nguoi-khac')) {
      $('nguoi-khac').onclick = function () {
        $('da-gui').hidden = true; show(true); form.reset(); fresh(); progress();
      };
    }
  } else {
    bar.hidden = false;
  }
  progress();
  flush();
}());

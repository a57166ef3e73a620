/* hailong survey page, helper mode (contract v3, section 9): a veterans' association member
   guides citizens at the one-stop office on their own phone ("chỉ hướng dẫn kỹ thuật, để
   người dân trực tiếp trả lời"). survey.js loads this file only when the address carries
   ?ho-tro=<helper code> or the phone remembers one, so a citizen's page never loads it.
   - the helper's code (letters, digits, - or _, at most 20: never a name) is remembered on the
     phone; ?ho-tro= with an empty value (or anything else, such as a name) ends helper mode;
   - every answer goes with channel "assisted" and the helper's code (entered_by): hidden
     fields, which survey.js sends with the others through its outbox (offline too);
   - as soon as an answer is in the outbox the form starts over, empty, with new ids, for the
     next citizen: nothing of the last answer stays on the page, and the phone never counts as
     "already answered" (score never treats these answers as one device's duplicates; the
     `helper` signal watches one helper answering too often). ES5, like survey.js. */
(function () {
  'use strict';
  var form = document.getElementById('phieu'), K = 'hailong:ht', hp = null;
  var $ = function (id) { return document.getElementById(id); };
  var m = /[?&#]ho-tro=([^&#]*)/.exec(location.href);
  try {
    if (m) {
      m = decodeURIComponent(m[1]);
      window.localStorage.setItem(K, /^[A-Za-z0-9_-]{1,20}$/.test(m) ? m : '');
    }
    hp = window.localStorage.getItem(K);
  } catch (e) { /* no storage: no helper mode */ }
  // a closed survey stays closed
  if (!form || !hp || /\bdong\b/.test(document.documentElement.className)) { return; }
  function field(name, value) {
    var f = document.createElement('input');
    f.type = 'hidden'; f.name = name; f.value = value;
    form.appendChild(f);
  }
  field('channel', 'assisted');
  field('entered_by', hp);
  var button = $('gui'), label = 'Gửi ý kiến (hỗ trợ: ' + hp + ')';
  function uuid() {
    var c = window.crypto;
    return c && c.randomUUID ? c.randomUUID() : Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
  }
  // the form shown and ready, whatever survey.js decided for a citizen's own phone
  function ready() {
    var i, k;
    try {
      for (i = window.localStorage.length - 1; i >= 0; i--) {
        k = window.localStorage.key(i);
        if (k && k.indexOf('hailong:done:') === 0) { window.localStorage.removeItem(k); }
      }
    } catch (e) { /* nothing remembered */ }
    $('cam-on').hidden = $('da-gui').hidden = true;
    form.hidden = $('huong-dan').hidden = $('tien-trinh').hidden = false;
    button.disabled = false;
    button.textContent = label;
  }
  // survey.js's own handler runs first: a disabled button means the answer is in the outbox
  form.addEventListener('submit', function () {
    if (!button.disabled) { return; }
    form.reset();
    form.elements.response_id.value = uuid();
    form.elements.started_at.value = new Date().toISOString();
    form.dispatchEvent(new Event('change'));  // survey.js's progress bar back to 0
    ready();
    window.scrollTo(0, 0);
  });
  // when survey.js later says "sent" (or "saved, will resend") for an earlier citizen, the next
  // citizen keeps the form
  if (window.MutationObserver) {
    new MutationObserver(function () { if (!$('cam-on').hidden) { ready(); } })
      .observe($('cam-on'), { attributes: true, attributeFilter: ['hidden'] });
  }
  ready();
}());

/* hailong results pages: column sorting and the district filter, as enhancements.
   Without JavaScript the tables are already in rank order and each district has its own page;
   the filter links lead there. No libraries, ES5, works in old Android browsers. */
(function () {
  "use strict";
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function cellValue(row, col, kind) {
    var cell = row.cells[col];
    var v = cell.getAttribute("data-value");
    if (v === null) { v = cell.textContent.trim(); }
    return kind === "num" ? parseFloat(v) : v;
  }

  function sortTable(table, th, col, kind, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellValue(a, col, kind), y = cellValue(b, col, kind);
      var c = kind === "num" ? (x - y) : String(x).localeCompare(String(y), "vi");
      if (c === 0) { c = a.getAttribute("data-order") - b.getAttribute("data-order"); return c; }
      return sign * c;
    });
    each(rows, function (r) { body.appendChild(r); });
    each(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }

  each(document.querySelectorAll("table[data-sortable]"), function (table) {
    each(table.tBodies[0].rows, function (r, i) { r.setAttribute("data-order", i); });
    each(table.tHead.rows[0].cells, function (th, col) {
      var kind = th.getAttribute("data-sort");
      if (!kind) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.title = "Sắp xếp theo cột này";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var now = th.getAttribute("aria-sort");
        var first = th.getAttribute("data-first") || (kind === "num" ? "descending" : "ascending");
        var dir = now ? (now === "ascending" ? "descending" : "ascending") : first;
        sortTable(table, th, col, kind, dir);
      });
    });
    var start = table.querySelector("th[data-first]");
    if (start) { start.setAttribute("aria-sort", "ascending"); }
  });

  function relayoutChart(svg, district) {
    var step = parseFloat(svg.getAttribute("data-row"));
    var top = parseFloat(svg.getAttribute("data-top"));
    var shown = 0;
    each(svg.querySelectorAll("g.bar-row"), function (g) {
      var keep = !district || g.getAttribute("data-district") === district;
      g.style.display = keep ? "" : "none";
      if (keep) { g.setAttribute("transform", "translate(0," + (top + step * shown) + ")"); shown += 1; }
    });
    svg.setAttribute("height", top + step * shown + 4);
    each(svg.querySelectorAll("line.grid"), function (l) { l.setAttribute("y2", top + step * shown + 4); });
  }

  function applyFilter(nav, link) {
    var district = link.getAttribute("data-district");
    each(nav.querySelectorAll("a"), function (a) { a.removeAttribute("aria-current"); });
    link.setAttribute("aria-current", "page");
    each(document.querySelectorAll("tr[data-district]"), function (tr) {
      tr.hidden = !!district && tr.getAttribute("data-district") !== district;
    });
    each(document.querySelectorAll("svg.ranking-chart"), function (svg) { relayoutChart(svg, district); });
    var label = document.getElementById("loc-dia-ban");
    if (label) { label.textContent = district ? ": " + district : ""; }
    var status = document.getElementById("loc-trang-thai");
    if (status) {
      var n = document.querySelectorAll("table.ranking tbody tr:not([hidden])").length;
      status.textContent = district ? "Đang hiển thị " + n + " đơn vị được xếp hạng của " + district + "." : "";
    }
  }

  each(document.querySelectorAll("[data-filter]"), function (nav) {
    if (nav.getAttribute("data-static") === "true") { return; }  // a district page: plain links
    each(nav.querySelectorAll("a[data-district]"), function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        applyFilter(nav, link);
        var slug = link.getAttribute("data-slug");
        if (window.history && window.history.replaceState) {
          window.history.replaceState(null, "", slug ? "#tinh-" + slug : window.location.pathname);
        }
      });
    });
    function fromHash() {
      var wanted = null;
      each(nav.querySelectorAll("a[data-district]"), function (link) {
        var slug = link.getAttribute("data-slug");
        if (slug ? window.location.hash === "#tinh-" + slug : !wanted) { wanted = link; }
      });
      if (wanted) { applyFilter(nav, wanted); }
    }
    if (window.location.hash.indexOf("#tinh-") === 0) { fromHash(); }
    window.addEventListener("hashchange", fromHash);
  });
  // The national summary's search box: the units' names come in a script of their own
  // (ket-qua/don-vi.js), loaded the first time the reader uses the box, so the page itself
  // stays light and the search needs no server (a static host, or the page opened from disk).
  function fold(s) {
    s = String(s).replace(/[\u0111\u0110]/g, "d");
    if (s.normalize) { s = s.normalize("NFD").replace(/[\u0300-\u036f]/g, ""); }
    return s.toLowerCase().replace(/\s+/g, " ").trim();
  }

  each(document.querySelectorAll("form[data-search]"), function (form) {
    var input = form.querySelector("input");
    var list = document.getElementById("tim-ket-qua");
    var status = document.getElementById("tim-trang-thai");
    var src = form.getAttribute("data-search");
    var base = src.slice(0, src.lastIndexOf("/") + 1);
    var folded = null, loading = false, MAX = 20;

    function show() {
      var q = fold(input.value);
      while (list.firstChild) { list.removeChild(list.firstChild); }
      if (!q) { status.textContent = ""; return; }
      if (!folded) { status.textContent = "Đang tải danh sách đơn vị…"; return; }
      var words = q.split(" "), found = [];
      each(folded, function (name, i) {
        for (var w = 0; w < words.length; w += 1) { if (name.indexOf(words[w]) < 0) { return; } }
        found.push(i);
      });
      // names that start with what was typed (after "Xã ", "Phường "…) come first
      found.sort(function (a, b) {
        var x = folded[a].indexOf(q), y = folded[b].indexOf(q);
        return (x < 0 ? 99 : x) - (y < 0 ? 99 : y) || a - b;
      });
      each(found.slice(0, MAX), function (i) {
        var u = window.hailongUnits[i], li = document.createElement("li"), a = document.createElement("a");
        a.href = base + encodeURIComponent(u[0]) + "/index.html";
        a.textContent = u[1];
        li.appendChild(a);
        if (u[2]) { li.appendChild(document.createTextNode(" – " + u[2])); }
        list.appendChild(li);
      });
      status.textContent = found.length === 0 ? "Không tìm thấy đơn vị nào có tên chứa «" + input.value.trim() + "»."
        : found.length > MAX ? "Tìm thấy " + found.length + " đơn vị; dưới đây là " + MAX + " đơn vị đầu tiên, hãy gõ thêm để thu hẹp."
        : "Tìm thấy " + found.length + " đơn vị.";
    }

    function load() {
      if (loading) { return; }
      loading = true;
      var script = document.createElement("script");
      script.src = src;
      script.onload = function () {
        folded = [];
        each(window.hailongUnits || [], function (u) { folded.push(fold(u[1])); });
        show();
      };
      script.onerror = function () { status.textContent = "Không tải được danh sách đơn vị: xin chọn tỉnh, thành phố trong bảng dưới đây."; };
      document.head.appendChild(script);
    }

    input.addEventListener("focus", load);
    input.addEventListener("input", function () { load(); show(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var first = list.querySelector("a");
      if (first) { window.location.href = first.href; }
    });
  });
})();

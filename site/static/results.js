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
    var label = document.getElementById("loc-huyen");
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
          window.history.replaceState(null, "", slug ? "#huyen-" + slug : window.location.pathname);
        }
      });
    });
    function fromHash() {
      var wanted = null;
      each(nav.querySelectorAll("a[data-district]"), function (link) {
        var slug = link.getAttribute("data-slug");
        if (slug ? window.location.hash === "#huyen-" + slug : !wanted) { wanted = link; }
      });
      if (wanted) { applyFilter(nav, wanted); }
    }
    if (window.location.hash.indexOf("#huyen-") === 0) { fromHash(); }
    window.addEventListener("hashchange", fromHash);
  });
})();

"""The fit rules of the pages (docs/pages.md), measured on element boxes in a real browser.

`problems(page)` lists every breach on the page as loaded, at the page's viewport width:
- the page scrolls sideways, or a box scrolls or clips its content sideways (scrollWidth
  over clientWidth where overflow is not visible): on a phone nothing may need a sideways swipe;
- a visible element or a line of text sticks out of the viewport (text cut off at the edge);
- a text of three words or more is broken one word a line (a column squeezed too narrow);
- in a table laid out as a table, a header not over its column (its box and the box of the
  cell under it in the first row differ), or a caption laid out as a column.
Visually hidden text (.sr, the skip link until focused, the SVG pattern defs) is left out.
"""

from __future__ import annotations

FIT_JS = r"""() => {
  const W = document.documentElement.clientWidth;
  const out = [];
  const name = el => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.classList.length) s += '.' + Array.from(el.classList).join('.');
    const t = (el.innerText || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return s + (t ? ' «' + t + '»' : '');
  };
  const skipped = el => el.closest('.sr, .skip, svg.defs, [hidden], noscript, script, style, head');
  const shown = el => {
    const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden') return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  if (document.documentElement.scrollWidth > W + 1)
    out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' px in ' + W);
  for (const el of document.body.querySelectorAll('*')) {
    if (skipped(el) || !shown(el)) continue;
    const inSvg = el.closest('svg') && el.tagName.toLowerCase() !== 'svg';
    if (inSvg) continue;  // a chart's own drawing: the svg box itself is measured
    const r = el.getBoundingClientRect();
    if (r.right > W + 1 || r.left < -1)
      out.push(name(el) + ' sticks out of the screen (' + Math.round(r.left) + '..' + Math.round(r.right) + ' in ' + W + ')');
    const s = getComputedStyle(el);
    if (s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
      out.push(name(el) + ' scrolls or cuts sideways (' + el.scrollWidth + ' in ' + el.clientWidth + ')');
  }
  // every line of text: inside the screen, and not one word a line
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || skipped(el) || !shown(el) || el.closest('svg')) continue;
    range.selectNodeContents(node);
    const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
    for (const r of rects) {
      if (r.right > W + 1 || r.left < -1) { out.push('text «' + text.slice(0, 40) + '» is cut at the screen edge'); break; }
    }
    const words = text.split(/\s+/).length;
    const lines = new Set(rects.map(r => Math.round(r.top))).size;
    if (words >= 3 && lines >= words)
      out.push('text «' + text.slice(0, 40) + '» is broken one word a line (' + lines + ' lines)');
  }
  // tables laid out as tables: each header over its column, the caption not a column
  for (const table of document.querySelectorAll('table')) {
    if (skipped(table) || !shown(table) || getComputedStyle(table).display !== 'table') continue;
    const cap = table.caption;
    if (cap && shown(cap)) {
      const c = cap.getBoundingClientRect(), t = table.getBoundingClientRect();
      if (c.width < t.width - 2 || getComputedStyle(cap).display !== 'table-caption')
        out.push(name(cap) + ' is not a caption over the whole table');
    }
    const head = table.tHead && table.tHead.rows[0];
    const row = table.tBodies[0] && Array.from(table.tBodies[0].rows).find(shown);
    if (!head || !row) continue;
    const cells = Array.from(row.cells);
    Array.from(head.cells).forEach((th, i) => {
      const td = cells[i];
      if (!td || th.colSpan !== 1 || td.colSpan !== 1 || !shown(th)) return;
      const a = th.getBoundingClientRect(), b = td.getBoundingClientRect();
      if (Math.abs(a.left - b.left) > 1 || Math.abs(a.right - b.right) > 1)
        out.push('header ' + name(th) + ' is not over its column (' + Math.round(a.left) + '..' + Math.round(a.right) + ' over ' + Math.round(b.left) + '..' + Math.round(b.right) + ')');
    });
  }
  return out;
}"""


def problems(page) -> list[str]:
    return page.evaluate(FIT_JS)

/* docmgmt: served by the app itself, no CDN. Progressive: every page works without it. */
(function () {
  "use strict";
  // The top bar on a phone: the menu folds behind a button (without this script it stays
  // open and wraps).
  var bar = document.querySelector("header.topbar");
  var toggle = bar && bar.querySelector(".menu-toggle");
  if (bar && toggle) {
    toggle.hidden = false;
    bar.classList.add("foldable");
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // Tables shown as cards on a phone: each cell names its column (templates that care write
  // data-label themselves; this fills in the rest).
  var tables = document.querySelectorAll("main table");
  for (var t = 0; t < tables.length; t++) {
    var heads = tables[t].querySelectorAll("thead th");
    if (!heads.length) continue;
    var names = [];
    for (var h = 0; h < heads.length; h++) {
      var span = parseInt(heads[h].getAttribute("colspan") || "1", 10);
      for (var s = 0; s < span; s++) names.push(heads[h].textContent.trim());
    }
    var rows = tables[t].querySelectorAll("tbody tr");
    for (var r = 0; r < rows.length; r++) {
      var col = 0;
      for (var c = 0; c < rows[r].cells.length; c++) {
        var cell = rows[r].cells[c];
        if (!cell.hasAttribute("data-label") && names[col] && cell.colSpan === 1) {
          cell.setAttribute("data-label", names[col]);
        }
        col += cell.colSpan || 1;
      }
    }
  }
  // The outline (目录) of a procedure: open beside the text on a wide screen.
  // The search filters on a phone: folded, so the hits come first (open while one is on).
  if (window.matchMedia && window.matchMedia("(max-width: 800px)").matches) {
    var folds = document.querySelectorAll("details.facets-fold");
    for (var f = 0; f < folds.length; f++) {
      if (!folds[f].querySelector("li.on")) folds[f].open = false;
    }
  }
  if (window.matchMedia && window.matchMedia("(min-width: 1100px)").matches) {
    var outlines = document.querySelectorAll("nav.outline details");
    for (var o = 0; o < outlines.length; o++) outlines[o].open = true;
  }
})();

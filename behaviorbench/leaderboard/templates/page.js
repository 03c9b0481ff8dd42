"use strict";
// Sorting and filtering for the static leaderboard page (no dependencies, works from file://).
(function () {
  function cellValue(row, col) {
    var cell = row.cells[col];
    if (!cell) { return null; }
    var v = cell.getAttribute("data-value");
    if (v === null || v === "") { return null; }
    return v;
  }

  function sortTable(table, th) {
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-type") === "num";
    var hib = th.getAttribute("data-hib") !== "0";
    var current = th.getAttribute("aria-sort");
    var bestFirst = numeric ? (hib ? "descending" : "ascending") : "ascending";
    var order = current === null ? bestFirst : (current === "ascending" ? "descending" : "ascending");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var va = cellValue(a, col), vb = cellValue(b, col);
      if (va === null && vb === null) { return 0; }
      if (va === null) { return 1; }   // missing values always last
      if (vb === null) { return -1; }
      var cmp = numeric ? (parseFloat(va) - parseFloat(vb)) : va.localeCompare(vb);
      return order === "ascending" ? cmp : -cmp;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", order);
  }

  function applyFilters() {
    var model = document.getElementById("filter-model").value;
    var dataset = document.getElementById("filter-dataset").value;
    var showPub = document.getElementById("filter-published").checked;
    var shown = 0;
    document.querySelectorAll("section.dataset").forEach(function (sec) {
      sec.classList.toggle("hidden", dataset !== "" && sec.getAttribute("data-dataset") !== dataset);
    });
    document.querySelectorAll("[data-model]").forEach(function (el) {
      var ok = (model === "" || el.getAttribute("data-model") === model) &&
               (showPub || el.getAttribute("data-published") !== "1");
      el.classList.toggle("hidden", !ok);
      if (ok && el.tagName === "TR" && !el.closest("section").classList.contains("hidden")) { shown += 1; }
    });
    document.getElementById("row-count").textContent = shown + " row" + (shown === 1 ? "" : "s") + " shown";
  }

  document.querySelectorAll("table.lb").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th) {
      th.addEventListener("click", function () { sortTable(table, th); });
    });
  });
  ["filter-model", "filter-dataset", "filter-published"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", applyFilters);
  });
  applyFilters();
})();

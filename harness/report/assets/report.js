/* report.html: inlined by harness/report/html.py. It only filters, sorts and opens the DOM
   rendered on the server side: no report data lives in this script. The state can be given
   in the URL fragment, e.g. #filter=inline&verdict=incompatible,inconclusive&sort=1&dir=desc */
(function () {
  "use strict";
  var table = document.getElementById("scenario-table");
  var controls = document.getElementById("controls");
  var query = document.getElementById("q");
  var shown = document.getElementById("shown");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=verdict]"));
  var state = { sort: -1, dir: "asc" };

  function params() {
    var hash = location.hash.slice(1);
    return hash.indexOf("=") >= 0 ? new URLSearchParams(hash) : null;
  }

  function rows() {
    return table ? Array.prototype.slice.call(table.tBodies[0].rows) : [];
  }

  function applyFilter() {
    var text = query.value.trim().toLowerCase();
    var wanted = {};
    boxes.forEach(function (b) { wanted[b.value] = b.checked; });
    var count = 0;
    var all = rows();
    all.forEach(function (row) {
      var verdicts = (row.getAttribute("data-verdicts") || "").split(" ");
      var byVerdict = verdicts.some(function (v) { return wanted[v]; });
      var byText = !text || (row.getAttribute("data-search") || "").indexOf(text) >= 0;
      row.hidden = !(byVerdict && byText);
      if (!row.hidden) { count += 1; }
    });
    shown.textContent = count + " of " + all.length + " scenarios shown";
  }

  function key(row, column) {
    var cell = row.cells[column];
    return cell ? cell.getAttribute("data-key") || cell.textContent : "";
  }

  function sortBy(column, dir) {
    var header = table.tHead.rows[0].cells[column];
    if (!header || !header.hasAttribute("data-sort")) { return; }
    var numeric = header.getAttribute("data-sort") === "num";
    var sign = dir === "desc" ? -1 : 1;
    var indexed = rows().map(function (row, i) { return [row, i]; });
    indexed.sort(function (a, b) {
      var x = key(a[0], column);
      var y = key(b[0], column);
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return order !== 0 ? sign * order : a[1] - b[1];
    });
    var body = table.tBodies[0];
    indexed.forEach(function (pair) { body.appendChild(pair[0]); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === column) {
        th.setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    state.sort = column;
    state.dir = dir;
  }

  function remember() {
    var p = new URLSearchParams();
    if (query.value) { p.set("filter", query.value); }
    var off = boxes.filter(function (b) { return !b.checked; });
    if (off.length) {
      p.set("verdict", boxes.filter(function (b) { return b.checked; })
        .map(function (b) { return b.value; }).join(","));
    }
    if (state.sort >= 0) { p.set("sort", String(state.sort)); p.set("dir", state.dir); }
    try {
      history.replaceState(null, "", "#" + p.toString());
    } catch (e) {
      /* Some browsers refuse history changes on file: pages; the fragment is a convenience. */
    }
  }

  function openTarget() {
    var hash = location.hash.slice(1);
    if (!hash || hash.indexOf("=") >= 0) { return; }
    var node = document.getElementById(decodeURIComponent(hash));
    for (; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (e) {
      e.hidden = false;
    });
    if (table && controls) {
      var p = params();
      if (p) {
        query.value = p.get("filter") || "";
        var verdicts = p.get("verdict");
        if (verdicts !== null) {
          var list = verdicts.split(",");
          boxes.forEach(function (b) { b.checked = list.indexOf(b.value) >= 0; });
        }
        if (p.get("sort") !== null) { sortBy(Number(p.get("sort")), p.get("dir") || "asc"); }
      }
      applyFilter();
      query.addEventListener("input", function () { applyFilter(); remember(); });
      boxes.forEach(function (b) {
        b.addEventListener("change", function () { applyFilter(); remember(); });
      });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        if (!th.hasAttribute("data-sort")) { return; }
        th.tabIndex = 0;
        var toggle = function () {
          sortBy(i, state.sort === i && state.dir === "asc" ? "desc" : "asc");
          remember();
        };
        th.addEventListener("click", toggle);
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
        });
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll("button[data-expand]"), function (b) {
      b.addEventListener("click", function () {
        var open = b.getAttribute("data-expand") === "1";
        Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) {
          d.open = open;
        });
      });
    });
    openTarget();
    window.addEventListener("hashchange", openTarget);
    document.body.dataset.ready = "1";
  }

  init();
})();

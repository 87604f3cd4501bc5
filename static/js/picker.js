/* Search-as-you-type pickers, added on top of fields that work without JavaScript: the outreach
 * form's officers, partners and issues, and a Problem's partners. One widget for every page
 * (its words come from a <script id="picker-text"> JSON block, templates/_picker.html).
 *
 * - <select multiple data-picker="local">   filters its own options as you type (officers).
 * - <select multiple data-picker="remote" data-search-url="…">   asks the server (partners);
 *   a picked result becomes a selected <option>, so the form posts exactly what it would without JS.
 * - <input data-issue-picker="…">   a text box of tracking codes (issues); picked issues are
 *   shown as chips and written back into the box as "CG-…, CG-…".
 */
(function () {
  "use strict";

  var textEl = document.getElementById("picker-text");
  var TEXT = textEl ? JSON.parse(textEl.textContent) : {};
  function t(key, fallback) { return TEXT[key] || fallback; }

  function fold(s) {
    return (s || "").toString().toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* The shared widget: chips of what is chosen, a search box, a list of results as big buttons. */
  function buildWidget(sourceId, label) {
    var wrap = el("div", { className: "picker", "data-for": sourceId });
    var chips = el("ul", { className: "picker-chips", "aria-label": label, id: sourceId + "_chips" });
    var search = el("input", {
      type: "search", id: sourceId + "_search", className: "picker-search", autocomplete: "off",
      placeholder: t("placeholder", "Type to search…"), "aria-controls": sourceId + "_results",
      enterkeyhint: "search"
    });
    var status = el("p", { className: "picker-status help", "aria-live": "polite" });
    // A plain list of buttons: each result is a button, announced with the count in the status line.
    var results = el("ul", { className: "picker-results", id: sourceId + "_results", "aria-label": label });
    wrap.appendChild(chips);
    wrap.appendChild(search);
    wrap.appendChild(status);
    wrap.appendChild(results);
    return { wrap: wrap, chips: chips, search: search, status: status, results: results };
  }

  function renderResults(w, items, onPick) {
    w.results.innerHTML = "";
    items.forEach(function (item, index) {
      var li = el("li");
      var button = el("button", { type: "button", className: "picker-result", "data-value": item.value });
      button.appendChild(el("span", { className: "picker-result-label" }, item.label));
      if (item.detail) button.appendChild(el("span", { className: "picker-result-detail" }, item.detail));
      button.addEventListener("click", function () { onPick(item); });
      if (index === 0) li.setAttribute("aria-selected", "true");
      li.appendChild(button);
      w.results.appendChild(li);
    });
    var q = w.search.value.trim();
    w.status.textContent = q && !items.length ? t("noMatches", "No matches.") : "";
  }

  function renderChips(w, chosen, onRemove) {
    w.chips.innerHTML = "";
    chosen.forEach(function (item) {
      var li = el("li");
      var button = el("button", {
        type: "button", className: "chip", "data-value": item.value,
        "aria-label": t("remove", "Remove") + " " + item.label
      });
      button.appendChild(el("span", {}, item.label));
      button.appendChild(el("span", { "aria-hidden": "true", className: "chip-x" }, "×"));
      button.addEventListener("click", function () { onRemove(item); });
      li.appendChild(button);
      w.chips.appendChild(li);
    });
  }

  function wireKeys(w) {
    w.search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // Enter picks the first result instead of submitting the half-filled form.
        event.preventDefault();
        var first = w.results.querySelector("button");
        if (first) first.click();
      } else if (event.key === "ArrowDown") {
        var b = w.results.querySelector("button");
        if (b) { event.preventDefault(); b.focus(); }
      }
    });
    w.results.addEventListener("keydown", function (event) {
      var buttons = Array.prototype.slice.call(w.results.querySelectorAll("button"));
      var i = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && i < buttons.length - 1) { event.preventDefault(); buttons[i + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (i > 0 ? buttons[i - 1] : w.search).focus(); }
    });
  }

  function fetchJSON(url, q) {
    var sep = url.indexOf("?") === -1 ? "?" : "&";
    return fetch(url + sep + "q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function enhanceSelect(select) {
    var remote = select.getAttribute("data-picker") === "remote";
    var url = select.getAttribute("data-search-url");
    var label = (document.querySelector('label[for="' + select.id + '"]') || {}).textContent || "";
    var w = buildWidget(select.id, label);
    select.classList.add("picker-source");
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(w.wrap, select.nextSibling);
    var fieldLabel = document.querySelector('label[for="' + select.id + '"]');
    if (fieldLabel) fieldLabel.setAttribute("for", w.search.id);

    function chosen() {
      return Array.prototype.filter.call(select.options, function (o) { return o.selected; })
        .map(function (o) { return { value: o.value, label: o.textContent }; });
    }
    function refresh() { renderChips(w, chosen(), remove); }
    function remove(item) {
      Array.prototype.forEach.call(select.options, function (o) { if (o.value === String(item.value)) o.selected = false; });
      refresh();
      w.search.focus();
    }
    function pick(item) {
      var option = Array.prototype.find.call(select.options, function (o) { return o.value === String(item.value); });
      if (!option) {
        option = new Option(item.label, item.value);
        select.appendChild(option);
      }
      option.selected = true;
      w.search.value = "";
      renderResults(w, [], pick);
      refresh();
      w.search.focus();
    }
    function localSearch() {
      var q = fold(w.search.value.trim());
      if (!q) { renderResults(w, [], pick); return; }
      var items = Array.prototype.filter.call(select.options, function (o) {
        return !o.selected && o.value && fold(o.textContent).indexOf(q) !== -1;
      }).slice(0, 8).map(function (o) { return { value: o.value, label: o.textContent }; });
      renderResults(w, items, pick);
    }
    var remoteSearch = debounce(function () {
      var q = w.search.value.trim();
      if (q.length < 1) { renderResults(w, [], pick); return; }
      var taken = chosen().map(function (c) { return String(c.value); });
      fetchJSON(url, q).then(function (data) {
        if (w.search.value.trim() !== q) return; // a newer query is on its way
        var items = data.results.filter(function (r) { return taken.indexOf(String(r.id)) === -1; })
          .map(function (r) { return { value: String(r.id), label: r.name, detail: r.detail }; });
        renderResults(w, items, pick);
      }).catch(function () { w.status.textContent = t("failed", "Search failed; try again."); });
    }, 200);
    w.search.addEventListener("input", remote ? remoteSearch : localSearch);
    wireKeys(w);
    refresh();
  }

  function enhanceIssues(input) {
    var url = input.getAttribute("data-issue-picker");
    var label = (document.querySelector('label[for="' + input.id + '"]') || {}).textContent || "";
    var w = buildWidget(input.id, label);
    input.type = "hidden";
    input.parentNode.insertBefore(w.wrap, input.nextSibling);
    var fieldLabel = document.querySelector('label[for="' + input.id + '"]');
    if (fieldLabel) fieldLabel.setAttribute("for", w.search.id);
    w.search.setAttribute("placeholder", t("issuePlaceholder", "Tracking code or words of the issue…"));
    var help = document.getElementById(input.id + "_helptext");
    if (help) help.textContent = t("issueHelp", help.textContent);

    var codes = input.value.split(/[\s,;]+/).filter(Boolean).map(function (c) { return { value: c, label: c }; });
    function sync() {
      input.value = codes.map(function (c) { return c.value; }).join(", ");
      renderChips(w, codes, remove);
    }
    function remove(item) {
      codes = codes.filter(function (c) { return c.value !== item.value; });
      sync();
      w.search.focus();
    }
    function pick(item) {
      if (!codes.some(function (c) { return c.value === item.value; })) codes.push({ value: item.value, label: item.chip });
      w.search.value = "";
      renderResults(w, [], pick);
      sync();
      w.search.focus();
    }
    var search = debounce(function () {
      var q = w.search.value.trim();
      if (q.length < 2) { renderResults(w, [], pick); return; }
      fetchJSON(url, q).then(function (data) {
        if (w.search.value.trim() !== q) return;
        var taken = codes.map(function (c) { return c.value; });
        var items = data.results.filter(function (r) { return taken.indexOf(r.tracking_code) === -1; })
          .map(function (r) {
            return { value: r.tracking_code, label: r.label + " · " + r.status, detail: r.detail, chip: r.tracking_code };
          });
        renderResults(w, items, pick);
      }).catch(function () { w.status.textContent = t("failed", "Search failed; try again."); });
    }, 200);
    w.search.addEventListener("input", search);
    wireKeys(w);
    sync();
  }

  function init() {
    document.querySelectorAll("select[multiple][data-picker]").forEach(enhanceSelect);
    document.querySelectorAll("input[data-issue-picker]").forEach(enhanceIssues);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

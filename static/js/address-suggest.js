/* The report form's address field as an ARIA 1.2 combobox: the city's address points that match
 * what is typed (GET data-suggest-url?q=…), chosen with the arrow keys and Enter, or a tap.
 * Choosing one fills the field and sends "address-chosen" (lat, lng, neighborhood) to the form,
 * where report-form.js moves the pin. Without this file the field is a plain text input, and the
 * server places an exact match of the typed address when the form is sent. */
(function () {
  "use strict";

  var MIN_CHARS = 3, DELAY_MS = 250;

  function init(box) {
    var input = box.querySelector("input[type=text]");
    var listbox = box.querySelector("[role=listbox]");
    var status = box.querySelector("[data-many]");
    var url = box.getAttribute("data-suggest-url");
    if (!input || !listbox || !status || !url || !window.fetch) return;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");  // the browser's own list would cover this one

    var results = [], active = -1, timer = null, pending = null, lastQuery = "";

    function text(name, n, label) {
      return (status.getAttribute(name) || "").replace("{n}", String(n)).replace("{label}", label || "");
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function show(items) {
      results = items;
      active = -1;
      listbox.innerHTML = "";
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = listbox.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "suggestion";
        option.textContent = item.label;
        if (item.neighborhood) {
          var where = document.createElement("span");
          where.className = "suggestion-where";
          where.textContent = item.neighborhood.name;
          option.appendChild(document.createTextNode(" "));
          option.appendChild(where);
        }
        // mousedown, not click: the field keeps the focus (and the list is not closed by its blur).
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(index); });
        listbox.appendChild(option);
      });
      if (items.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = items.length === 1 ? text("data-one", 1) : text("data-many", items.length);
      } else {
        close();
        status.textContent = text("data-none", 0);
      }
    }

    function highlight(index) {
      var options = listbox.querySelectorAll("[role=option]");
      if (!options.length) return;
      active = (index + options.length) % options.length;
      Array.prototype.forEach.call(options, function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      if (options[active].scrollIntoView) options[active].scrollIntoView({ block: "nearest" });
    }

    function choose(index) {
      var item = results[index];
      if (!item) return;
      input.value = item.label;
      lastQuery = item.label;
      close();
      status.textContent = text("data-chosen", 0, item.label);
      input.form.dispatchEvent(new CustomEvent("address-chosen", { detail: item }));
    }

    function search() {
      var query = input.value.trim();
      if (query === lastQuery) return;
      lastQuery = query;
      if (pending) pending.abort();
      if (query.replace(/[^0-9A-Za-z\u00C0-\u024F]/g, "").length < MIN_CHARS) {
        results = [];
        close();
        status.textContent = "";
        return;
      }
      pending = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(query), {
        signal: pending.signal, credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (answer) { show(answer.results || []); })
        .catch(function () { /* aborted or offline: the field is still a plain address field */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      var open = !listbox.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!open && results.length) { listbox.hidden = false; input.setAttribute("aria-expanded", "true"); }
        highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        if (!open) return;
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter") {
        // Enter on a highlighted address chooses it; otherwise it sends the form, as in any field.
        if (open && active >= 0) { event.preventDefault(); choose(active); }
      } else if (event.key === "Escape") {
        if (open) { event.preventDefault(); close(); }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { close(); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-suggest-url]"), init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();

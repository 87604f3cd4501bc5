/* Working without a network, for signed-in officers (loaded by templates/base.html).
 *
 * - Registers the service worker (/sw.js, config/offline.py) that keeps the staff pages.
 * - The outreach form and an issue's note form (form[data-offline]) carry a key this script makes
 *   (client_key, a UUID). Submitted without a network (navigator.onLine false, or the request
 *   fails on the way), the form's fields are kept on this device (IndexedDB) and shown in
 *   "Waiting to send" (templates/_offline.html); they are sent when the network returns, on page
 *   load and from "Send now", with the same key every time, so the server writes each once.
 *   An entry leaves the device only once the server has said it is done.
 * - A note refused because the issue was finished meanwhile, or an entry the server does not
 *   accept, stays with the server's words: "Send anyway" (notes) or "Discard".
 * - Signing out deletes what is kept (the server's Clear-Site-Data does it too). Someone else
 *   signing in on a device whose last user never signed out (a session that expired) gets a
 *   device emptied first: the last user's pages are not theirs to read, nor their entries to send.
 */
(function () {
  "use strict";

  var DB_NAME = "commonground-offline";
  var STORE = "outbox";
  var CACHE_PREFIX = "commonground-offline-";
  var textNode = document.getElementById("offline-text");
  var TEXT = textNode ? JSON.parse(textNode.textContent) : {};
  var OWNER_KEY = "commonground-offline-owner";
  var outbox = document.getElementById("offline-outbox");
  var USER = outbox ? outbox.getAttribute("data-user") || "" : "";
  var dbPromise = null;
  var sending = false;

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  /* ---- IndexedDB ---- */

  function openDb() {
    if (!window.indexedDB) return Promise.reject(new Error("no IndexedDB"));
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "key" }); };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function allEntries() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (entries) {
      return (entries || []).sort(function (a, b) { return a.created - b.created; });
    });
  }
  function putEntry(entry) { return withStore("readwrite", function (store) { store.put(entry); }); }
  function deleteEntry(key) { return withStore("readwrite", function (store) { store.delete(key); }); }

  /* ---- What the page shows ---- */

  function announce(words) {
    var status = document.getElementById("offline-status");
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = words; }, 50);
  }

  var STATE_WORDS = { waiting: "waiting", sending: "sending", signin: "signIn", conflict: "conflict", refused: "refused" };

  function button(label, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function render() {
    var box = document.getElementById("offline-outbox");
    if (!box) return Promise.resolve();
    return allEntries().then(function (entries) {
      var list = document.getElementById("offline-outbox-list");
      document.getElementById("offline-outbox-count").textContent = String(entries.length);
      list.textContent = "";
      entries.forEach(function (entry) {
        var item = document.createElement("li");
        item.className = "outbox-entry outbox-" + entry.state;
        item.setAttribute("data-key", entry.key);
        var title = document.createElement("p");
        var strong = document.createElement("strong");
        strong.textContent = entry.label;
        title.appendChild(strong);
        title.appendChild(document.createTextNode(" · " + (TEXT[STATE_WORDS[entry.state]] || entry.state)));
        item.appendChild(title);
        var body = document.createElement("p");
        body.className = "outbox-text";
        body.textContent = entry.text;
        item.appendChild(body);
        if (entry.message) {
          var why = document.createElement("p");
          why.className = "field-error outbox-message";
          why.textContent = entry.message;
          item.appendChild(why);
        }
        if (entry.state === "conflict" || entry.state === "refused") {
          var actions = document.createElement("p");
          actions.className = "outbox-actions";
          if (entry.state === "conflict" && entry.kind === "note" && entry.code === "issue_finished") {
            actions.appendChild(button(TEXT.sendAnyway, function () { sendAnyway(entry.key); }));
          }
          actions.appendChild(button(TEXT.discard, function () { discard(entry.key); }));
          item.appendChild(actions);
        }
        list.appendChild(item);
      });
      box.hidden = entries.length === 0;
      return entries;
    }).catch(function () {});
  }

  /* ---- Keeping an entry ---- */

  function fillKeys(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("form[data-offline]"), function (form) {
      var field = form.querySelector("input[name=client_key]");
      if (field && !field.value) field.value = newKey();
    });
  }

  function keep(form) {
    fillKeys(form.parentNode || document);
    var fields = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string") fields.push([name, value]);
    });
    var get = function (name) {
      var found = fields.filter(function (pair) { return pair[0] === name; });
      return found.length ? found[0][1] : "";
    };
    var kind = form.getAttribute("data-offline");
    var entry = {
      key: get("client_key"),
      kind: kind,
      url: new URL(form.getAttribute("action") || window.location.pathname, window.location.href).pathname,
      fields: fields,
      label: kind === "note" ? TEXT.note + " " + (form.getAttribute("data-issue") || "") : TEXT.activity,
      text: kind === "note" ? get("text") : get("title"),
      state: "waiting",
      message: "",
      code: "",
      user: USER,
      created: Date.now()
    };
    return putEntry(entry).then(function () {
      // The form is ready for the next entry, with a key of its own.
      form.reset();
      var field = form.querySelector("input[name=client_key]");
      if (field) field.value = newKey();
      announce(TEXT.saved);
      retryLater(true);  // kept though the browser said online (the request failed on the way)
      return render();
    });
  }

  /* ---- Sending ---- */

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function bodyOf(entry) {
    var params = new URLSearchParams();
    var token = csrfToken();
    entry.fields.forEach(function (pair) {
      // The token of the page that is open now: the one kept with the entry may be stale.
      params.append(pair[0], pair[0] === "csrfmiddlewaretoken" && token ? token : pair[1]);
    });
    return params;
  }

  function sendOne(entry) {
    entry.state = "sending";
    return fetch(entry.url, {
      method: "POST",
      body: bodyOf(entry),
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      if (response.ok) return deleteEntry(entry.key).then(function () { return "sent"; });
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        entry.state = "signin";
        entry.message = "";
        return putEntry(entry).then(function () { return "kept"; });
      }
      if (response.status === 400 || response.status === 409) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          var error = (answer && answer.error) || {};
          entry.state = response.status === 409 ? "conflict" : "refused";
          entry.code = error.code || "";
          entry.message = error.message || "";
          return putEntry(entry).then(function () { return "kept"; });
        });
      }
      entry.state = "waiting";  // the server is having trouble: try again later
      return putEntry(entry).then(function () { return "stop"; });
    }, function () {
      entry.state = "waiting";  // still no network
      return putEntry(entry).then(function () { return "stop"; });
    });
  }

  /* A send that stopped (no network after all, or the server in trouble) is tried again later,
     sooner first: a weak signal often says "online" while requests fail, and then no "online"
     event ever comes to send what waits. */
  var retryTimer = null;
  var retryDelay = 0;
  var RETRY_FIRST = 5000;
  var RETRY_MOST = 60000;

  function retryLater(again) {
    if (retryTimer) window.clearTimeout(retryTimer);
    retryTimer = null;
    if (!again) { retryDelay = 0; return; }
    retryDelay = retryDelay ? Math.min(retryDelay * 2, RETRY_MOST) : RETRY_FIRST;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      if (offline()) retryLater(true);  // the "online" event sends them
      else sendAll();
    }, retryDelay);
  }

  function sendAll() {
    if (sending) return Promise.resolve();
    sending = true;
    var sentAny = false;
    var changed = false;
    var stopped = false;
    return allEntries().then(function (entries) {
      var due = entries.filter(function (entry) {
        return entry.user === USER && (entry.state === "waiting" || entry.state === "signin");
      });
      var chain = Promise.resolve("go");
      due.forEach(function (entry) {
        var before = entry.state;
        chain = chain.then(function (previous) {
          if (previous === "stop") return "stop";
          return sendOne(entry).then(function (outcome) {
            if (outcome === "sent") sentAny = true;
            if (outcome === "stop") stopped = true;
            if (outcome !== "stop" || before !== "waiting") changed = true;
            return outcome;
          });
        });
      });
      return chain;
    }).then(function () {
      // Nothing changed (a retry that found no network): the list stays as it is, and with it
      // the focus of whoever is on one of its buttons.
      return changed ? render() : null;
    }).then(function (left) {
      if (sentAny && left && left.length === 0) announce(TEXT.sent);
    }).catch(function () {}).then(function () {
      sending = false;
      retryLater(stopped);
    });
  }

  function sendAnyway(key) {
    return allEntries().then(function (entries) {
      var entry = entries.filter(function (e) { return e.key === key; })[0];
      if (!entry) return;
      entry.fields = entry.fields.filter(function (pair) { return pair[0] !== "confirm"; });
      entry.fields.push(["confirm", "true"]);
      entry.state = "waiting";
      entry.message = "";
      entry.code = "";
      return putEntry(entry);
    }).then(sendAll);
  }

  function discard(key) {
    return deleteEntry(key).then(function () { announce(TEXT.discarded); return render(); });
  }

  /* ---- The forms ---- */

  function offline() { return navigator.onLine === false; }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-offline")) return;
    if (form.getAttribute("hx-post") && window.htmx) return;  // htmx sends it: see htmx:beforeRequest below
    fillKeys(form.parentNode);
    if (offline()) {
      event.preventDefault();
      keep(form);
      return;
    }
    // Online: sent by the script so that a request lost on the way keeps the entry instead of
    // leaving a browser error page. Done → the page of what was made; anything else (the form
    // with its errors, a sign-in) → the same request as a plain submit (same key: nothing is
    // written twice).
    event.preventDefault();
    fetch(form.action || window.location.href, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status !== 201) {
        HTMLFormElement.prototype.submit.call(form);
        return;
      }
      return response.json().then(function (done) { window.location.assign(done.url); });
    }, function () {
      keep(form);
    });
  }

  document.addEventListener("submit", onSubmit);

  // Issue pages: the note form is sent by htmx. Offline, it is kept instead of sent; a request
  // that fails on the way is kept too.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-offline")) return;
    fillKeys(form.parentNode);
    if (offline()) {
      event.preventDefault();
      keep(form);
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail && event.detail.elt;
    if (form && form.hasAttribute && form.hasAttribute("data-offline")) keep(form);
  });
  document.addEventListener("htmx:afterSettle", function () { fillKeys(document); });

  /* ---- Signing out ---- */

  function forgetDevice() {
    try { window.localStorage.removeItem(OWNER_KEY); } catch (error) { /* nothing kept */ }
    var jobs = [];
    if (dbPromise) jobs.push(dbPromise.then(function (db) { db.close(); }, function () {}));
    return Promise.all(jobs).then(function () {
      dbPromise = null;
      var clearing = [];
      if (window.indexedDB) {
        clearing.push(new Promise(function (resolve) {
          var request = indexedDB.deleteDatabase(DB_NAME);
          request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
        }));
      }
      if (window.caches) {
        clearing.push(caches.keys().then(function (names) {
          return Promise.all(names.filter(function (name) { return name.indexOf(CACHE_PREFIX) === 0; })
            .map(function (name) { return caches.delete(name); }));
        }));
      }
      if (navigator.serviceWorker) {
        clearing.push(navigator.serviceWorker.getRegistrations().then(function (registrations) {
          return Promise.all(registrations.map(function (r) { return r.unregister(); }));
        }));
      }
      return Promise.all(clearing);
    }).catch(function () {});
  }

  function wireSignOut() {
    Array.prototype.forEach.call(document.querySelectorAll("form.logout"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        allEntries().catch(function () { return []; }).then(function (entries) {
          if (entries.length && !window.confirm(TEXT.signOutWarning)) return;
          forgetDevice().then(function () { HTMLFormElement.prototype.submit.call(form); });
        });
      });
    });
  }

  /* ---- Start ---- */

  /* The device is this user's: what another left on it goes first. */
  function claimDevice() {
    var owner = null;
    try { owner = window.localStorage.getItem(OWNER_KEY); } catch (error) { owner = null; }
    var done = owner && owner !== USER ? forgetDevice() : Promise.resolve();
    return done.then(function () {
      try { window.localStorage.setItem(OWNER_KEY, USER); } catch (error) { /* private mode: nothing kept anyway */ }
    });
  }

  function start() {
    claimDevice().then(startForThisUser);
  }

  function startForThisUser() {
    fillKeys(document);
    wireSignOut();
    var sendNow = document.getElementById("offline-send-now");
    if (sendNow) sendNow.addEventListener("click", sendAll);
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    }
    render().then(function (entries) {
      if (!offline()) sendAll();
      else if ((entries || []).some(function (entry) { return entry.user === USER && entry.state === "waiting"; })) {
        retryLater(true);  // should the "online" event never come to this page
      }
    });
  }

  window.addEventListener("online", sendAll);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

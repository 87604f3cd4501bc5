{% autoescape off %}/* CommonGround's service worker (served by config/offline.py at /sw.js; registered by
 * static/js/offline.js for signed-in officers). It keeps the staff shell and the staff pages the
 * officer opens so they open without a signal. It never touches a POST (what is typed offline
 * waits in IndexedDB, see offline.js), htmx fragments, the admin, the API or public pages, and
 * keeps no answer marked no-store or private-to-one-reveal. Signing out deletes its cache. */
"use strict";

var CONFIG = {{ config }};
var PREFIX = "commonground-offline-";
var CACHE = PREFIX + CONFIG.version;
var PAGE_PATTERNS = CONFIG.pagePatterns.map(function (source) { return new RegExp(source); });

function keepable(response) {
  if (!response || !response.ok || response.redirected || response.type !== "basic") return false;
  var control = (response.headers.get("Cache-Control") || "").toLowerCase();
  return control.indexOf("no-store") === -1;
}

function store(cache, url) {
  // One by one: a page this officer may not open (a 403, a redirect) is skipped, not fatal.
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (keepable(response)) return cache.put(url, response);
  }).catch(function () {});
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(CONFIG.static.concat(CONFIG.pages).map(function (url) { return store(cache, url); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function isPage(url) {
  return PAGE_PATTERNS.some(function (pattern) { return pattern.test(url.pathname); });
}

function networkFirst(request) {
  return fetch(request).then(function (response) {
    if (keepable(response)) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request.url, copy); });
    }
    return response;
  }).catch(function (error) {
    return caches.open(CACHE).then(function (cache) {
      // Pages are kept under their address alone (the queue's filters and pages included).
      return cache.match(request.url, { ignoreVary: true });
    }).then(function (kept) {
      if (kept) return kept;
      throw error;
    });
  });
}

function cacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request.url).then(function (kept) {
      if (kept) return kept;
      return fetch(request).then(function (response) {
        if (keepable(response)) cache.put(request.url, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.headers.get("HX-Request")) return;
  if (url.pathname.indexOf(CONFIG.staticPrefix) === 0) {
    event.respondWith(CONFIG.hashedStatic ? cacheFirst(request) : networkFirst(request));
  } else if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(networkFirst(request));
  }
});
{% endautoescape %}

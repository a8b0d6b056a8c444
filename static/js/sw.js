/* Civic · service worker (served at /sw.js). It keeps the static assets and the offline
   page, and nothing else: pages may hold personal data or forms with a CSRF token, so they
   always come from the network and are never stored. Without it every page works as is. */
"use strict";

var CACHE = "civic-static-v1";
var OFFLINE = "/offline";
var PRECACHE = [OFFLINE, "/static/css/civic.css", "/static/js/htmx.min.js"];

/* The allow-list, the one rule deciding what may be stored: a GET of this site's
   /static/ files or of the offline page. No query strings, no other path, no other site. */
function cacheable(url, method, origin) {
  if (method !== "GET") return false;
  var u = new URL(url, origin);
  if (u.origin !== origin || u.search || u.hash || u.username || u.password) return false;
  if (u.pathname === OFFLINE) return true;
  return u.pathname.indexOf("/static/") === 0 && u.pathname.indexOf("..") === -1 &&
    u.pathname.indexOf("%") === -1;
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(PRECACHE);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  if (cacheable(req.url, req.method, self.location.origin)) {
    // stale-while-revalidate: the stored copy at once, a fresh one stored for next time
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(req).then(function (hit) {
        var fresh = fetch(req).then(function (resp) {
          if (resp.ok && resp.type === "basic") cache.put(req, resp.clone());
          return resp;
        });
        if (hit) { fresh.catch(function () {}); return hit; }
        return fresh;
      });
    }));
    return;
  }
  if (req.method === "GET" && req.mode === "navigate") {
    // pages: always the network; the offline page only when there is none
    event.respondWith(fetch(req).catch(function () { return caches.match(OFFLINE); }));
  }
  // anything else: the browser's own handling, nothing stored
});

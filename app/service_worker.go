package app

// serviceWorkerJS is the service worker template given to go-app (Handler.
// ServiceWorkerTemplate). It differs from go-app's default in these ways:
//
//   - a page navigation that is neither cached nor reachable (offline, any route,
//     including /s/{id}), or that the host answers 404 (a static host has no file
//     for /s/{id} of a state carried in the link), is answered with the cached root
//     page: the wasm then routes on the URL it finds, so every route loads;
//   - /api/ requests always go to the network (never answered from the cache);
//   - install needs every file but not every page: a page the host does not serve
//     at its path (a plain static server has data/index.html, not data) is left out
//     instead of failing the whole install, and the root fallback covers it;
//   - a cached page that came through a redirect (data → data/) is served as a
//     plain response (browsers refuse a redirected response to a navigation).
//
// Both paths are taken under the worker's scope, which is the site's path prefix
// ("/" on a server, "/REPO/" for a static site exported with --base /REPO): the
// worker script lives at PREFIX/app-worker.js.
//
// Activation deletes older versions' caches, as go-app's does. {{.Version}} and {{.ResourcesToCache}} are
// filled in by go-app.
const serviceWorkerJS = `const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};
// The site's root under its path prefix: "/" or "/REPO/".
const root = new URL(self.registration.scope).pathname.replace(/\/?$/, "/");

// A page is a path without a file extension, other than the root.
const isPage = (r) => r !== root && !/\.[A-Za-z0-9]+$/.test(r);

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(cacheName)
      .then((cache) => Promise.all(resourcesToCache.map((r) =>
        cache.add(r).catch((err) => {
          if (!isPage(r)) {
            throw err;
          }
          console.warn("Prefer: page " + r + " not precached: " + err);
        }))))
      .then(() => self.skipWaiting())
  );
});

// plain returns a redirected response as a fresh one (same body and headers).
const plain = (resp) => (resp.redirected
  ? resp.blob().then((body) => new Response(body, { status: resp.status, statusText: resp.statusText, headers: resp.headers }))
  : resp);

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.map((k) => (k !== cacheName ? caches.delete(k) : null))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.pathname.startsWith(root + "api/")) {
    return;
  }
  event.respondWith(
    caches.match(req, { ignoreSearch: req.mode === "navigate" }).then((hit) => {
      if (hit) {
        return plain(hit);
      }
      const rootPage = (fallback) => caches.match(root).then((page) => (page ? plain(page) : fallback()));
      return fetch(req).then((resp) => {
        if (req.mode === "navigate" && resp.status === 404) {
          return rootPage(() => resp);
        }
        return resp;
      }, (err) => {
        if (req.mode === "navigate") {
          return rootPage(() => Promise.reject(err));
        }
        return Promise.reject(err);
      });
    })
  );
});
`

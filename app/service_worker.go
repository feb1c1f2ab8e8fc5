package app

// serviceWorkerJS is the service worker template given to go-app (Handler.
// ServiceWorkerTemplate). It differs from go-app's default in two ways:
//
//   - a page navigation that is neither cached nor reachable (offline, any route,
//     including /s/{id}) is answered with the cached root page: the wasm then routes
//     on the URL it finds, so every route loads offline;
//   - /api/ requests always go to the network (never answered from the cache).
//
// Both paths are taken under the worker's scope, which is the site's path prefix
// ("/" on a server, "/REPO/" for a static site exported with --base /REPO): the
// worker script lives at PREFIX/app-worker.js.
//
// Install precaches every resource (all-or-nothing) and activation deletes older
// versions' caches, as go-app's does. {{.Version}} and {{.ResourcesToCache}} are
// filled in by go-app.
const serviceWorkerJS = `const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};
// The site's root under its path prefix: "/" or "/REPO/".
const root = new URL(self.registration.scope).pathname.replace(/\/?$/, "/");

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(cacheName)
      .then((cache) => cache.addAll(resourcesToCache))
      .then(() => self.skipWaiting())
  );
});

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
        return hit;
      }
      return fetch(req).catch((err) => {
        if (req.mode === "navigate") {
          return caches.match(root).then((page) => page || Promise.reject(err));
        }
        return Promise.reject(err);
      });
    })
  );
});
`

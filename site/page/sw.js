// The service worker: after one visit the lab works without the network, and a repeat visit reads
// every file from this machine instead of asking the server.
//
// The build fills in the site's files with their sha256 (SHA256SUMS) and two versions: VERSION, a
// hash of that whole list, and ASSETS, a hash of it without index.html (which the page carries).
// - install: every file is fetched and checked against its sha256 into a cache of its own, named
//   after VERSION; one missing or different file (a deploy half done) fails the install, and the
//   version in use stays. The files already verified are kept: the next try fetches only the rest.
// - fetch: cache-first, from this version's cache only, so a page never mixes two builds.
// - a new version waits (no skipWaiting) until every tab of the old one is closed, then takes
//   over and deletes the old caches (the old build's kept Python too, see python.js). A first
//   visit, which loaded from the network, is taken over at once when its files are this
//   version's (ASSETS): tabs it opens later work offline too.
// Without service workers (a private window, http on another host) the page works as before.
"use strict";

const VERSION = /* webnet:version */ "";
const ASSETS = /* webnet:assets */ "";
const FILES = /* webnet:files */ {};  // {path: sha256}
const PREFIX = "webnet-";
const CACHE = PREFIX + VERSION;
const SCOPE = new URL("./", self.location).href;

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

async function precache() {
  const cache = await caches.open(CACHE);
  const entries = Object.entries(FILES);
  let next = 0;
  async function lane() {  // a few at a time, each verified before it is kept
    while (next < entries.length) {
      const [path, sha256] = entries[next++];
      const url = new URL(path, SCOPE).href;
      if (await cache.match(url)) continue;  // kept by an install that did not finish
      // "no-cache": the server is asked; an unchanged file comes from the HTTP cache after a 304
      const response = await fetch(url, { cache: "no-cache" });
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      const body = await response.arrayBuffer();
      const got = hex(await crypto.subtle.digest("SHA-256", body));
      if (got !== sha256) throw new Error(`${path}: sha256 ${got}, expected ${sha256} (a deploy under way?)`);
      const headers = new Headers(response.headers);  // the host's own (a policy, a type), not the transfer's
      for (const name of ["Content-Encoding", "Content-Length", "Transfer-Encoding"]) headers.delete(name);
      await cache.put(url, new Response(body, { headers }));
    }
  }
  await Promise.all([lane(), lane(), lane(), lane()]);
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache());
});

self.addEventListener("activate", (event) => {
  // whole first (an older version activating meanwhile may have deleted what this one had kept),
  // then the other versions' caches go
  // (the Python the page keeps for this build, named after ASSETS by python.js, stays)
  const keep = [CACHE, `${PREFIX}python-${ASSETS}`];
  event.waitUntil(precache().catch(() => {}).then(() => caches.keys()).then((names) => Promise.all(
    names.filter((name) => name.startsWith(PREFIX) && !keep.includes(name)).map((name) => caches.delete(name)))));
});

self.addEventListener("message", (event) => {
  // a page loaded from the network, with this version's files, asks to be served from now on; only
  // when it is the one window not served yet (a claim takes every such window, of any version)
  if (!event.data || event.data.type !== "claim" || event.data.assets !== ASSETS) return;
  event.waitUntil(Promise.all([
    self.clients.matchAll({ type: "window", includeUncontrolled: true }),
    self.clients.matchAll({ type: "window" }),
  ]).then(([all, served]) => {
    const waiting = all.filter((c) => !served.some((s) => s.id === c.id));
    if (waiting.length === 1 && waiting[0].id === event.source.id) return self.clients.claim();
  }));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !request.url.startsWith(SCOPE)) return;
  const url = new URL(request.url);
  let path = decodeURIComponent(url.pathname.slice(new URL(SCOPE).pathname.length));
  if (path === "" || path.endsWith("/")) path += "index.html";
  if (!(path in FILES)) return;  // not part of the site: the network as usual
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(new URL(path, SCOPE).href))
    .then((hit) => hit || fetch(request)));
});

// sw.js — the field pages' service worker (scope /field/): the pages open
// without a connection. Everything the pages need is cached at install;
// while online every file is fetched from the server first (so a changed
// page is seen at once) and the copy refreshed, and when the server cannot
// be reached the cached copy is served. The API (/api/…) is never cached:
// changes made offline wait in the page's IndexedDB queue (queue.js).
const CACHE = "ml-field-v1";
const FILES = [
	"/field/", "/field/index.html", "/field/field.js", "/field/queue.js", "/field/manifest.webmanifest",
	"/field/icon.svg", "/field/icon-192.png", "/css/app.css", "/js/api.js", "/js/ui.js", "/js/scan.js",
];

self.addEventListener("install", (ev) => {
	ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
	ev.waitUntil(caches.keys()
		.then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
		.then(() => self.clients.claim()));
});

self.addEventListener("fetch", (ev) => {
	const url = new URL(ev.request.url);
	if (ev.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
	ev.respondWith((async () => {
		const cache = await caches.open(CACHE);
		try {
			const res = await fetch(ev.request);
			if (res.ok) await cache.put(ev.request, res.clone());
			return res;
		} catch (e) {
			const hit = await cache.match(ev.request, { ignoreSearch: true });
			if (hit) return hit;
			throw e;
		}
	})());
});

// queue.js — operations made in the field wait here (IndexedDB) until the
// server takes them. Each gets its Idempotency-Key when it is made, and
// keeps it across every retry (also across closing the page), so a send
// whose answer was lost is replayed by the server, never applied twice
// (server/README.md, Idempotency-Key); a refused one is not kept by the
// server, so sending it again runs it again. Sent strictly in the order
// made: a swap needs the install before it. Each remembers the login that
// made it and goes only under that person's session: on a shared phone the
// next person's login holds the first one's work until they log in again.
import { api, actingLogin, whoami } from "/js/api.js";

const DB = "ml-field", STORE = "ops";

function open() {
	return new Promise((resolve, reject) => {
		const r = indexedDB.open(DB, 1);
		r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

async function tx(mode, fn) {
	const db = await open();
	return new Promise((resolve, reject) => {
		const t = db.transaction(STORE, mode);
		const out = fn(t.objectStore(STORE));
		t.oncomplete = () => { db.close(); resolve(out && "result" in out ? out.result : out); };
		t.onerror = () => { db.close(); reject(t.error); };
	});
}

// Queue one operation: {label, path, body, key, login}.
export function add(op) {
	return tx("readwrite", (s) => s.add({ ...op, made: new Date().toISOString(), state: "queued" }));
}
export function all() {
	return tx("readonly", (s) => s.getAll());
}
// Whether an operation may go under the session this tab acts for (one
// queued before logins were recorded goes under whoever is logged in).
export function mine(op, login) {
	return !op.login || op.login === login;
}
function put(op) {
	return tx("readwrite", (s) => s.put(op));
}
function del(seq) {
	return tx("readwrite", (s) => s.delete(seq));
}

// What the server's answer means for an operation not applied: "later"
// (keep it queued and stop: the network did not carry it, the server failed
// or is busy, or the database met a lock or serialization conflict, 409
// conflict from SQLSTATE 40001/40P01/55P03, sql/db.c), "expired" (no live
// session: 401), "csrf" (a login in another tab replaced the session cookie:
// this tab's token is stale) or "refused" (the server said no, for good).
function outcome(e) {
	if (e.status === 0 || e.status >= 500 || e.status === 429) return "later";
	if (e.status === 409 && e.code === "conflict") return "later";
	if (e.status === 401) return "expired";
	if (e.status === 403 && e.code === "csrf") return "csrf";
	return "refused";
}

let flushing = null;
// Send what waits, in order, each under its own login. Stops at the first
// one that cannot go now (still queued); a refusal by the server is kept,
// marked, and shown (resend() queues it again). A stale CSRF token is
// fetched again (whoami) and the operation sent again, if the session is
// still its person's. onSent(op, answer) for each one applied. Resolves to
// {stop: null | "later" | "expired", login}: why it stopped, and whom this
// tab now acts for.
export function flush(onSent) {
	if (!flushing) flushing = (async () => {
		let stop = null;
		try {
			if (!actingLogin() && (await all()).some((o) => o.state === "queued")) {
				// no token yet (the page opened offline): ask who the cookie is
				try {
					if (!(await whoami())) stop = "expired";
				} catch (e) {
					stop = "later";
				}
			}
			for (const op of stop ? [] : await all()) {
				if (op.state !== "queued") continue;
				if (!mine(op, actingLogin())) continue; // held for its person
				let why;
				for (let tries = 0; tries < 2; tries++) {
					try {
						const r = await api("POST", op.path, op.body, { idempotencyKey: op.key });
						await del(op.seq);
						if (onSent) onSent(op, r);
						why = null;
						break;
					} catch (e) {
						why = outcome(e);
						if (why === "refused") {
							op.state = "refused";
							op.error = e.message;
							await put(op);
							break;
						}
						if (why !== "csrf") break;
						// another login replaced the cookie: whose session is it now?
						let u;
						try {
							u = await whoami();
						} catch (e2) {
							why = "later";
							break;
						}
						if (!u) {
							why = "expired";
							break;
						}
						if (!mine(op, u.login)) {
							why = "held";
							break;
						}
					}
				}
				if (why === "csrf") why = "later"; // a fresh token refused again: not now
				if (why === "later" || why === "expired") {
					stop = why;
					break;
				}
			}
		} finally {
			flushing = null;
		}
		return { stop, login: actingLogin() };
	})();
	return flushing;
}

// Send a refused operation again (with its key: if it went through after
// all, the server replays that answer).
export async function resend(seq) {
	const op = (await all()).find((o) => o.seq === seq);
	if (!op) return;
	op.state = "queued";
	delete op.error;
	await put(op);
}

export function forget(seq) {
	return del(seq);
}

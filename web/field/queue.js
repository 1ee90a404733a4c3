// queue.js — operations made in the field wait here (IndexedDB) until the
// server takes them. Each gets its Idempotency-Key when it is made, and
// keeps it across every retry (also across closing the page), so a send
// whose answer was lost is replayed by the server, never applied twice
// (server/README.md, Idempotency-Key). Sent strictly in the order made:
// a swap needs the install before it.
import { api } from "/js/api.js";

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

// Queue one operation: {label, path, body, key}.
export function add(op) {
	return tx("readwrite", (s) => s.add({ ...op, made: new Date().toISOString(), state: "queued" }));
}
export function all() {
	return tx("readonly", (s) => s.getAll());
}
function put(op) {
	return tx("readwrite", (s) => s.put(op));
}
function del(seq) {
	return tx("readwrite", (s) => s.delete(seq));
}

let flushing = null;
// Send what waits, in order. Stops at the first one the network did not
// carry (still queued); a refusal by the server is kept, marked, and shown.
// onSent(op, answer) for each one applied.
export function flush(onSent) {
	if (!flushing) flushing = (async () => {
		try {
			for (const op of await all()) {
				if (op.state !== "queued") continue;
				try {
					const r = await api("POST", op.path, op.body, { idempotencyKey: op.key });
					await del(op.seq);
					if (onSent) onSent(op, r);
				} catch (e) {
					if (e.status === 0 || e.status >= 500 || e.status === 401) break; // not now: later
					op.state = "refused";
					op.error = e.message;
					await put(op);
				}
			}
		} finally {
			flushing = null;
		}
	})();
	return flushing;
}

export function forget(seq) {
	return del(seq);
}

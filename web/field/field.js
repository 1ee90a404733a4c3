// field.js — the field team's page, phone first and usable offline. Every
// operation goes into the IndexedDB queue first (queue.js) with its own
// Idempotency-Key and is sent when the server answers; the page shows how
// many still wait, what was sent and what the server refused.
import { whoami } from "/js/api.js";
import { h, $, message, fmtTime, usable, stateName } from "/js/ui.js";
import { api } from "/js/api.js";
import * as queue from "/field/queue.js";
import { newKey } from "/js/api.js";
import { cameraInto } from "/js/scan.js";

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(() => {});

let online = false;

// who we are: from the server, or (offline) as remembered at the last visit
let user = null;
try {
	user = await whoami();
	if (!user) {
		location.replace("/login.html?next=/field/");
	} else {
		localStorage.setItem("ml_field_user", JSON.stringify({ display_name: user.display_name }));
		online = true;
	}
} catch (e) {
	user = JSON.parse(localStorage.getItem("ml_field_user") || "null") || { display_name: "（离线）" };
}
$("#who").textContent = user ? user.display_name : "";

function setNet(on) {
	online = on;
	$("#net").textContent = on ? "在线" : "离线";
	$("#net").className = "badge " + (on ? "ok" : "bad");
}

async function showQueue() {
	const ops = await queue.all();
	const waiting = ops.filter((o) => o.state === "queued");
	$("#queued").textContent = String(waiting.length);
	const refused = ops.filter((o) => o.state === "refused");
	for (const o of refused) {
		if (document.querySelector(`#sent li[data-seq="${o.seq}"]`)) continue;
		$("#sent").prepend(h("li", { class: "bad", dataset: { seq: o.seq } }, h("span", { class: "code" }, o.label),
			h("span", { class: "why" }, "被拒绝：" + o.error + " "),
			h("button", { type: "button", class: "link", onclick: async (e) => { await queue.forget(o.seq); e.target.closest("li").remove(); } }, "删除")));
	}
}

// can the server be reached? (public, no session needed, never cached)
async function probe() {
	try {
		setNet((await fetch("/healthz", { cache: "no-store" })).ok);
	} catch (e) {
		setNet(false);
	}
}

async function send() {
	await queue.flush((op) => {
		setNet(true);
		message($("#msg"), "ok", "已发送：" + op.label);
		$("#sent").prepend(h("li", { class: "ok", dataset: { seq: op.seq } }, h("span", { class: "code" }, op.label), h("span", { class: "why" }, "已发送 " + fmtTime(new Date().toISOString()))));
	});
	const left = (await queue.all()).filter((o) => o.state === "queued").length;
	// something still waits, or we were cut off: is the server there now?
	if (left || !online) await probe();
	await showQueue();
}

async function enqueue(label, path, body, form) {
	await queue.add({ label, path, body, key: newKey() });
	form.reset();
	message($("#msg"), "ok", "已记录：" + label + (online ? "" : "（离线，联网后自动发送）"));
	await showQueue();
	send();
}

const seals = (v) => v.split(/[\s,，]+/).filter(Boolean);

$("#install").addEventListener("submit", (ev) => {
	ev.preventDefault();
	const b = $("#i-barcode").value.trim();
	enqueue("装表 " + b, "/api/field/install", { barcode: b, point: $("#i-point").value.trim(), reading: $("#i-reading").value.trim(), seals: seals($("#i-seals").value) }, ev.target);
});
$("#swap").addEventListener("submit", (ev) => {
	ev.preventDefault();
	const o = $("#s-old").value.trim(), n = $("#s-new").value.trim();
	enqueue(`换表 ${o} → ${n}`, "/api/field/swap", { old: o, old_reading: $("#s-old-reading").value.trim(), reason: $("#s-reason").value, new: n, reading: $("#s-reading").value.trim(), seals: seals($("#s-seals").value) }, ev.target);
});
$("#remove").addEventListener("submit", (ev) => {
	ev.preventDefault();
	const b = $("#r-barcode").value.trim();
	const body = { barcode: b, reading: $("#r-reading").value.trim(), reason: $("#r-reason").value, seals: seals($("#r-seals").value) };
	if ($("#r-note").value.trim()) body.note = $("#r-note").value.trim();
	enqueue("拆表 " + b, "/api/field/remove", body, ev.target);
});
$("#fault").addEventListener("submit", (ev) => {
	ev.preventDefault();
	const b = $("#f-barcode").value.trim();
	const body = { barcode: b, symptom: $("#f-symptom").value, description: $("#f-desc").value.trim(), lab: $("#f-lab").value.trim() };
	if ($("#f-complaint").value.trim()) body.complaint = $("#f-complaint").value.trim();
	enqueue("故障 " + b, "/api/field/faults", body, ev.target);
});
$("#send").addEventListener("click", send);
window.addEventListener("online", send);
setInterval(send, 3000);

// my team's meters and seals (remembered for offline)
async function mine() {
	let m = null;
	try {
		const t = await api("GET", "/api/field/team");
		if (t.team) {
			const [a, s] = await Promise.all([api("GET", `/api/assets?location=${encodeURIComponent(t.team)}&state=issued&limit=200`), api("GET", `/api/seals?team=${encodeURIComponent(t.team)}&state=issued`)]);
			m = { team: t.team, name: t.name, assets: a.items, seals: s.items };
		} else m = { team: null, assets: [], seals: [] };
		localStorage.setItem("ml_field_mine", JSON.stringify(m));
	} catch (e) {
		m = JSON.parse(localStorage.getItem("ml_field_mine") || "null");
	}
	if (!m) return;
	$("#team").textContent = m.team ? `${m.name || ""}（${m.team}）：表计 ${m.assets.length} 只，封印 ${m.seals.length} 个` : "未分配班组";
	$("#assets").replaceChildren(...m.assets.map((a) => h("li", {}, h("code", {}, a.barcode), " ", a.model, " ", stateName(a.state))));
	$("#seals").replaceChildren(...m.seals.map((s) => h("li", {}, h("code", {}, s.code || s.seal))));
}

// A scanner (or a person) ends a field with Enter: go on to the next field
// of the form instead of submitting half of it; Enter in the last field
// submits. Barcode fields get a camera button where the browser can scan.
for (const form of document.querySelectorAll("main form")) {
	const fields = [...form.querySelectorAll("input, select, textarea")];
	fields.forEach((el, i) => {
		if (el.tagName === "TEXTAREA") return;
		el.addEventListener("keydown", (ev) => {
			if (ev.key !== "Enter" || i === fields.length - 1) return;
			ev.preventDefault();
			fields[i + 1].focus();
		});
		if (el.getAttribute("pattern") === "\\d{22}") cameraInto(el, fields[i + 1]);
	});
}

setNet(online);
await Promise.all([showQueue(), mine()]);
usable();
send();

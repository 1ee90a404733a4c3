// field.js — the field team's page, phone first and usable offline. Every
// operation goes into the IndexedDB queue first (queue.js) with its own
// Idempotency-Key and the login that made it, and is sent when the server
// answers; the page shows how many still wait, what was sent, what the
// server refused (with what was typed, to send again or delete), what waits
// for another person's login, and when the session has ended.
import { whoami, actingLogin } from "/js/api.js";
import { h, $, message, fmtTime, usable, stateName, barcodeProblem } from "/js/ui.js";
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
		localStorage.setItem("ml_field_user", JSON.stringify({ display_name: user.display_name, login: user.login }));
		online = true;
	}
} catch (e) {
	user = JSON.parse(localStorage.getItem("ml_field_user") || "null") || { display_name: "（离线）" };
}
$("#who").textContent = user ? user.display_name : "";
// the login whose session this tab's changes go under (queue.js)
const me = () => actingLogin() || (user && user.login) || "";

// The session ended (expired, idle, logged out): nothing is sent until the
// person logs in again; the work stays queued on this phone.
function expired(on) {
	const box = $("#auth");
	if (!on) {
		box.hidden = true;
		box.replaceChildren();
		return;
	}
	if (!box.hidden) return;
	box.replaceChildren(h("strong", {}, "登录已过期"), "：待发送的操作保存在本机，重新登录后自动发送。 ",
		h("a", { href: "/login.html?next=" + encodeURIComponent("/field/"), id: "relogin" }, "重新登录"));
	box.hidden = false;
}
function setNet(on) {
	online = on;
	$("#net").textContent = on ? "在线" : "离线";
	$("#net").className = "badge " + (on ? "ok" : "bad");
}

const fieldNames = {
	barcode: "条码", point: "计量点", reading: "示数", seals: "封印", old: "拆下表", old_reading: "拆下表止码",
	new: "新表", reason: "原因", note: "备注", symptom: "现象", description: "说明", complaint: "投诉单号", lab: "实验室",
};
const valueNames = { rotation: "轮换", fault: "故障", upgrade: "升级", complaint: "客户投诉", other: "其他", NO_DISPLAY: "黑屏无显示", STOPPED: "停走", FAST: "走快", SLOW: "走慢", OTHER: "其他" };
// what was typed (the label names the meter), so a refused or held operation can be checked before it is deleted
function contents(body) {
	return Object.entries(body || {}).filter(([k, v]) => k !== "barcode" && v !== "" && !(Array.isArray(v) && !v.length))
		.map(([k, v]) => `${fieldNames[k] || k} ${Array.isArray(v) ? v.join(" ") : valueNames[v] || v}`).join("，");
}

async function showQueue() {
	const ops = await queue.all();
	const login = me();
	const waiting = ops.filter((o) => o.state === "queued" && queue.mine(o, login));
	$("#queued").textContent = String(waiting.length);
	// queued by someone else on this phone: kept for them
	const held = ops.filter((o) => o.state === "queued" && !queue.mine(o, login));
	const whose = [...new Set(held.map((o) => o.login))];
	$("#held").replaceChildren(held.length ? h("div", { class: "msg warn", role: "status" },
		`另有 ${held.length} 项由 ${whose.join("、")} 记录，须其本人登录后发送：`,
		h("ul", {}, held.map((o) => h("li", { dataset: { seq: o.seq } }, h("span", { class: "code" }, o.label), " ", contents(o.body))))) : "");
	const refused = ops.filter((o) => o.state === "refused");
	for (const li of document.querySelectorAll("#sent li.bad")) {
		if (!refused.some((o) => String(o.seq) === li.dataset.seq)) li.remove();
	}
	for (const o of refused) {
		if (document.querySelector(`#sent li.bad[data-seq="${o.seq}"]`)) continue;
		$("#sent").prepend(h("li", { class: "bad", dataset: { seq: o.seq } }, h("span", { class: "code" }, o.label),
			h("span", { class: "why" }, "被拒绝：" + o.error + " "),
			h("span", { class: "what muted" }, contents(o.body) + " "),
			h("button", { type: "button", class: "link resend", onclick: async (e) => { await queue.resend(o.seq); e.target.closest("li").remove(); await showQueue(); send(); } }, "重新发送"), " ",
			h("button", { type: "button", class: "link", onclick: async (e) => { if (!confirm("删除后这项记录将丢失，确定？")) return; await queue.forget(o.seq); e.target.closest("li").remove(); } }, "删除")));
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
	const r = await queue.flush((op) => {
		setNet(true);
		message($("#msg"), "ok", "已发送：" + op.label);
		$("#sent").prepend(h("li", { class: "ok", dataset: { seq: op.seq } }, h("span", { class: "code" }, op.label), h("span", { class: "why" }, "已发送 " + fmtTime(new Date().toISOString()))));
	});
	expired(r.stop === "expired");
	if (r.login && user && r.login !== user.login) {
		// another login took over the session (another tab, the login page): show who acts now
		try {
			const u = await whoami();
			if (u) {
				user = u;
				$("#who").textContent = u.display_name;
			}
		} catch (e) {
			/* shown at the next send */
		}
	}
	const left = (await queue.all()).filter((o) => o.state === "queued" && queue.mine(o, me())).length;
	// something still waits, or we were cut off: is the server there now?
	if (left || !online) await probe();
	await showQueue();
}

async function enqueue(label, path, body, form) {
	await queue.add({ label, path, body, key: newKey(), login: me() || undefined });
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
		if (el.getAttribute("pattern") !== "\\d{22}") return;
		cameraInto(el, fields[i + 1]);
		// 22 digits with a wrong check digit is a misread or a typo: the form
		// is not sent (nor queued offline to be refused later), as the server
		// would refuse it (assets/barcode.c)
		const check = () => {
			const v = el.value.trim();
			el.setCustomValidity(v && /^\d{22}$/.test(v) ? barcodeProblem(v) : "");
		};
		el.addEventListener("input", check);
		el.addEventListener("change", check);
	});
}

setNet(online);
await Promise.all([showQueue(), mine()]);
usable();
send();

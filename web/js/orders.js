// orders.js — distribution orders (配送): create, pick by scanning against
// the lines with live counts, dispatch, receive at the destination with
// missing / extra / wrong shown, close with the missing ones reported lost.
// Every rule (model, quantity, validity, who may) is the database's.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, fmtTime, message, usable, done } from "./ui.js";
import { scanField } from "./scan.js";

await boot("配送单");
const statusNames = { open: "待拣货", picking: "拣货中", dispatched: "已发运", closed: "已关闭", cancelled: "已取消" };
const outcomeNames = { received: "已收货", already_received: "已收过", duplicate: "重复扫描", missing_reported: "已报缺失", extra: "多到（不在本单）", wrong: "错误条码" };
let current = null; // the order shown: {id, status, lines}
let missing = []; // what is still in transit on a dispatched order, in barcode order
let missingLoaded = false; // missing was read from the server since the dispatch

async function loadList() {
	const r = await api("GET", "/api/orders");
	$("#orders tbody").replaceChildren(...r.items.map((o) => h("tr", { class: current && o.order_id === current.id ? "sel" : null },
		h("td", {}, h("a", { href: "#" + o.order_id, onclick: (e) => { e.preventDefault(); open(o.order_id); } }, "#" + o.order_id)),
		h("td", {}, statusNames[o.status] || o.status), h("td", {}, `${o.from} → ${o.to}`), h("td", { class: "num" }, fmtNum(o.assets)))));
	if (!r.items.length) $("#orders tbody").append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "暂无配送单")));
}

async function loadForm() {
	const [locs, models] = await Promise.all([api("GET", "/api/locations"), api("GET", "/api/models")]);
	const stores = locs.items.filter((l) => /store/.test(l.kind));
	for (const sel of ["#from", "#to"])
		$(sel).replaceChildren(...stores.map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
	if (stores.length > 1) $("#to").value = stores[1].code;
	$("#model").replaceChildren(...models.items.map((m) => h("option", { value: m.code }, `${m.code} ${m.name}`)));
}

// the order's lines, counts refreshed after every scan
async function refresh() {
	// the counts only: the barcodes in transit are read whole by loadMissing
	const r = await api("GET", `/api/orders/${current.id}?limit=1`);
	current.lines = r.lines;
	current.status = r.lines.length ? r.lines[0].status : current.status;
	// a model line wants a quantity; a line of exact barcodes plans those
	for (const l of r.lines) l.plan = l.by_barcode ? l.planned : l.wanted;
	const sum = (k) => r.lines.reduce((a, l) => a + (l[k] || 0), 0);
	$("#status").textContent = statusNames[current.status] || current.status;
	$("#lines tbody").replaceChildren(...r.lines.map((l) => h("tr", {},
		h("td", {}, l.model || "按条码"), h("td", { class: "num" }, fmtNum(l.plan)), h("td", { class: "num picked" }, fmtNum(l.picked)),
		h("td", { class: "num" }, fmtNum(l.in_transit)), h("td", { class: "num received" }, fmtNum(l.received)), h("td", { class: "num" }, fmtNum(l.missing)))));
	$("#counts").textContent = current.status === "dispatched" || current.status === "closed"
		? `应到 ${fmtNum(sum("in_transit") + sum("received") + sum("missing"))} 件，已收 ${fmtNum(sum("received"))} 件，在途 ${fmtNum(sum("in_transit"))} 件`
		: `计划 ${fmtNum(sum("plan"))} 件，已拣 ${fmtNum(sum("picked"))} 件`;
	$("#dispatch").hidden = !(current.status === "open" || current.status === "picking");
	$("#dispatch").disabled = sum("picked") === 0;
	$("#close").hidden = current.status !== "dispatched";
	$("#scanbox").hidden = !["open", "picking", "dispatched"].includes(current.status);
	$("#scanlabel").textContent = current.status === "dispatched" ? "收货扫码（接收库房）" : "拣货扫码";
}

// What is still in transit is what closing must report missing
// (ml_order_close refuses one left out): read from the server, page by page
// (keyset on the barcode, 10 000 a request), so a reload or another clerk's
// receipt does not leave the list empty.
async function loadMissing() {
	const id = current.id, codes = [];
	let after = null;
	do {
		const r = await api("GET", `/api/orders/${id}?limit=10000` + (after ? "&after=" + encodeURIComponent(after) : ""));
		codes.push(...r.in_transit);
		after = r.next;
	} while (after);
	if (current.id !== id) return; // another order opened meanwhile
	missing = codes;
	missingLoaded = true;
	showMissing();
}

// A receipt's answer names what it received and counts what is left (not
// the whole list: megabytes a scan on an order of 100 000 meters). Nothing
// enters transit on a dispatched order, so the list read since the dispatch,
// less what was received, is right exactly when its length is the server's
// count; otherwise (another clerk's scanner, a list never read) read it again.
async function receiptTaken(r) {
	for (const s of r.scans) {
		if (s.outcome !== "received" && s.outcome !== "already_received") continue;
		const i = missing.indexOf(s.code);
		if (i >= 0) missing.splice(i, 1);
	}
	if (!missingLoaded || missing.length !== r.in_transit_count) await loadMissing();
	else showMissing();
}

// the first SHOW_MISSING are listed (a list of 100 000 is not read on a
// screen); closing sends all of them
const SHOW_MISSING = 500;
function showMissing() {
	const more = missing.length - SHOW_MISSING;
	$("#missing").replaceChildren(missing.length
		? h("div", { class: "msg warn", role: "status" }, h("strong", {}, `缺失 ${missing.length} 件：`),
			h("ul", {}, missing.slice(0, SHOW_MISSING).map((b) => h("li", { class: "missing-code" }, b))),
			more > 0 ? h("p", { class: "muted" }, `另有 ${fmtNum(more)} 件未列出`) : "")
		: "");
}

async function open(id) {
	current = { id, status: "", lines: [] };
	missing = [];
	missingLoaded = false;
	message($("#msg"), "", "");
	const input = h("input", { id: "scan", "aria-describedby": "scanhelp" });
	$("#order").replaceChildren(
		h("h2", {}, `配送单 #${id} `, h("span", { class: "badge", id: "status" })),
		h("p", { id: "counts", class: "big" }),
		h("div", { class: "scroll" }, h("table", { id: "lines" }, h("thead", {}, h("tr", {}, h("th", {}, "型号"), h("th", { class: "num" }, "计划"), h("th", { class: "num" }, "已拣"), h("th", { class: "num" }, "在途"), h("th", { class: "num" }, "已收"), h("th", { class: "num" }, "缺失"))), h("tbody"))),
		h("div", { id: "scanbox", class: "card" }, h("label", { for: "scan", id: "scanlabel" }, "扫码"), input,
			h("p", { class: "muted", id: "scanhelp" }, "扫码枪扫描后自动回车；每个条码按顺序处理，被拒绝的原因显示在条码旁。"),
			h("ol", { class: "scans", id: "log", "aria-live": "polite" })),
		h("div", { id: "missing" }),
		h("div", { class: "row" },
			h("button", { id: "dispatch", type: "button", onclick: dispatch }, "发运"),
			h("button", { id: "close", type: "button", class: "secondary", onclick: closeOrder }, "关闭（缺失的记为途中丢失）")));
	scanField(input, $("#log"), scan);
	await refresh();
	if (current.status === "dispatched") await loadMissing();
	await loadList();
	input.focus();
}

async function scan(code) {
	const id = current.id;
	if (current.status === "dispatched") {
		const r = await api("POST", `/api/orders/${id}/receive`, { barcodes: [code] }, { idempotencyKey: newKey() });
		const s = r.scans[0];
		try {
			await receiptTaken(r);
		} catch (e) {
			message($("#msg"), "warn", "刷新缺失清单失败，请刷新页面：" + e.message);
		}
		await refreshAfterScan();
		return { ok: s.outcome === "received", text: (outcomeNames[s.outcome] || s.outcome) + (s.outcome === "received" ? "" : "：" + s.message) };
	}
	try {
		await api("POST", `/api/orders/${id}/pick`, { barcodes: [code] }, { idempotencyKey: newKey() });
	} catch (e) {
		const why = e.details && e.details.refused && e.details.refused[0];
		return { ok: false, text: "拒绝：" + (why ? why.message : e.message) };
	}
	await refreshAfterScan();
	return { ok: true, text: "已拣货" };
}

// a scan the server took stays taken when the counts cannot be read again
async function refreshAfterScan() {
	try {
		await refresh();
	} catch (e) {
		message($("#msg"), "warn", "刷新计数失败，请刷新页面：" + e.message);
	}
}

async function dispatch() {
	let r;
	try {
		r = await api("POST", `/api/orders/${current.id}/dispatch`, {}, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "发运被拒绝：" + e.message);
	}
	await done($("#msg"), `已发运 ${fmtNum(r.dispatched)} 件`, async () => { await refresh(); await loadMissing(); await loadList(); });
	$("#scan").focus();
}

async function closeOrder() {
	let r;
	try {
		r = await api("POST", `/api/orders/${current.id}/close`, { missing, reason: missing.length ? "收货时未到，途中丢失" : undefined }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "关闭被拒绝：" + e.message);
	}
	// closed: the missing ones are recorded lost, no longer outstanding
	missing = [];
	showMissing();
	await done($("#msg"), r.lost ? `已关闭，${fmtNum(r.lost)} 件记为途中丢失` : "已关闭，全部收到", async () => { await refresh(); await loadList(); });
}

// One Idempotency-Key per filling of the form, kept until the order is made:
// a second click (or a retry after a lost answer) makes no second order.
let createKey = null, creating = false;
for (const ev of ["input", "change"]) $("#create").addEventListener(ev, () => { if (!creating) createKey = null; });
$("#create").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	if (creating) return;
	creating = true;
	$("#create-go").disabled = true;
	createKey = createKey || newKey();
	try {
		const r = await api("POST", "/api/orders", {
			from: $("#from").value, to: $("#to").value,
			lines: [`${$("#model").value}:${$("#qty").value}`],
			note: $("#note").value || undefined,
		}, { idempotencyKey: createKey });
		createKey = null;
		message($("#msg"), "ok", `已建配送单 #${r.order_id}`);
		history.replaceState(null, "", "#" + r.order_id);
		await open(r.order_id);
	} catch (e) {
		message($("#msg"), "error", "建单被拒绝：" + e.message);
	} finally {
		creating = false;
		$("#create-go").disabled = false;
	}
});

await Promise.all([loadList(), loadForm()]);
const want = Number(location.hash.slice(1));
if (want) await open(want);
usable();

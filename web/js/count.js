// count.js — stock count (盘点) by scanning: surplus and shortage are
// computed live in the page against the store's records as the codes come;
// "submit" sends the scans to the database (POST /api/stock/counts), whose
// report is the truth; a second person confirms a count by its number
// (the database refuses the counter).
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, message, usable } from "./ui.js";
import { scanField } from "./scan.js";

await boot("盘点");
const kindNames = { surplus: "盘盈", shortage: "盘亏", wrong_slot: "库位不符", unregistered: "未登记" };
let expected = new Set(), scanned = [], seen = new Set();
// One Idempotency-Key per count (these scans of this store), kept until it is submitted.
let countKey = null, submitting = false;

function live() {
	let surplus = 0;
	for (const c of seen) if (!expected.has(c)) surplus++;
	let short = 0;
	for (const c of expected) if (!seen.has(c)) short++;
	$("#n-scanned").textContent = fmtNum(seen.size);
	$("#n-expected").textContent = fmtNum(expected.size);
	$("#n-surplus").textContent = fmtNum(surplus);
	$("#n-short").textContent = fmtNum(short);
}

function clearScans() {
	scanned = [];
	seen = new Set();
	countKey = null;
	$("#log").replaceChildren();
	live();
}

async function start() {
	const store = $("#store").value;
	const r = await api("GET", `/api/assets?location=${encodeURIComponent(store)}&limit=10000`);
	expected = new Set(r.items.map((a) => a.barcode));
	clearScans();
	$("#scan").focus();
}

const locs = await api("GET", "/api/locations");
$("#store").replaceChildren(...locs.items.filter((l) => /store/.test(l.kind)).map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
$("#store").addEventListener("change", start);
$("#start").addEventListener("click", start);

scanField($("#scan"), $("#log"), async (code) => {
	scanned.push(code);
	countKey = null; // another count now
	if (!/^\d{22}$/.test(code)) return { ok: true, text: "库位" };
	if (seen.has(code)) return { ok: false, text: "重复扫描" };
	seen.add(code);
	live();
	return expected.has(code) ? { ok: true, text: "账面有" } : { ok: false, text: "盘盈：账面不在本库" };
});

$("#submit").addEventListener("click", async () => {
	if (submitting) return;
	submitting = true;
	$("#submit").disabled = true;
	countKey = countKey || newKey();
	try {
		const r = await api("POST", "/api/stock/counts", { store: $("#store").value, codes: scanned }, { idempotencyKey: countKey });
		clearScans(); // submitted: the next count starts empty
		$("#report").replaceChildren(h("h2", {}, `盘点单 #`, h("span", { id: "count-no" }, String(r.count_id))),
			h("p", { id: "count-sum" }, Object.entries(r.summary).map(([k, v]) => `${kindNames[k] || k} ${fmtNum(v)}`).join("，")),
			h("div", { class: "scroll" }, h("table", { id: "count-lines" }, h("thead", {}, h("tr", {}, h("th", {}, "差异"), h("th", {}, "条码"), h("th", {}, "说明"))),
				h("tbody", {}, r.lines.map((l) => h("tr", {}, h("td", {}, kindNames[l.kind] || l.kind), h("td", {}, h("code", {}, l.code)), h("td", {}, l.note)))))),
			h("p", { class: "muted" }, "请另一位库管员或主管确认后调整账目。"));
		message($("#msg"), "ok", `已提交盘点单 #${r.count_id}`);
	} catch (e) {
		message($("#msg"), "error", "提交被拒绝：" + e.message);
	} finally {
		submitting = false;
		$("#submit").disabled = false;
	}
});

// the count a second person is about to confirm: who counted, its state and every difference
const statusNames = { counted: "待确认", confirmed: "已确认", rejected: "已驳回" };
async function view() {
	const id = $("#count-id").value.trim();
	if (!id) return;
	try {
		const r = await api("GET", `/api/stock/counts/${encodeURIComponent(id)}`);
		const c = r.items[0];
		const lines = r.items.filter((l) => l.kind);
		$("#count-view").replaceChildren(
			h("p", { id: "view-head" }, `盘点单 #${c.count_id}：${c.store}${c.slot ? " / " + c.slot : ""}，盘点人 ${c.counted_by}，${statusNames[c.status] || c.status}` + (c.decided_by ? `（${c.decided_by}）` : "")),
			h("div", { class: "scroll" }, h("table", { id: "view-lines" }, h("thead", {}, h("tr", {}, h("th", {}, "差异"), h("th", {}, "条码"), h("th", {}, "可调整"), h("th", {}, "说明"))),
				h("tbody", {}, lines.map((l) => h("tr", {}, h("td", {}, kindNames[l.kind] || l.kind), h("td", {}, h("code", {}, l.code)),
					h("td", {}, l.adjustable ? "是" : "否"), h("td", {}, l.note || "")))))));
	} catch (e) {
		$("#count-view").replaceChildren(h("div", { class: "msg error", role: "alert" }, e.message));
	}
}
$("#show").addEventListener("click", view);
$("#count-id").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); view(); } });
$("#reject").addEventListener("click", async () => {
	try {
		await api("POST", `/api/stock/counts/${$("#count-id").value.trim()}/reject`, { reason: $("#reason").value }, { idempotencyKey: newKey() });
		message($("#msg"), "ok", "已驳回，账目未调整");
		await view();
	} catch (e) {
		message($("#msg"), "error", "驳回被拒绝：" + e.message);
	}
});

$("#confirm-form").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	try {
		const r = await api("POST", `/api/stock/counts/${$("#count-id").value.trim()}/confirm`, { reason: $("#reason").value }, { idempotencyKey: newKey() });
		message($("#msg"), "ok", `已确认，调整 ${fmtNum(r.adjusted)} 项`);
	} catch (e) {
		message($("#msg"), "error", "确认被拒绝：" + e.message);
	}
});
await start();
usable();

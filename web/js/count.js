// count.js — stock count (盘点) by scanning: surplus and shortage are
// computed live in the page against the store's records as the codes come;
// "submit" sends the scans to the database (POST /api/stock/counts), whose
// report is the truth; a second person confirms a count by its number
// (the database refuses the counter).
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, message, done, usable } from "./ui.js";
import { scanField } from "./scan.js";

await boot("盘点");
const kindNames = { surplus: "盘盈", shortage: "盘亏", wrong_slot: "库位不符", unregistered: "未登记" };
// expected: the store's records as the database counts them (0206: in_stock
// and secondary_stock at the store, nothing else); slots: the store's slot
// codes; scanned: the accepted scans in order ({code, li}), what is sent.
let expected = new Set(), slots = new Set(), scanned = [], seen = new Set();
let store = null; // the store the scans belong to
// One Idempotency-Key per count (these scans of this store), kept until it is submitted.
let countKey = null, submitting = false;
// ?per=N in the page's URL sets the page size of the records read (default 10000)
const per = Math.min(10000, Math.max(1, Number(new URLSearchParams(location.search).get("per")) || 10000));

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

// every asset of the store in a stock state, page after page (keyset on asset_id)
async function records(code) {
	const out = new Set();
	for (const state of ["in_stock", "secondary_stock"]) {
		for (let after = 0; ;) {
			const r = await api("GET", `/api/assets?location=${encodeURIComponent(code)}&state=${state}&limit=${per}` + (after ? `&after=${after}` : ""));
			for (const a of r.items) out.add(a.barcode);
			if (!r.next_after || r.next_after === after) break;
			after = r.next_after;
		}
	}
	return out;
}

async function start() {
	const code = $("#store").value;
	// scans of the store shown would be lost: the person says so first
	if (scanned.length && !confirm(`换库房或重新开始将清除已扫的 ${scanned.length} 条记录（未提交），继续吗？`)) {
		$("#store").value = store;
		return;
	}
	store = code;
	clearScans();
	try {
		const [recs, sl] = await Promise.all([records(code), api("GET", `/api/slots?store=${encodeURIComponent(code)}`)]);
		if (store !== code) return; // another store was chosen meanwhile
		expected = recs;
		slots = new Set(sl.items.map((s) => s.barcode));
		live();
		message($("#msg"), "", "");
	} catch (e) {
		expected = new Set();
		slots = new Set();
		live();
		message($("#msg"), "error", "读取库房账目失败：" + e.message);
	}
	$("#scan").focus();
}

const locs = await api("GET", "/api/locations");
$("#store").replaceChildren(...locs.items.filter((l) => /store/.test(l.kind)).map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
$("#store").addEventListener("change", start);
$("#start").addEventListener("click", start);

// one scan taken back: its line goes, the figures follow, it is another count
function removeScan(entry) {
	scanned = scanned.filter((s) => s !== entry);
	if (/^\d{22}$/.test(entry.code)) seen.delete(entry.code);
	entry.li.remove();
	countKey = null;
	live();
}

scanField($("#scan"), $("#log"), async (code, li) => {
	// A code that is not an asset's 22 digits must be a slot of this store:
	// anything else (a mistyped code) would make the database refuse the
	// whole count on submit, so it is refused here and not sent.
	if (!/^\d{22}$/.test(code)) {
		if (!slots.has(code)) return { ok: false, text: `不是本库房（${store}）的库位，未计入` };
	} else if (seen.has(code)) return { ok: false, text: "重复扫描，未计入" };
	const entry = { code, li };
	scanned.push(entry);
	countKey = null; // another count now
	li.append(h("button", { type: "button", class: "link remove", "aria-label": `删除 ${code}`, onclick: () => removeScan(entry) }, "删除"));
	if (!/^\d{22}$/.test(code)) return { ok: true, text: "库位" };
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
		const r = await api("POST", "/api/stock/counts", { store, codes: scanned.map((s) => s.code) }, { idempotencyKey: countKey });
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

// the count a second person is about to confirm: who counted, its state and
// every difference. Confirm and reject act on the count shown, never on a
// number typed into the field afterwards and not looked at.
const statusNames = { counted: "待确认", confirmed: "已确认", rejected: "已驳回" };
let viewed = null;
async function view() {
	const id = $("#count-id").value.trim();
	viewed = null;
	if (!id) return;
	try {
		const r = await api("GET", `/api/stock/counts/${encodeURIComponent(id)}`);
		const c = r.items[0];
		const lines = r.items.filter((l) => l.kind);
		$("#count-view").replaceChildren(
			h("p", { id: "view-head", dataset: { count: String(c.count_id) } }, `盘点单 #${c.count_id}：${c.store}${c.slot ? " / " + c.slot : ""}，盘点人 ${c.counted_by}，${statusNames[c.status] || c.status}` + (c.decided_by ? `（${c.decided_by}）` : "")),
			h("div", { class: "scroll" }, h("table", { id: "view-lines" }, h("thead", {}, h("tr", {}, h("th", {}, "差异"), h("th", {}, "条码"), h("th", {}, "可调整"), h("th", {}, "说明"))),
				h("tbody", {}, lines.map((l) => h("tr", {}, h("td", {}, kindNames[l.kind] || l.kind), h("td", {}, h("code", {}, l.code)),
					h("td", {}, l.adjustable ? "是" : "否"), h("td", {}, l.note || "")))))));
		viewed = String(c.count_id);
	} catch (e) {
		$("#count-view").replaceChildren(h("div", { class: "msg error", role: "alert" }, e.message));
	}
}
// the count to decide: the one shown; a number changed since is shown first
async function toDecide() {
	const id = $("#count-id").value.trim();
	if (id && id === viewed) return id;
	await view();
	if (viewed) message($("#msg"), "warn", `请先核对盘点单 #${viewed} 的差异，再确认或驳回`);
	return null;
}
$("#show").addEventListener("click", view);
$("#count-id").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); view(); } });
$("#reject").addEventListener("click", async () => {
	const id = await toDecide();
	if (!id) return;
	try {
		await api("POST", `/api/stock/counts/${id}/reject`, { reason: $("#reason").value }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "驳回被拒绝：" + e.message);
	}
	await done($("#msg"), "已驳回，账目未调整", view);
});

$("#confirm-form").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const id = await toDecide();
	if (!id) return;
	let r;
	try {
		r = await api("POST", `/api/stock/counts/${id}/confirm`, { reason: $("#reason").value }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "确认被拒绝：" + e.message);
	}
	await done($("#msg"), `已确认，调整 ${fmtNum(r.adjusted)} 项`, view);
});
await start();
usable();

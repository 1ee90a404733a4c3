// retire.js — return to the maker (返厂) and scrap (报废) in two steps: one
// person requests with a reason (POST /api/retirements, scanning the
// assets; all or nothing), a second person approves or rejects (POST
// /api/retirements/{id}/approve|reject). The database compares the two
// people: the requester's own approval is refused, and the page shows the
// server's words.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, message, stateName, usable, done } from "./ui.js";
import { scanField } from "./scan.js";

const user = await boot("返厂与报废审批");
const can = (p) => user.permissions.includes(p);
const actionNames = { scrap: "报废", return_to_maker: "返厂" };
const statusNames = { pending: "待审批", approved: "已批准", rejected: "已驳回" };
const badge = { pending: "warn", approved: "ok", rejected: "bad" };
let scanned = [];

function decide(r) {
	if (r.status !== "pending" || !can("asset.retire")) return "";
	const note = h("input", { id: "note-" + r.request_id, maxlength: 500, autocomplete: "off" });
	return h("div", {}, h("label", { for: "note-" + r.request_id }, "审批意见"), note,
		r.requested_by === user.login ? h("p", { class: "muted" }, "这是您本人的申请，应由他人审批。") : "",
		h("div", { class: "row" },
			h("button", { type: "button", class: "approve", onclick: () => act(r.request_id, "approve") }, "批准"),
			h("button", { type: "button", class: "secondary reject", onclick: () => act(r.request_id, "reject") }, "驳回")));
}

// one card per request (a phone has no room for a wide table): who asked,
// what, why, and the decision buttons for a second person
async function load() {
	const s = $("#status").value;
	const r = await api("GET", "/api/retirements" + (s ? "?status=" + s : ""));
	$("#list").replaceChildren(...r.items.map((x) => h("article", { class: "card req", id: "req-" + x.request_id, dataset: { status: x.status } },
		h("h3", {}, `申请 #${x.request_id} `, h("span", { class: "badge " + (badge[x.status] || "") }, statusNames[x.status] || x.status)),
		h("dl", { class: "pairs" },
			h("dt", {}, "方式"), h("dd", {}, actionNames[x.action] || x.action),
			h("dt", {}, "资产"), h("dd", {}, `${fmtNum(x.assets)} 只`),
			h("dt", {}, "原因"), h("dd", {}, x.reason),
			h("dt", {}, "申请人"), h("dd", { class: "requester" }, x.requested_by),
			x.decided_by ? [h("dt", {}, "审批人"), h("dd", { class: "decider" }, x.decided_by)] : null),
		assets(x), decide(x))));
	if (!r.items.length) $("#list").append(h("p", { class: "muted" }, "没有申请"));
}

// the request's assets (GET /api/retirements/{id}), opened at once for a
// person who decides: nobody approves what they have not seen
function assets(x) {
	const body = h("div", { class: "scroll" });
	const d = h("details", { class: "assets" }, h("summary", {}, "资产清单"), body);
	let loaded = false;
	d.addEventListener("toggle", async () => {
		if (!d.open || loaded) return;
		loaded = true;
		try {
			const r = await api("GET", "/api/retirements/" + x.request_id);
			body.replaceChildren(h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "条码"), h("th", {}, "型号"), h("th", {}, "申请时"), h("th", {}, "现在"), h("th", {}, "位置"))),
				h("tbody", {}, r.items.map((a) => h("tr", { dataset: { barcode: a.barcode } }, h("td", {}, h("code", {}, a.barcode)), h("td", {}, a.model),
					h("td", {}, stateName(a.from_state)), h("td", {}, stateName(a.state)), h("td", {}, a.place || ""))))));
		} catch (e) {
			body.replaceChildren(h("div", { class: "msg error", role: "alert" }, e.message));
		}
	});
	if (x.status === "pending" && can("asset.retire")) d.open = true;
	return d;
}

async function act(id, step) {
	const note = $("#note-" + id).value.trim();
	if (step === "reject" && !note) return message($("#msg"), "error", "驳回请填写审批意见");
	let r;
	try {
		r = await api("POST", `/api/retirements/${id}/${step}`, note ? { note } : {}, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", (step === "approve" ? "批准被拒绝：" : "驳回被拒绝：") + e.message);
	}
	await done($("#msg"), step === "approve" ? `已批准申请 #${id}：${fmtNum(r.retired)} 只已处理` : `已驳回申请 #${id}`, load);
}

function counted() { $("#r-count").textContent = `已扫 ${fmtNum(scanned.length)} 只`; }
function clear() { scanned = []; $("#log").replaceChildren(); counted(); }

if (can("asset.retire.request")) {
	$("#req").hidden = false;
	const locs = await api("GET", "/api/locations");
	$("#r-to").append(...locs.items.filter((l) => l.kind === "maker").map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
	$("#r-action").addEventListener("change", () => { $("#to-box").hidden = $("#r-action").value !== "return_to_maker"; });
	$("#r-clear").addEventListener("click", clear);
	scanField($("#r-scan"), $("#log"), async (code) => {
		if (scanned.includes(code)) return { ok: false, text: "重复扫描" };
		const a = await api("GET", "/api/assets/" + encodeURIComponent(code)); // refuses an unregistered code
		scanned.push(code);
		counted();
		return { ok: true, text: `${a.model}，${stateName(a.state)}` };
	});
	$("#req").addEventListener("submit", async (ev) => {
		ev.preventDefault();
		if (!scanned.length) return message($("#msg"), "error", "还没有扫资产");
		const body = { action: $("#r-action").value, barcodes: scanned, reason: $("#r-reason").value.trim() };
		if (body.action === "return_to_maker" && $("#r-to").value) body.to = $("#r-to").value;
		let r;
		try {
			r = await api("POST", "/api/retirements", body, { idempotencyKey: newKey() });
		} catch (e) {
			return message($("#msg"), "error", "申请被拒绝（一只都未提交）：" + e.message);
		}
		clear();
		await done($("#msg"), `已提交申请 #${r.request_id}（${fmtNum(r.assets)} 只），等待他人审批`, load);
	});
}
$("#status").addEventListener("change", load);
await load();
usable();

// swaps.js — swap work orders (换表工单, issue 15): rotation, failed
// on-site inspection and in-service sample orders (GET /api/plan/orders),
// by state (overdue = open past its due date) and team; an open one may be
// cancelled with a reason by whoever holds swap.order (POST
// /api/plan/orders/{id}/cancel). An order completes itself when the team
// swaps the meter (a trigger on installation); the page only shows it.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, fmtTime, message, usable, done } from "./ui.js";

const user = await boot("换表工单");
const can = user.permissions.includes("swap.order");
const kindNames = { rotation: "周期轮换", inspection: "现场检验不合格", sample: "运行抽检" };
const statusNames = { open: "未完成", done: "已完成", cancelled: "已取消" };
// Pages of orders in id order (keyset: the server's "next" is where the
// following page starts; 加载更多 fetches it); the counts are the server's
// over every page. ?per=N in the page's URL sets the page size (default 500).
const per = Math.min(10000, Math.max(1, Number(new URLSearchParams(location.search).get("per")) || 500));
let items = [], next = null;

function status(o) {
	if (o.overdue) return h("span", { class: "badge bad" }, "逾期");
	return h("span", { class: "badge " + (o.status === "done" ? "ok" : o.status === "open" ? "warn" : "") }, statusNames[o.status] || o.status);
}

async function load(more = false) {
	const q = new URLSearchParams({ status: $("#f-status").value, limit: per });
	if ($("#f-team").value) q.set("team", $("#f-team").value);
	if ($("#f-month").value) q.set("month", $("#f-month").value);
	if (more && next) q.set("after", next);
	let r = { items: [], total: 0, overdue: 0, next: null };
	try {
		r = await api("GET", "/api/plan/orders?" + q);
	} catch (e) {
		message($("#msg"), "error", e.message);
	}
	next = r.next;
	items = more ? items.concat(r.items) : r.items;
	$("#total").textContent = `共 ${fmtNum(r.total)} 张` + (r.overdue ? `，其中逾期 ${fmtNum(r.overdue)} 张` : "") +
		(next ? `（已显示 ${fmtNum(items.length)} 张）` : "");
	$("#more").hidden = !next;
	$("#orders tbody").replaceChildren(...items.map((o) => h("tr", { id: "order-" + o.id, class: o.overdue ? "late" : null, dataset: { status: o.status, overdue: o.overdue ? "1" : "" } },
		h("td", {}, h("a", { href: "#" + o.id, onclick: (e) => { e.preventDefault(); show(o.id); } }, "#" + o.id)),
		h("td", {}, kindNames[o.kind] || o.kind), h("td", { class: "status" }, status(o)), h("td", {}, o.team),
		h("td", {}, o.point), h("td", {}, h("code", {}, o.barcode)), h("td", {}, fmtDate(o.due_on)))));
	if (!items.length) $("#orders tbody").append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "没有符合条件的工单")));
}

function show(id) {
	const o = items.find((x) => x.id === id);
	if (!o) return;
	document.querySelectorAll("#orders tr.sel").forEach((r) => r.classList.remove("sel"));
	$("#order-" + id).classList.add("sel");
	const parts = [h("h2", {}, `工单 #${o.id}`), h("dl", { class: "card" },
		h("dt", {}, "类型"), h("dd", {}, kindNames[o.kind] || o.kind), h("dt", {}, "状态"), h("dd", { id: "d-status" }, status(o)),
		h("dt", {}, "班组"), h("dd", {}, o.team), h("dt", {}, "计量点"), h("dd", {}, o.point),
		h("dt", {}, "表计条码"), h("dd", {}, o.barcode), h("dt", {}, "应完成日期"), h("dd", {}, fmtDate(o.due_on)),
		o.month ? [h("dt", {}, "轮换月份"), h("dd", {}, o.month)] : null,
		o.inspection ? [h("dt", {}, "现场检验记录"), h("dd", {}, "#" + o.inspection)] : null,
		h("dt", {}, "开单时间"), h("dd", {}, fmtTime(o.opened_at)),
		o.closed_at ? [h("dt", {}, "关闭时间"), h("dd", {}, fmtTime(o.closed_at))] : null,
		o.replaced_by ? [h("dt", {}, "换上的表计"), h("dd", {}, o.replaced_by)] : null,
		o.note ? [h("dt", {}, "说明"), h("dd", { id: "d-note" }, o.note)] : null)];
	if (o.status === "open" && can)
		parts.push(h("form", { class: "card", id: "cancel-form", onsubmit: (e) => { e.preventDefault(); cancel(o.id); } },
			h("h2", {}, "取消工单"), h("label", { for: "c-reason" }, "取消原因"),
			h("input", { id: "c-reason", maxlength: 500, required: true, autocomplete: "off" }),
			h("p", {}, h("button", { type: "submit", id: "c-go", class: "secondary" }, "取消工单"))));
	$("#detail").replaceChildren(...parts);
	if (window.innerWidth < 800) $("#detail").scrollIntoView();
}

async function cancel(id) {
	const reason = $("#c-reason").value.trim();
	if (!reason) return message($("#msg"), "error", "请填写取消原因");
	try {
		await api("POST", `/api/plan/orders/${id}/cancel`, { reason }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "取消被拒绝：" + e.message);
	}
	$("#f-status").value = "all";
	await done($("#msg"), `已取消工单 #${id}`, async () => { await load(); show(id); });
}

const locs = await api("GET", "/api/locations");
$("#f-team").append(...locs.items.filter((l) => l.kind === "field_team").map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
const mine = await api("GET", "/api/field/team");
if (mine.team) $("#f-team").value = mine.team; // a field member sees their team's orders first
$("#filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
for (const s of ["#f-status", "#f-team", "#f-month"]) $(s).addEventListener("change", () => load());
$("#more").addEventListener("click", () => load(true));
await load();
const want = Number(location.hash.slice(1));
// an order linked to (#id) is on a later page when older ones fill the first: ids ascend, so read on up to it
while (want && !items.some((o) => o.id === want) && next && next < want) await load(true);
if (want) show(want);
usable();

// manager.js — the manager's page: today's runs, pass rate by model, stock
// by store and state, assets nearing their verification limit (GET /api/summary),
// and links to the planning pages with the overdue swap orders and open monitoring items.
import { api } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, message, stateName, usable } from "./ui.js";

await boot("管理概览");
const statusNames = { pending: "待开始", running: "检定中", interrupted: "已中断", finished: "已完成", aborted: "已放弃" };
try {
	const s = await api("GET", "/api/summary");
	const total = s.runs_today.reduce((a, r) => a + r.runs, 0);
	$("#runs").replaceChildren(h("div", { class: "stat" }, h("div", { class: "big", id: "runs-total" }, fmtNum(total)), "今日任务"),
		...s.runs_today.map((r) => h("div", { class: "stat" }, h("div", { class: "big" }, fmtNum(r.runs)), statusNames[r.status] || r.status)));
	$("#days").textContent = String(s.pass_rate_days);
	$("#rates tbody").replaceChildren(...s.pass_rate.map((r) => h("tr", {}, h("td", {}, r.model), h("td", {}, r.name),
		h("td", { class: "num" }, fmtNum(r.verified)), h("td", { class: "num" }, fmtNum(r.passed)), h("td", { class: "num rate" }, r.pass_rate))));
	$("#stock tbody").replaceChildren(...s.stock.map((r) => h("tr", {}, h("td", {}, `${r.name}（${r.store}）`), h("td", {}, stateName(r.state)), h("td", { class: "num" }, fmtNum(r.assets)))));
	$("#expiring tbody").replaceChildren(...s.expiring.map((r) => h("tr", {}, h("td", {}, r.barcode), h("td", {}, r.model), h("td", {}, stateName(r.state)), h("td", {}, r.location || ""), h("td", {}, h("span", { class: "badge warn" }, fmtDate(r.valid_until))))));
	for (const t of ["#rates", "#stock", "#expiring"]) if (!$(t + " tbody").children.length) $(t + " tbody").append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "无")));
} catch (e) {
	message($("#msg"), "error", e.message);
}
// planning and monitoring (issue 15): how many swap orders are overdue, how many items wait
try {
	// the listings are paged: their "total" counts every page (one row is enough to ask)
	const [late, watch] = await Promise.all([api("GET", "/api/plan/orders?status=overdue&limit=1"), api("GET", "/api/watch/items?limit=1")]);
	$("#plan-late .big").textContent = fmtNum(late.total);
	$("#plan-watch .big").textContent = fmtNum(watch.total);
} catch (e) {
	message($("#msg"), "error", e.message);
}
usable();

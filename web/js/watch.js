// watch.js — monitoring work items (稽查监控, issue 15): the items the rules
// opened (GET /api/watch/items), one item with its evidence (GET
// /api/watch/items/{id}) and closing it with a rectification note (POST
// /api/watch/items/{id}/close, permission watch.close and the item's role or
// manager; an item at a field team only by that team's members or a manager,
// 0375). The server evaluates the rule again for that one item and
// refuses while the anomaly still holds unless a reason is given; the page
// shows its words and then asks for the reason.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, message, roleNames, usable, done } from "./ui.js";

const user = await boot("稽查监控");
const can = user.permissions.includes("watch.close");
const ruleNames = {
	transit_overdue: "在途超期", stock_reverify_age: "库存超期未复检", reading_backwards: "示数倒走",
	unsealed_install: "装表未施封", standard_cert_expiring: "标准器证书临期", cert_withdrawn: "证书作废未补检",
	cert_revised: "证书已修订", run_interrupted: "检定中断未处理", rotation_overdue: "周期轮换逾期",
	inspection_overdue: "现场检验逾期", quality_flag: "质量预警",
};
const conditionNames = { holds: "异常仍在", gone: "已消除，待关闭", fixed: "已整改关闭", waived: "异常仍在，说明理由后关闭" };
const ruleName = (r) => ruleNames[r] || r;
// Pages of items in id order (keyset: the server's "next" is where the
// following page starts; 加载更多 fetches it); the count is the server's over
// every page. ?per=N in the page's URL sets the page size (default 500).
const per = Math.min(10000, Math.max(1, Number(new URLSearchParams(location.search).get("per")) || 500));
let items = [], next = null;

function state(i) {
	if (i.status === "closed") return h("span", { class: "badge ok" }, "已关闭");
	if (i.overdue) return h("span", { class: "badge bad" }, "逾期");
	return h("span", { class: "badge warn" }, "待处理");
}

async function load(more = false) {
	const q = new URLSearchParams({ status: $("#f-status").value, limit: per });
	if ($("#f-rule").value) q.set("rule", $("#f-rule").value);
	if ($("#f-place").value.trim()) q.set("place", $("#f-place").value.trim());
	if ($("#f-overdue").checked) q.set("overdue", "true");
	if (more && next) q.set("after", next);
	let r = { items: [], total: 0, next: null };
	try {
		r = await api("GET", "/api/watch/items?" + q);
	} catch (e) {
		message($("#msg"), "error", e.message);
	}
	next = r.next;
	items = more ? items.concat(r.items) : r.items;
	$("#total").textContent = `共 ${fmtNum(r.total)} 条` + (next ? `（已显示 ${fmtNum(items.length)} 条）` : "");
	$("#more").hidden = !next;
	$("#items tbody").replaceChildren(...items.map((i) => h("tr", { id: "item-" + i.id, dataset: { rule: i.rule, status: i.status } },
		h("td", {}, h("a", { href: "#" + i.id, onclick: (e) => { e.preventDefault(); show(i.id); } }, "#" + i.id)),
		h("td", {}, ruleName(i.rule)), h("td", {}, i.place), h("td", {}, i.summary), h("td", {}, fmtDate(i.due)),
		h("td", { class: "state" }, state(i)))));
	if (!items.length) $("#items tbody").append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "没有符合条件的待办")));
}

async function show(id, needReason = false) {
	let d;
	try {
		d = await api("GET", "/api/watch/items/" + id);
	} catch (e) {
		return message($("#msg"), "error", e.message);
	}
	document.querySelectorAll("#items tr.sel").forEach((r) => r.classList.remove("sel"));
	$("#item-" + id)?.classList.add("sel");
	const open = d.status === "open";
	const parts = [h("h2", {}, `待办 #${d.id}：${ruleName(d.rule)}`), h("dl", { class: "card" },
		h("dt", {}, "规则"), h("dd", {}, `${d.title}（${d.rule}）`), h("dt", {}, "摘要"), h("dd", {}, d.summary),
		d.barcode ? [h("dt", {}, "表计条码"), h("dd", {}, d.barcode)] : null,
		h("dt", {}, "地点"), h("dd", {}, d.place), h("dt", {}, "负责角色"), h("dd", {}, roleNames[d.role] || d.role),
		h("dt", {}, "发现"), h("dd", {}, `${d.opened}（${d.opened_by}）`), h("dt", {}, "期限"), h("dd", {}, fmtDate(d.due)),
		h("dt", {}, "状态"), h("dd", { id: "d-status" }, open ? (d.cleared ? "异常已消除，待关闭" : "待处理") : "已关闭"),
		d.closed ? [h("dt", {}, "关闭"), h("dd", { id: "d-closed" }, `${d.closed}（${d.closed_by}）`), h("dt", {}, "整改说明"), h("dd", { id: "d-note" }, d.note)] : null,
		d.reason ? [h("dt", {}, "异常仍在时关闭的理由"), h("dd", { id: "d-reason" }, d.reason)] : null,
		!open ? [h("dt", {}, "结果"), h("dd", {}, conditionNames[d.condition_held ? "waived" : "fixed"])] : null),
	h("details", {}, h("summary", {}, "证据"), h("pre", { id: "d-evidence" }, JSON.stringify(d.details, null, 2)))];
	if (open && can)
		parts.push(h("form", { class: "card", id: "close-form", onsubmit: (e) => { e.preventDefault(); close(d.id); } },
			h("h2", {}, "关闭待办"), h("label", { for: "c-note" }, "整改说明"),
			h("textarea", { id: "c-note", maxlength: 1000, rows: 3, required: true }),
			h("div", { id: "c-reason-box", hidden: !needReason }, h("label", { for: "c-reason" }, "异常仍在时关闭的理由"),
				h("input", { id: "c-reason", maxlength: 500, autocomplete: "off" })),
			h("p", {}, h("button", { type: "submit", id: "c-go" }, "关闭待办"))));
	$("#detail").replaceChildren(...parts);
	if (window.innerWidth < 800) $("#detail").scrollIntoView();
}

async function close(id) {
	const note = $("#c-note").value.trim(), reason = $("#c-reason").value.trim();
	if (!note) return message($("#msg"), "error", "请填写整改说明");
	let r;
	try {
		r = await api("POST", `/api/watch/items/${id}/close`, reason ? { note, reason } : { note }, { idempotencyKey: newKey() });
	} catch (e) {
		message($("#msg"), "error", "关闭被拒绝：" + e.message);
		if (e.status === 409) { // the anomaly still holds: keep the note, ask for the reason
			$("#c-reason-box").hidden = false;
			$("#c-reason").focus();
		} else $("#msg").scrollIntoView({ block: "nearest" }); // e.g. 403: another team's item; no reason helps
		return;
	}
	await done($("#msg"), `已关闭待办 #${id}` + (r.condition_held ? "（异常仍在，已记录理由）" : ""), async () => { await load(); await show(id); });
}

$("#f-rule").append(...Object.entries(ruleNames).map(([k, v]) => h("option", { value: k }, v)));
$("#filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
for (const s of ["#f-status", "#f-rule", "#f-overdue"]) $(s).addEventListener("change", () => load());
$("#more").addEventListener("click", () => load(true));
await load();
const want = Number(location.hash.slice(1));
if (want) await show(want);
usable();

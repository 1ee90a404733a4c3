// inspect.js — recording an on-site inspection (现场检验, issue 15): the
// metering point, the portable standard and the errors at each load point go
// to POST /api/plan/inspections, which judges them with the lab's engine and
// records them (a failure opens a swap work order). The page shows the
// server's figures (mean, rounded, limit, verdict per load point) or its
// refusal as it comes; it judges nothing itself.
import { api, newKey } from "./api.js";
import { boot, e4, h, $, message, usable } from "./ui.js";

const user = await boot("现场检验");
const verdictNames = { pass: "合格", fail: "不合格" };
let rows = 0;

function addRow(label = "", readings = "") {
	const i = ++rows;
	$("#points").append(h("div", { class: "row lp", dataset: { i } },
		h("div", {}, h("label", { for: "lp-" + i }, `负载点 ${i}`), h("input", { id: "lp-" + i, class: "lp-label", value: label, maxlength: 24, autocomplete: "off" })),
		h("div", {}, h("label", { for: "rd-" + i }, `负载点 ${i} 的误差读数（%）`), h("input", { id: "rd-" + i, class: "lp-readings", value: readings, inputmode: "decimal", autocomplete: "off" }))));
	return i;
}

function show(r) {
	const pass = r.verdict === "pass";
	$("#result").replaceChildren(h("h2", {}, `检验记录 #${r.inspection}`),
		h("p", {}, "表计 ", h("code", {}, r.meter), "：", h("span", { id: "verdict", class: "badge " + (pass ? "ok" : "bad") }, verdictNames[r.verdict] || r.verdict)),
		h("div", { class: "scroll" }, h("table", { id: "points-result" },
			h("thead", {}, h("tr", {}, h("th", {}, "负载点"), h("th", { class: "num" }, "平均误差 %"), h("th", { class: "num" }, "修约后 %"), h("th", { class: "num" }, "误差限 ±%"), h("th", {}, "判定"))),
			h("tbody", {}, r.points.map((p) => h("tr", { dataset: { verdict: p.verdict } }, h("td", {}, p.point), h("td", { class: "num" }, e4(p.mean_e4)),
				h("td", { class: "num rounded" }, p.rounded), h("td", { class: "num" }, e4(p.limit_e4)),
				h("td", {}, h("span", { class: "badge " + (p.verdict === "pass" ? "ok" : "bad") }, verdictNames[p.verdict] || p.verdict))))))),
		r.swap_order ? h("p", { id: "swap" }, "已给装表班组开换表工单 ", h("a", { href: "/plan/orders.html#" + r.swap_order }, "#" + r.swap_order), "。") : null);
}

async function submit() {
	const errors = [];
	for (const row of document.querySelectorAll("#points .lp")) {
		const label = $(".lp-label", row).value.trim(), readings = $(".lp-readings", row).value.trim();
		if (!label && !readings) continue;
		if (!label || !readings) return message($("#msg"), "error", `负载点 ${row.dataset.i}：负载点和误差读数都要填写`);
		errors.push(`${label}: ${readings}`);
	}
	if (!errors.length) return message($("#msg"), "error", "至少填写一个负载点的误差");
	const body = { point: $("#point").value.trim(), standard: $("#standard").value.trim(), errors };
	if ($("#date").value) body.date = $("#date").value;
	if ($("#note").value.trim()) body.note = $("#note").value.trim();
	$("#go").disabled = true;
	try {
		const r = await api("POST", "/api/plan/inspections", body, { idempotencyKey: newKey() });
		show(r);
		message($("#msg"), r.verdict === "pass" ? "ok" : "warn", `已记录检验 #${r.inspection}：${verdictNames[r.verdict] || r.verdict}`);
	} catch (e) {
		message($("#msg"), "error", "检验被拒绝：" + e.message);
	} finally {
		$("#go").disabled = false;
	}
}

addRow("Ib 1.0");
addRow("Ib 0.5L");
$("#add").addEventListener("click", () => $("#lp-" + addRow()).focus());
$("#form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
if (!user.permissions.includes("inspection.record"))
	message($("#msg"), "warn", "您没有现场检验权限（装接人员、主管），提交会被拒绝。");
$("#point").focus();
usable();

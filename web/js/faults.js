// faults.js — fault reports (故障) from the field and the lab's finding: the
// list (GET /api/faults, open ones first), a meter's barcode scanned finds
// its report, and the outcome recorded once (POST /api/faults/{id}/outcome,
// permission fault.analyse). The database refuses the reporter and a second
// outcome; the page shows its words.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, message, usable } from "./ui.js";
import { scanField } from "./scan.js";

const user = await boot("故障分析");
const can = user.permissions.includes("fault.analyse");
const outcomeNames = { maker: "制造质量（厂家责任）", usage: "使用不当", external: "外部原因", no_fault_found: "未发现故障" };
const kindNames = { analysis: "故障分析", arbitration: "仲裁检定" };
let items = [];

async function load() {
	const r = await api("GET", "/api/faults" + ($("#show").value === "open" ? "?open=true" : ""));
	items = r.items;
	$("#list tbody").replaceChildren(...items.map((f) => h("tr", { id: "fault-" + f.fault_id, dataset: { barcode: f.barcode } },
		h("td", {}, h("a", { href: "#" + f.fault_id, onclick: (e) => { e.preventDefault(); show(f.fault_id); } }, "#" + f.fault_id)),
		h("td", {}, h("code", {}, f.barcode)), h("td", {}, f.symptom_zh), h("td", {}, f.reported_by),
		h("td", { class: "outcome" }, f.outcome ? outcomeNames[f.outcome] || f.outcome : h("span", { class: "badge warn" }, "待分析")))));
	if (!items.length) $("#list tbody").append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "没有待分析的故障报告")));
}

function show(id) {
	const f = items.find((x) => x.fault_id === id);
	if (!f) return;
	document.querySelectorAll("#list tr.sel").forEach((r) => r.classList.remove("sel"));
	$("#fault-" + id).classList.add("sel");
	const dl = h("dl", { class: "card" },
		h("dt", {}, "表计条码"), h("dd", {}, f.barcode), h("dt", {}, "类型"), h("dd", {}, kindNames[f.kind] || f.kind),
		f.complaint ? [h("dt", {}, "投诉单号"), h("dd", {}, f.complaint)] : null,
		h("dt", {}, "现象"), h("dd", {}, `${f.symptom_zh}（${f.symptom}）`), h("dt", {}, "现场说明"), h("dd", {}, f.description),
		h("dt", {}, "上报人"), h("dd", { id: "reporter" }, f.reported_by), h("dt", {}, "上报日期"), h("dd", {}, fmtDate(f.reported_on)),
		h("dt", {}, "结论"), h("dd", { id: "outcome" }, f.outcome ? `${outcomeNames[f.outcome] || f.outcome}（${f.outcome_by}）` : "待分析"));
	const parts = [h("h2", {}, `故障报告 #${f.fault_id}`), dl];
	if (!f.outcome && can) {
		const note = h("textarea", { id: "o-note", maxlength: 500, rows: 3 });
		parts.push(h("form", { class: "card", id: "outcome-form", onsubmit: (e) => { e.preventDefault(); record(f.fault_id); } },
			h("h2", {}, "分析结论"),
			h("fieldset", { class: "plain" }, h("legend", {}, "结论"), Object.entries(outcomeNames).map(([k, v]) =>
				h("label", { class: "check" }, h("input", { type: "radio", name: "outcome", value: k, required: true }), v))),
			h("label", { for: "o-note" }, "分析说明"), note,
			f.reported_by === user.login ? h("p", { class: "muted" }, "这是您本人上报的故障，应由他人下结论。") : null,
			h("p", {}, h("button", { type: "submit", id: "o-go" }, "记录结论"))));
	} else if (!f.outcome) parts.push(h("p", { class: "muted" }, "您没有故障分析权限（检定员、质量分析员）。"));
	$("#detail").replaceChildren(...parts);
}

async function record(id) {
	const o = document.querySelector("input[name=outcome]:checked");
	if (!o) return message($("#msg"), "error", "请选择结论");
	const note = $("#o-note").value.trim();
	try {
		await api("POST", `/api/faults/${id}/outcome`, note ? { outcome: o.value, note } : { outcome: o.value }, { idempotencyKey: newKey() });
		$("#show").value = "all";
		await load();
		show(id);
		message($("#msg"), "ok", `已记录故障 #${id} 的结论：${outcomeNames[o.value]}`);
	} catch (e) {
		message($("#msg"), "error", "结论被拒绝：" + e.message);
	}
}

$("#show").addEventListener("change", load);
scanField($("#scan"), $("#log"), async (code) => {
	const f = items.find((x) => x.barcode === code && !x.outcome) || items.find((x) => x.barcode === code);
	if (!f) return { ok: false, text: "没有这只表计的故障报告" };
	show(f.fault_id);
	return { ok: true, text: `故障报告 #${f.fault_id}` };
});
await load();
const want = Number(location.hash.slice(1));
if (want) show(want);
document.title = `故障分析（${fmtNum(items.length)}）· 计量资产管理`;
usable();

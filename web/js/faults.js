// faults.js — fault reports (故障) from the field and the lab's finding: the
// list (GET /api/faults, open ones first), a meter's barcode scanned finds
// its report, and the outcome recorded once (POST /api/faults/{id}/outcome,
// permission fault.analyse). The database refuses the reporter and a second
// outcome; the page shows its words. An arbitration (仲裁检定, a customer's
// complaint) is answered by the run that verified the meter and the
// certificate or result notice issued from it (GET /api/faults/{id}, POST
// /api/faults/{id}/arbitration): the page offers the meter's current
// certificates of the run typed in; the database refuses a run that did not
// verify the meter or predates the report, and a link set already.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, message, usable, done } from "./ui.js";
import { scanField } from "./scan.js";

const user = await boot("故障分析");
const can = user.permissions.includes("fault.analyse");
const outcomeNames = { maker: "制造质量（厂家责任）", usage: "使用不当", external: "外部原因", no_fault_found: "未发现故障" };
const kindNames = { analysis: "故障分析", arbitration: "仲裁检定" };
const runStatusNames = { pending: "待开始", running: "检定中", interrupted: "已中断", finished: "已完成", aborted: "已放弃" };
const certKindNames = { certificate: "检定证书", result_notice: "检定结果通知书", notice: "检定结果通知书" };
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

async function show(id) {
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
	if (f.kind === "arbitration") parts.push(await arbitration(f));
	$("#detail").replaceChildren(...parts);
}

// The run and certificate that answered an arbitration complaint, and for
// fault.analyse the form that links them (the run first; its current
// certificates for this meter are offered).
async function arbitration(f) {
	let d;
	try {
		d = await api("GET", `/api/faults/${f.fault_id}`);
	} catch (e) {
		return h("div", { class: "msg error", role: "alert" }, e.message);
	}
	const box = h("section", { class: "card", id: "arbitration" }, h("h2", {}, "仲裁检定"),
		h("dl", { class: "pairs" },
			h("dt", {}, "检定任务"), h("dd", { id: "a-run" }, d.run_id ? h("a", { href: "/lab/run.html#" + d.run_id }, `#${d.run_id}（${runStatusNames[d.run_status] || d.run_status}，${fmtDate(d.run_date)}）`) : "未关联"),
			h("dt", {}, "证书"), h("dd", { id: "a-cert" }, d.cert_id ? `${certKindNames[d.cert_kind] || d.cert_kind} ${d.cert_no}` : "未关联"),
			d.linked_by ? [h("dt", {}, "关联人"), h("dd", {}, d.linked_by)] : null));
	if (!can || (d.run_id && d.cert_id)) return box;
	const run = h("input", { id: "a-run-id", inputmode: "numeric", autocomplete: "off", value: d.run_id || "", readonly: !!d.run_id, required: true });
	const cert = h("select", { id: "a-cert-id" }, h("option", { value: "" }, "（暂不关联证书）"));
	async function certs() {
		cert.replaceChildren(h("option", { value: "" }, "（暂不关联证书）"));
		if (!/^\d+$/.test(run.value.trim())) return;
		try {
			const r = await api("GET", `/api/certificates?run=${run.value.trim()}&state=current`);
			cert.append(...r.items.filter((c) => c.barcode === f.barcode).map((c) => h("option", { value: c.id }, `${certKindNames[c.kind] || c.kind} ${c.cert_no}`)));
		} catch (e) { /* no certificates to offer: the run alone may be linked */ }
	}
	run.addEventListener("change", certs);
	await certs();
	box.append(h("form", { id: "arbitration-form", onsubmit: async (e) => {
		e.preventDefault();
		const body = { run: Number(run.value.trim()) };
		if (cert.value) body.cert = Number(cert.value);
		try {
			await api("POST", `/api/faults/${f.fault_id}/arbitration`, body, { idempotencyKey: newKey() });
			await show(f.fault_id);
			message($("#msg"), "ok", `已关联仲裁检定：任务 #${body.run}` + (cert.value ? `，${cert.selectedOptions[0].textContent}` : ""));
		} catch (err) {
			message($("#msg"), "error", "关联被拒绝：" + err.message);
		}
	} },
	h("div", { class: "row" }, h("div", {}, h("label", { for: "a-run-id" }, "答复投诉的检定任务号"), run),
		h("div", {}, h("label", { for: "a-cert-id" }, "签发的证书或结果通知书（本表计）"), cert)),
	h("p", {}, h("button", { type: "submit", id: "a-go" }, "关联"))));
	return box;
}

async function record(id) {
	const o = document.querySelector("input[name=outcome]:checked");
	if (!o) return message($("#msg"), "error", "请选择结论");
	const note = $("#o-note").value.trim();
	try {
		await api("POST", `/api/faults/${id}/outcome`, note ? { outcome: o.value, note } : { outcome: o.value }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "结论被拒绝：" + e.message);
	}
	$("#show").value = "all";
	await done($("#msg"), `已记录故障 #${id} 的结论：${outcomeNames[o.value]}`, async () => { await load(); await show(id); });
}

$("#show").addEventListener("change", load);
scanField($("#scan"), $("#log"), async (code) => {
	const f = items.find((x) => x.barcode === code && !x.outcome) || items.find((x) => x.barcode === code);
	if (!f) return { ok: false, text: "没有这只表计的故障报告" };
	await show(f.fault_id);
	return { ok: true, text: `故障报告 #${f.fault_id}` };
});
await load();
const want = Number(location.hash.slice(1));
if (want) await show(want);
document.title = `故障分析（${fmtNum(items.length)}）· 计量资产管理`;
usable();

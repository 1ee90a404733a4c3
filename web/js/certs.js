// certs.js — the certificate queue of checkers and approvers: the document
// shown in the page (the draft rendered as it would be issued, or the stored
// PDF once issued), and the one button the person's role and the
// certificate's state allow. The database decides: a refusal (four eyes,
// order, permission) is shown as it comes back.
import { api } from "./api.js";
import { boot, h, $, fmtDate, message, usable, done } from "./ui.js";

const user = await boot("证书审核");
const can = (p) => user.permissions.includes(p);
const stateNames = { draft: "待核验", checked: "待批准", issued: "已签发", superseded: "已替代", withdrawn: "已作废" };
const badge = { draft: "warn", checked: "warn", issued: "ok", withdrawn: "bad" };
let selected = null;

async function load() {
	const f = $("#filter").value;
	const states = f === "queue" ? ["draft", "checked"] : [f];
	const lists = await Promise.all(states.map((s) => api("GET", "/api/certificates?state=" + s)));
	const items = lists.flatMap((l) => l.items);
	const tb = $("#list tbody");
	tb.replaceChildren(...items.map((c) => h("tr", { dataset: { id: c.id }, class: c.id === selected ? "sel" : null },
		h("td", {}, h("span", { class: "badge " + (badge[c.state] || "") }, stateNames[c.state] || c.state)),
		h("td", {}, h("a", { href: "#" + c.id, onclick: (e) => { e.preventDefault(); show(c.id); } }, c.barcode)),
		h("td", {}, c.conclusion || ""), h("td", {}, c.verifier || ""))));
	if (!items.length) tb.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "没有待办的证书")));
	return items;
}

function field(dt, dd, id) {
	return [h("dt", {}, dt), h("dd", { id }, dd || "—")];
}

async function show(id) {
	selected = id;
	message($("#msg"), "", "");
	const c = await api("GET", "/api/certificates/" + id);
	const pdf = c.state === "issued" || c.state === "superseded" || c.state === "withdrawn"
		? "/api/certificates/" + id + "/pdf" : "/api/certificates/" + id + "/preview";
	const actions = h("div", { class: "row", id: "actions" });
	const note = h("p", { class: "muted", id: "note" });
	if (c.state === "draft") {
		actions.append(h("button", { id: "check", type: "button", disabled: !can("cert.check"), onclick: () => sign(id, "check") }, "核验签字"));
		if (!can("cert.check")) note.textContent = "您没有核验权限（需要核验员角色），不能核验此证书。";
	} else if (c.state === "checked") {
		actions.append(h("button", { id: "approve", type: "button", disabled: !can("cert.approve"), onclick: () => sign(id, "approve") }, "批准签发"));
		if (!can("cert.approve")) note.textContent = "您没有批准权限（需要批准人角色），不能签发此证书。";
	}
	if (c.state === "issued" && !c.withdrawn && can("cert.revise"))
		actions.append(h("button", { id: "revise-open", type: "button", class: "secondary", onclick: () => { $("#revise").hidden = false; $("#rv-reason").focus(); } }, "修订此证书"));
	if (c.state === "issued" && !c.withdrawn && can("cert.withdraw")) {
		const reason = h("input", { id: "wd-reason", maxlength: 500, autocomplete: "off" });
		actions.append(h("div", {}, h("label", { for: "wd-reason" }, "作废原因"), reason),
			h("button", { id: "withdraw", type: "button", class: "secondary", onclick: () => withdraw(id) }, "作废此证书"));
	}
	$("#detail").replaceChildren(
		h("h2", {}, (c.kind === "notice" ? "检定结果通知书" : "检定证书") + (c.cert_no ? " " + c.cert_no : "（未编号草稿）")),
		h("dl", { class: "card" },
			field("状态", c.withdrawn ? "已作废" : stateNames[c.state] || c.state, "state"), field("资产条码", c.barcode, "barcode"),
			field("版本", c.revision ? `第 ${c.revision} 次修订` : "原始证书", "revision"),
			field("结论", c.conclusion, "conclusion"), field("检定员", c.verifier, "verifier"),
			field("核验员", c.checker, "checker"), field("批准人", c.approver, "approver"),
			field("签发日期", fmtDate(c.issued_on), "issued")),
		actions, note, c.state === "issued" && !c.withdrawn && can("cert.revise") ? reviseForm(id) : null,
		h("iframe", { class: "pdf", id: "pdf", src: pdf, title: "证书 PDF" + (c.state === "issued" ? "（已存档）" : "（草稿预览，未签发）") }),
		h("p", {}, h("a", { href: pdf, target: "_blank", rel: "noopener" }, c.state === "issued" ? "打开存档 PDF" : "打开草稿预览 PDF")));
}

async function sign(id, step) {
	const btn = $("#" + step);
	btn.disabled = true;
	let c;
	try {
		const r = await api("POST", `/api/certificates/${id}/${step}`, {});
		c = r.items[0];
	} catch (e) {
		message($("#msg"), "error", (step === "check" ? "核验被拒绝：" : "批准被拒绝：") + e.message);
		btn.disabled = false;
		return;
	}
	await done($("#msg"), step === "check" ? "已核验：" + c.barcode : "已签发：" + c.cert_no, async () => { await load(); await show(id); });
}

// 修订: a corrected certificate (POST /api/certificates/{id}/revise) — a new
// draft with the same number and revision + 1, only the fields filled in
// changed; it is checked and approved like any draft, and once issued the
// old one is superseded. The database refuses values a certificate may not
// carry (a date other than the run's, a validity beyond the model's period).
const revisable = [
	["client", "送检单位", 200], ["place", "检定地点", 200], ["instrument", "计量器具名称", 200],
	["model", "型号规格", 64], ["spec", "规格", 200], ["manufacturer", "制造单位", 200],
	["record_no", "原始记录编号", 64], ["temperature", "温度（℃）", 8], ["humidity", "相对湿度（%RH）", 8],
	["verified_on", "检定日期（YYYY-MM-DD）", 10], ["valid_until", "有效期至（YYYY-MM-DD）", 10],
];

function reviseForm(id) {
	return h("form", { class: "card", id: "revise", hidden: true, onsubmit: (e) => { e.preventDefault(); revise(id); } },
		h("h2", {}, "修订证书"),
		h("p", { class: "muted" }, "只填写要更正的项目；修订版需重新核验、批准，签发后替代原证书（编号不变）。"),
		h("label", { for: "rv-reason" }, "修订原因（必填）"), h("input", { id: "rv-reason", maxlength: 500, autocomplete: "off" }),
		h("div", { class: "row" }, revisable.map(([k, label, max]) =>
			h("div", {}, h("label", { for: "rv-" + k }, label), h("input", { id: "rv-" + k, maxlength: max, autocomplete: "off" })))),
		h("p", {}, h("button", { type: "submit", id: "rv-go" }, "生成修订版草稿")));
}

async function revise(id) {
	const body = { reason: $("#rv-reason").value.trim() };
	if (!body.reason) return message($("#msg"), "error", "请填写修订原因");
	for (const [k] of revisable) {
		const v = $("#rv-" + k).value.trim();
		if (v) body[k] = v;
	}
	let d;
	try {
		const r = await api("POST", `/api/certificates/${id}/revise`, body);
		d = r.items[0];
	} catch (e) {
		return message($("#msg"), "error", "修订被拒绝：" + e.message);
	}
	$("#filter").value = "queue";
	await done($("#msg"), `已生成修订版草稿（第 ${d.revision} 次修订），核验、批准后替代原证书`, async () => { await load(); await show(d.id); });
}

// 作废 an issued certificate: the paper stays genuine, the verification page says withdrawn
async function withdraw(id) {
	const reason = $("#wd-reason").value.trim();
	if (!reason) return message($("#msg"), "error", "请填写作废原因");
	try {
		await api("POST", `/api/certificates/${id}/withdraw`, { reason });
	} catch (e) {
		return message($("#msg"), "error", "作废被拒绝：" + e.message);
	}
	await done($("#msg"), "证书已作废", () => show(id));
}

$("#filter").addEventListener("change", load);
const items = await load();
const want = Number(location.hash.slice(1));
if (want) await show(want);
else if (items.length) await show(items[0].id);
usable();

// delivery.js — receive a supplier's delivery file (POST /api/deliveries):
// all or nothing; every bad row comes back with its line, column, value and
// reason and is listed here; nothing is written then.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, message, usable } from "./ui.js";

await boot("到货接收");
const locs = await api("GET", "/api/locations");
$("#store").replaceChildren(...locs.items.filter((l) => l.kind === "central_store").map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));

$("#upload").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const f = $("#file").files[0];
	if (!f) return;
	$("#go").disabled = true;
	$("#issues").hidden = true;
	message($("#msg"), "", "");
	try {
		const csv = await f.text();
		const r = await api("POST", "/api/deliveries", {
			lot: $("#lot").value.trim(), csv, location: $("#store").value,
			supplier: $("#supplier").value.trim() || undefined, file_name: f.name,
		}, { idempotencyKey: newKey() });
		message($("#msg"), "ok", `已接收批次 ${r.lot}：${fmtNum(r.rows)} 只（文件 SHA-256 ${r.sha256.slice(0, 16)}…）`);
	} catch (e) {
		const issues = (e.details && e.details.issues) || [];
		message($("#msg"), "error", issues.length ? `未接收：${fmtNum(issues.length)} 行有错误，整批未入库` : "未接收：" + e.message);
		$("#issues tbody").replaceChildren(...issues.map((x) => h("tr", {}, h("td", { class: "num line" }, String(x.line)), h("td", {}, x.column), h("td", {}, h("code", {}, x.value)), h("td", {}, x.reason))));
		$("#issues").hidden = !issues.length;
	} finally {
		$("#go").disabled = false;
	}
});
usable();

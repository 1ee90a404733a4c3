// reverify.js — the re-verification list (GET /api/stock/reverify) and
// sending the chosen assets to a lab (POST /api/stock/reverify/send, all or
// nothing; every refusal shown beside its barcode).
import { api, newKey } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, message, usable, done } from "./ui.js";

await boot("待复检清单");

async function load() {
	const store = $("#store").value;
	const r = await api("GET", "/api/stock/reverify" + (store ? "?store=" + encodeURIComponent(store) : ""));
	$("#total").textContent = `共 ${fmtNum(r.items.length)} 只`;
	$("#list tbody").replaceChildren(...r.items.map((a) => h("tr", { dataset: { barcode: a.barcode } },
		h("td", {}, h("input", { type: "checkbox", class: "pick", value: a.barcode, checked: true, "aria-label": "选择 " + a.barcode })),
		h("td", {}, h("code", {}, a.barcode)), h("td", {}, a.model), h("td", {}, a.store + (a.slot ? " / " + a.slot : "")),
		h("td", {}, fmtDate(a.valid_until)), h("td", { class: "why" }, a.reason))));
}

const locs = await api("GET", "/api/locations");
$("#store").append(...locs.items.filter((l) => /store/.test(l.kind)).map((l) => h("option", { value: l.code }, l.name)));
$("#lab").replaceChildren(...locs.items.filter((l) => l.kind === "lab").map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
$("#filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("#all").addEventListener("change", (e) => document.querySelectorAll(".pick").forEach((c) => { c.checked = e.target.checked; }));
$("#send").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const barcodes = [...document.querySelectorAll(".pick:checked")].map((c) => c.value);
	if (!barcodes.length) return message($("#msg"), "error", "没有选择资产");
	let r;
	try {
		r = await api("POST", "/api/stock/reverify/send", { barcodes, lab: $("#lab").value, reason: $("#reason").value }, { idempotencyKey: newKey() });
	} catch (e) {
		const refused = (e.details && e.details.refused) || [];
		message($("#msg"), "error", "送检被拒绝（一只都未送出）：" + e.message);
		for (const x of refused) {
			const td = document.querySelector(`#list tr[data-barcode="${x.code}"] .why`);
			if (td) td.textContent = "拒绝：" + x.message;
		}
		return;
	}
	await done($("#msg"), `已送检 ${fmtNum(r.done)} 只`, load);
});
await load();
usable();

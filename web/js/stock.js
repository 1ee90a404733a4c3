// stock.js — stock by store, model, state and verification age (GET /api/stock).
import { api } from "./api.js";
import { boot, h, $, fmtNum, fmtDate, message, stateName, stateNames, usable } from "./ui.js";

await boot("库存");

function ageBadge(d) {
	if (!d) return "";
	const months = (Date.now() - new Date(d)) / (30.44 * 86400e3);
	const cls = months > 12 ? "bad" : months > 6 ? "warn" : "ok";
	return h("span", { class: "badge " + cls, title: Math.floor(months) + " 个月前" }, fmtDate(d));
}

async function load() {
	const q = new URLSearchParams();
	for (const k of ["store", "model", "state"]) if ($("#" + k).value) q.set(k, $("#" + k).value);
	try {
		const r = await api("GET", "/api/stock" + (q.toString() ? "?" + q : ""));
		const total = r.items.reduce((a, x) => a + x.assets, 0);
		$("#total").textContent = `合计 ${fmtNum(total)} 件`;
		$("#stock tbody").replaceChildren(...r.items.map((x) => h("tr", {},
			h("td", {}, x.store), h("td", {}, x.model), h("td", {}, x.lot), h("td", {}, stateName(x.state)),
			h("td", { class: "num" }, fmtNum(x.assets)), h("td", {}, ageBadge(x.oldest_verified)),
			h("td", { class: "num" }, x.not_valid ? h("span", { class: "badge bad" }, fmtNum(x.not_valid)) : "0"))));
		message($("#msg"), "", "");
	} catch (e) {
		message($("#msg"), "error", e.message);
	}
}

const [locs, models] = await Promise.all([api("GET", "/api/locations"), api("GET", "/api/models")]);
$("#store").append(...locs.items.filter((l) => /store/.test(l.kind)).map((l) => h("option", { value: l.code }, l.name)));
$("#model").append(...models.items.map((m) => h("option", { value: m.code }, m.code)));
$("#state").append(...Object.entries(stateNames).map(([k, v]) => h("option", { value: k }, v)));
$("#filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
await load();
usable();

// seals.js — seals (计量印证): where every seal is (GET /api/seals), one
// seal's whole life (GET /api/seals/{code}/history), and for the store
// (permission seal.manage) receiving a batch, issuing to a team or a person
// and destroying, by scanning (POST /api/seals/receive|issue|destroy, all or
// nothing). Field members see their team's seals first. The database decides
// every rule; its refusal is shown as it comes.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, message, usable, done } from "./ui.js";
import { scanField } from "./scan.js";

const user = await boot("封印");
const can = user.permissions.includes("seal.manage");
const stateNames = { in_store: "在库", issued: "已发放", applied: "已施封", removed: "已拆封", destroyed: "已销毁" };
const badge = { in_store: "", issued: "warn", applied: "ok", removed: "", destroyed: "bad" };
const actionNames = { receive: "入库", issue: "发放", apply: "施封", remove: "拆封", destroy: "销毁" };
let scanned = [];

function where(s) {
	if (s.state === "applied" || s.state === "removed") return `表计 ${s.asset}` + (s.point ? `，计量点 ${s.point}` : "");
	return s.holder || (s.state === "in_store" ? "库房" : "—");
}

// Pages of seals by code (keyset: the server's "next" is where the following
// page starts); ?per=N in the page's URL sets the page size (default 500).
const per = Math.min(10000, Math.max(1, Number(new URLSearchParams(location.search).get("per")) || 500));
let shown = [], next = null;

async function load(more = false) {
	const q = new URLSearchParams({ limit: per });
	for (const [k, sel] of [["team", "#f-team"], ["state", "#f-state"], ["code", "#f-code"]])
		if ($(sel).value.trim()) q.set(k, $(sel).value.trim());
	// "mine": issued to me personally (a technician who seals) or to my team
	if ($("#f-mine").checked) q.set("mine", "true");
	if (more && next) q.set("after", next);
	const r = await api("GET", "/api/seals?" + q);
	next = r.next;
	shown = more ? shown.concat(r.items) : r.items;
	$("#total").textContent = next ? `已显示 ${fmtNum(shown.length)} 只，还有更多` : `共 ${fmtNum(shown.length)} 只`;
	$("#more").hidden = !next;
	$("#seals tbody").replaceChildren(...shown.map((s) => h("tr", { dataset: { code: s.code, state: s.state } },
		h("td", {}, h("a", { href: "#" + s.code, onclick: (e) => { e.preventDefault(); history(s.code); } }, s.code)),
		h("td", {}, h("span", { class: "badge " + (badge[s.state] || "") }, stateNames[s.state] || s.state)),
		h("td", { class: "where" }, where(s)), h("td", {}, s.batch), h("td", {}, s.changed_at))));
	if (!shown.length) $("#seals tbody").append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "没有符合条件的封印")));
}

function details(d) {
	const parts = [];
	if (d.batch) parts.push("批次 " + d.batch);
	if (d.team) parts.push("班组 " + d.team);
	if (d.person) parts.push("个人 " + d.person);
	if (d.point) parts.push("计量点 " + d.point);
	if (d.asset) parts.push("表计 " + d.asset);
	if (d.reason) parts.push("原因：" + d.reason);
	return parts.join("，");
}

async function history(code) {
	try {
		const r = await api("GET", "/api/seals/" + encodeURIComponent(code) + "/history");
		$("#detail").replaceChildren(h("h2", {}, "封印 ", h("code", { id: "h-code" }, code), " 的履历"),
			h("div", { class: "scroll" }, h("table", { id: "history" },
				h("thead", {}, h("tr", {}, h("th", {}, "时间"), h("th", {}, "动作"), h("th", {}, "操作人"), h("th", {}, "说明"))),
				h("tbody", {}, r.items.map((e) => h("tr", { dataset: { action: e.action } }, h("td", {}, e.at),
					h("td", {}, actionNames[e.action] || e.action), h("td", {}, `${e.actor_name}（${e.actor}）`), h("td", {}, details(e.details || {}))))))));
		if (window.innerWidth < 800) $("#detail").scrollIntoView(); // a phone shows the history, not the list
	} catch (e) {
		$("#detail").replaceChildren(h("div", { class: "msg error", role: "alert" }, e.message));
	}
}

const locs = await api("GET", "/api/locations");
const teams = locs.items.filter((l) => l.kind === "field_team");
for (const sel of ["#f-team", "#op-team"])
	$(sel).append(...teams.map((l) => h("option", { value: l.code }, `${l.name}（${l.code}）`)));
const mine = await api("GET", "/api/field/team");
if (mine.team) $("#f-team").value = mine.team; // a field member sees their team's seals first
$("#filter").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("#f-team").addEventListener("change", () => load());
$("#f-state").addEventListener("change", () => load());
$("#f-mine").addEventListener("change", () => load());
$("#more").addEventListener("click", () => load(true));
// a seal scanned into the search field shows its history at once
$("#f-code").addEventListener("keydown", (e) => {
	if (e.key !== "Enter") return;
	e.preventDefault();
	const c = $("#f-code").value.trim();
	load();
	if (c) history(c);
});

// ---- the store's work ----
function kind() { return $("#op-kind").value; }
function showKind() {
	for (const d of document.querySelectorAll("#op [data-for]")) d.hidden = d.dataset.for !== kind();
}
function counted() { $("#op-count").textContent = `已扫 ${fmtNum(scanned.length)} 只`; }
function clear() { scanned = []; $("#log").replaceChildren(); counted(); }

if (can) {
	$("#op").hidden = false;
	showKind();
	$("#op-kind").addEventListener("change", () => { showKind(); clear(); });
	$("#op-clear").addEventListener("click", clear);
	scanField($("#op-scan"), $("#log"), async (code) => {
		if (scanned.includes(code)) return { ok: false, text: "重复扫描" };
		if (kind() !== "receive") {
			// what the store holds now: the database decides again on submit
			const r = await api("GET", "/api/seals?code=" + encodeURIComponent(code));
			const s = r.items[0];
			if (!s) return { ok: false, text: "拒绝：封印未登记" };
			const fits = kind() === "issue" ? s.state === "in_store" : ["in_store", "issued", "removed"].includes(s.state);
			if (!fits) return { ok: false, text: `拒绝：${stateNames[s.state] || s.state}，不能${kind() === "issue" ? "发放" : "销毁"}` };
		}
		scanned.push(code);
		counted();
		return { ok: true, text: kind() === "receive" ? "待入库" : kind() === "issue" ? "在库，待发放" : "待销毁" };
	});
	$("#op").addEventListener("submit", async (ev) => {
		ev.preventDefault();
		if (!scanned.length) return message($("#msg"), "error", "还没有扫封印");
		const k = kind();
		const body = { codes: scanned };
		if (k === "receive") body.batch = $("#op-batch").value.trim();
		if (k === "issue") {
			if ($("#op-login").value.trim()) body.login = $("#op-login").value.trim();
			else body.team = $("#op-team").value;
		}
		if (k === "destroy") body.reason = $("#op-reason").value.trim();
		let r;
		try {
			r = await api("POST", "/api/seals/" + k, body, { idempotencyKey: newKey() });
		} catch (e) {
			r = null;
			message($("#msg"), "error", "被拒绝（一只都未处理）：" + e.message);
		}
		if (r) {
			const n = r.received ?? r.issued ?? r.destroyed;
			const to = body.team || body.login || "";
			clear();
			await done($("#msg"), k === "receive" ? `已入库 ${fmtNum(n)} 只（批次 ${body.batch}）`
				: k === "issue" ? `已发放 ${fmtNum(n)} 只给 ${to}` : `已销毁 ${fmtNum(n)} 只`, load);
		}
		$("#op-scan").focus();
	});
}
await load();
if (location.hash.length > 1) await history(decodeURIComponent(location.hash.slice(1)));
usable();

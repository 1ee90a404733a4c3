// labseal.js — sealing a verified meter in the lab (实验室施封, 0228): the
// technician's own seals (GET /api/seals?mine=true&state=issued, every page,
// those issued to them personally), a meter's barcode, then seals scanned, applied all or none
// (POST /api/seals/apply, permission seal.apply). A seal not in the
// person's hands is refused beside its code before sending; the database
// checks everything again (the meter in stock after a passed verification,
// each seal issued to this person and used once) and its refusal is shown.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtNum, message, usable, done } from "./ui.js";
import { scanField } from "./scan.js";

const user = await boot("实验室施封");
let mine = [], scanned = [];

// the person's seals in store (mine=true: issued to the person or their
// team; the personal ones kept), every page of them (keyset on the code):
// the centre's first 1000 issued seals may hold none of them
// ?per=N in the page's URL sets the page size (default 1000)
const per = Math.min(10000, Math.max(1, Number(new URLSearchParams(location.search).get("per")) || 1000));
async function load() {
	const all = [];
	for (let after = null; ;) {
		const r = await api("GET", "/api/seals?mine=true&state=issued&limit=" + per + (after ? "&after=" + encodeURIComponent(after) : ""));
		all.push(...r.items);
		if (!r.next || r.next === after) break;
		after = r.next;
	}
	mine = all.filter((s) => s.holder === user.login);
	$("#total").textContent = `共 ${fmtNum(mine.length)} 只`;
	$("#mine tbody").replaceChildren(...mine.map((s) => h("tr", { dataset: { code: s.code } }, h("td", {}, s.code), h("td", {}, s.batch), h("td", {}, s.changed_at))));
	if (!mine.length) $("#mine tbody").append(h("tr", {}, h("td", { colspan: 3, class: "muted" }, "您手上没有封印（请库管员发放给您本人）")));
}
function counted() { $("#count").textContent = `已扫 ${fmtNum(scanned.length)} 只`; }
function clear() { scanned = []; $("#log").replaceChildren(); counted(); }

$("#barcode").addEventListener("keydown", (e) => {
	if (e.key !== "Enter") return;
	e.preventDefault();
	$("#scan").focus(); // the meter first, then its seals
});
scanField($("#scan"), $("#log"), async (code) => {
	if (scanned.includes(code)) return { ok: false, text: "重复扫描" };
	if (!mine.some((s) => s.code === code)) return { ok: false, text: "拒绝：不是发给您本人的封印" };
	scanned.push(code);
	counted();
	return { ok: true, text: "待施封" };
});
$("#clear").addEventListener("click", clear);
$("#op").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const barcode = $("#barcode").value.trim();
	if (!barcode) return message($("#msg"), "error", "请先扫表计条码");
	if (!scanned.length) return message($("#msg"), "error", "还没有扫封印");
	let r;
	try {
		r = await api("POST", "/api/seals/apply", { barcode, codes: scanned }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "施封被拒绝（一只都未施封）：" + e.message);
	}
	clear();
	$("#barcode").value = "";
	await done($("#msg"), `已给表计 ${barcode} 施封 ${fmtNum(r.applied)} 只`, load);
	$("#barcode").focus();
});
if (!user.permissions.includes("seal.apply")) message($("#msg"), "warn", "您没有实验室施封权限（检定员），提交会被拒绝。");
await load();
$("#barcode").focus();
usable();

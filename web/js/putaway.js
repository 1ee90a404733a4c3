// putaway.js — put-away by scanning: a slot barcode (never 22 digits), then
// the assets that go into it; each asset is put away at once (all-or-nothing
// per scan through POST /api/stock/putaway), the refusal beside the code.
import { api, newKey } from "./api.js";
import { boot, $, fmtNum, usable } from "./ui.js";
import { scanField } from "./scan.js";

await boot("上架");
let slot = null, done = 0;

scanField($("#scan"), $("#log"), async (code) => {
	if (!/^\d{22}$/.test(code)) {
		slot = code;
		$("#slot").textContent = code;
		return { ok: true, text: "当前库位" };
	}
	if (!slot) return { ok: false, text: "请先扫库位条码" };
	try {
		await api("POST", "/api/stock/putaway", { codes: [slot, code] }, { idempotencyKey: newKey() });
	} catch (e) {
		const why = e.details && e.details.refused && e.details.refused[0];
		return { ok: false, text: "拒绝：" + (why ? why.message : e.message) };
	}
	$("#done").textContent = fmtNum(++done);
	return { ok: true, text: "已上架到 " + slot };
});
$("#scan").focus();
usable();

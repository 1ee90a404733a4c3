// board.js — every bench and run, live: the runs list, then the server's
// event stream (GET /api/events/runs, Server-Sent Events) moves each run's
// status and progress as the runner commits; the list is read again when
// the stream (re)opens and on 'resync'.
// Reference standards whose calibration runs out within 30 days are warned.
import { api, newKey } from "./api.js";
import { scanField } from "./scan.js";
import { boot, h, $, fmtDate, fmtNum, message, usable } from "./ui.js";

const user = await boot("检定台看板");
const statusNames = { pending: "待开始", running: "检定中", interrupted: "已中断", finished: "已完成", aborted: "已放弃" };
const badge = { running: "warn", finished: "ok", aborted: "bad", interrupted: "bad" };
const runs = new Map();

function row(r) {
	const pct = r.steps_total ? Math.round((100 * (r.steps_done || 0)) / r.steps_total) : 0;
	return h("tr", { id: "run-" + r.run_id, dataset: { status: r.status } },
		h("td", {}, h("a", { href: "/lab/run.html#" + r.run_id }, "#" + r.run_id)), h("td", {}, r.bench || ""), h("td", {}, r.scheme_code || ""),
		h("td", {}, h("span", { class: "badge " + (badge[r.status] || "") }, statusNames[r.status] || r.status)),
		h("td", {}, h("progress", { max: r.steps_total || 1, value: r.steps_done || 0, "aria-label": "进度" }), ` ${fmtNum(r.steps_done || 0)}/${fmtNum(r.steps_total || 0)}（${pct}%）`),
		h("td", {}, fmtDate(r.run_date)));
}

function draw() {
	const list = [...runs.values()].sort((a, b) => b.run_id - a.run_id);
	$("#runs tbody").replaceChildren(...list.map(row));
	if (!list.length) $("#runs tbody").append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "暂无检定任务")));
	const byBench = new Map();
	for (const r of list) if (!byBench.has(r.bench) || r.status === "running") byBench.set(r.bench, r);
	for (const [code, el] of benchTiles) {
		const r = byBench.get(code);
		el.querySelector(".state").textContent = r ? `#${r.run_id} ${statusNames[r.status] || r.status} ${r.steps_done || 0}/${r.steps_total}` : "空闲";
	}
}

// One run's event on the list: false for a run the list does not hold.
function apply(d) {
	const r = runs.get(d.run_id);
	if (!r) return false;
	if (d.event === "status") r.status = d.status;
	if (d.event === "step") r.steps_done = Math.max(r.steps_done || 0, d.step_no + 1); // step_no counts from 0
	return true;
}

// The list is read again each time the stream (re)opens: what changed
// while the page was not listening (the moment before the first open, a
// network break, a server restart) sends no event of its own. The events
// that arrive while the list is read may be newer than it: they are kept
// and applied again to the list read (they come in commit order, so the
// last one wins); a run they name that the list lacks is read once more.
let buffered = null;
async function loadRuns(again = false) {
	if (buffered) return; // a read is on its way; it takes this moment's events
	buffered = [];
	let missing = false;
	try {
		const r = await api("GET", "/api/runs?limit=50");
		runs.clear();
		for (const x of r.items) runs.set(x.run_id, x);
		for (const d of buffered) missing = !apply(d) || missing;
	} finally {
		buffered = null;
	}
	draw();
	if (missing && !again) await loadRuns(true);
}

const benchTiles = new Map();
const [benches, standards] = await Promise.all([api("GET", "/api/benches"), api("GET", "/api/standards")]);
$("#benches").replaceChildren(...benches.items.map((b) => {
	const el = h("div", { class: "tile", dataset: { bench: b.code } }, h("strong", {}, `${b.code} ${b.name}`), h("span", { class: "state" }, "空闲"), h("span", {}, ` · ${b.positions} 表位`));
	benchTiles.set(b.code, el);
	return el;
}));
const soon = Date.now() + 30 * 86400e3;
const expiring = standards.items.filter((s) => !s.certificate || new Date(s.certificate.valid_until) < soon);
$("#warn").replaceChildren(...expiring.map((s) => h("div", { class: "msg warn", role: "status" },
	`标准器 ${s.code} ${s.name}：` + (s.certificate ? `校准证书 ${s.certificate.cert_no} 有效期至 ${fmtDate(s.certificate.valid_until)}，即将到期` : "无有效校准证书"))));
await loadRuns();

const es = new EventSource("/api/events/runs");
es.addEventListener("open", () => { $("#live").textContent = "实时"; $("#live").className = "badge ok"; loadRuns(); });
es.addEventListener("error", () => { $("#live").textContent = "重连中…"; $("#live").className = "badge bad"; });
es.addEventListener("resync", () => loadRuns());
es.addEventListener("run", (ev) => {
	const d = JSON.parse(ev.data);
	if (buffered) buffered.push(d);
	if (!apply(d)) return void loadRuns(); // a new run: its bench and scheme come with the list
	draw();
});
// a new verification task (technicians: run.create): bench, scheme and the
// meters scanned into positions 1, 2, … in order; executed on the lab
// machine by `meterlab run start ID` (POST /api/runs).
if (user.permissions.includes("run.create")) {
	$("#task").hidden = false;
	$("#t-bench").replaceChildren(...benches.items.map((b) => h("option", { value: b.code }, `${b.code} ${b.name}（${b.positions} 表位）`)));
	// a bench without a driver connection is a manual bench: its runs are manual
	const manualOf = () => { const b = benches.items.find((x) => x.code === $("#t-bench").value); $("#t-manual").checked = !!b && b.uri === "manual"; };
	$("#t-bench").addEventListener("change", manualOf);
	manualOf();
	let positions = [];
	scanField($("#t-scan"), $("#log"), async (code) => {
		if (!/^\d{22}$/.test(code)) return { ok: false, text: "不是 22 位资产条码" };
		if (positions.includes(code)) return { ok: false, text: "已在表位 " + (positions.indexOf(code) + 1) };
		positions.push(code);
		return { ok: true, text: "表位 " + positions.length };
	});
	$("#t-clear").addEventListener("click", () => { positions = []; $("#log").replaceChildren(); $("#t-scan").focus(); });
	$("#task").addEventListener("submit", async (ev) => {
		ev.preventDefault();
		const body = { bench: $("#t-bench").value, scheme: $("#t-scheme").value.trim(), positions: positions.map((b, i) => `${i + 1}=${b}`) };
		if ($("#t-manual").checked) body.manual = true;
		if ($("#t-temp").value.trim()) body.temperature = $("#t-temp").value.trim();
		if ($("#t-hum").value.trim()) body.humidity = $("#t-hum").value.trim();
		try {
			const r = await api("POST", "/api/runs", body, { idempotencyKey: newKey() });
			message($("#msg"), "ok", `已创建任务 #${r.run_id}（在检定台电脑上执行 meterlab run start ${r.run_id}）`);
			$("#msg").dataset.run = r.run_id;
			positions = [];
			$("#log").replaceChildren();
		} catch (e) {
			message($("#msg"), "error", "创建被拒绝：" + e.message);
		}
	});
}
usable();

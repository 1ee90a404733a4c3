// board.js — every bench and run, live: the runs list once, then the
// server's event stream (GET /api/events/runs, Server-Sent Events) moves
// each run's status and progress as the runner commits; 'resync' refetches.
// Reference standards whose calibration runs out within 30 days are warned.
import { api } from "./api.js";
import { boot, h, $, fmtDate, fmtNum, usable } from "./ui.js";

await boot("检定台看板");
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

async function loadRuns() {
	const r = await api("GET", "/api/runs?limit=50");
	runs.clear();
	for (const x of r.items) runs.set(x.run_id, x);
	draw();
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
es.addEventListener("open", () => { $("#live").textContent = "实时"; $("#live").className = "badge ok"; });
es.addEventListener("error", () => { $("#live").textContent = "重连中…"; $("#live").className = "badge bad"; });
es.addEventListener("resync", loadRuns);
es.addEventListener("run", (ev) => {
	const d = JSON.parse(ev.data);
	const r = runs.get(d.run_id);
	if (!r) return void loadRuns(); // a new run: its bench and scheme come with the list
	if (d.event === "status") r.status = d.status;
	if (d.event === "step") r.steps_done = Math.max(r.steps_done || 0, d.step_no + 1); // step_no counts from 0
	draw();
});
usable();

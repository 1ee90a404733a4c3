// run.js — one run: its conclusions, every step result, and per load point
// an SVG plot of each meter's rounded error against the regulation limit
// (solid) and the internal limit (dashed). Errors are integers × 10⁴ from
// the server and are printed exactly; only the drawing uses floating point.
import { api, newKey } from "./api.js";
import { boot, e4, h, $, fmtDate, message, usable, done } from "./ui.js";

const user = await boot("检定任务");
const NS = "http://www.w3.org/2000/svg";
const verdictNames = { pass: "合格", fail: "不合格", none: "—" };
const statusNames = { pending: "待开始", running: "检定中", interrupted: "已中断", finished: "已完成", aborted: "已放弃" };

function svg(tag, attrs, ...kids) {
	const e = document.createElementNS(NS, tag);
	for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
	for (const k of kids) e.append(k);
	return e;
}

function plot(label, rows) {
	const W = 320, H = 180, L = 44, R = 8, T = 22, B = 24;
	const lim = Math.max(...rows.map((r) => Number(r.limit_e4 || 0)), 1);
	const top = lim * 1.3, n = rows.length;
	const y = (v) => T + (H - T - B) * (1 - (v + top) / (2 * top));
	const x = (i) => L + ((W - L - R) * (i + 0.5)) / n;
	const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": `${label} 误差图` });
	g.append(svg("text", { x: L, y: 14 }, label));
	g.append(svg("line", { x1: L, x2: W - R, y1: y(0), y2: y(0), stroke: "#999" }));
	for (const s of [1, -1]) {
		g.append(svg("line", { x1: L, x2: W - R, y1: y(s * lim), y2: y(s * lim), stroke: "#b3261e", "stroke-width": 1.5 }));
		const il = Number(rows[0].internal_limit_e4 || 0);
		if (il && il !== lim) g.append(svg("line", { x1: L, x2: W - R, y1: y(s * il), y2: y(s * il), stroke: "#9a6400", "stroke-dasharray": "4 3" }));
		g.append(svg("text", { x: 2, y: y(s * lim) + 4 }, (s > 0 ? "+" : "-") + e4(lim)));
	}
	rows.forEach((r, i) => {
		const v = Number(r.rounded_e4 ?? r.mean_e4 ?? 0);
		const bad = r.verdict === "fail";
		g.append(svg("circle", { cx: x(i), cy: y(Math.max(-top, Math.min(top, v))), r: 4, fill: bad ? "#b3261e" : "#1b7f3b" },
			svg("title", {}, `表位 ${r.position}：${e4(r.rounded_e4 ?? r.mean_e4)}%`)));
		g.append(svg("text", { x: x(i) - 4, y: H - 6 }, String(r.position)));
	});
	return h("div", { class: "card plot", dataset: { label } }, g);
}

// 手工检定: a manual run's readings typed in, one field per position and
// step (values as the paper shows them: errors in %, comma-separated; for
// creep/start/constant "pulses=N"), sent as lab/manual.h's text (POST
// /api/runs/{id}/manual), judged by the server like a driven run, all or
// nothing: a bad value is refused naming its line.
function manualForm(r) {
	const f = $("#manual-form");
	if (r.mode !== "manual" || !["pending", "running"].includes(r.status) || !user.permissions.includes("run.manual")) {
		f.hidden = true;
		return;
	}
	f.hidden = false;
	const cells = [];
	for (const p of r.positions) for (let s = 1; s <= r.steps_total; s++) {
		const fid = `m-${p.position}-${s}`;
		cells.push(h("div", {}, h("label", { for: fid }, `表位 ${p.position}（${p.barcode}）第 ${s} 步`),
			h("input", { id: fid, class: "reading", dataset: { position: p.position, step: s }, autocomplete: "off", inputmode: "decimal" })));
	}
	$("#manual-fields").replaceChildren(...cells);
	// Enter goes to the next field, as on paper; the last one submits
	const inputs = [...f.querySelectorAll("input.reading")];
	inputs.forEach((el, i) => el.addEventListener("keydown", (e) => {
		if (e.key !== "Enter" || i === inputs.length - 1) return;
		e.preventDefault();
		inputs[i + 1].focus();
	}));
}

async function recordManual(ev) {
	ev.preventDefault();
	const lines = [];
	for (const el of document.querySelectorAll("#manual-form input.reading")) {
		if (!el.value.trim()) {
			el.focus();
			return message($("#msg"), "error", `表位 ${el.dataset.position} 第 ${el.dataset.step} 步的读数未填`);
		}
		lines.push(`${el.dataset.position}, ${el.dataset.step}, ${el.value.trim()}`);
	}
	let r;
	try {
		r = await api("POST", `/api/runs/${id}/manual`, { readings: lines.join("\n") + "\n" }, { idempotencyKey: newKey() });
	} catch (e) {
		return message($("#msg"), "error", "读数被拒绝（未保存）：" + e.message);
	}
	await done($("#msg"), `已录入并判定：合格 ${r.passed} 只，不合格 ${r.failed} 只`, render);
}

// 开始检定: a driven run executed by this server (POST /api/runs/{id}/start,
// `meterlab serve --runners N`) as the person who clicks; its progress comes
// over GET /api/runs/{id}/events (Server-Sent Events: a status change or a
// completed step), and the page reads the run again when it ends. The
// server's refusals (409: executed already or by another process; 503: no
// runner here or all busy) are shown in its words.
let events = null;
function follow() {
	if (events) return;
	events = new EventSource(`/api/runs/${id}/events`);
	events.addEventListener("open", () => { $("#live").hidden = false; $("#live").textContent = "实时"; $("#live").className = "badge ok"; });
	events.addEventListener("error", () => { $("#live").textContent = "重连中…"; $("#live").className = "badge bad"; });
	events.addEventListener("resync", () => render());
	events.addEventListener("run", (ev) => {
		const d = JSON.parse(ev.data);
		if (d.run_id !== id) return;
		if (d.event === "step") {
			steps = Math.max(steps, d.step_no + 1); // step_no counts from 0
			$("#progress").textContent = `${steps}/${total}`;
		}
		// The stream's first event is the run as it is once the stream
		// listens: a run that started, or even ended, before the stream
		// opened (start() posts at once) sends no event of its own for
		// that. Only an ended run is read again from it; an interrupted
		// one may be resuming (its own events follow).
		if (d.event === "snapshot") {
			steps = Math.max(steps, d.steps_done);
			$("#progress").textContent = `${steps}/${total}`;
			if (!["finished", "aborted"].includes(d.status)) {
				$("#status").textContent = statusNames[d.status] || d.status;
				return;
			}
		}
		if (d.event === "status" || d.event === "snapshot") {
			$("#status").textContent = statusNames[d.status] || d.status;
			if (["finished", "aborted", "interrupted"].includes(d.status)) {
				// an interrupted run may still be aborted or resumed: keep listening then
				if (d.status !== "interrupted") {
					events.close();
					events = null;
					$("#live").hidden = true;
				}
				render().then(() => message($("#msg"), d.status === "finished" ? "ok" : "warn", `检定${statusNames[d.status] || d.status}`));
			}
		}
	});
}
let steps = 0, total = 0;

async function start(ev) {
	ev.preventDefault();
	$("#start").disabled = true;
	try {
		follow(); // its snapshot tells what happened before it listens
		const r = await api("POST", `/api/runs/${id}/start`, {}); // not replayable: no Idempotency-Key
		message($("#msg"), "ok", `已开始执行任务 #${r.run_id}`);
		$("#start-form").hidden = true;
	} catch (e) {
		if (events) { events.close(); events = null; $("#live").hidden = true; }
		message($("#msg"), "error", "开始被拒绝：" + e.message);
	} finally {
		$("#start").disabled = false;
	}
}

const id = Number(location.hash.slice(1));
addEventListener("hashchange", () => location.reload()); // another run's link: the page is per run
$("#manual-form").addEventListener("submit", recordManual);
$("#start-form").addEventListener("submit", start);
async function render() {
	const r = await api("GET", `/api/runs/${id}?results=true`);
	manualForm(r);
	$("#title").textContent = `检定任务 #${r.run_id}`;
	const dl = (k, v) => [h("dt", {}, k), h("dd", {}, v ?? "—")];
	steps = r.steps_done;
	total = r.steps_total;
	$("#head").replaceChildren(...dl("检定台", r.bench), ...dl("型号", r.model), ...dl("方案", `${r.scheme_code} v${r.scheme_version}`),
		h("dt", {}, "状态"), h("dd", { id: "status" }, statusNames[r.status] || r.status), h("dt", {}, "进度"), h("dd", { id: "progress" }, `${r.steps_done}/${r.steps_total}`),
		...dl("检定日期", fmtDate(r.run_date)), ...dl("检定员", r.operator));
	$("#start-form").hidden = !(r.mode !== "manual" && ["pending", "interrupted"].includes(r.status) && user.permissions.includes("run.execute"));
	if (r.status === "running") follow();
	// an unfinished run may be abandoned by a technician (its meters go back to re-verification)
	if (["pending", "interrupted", "running"].includes(r.status) && user.permissions.includes("run.execute")) {
		$("#abort-form").hidden = false;
		$("#abort-form").onsubmit = async (ev) => {
			ev.preventDefault();
			try {
				await api("POST", `/api/runs/${id}/abort`, $("#abort-reason").value.trim() ? { reason: $("#abort-reason").value.trim() } : {}, { idempotencyKey: newKey() });
				await render();
				message($("#msg"), "ok", "已放弃任务，表计退回待复检");
			} catch (e) {
				message($("#msg"), "error", "放弃被拒绝：" + e.message);
			}
		};
	} else $("#abort-form").hidden = true;
	const pos = new Map(r.positions.map((p) => [p.asset_id, p]));
	$("#conclusions tbody").replaceChildren(...r.conclusions.filter((c) => c.item === "overall").map((c) => h("tr", {},
		h("td", {}, pos.get(c.asset_id)?.position ?? ""), h("td", {}, pos.get(c.asset_id)?.barcode ?? ""),
		h("td", {}, h("span", { class: "badge " + (c.verdict === "pass" ? "ok" : "bad") }, verdictNames[c.verdict])), h("td", {}, fmtDate(c.valid_until)))));
	const results = r.results || [];
	$("#results tbody").replaceChildren(...results.map((x) => h("tr", {},
		h("td", {}, x.step_no), h("td", {}, x.label), h("td", {}, x.position), h("td", { class: "num" }, e4(x.rounded_e4)),
		h("td", { class: "num" }, e4(x.limit_e4)), h("td", {}, verdictNames[x.verdict] || x.verdict))));
	const byPoint = new Map();
	for (const x of results) if (x.kind === "basic" || x.limit_e4 !== null && (x.rounded_e4 !== null || x.mean_e4 !== null)) {
		const k = x.step_no + " " + x.label;
		if (!byPoint.has(k)) byPoint.set(k, []);
		byPoint.get(k).push(x);
	}
	$("#plots").replaceChildren(...[...byPoint.entries()].map(([k, rows]) => plot(k.replace(/^\d+ /, ""), rows)));
}
if (!id) message($("#msg"), "error", "请从检定台看板选择一个任务");
else await render();
usable();

// ui.js — small helpers shared by every page: building elements, Chinese
// number and date formats, the top bar with the person's pages, the
// "usable" mark the browser tests measure, and the scan sounds.
import { whoami, logout } from "./api.js";

// h("td", {class: "num"}, "12", child…): an element; text is always text (never HTML).
export function h(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
		else if (k === "dataset") Object.assign(e.dataset, v);
		else e.setAttribute(k, v === true ? "" : v);
	}
	for (const c of children.flat()) {
		if (c === null || c === undefined || c === false) continue;
		e.append(c instanceof Node ? c : String(c));
	}
	return e;
}

export const $ = (sel, root = document) => root.querySelector(sel);

const numFmt = new Intl.NumberFormat("zh-CN");
export function fmtNum(n) {
	if (n === null || n === undefined || n === "") return "";
	return typeof n === "number" ? numFmt.format(n) : String(n);
}
// 2026-12-04 → 2026年12月4日 (a date of the lab, not converted between zones)
export function fmtDate(s) {
	if (!s) return "";
	const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
	return m ? `${m[1]}年${+m[2]}月${+m[3]}日` : s;
}
// a timestamp, shown in China Standard Time: 2026/12/4 13:05
export function fmtTime(s) {
	if (!s) return "";
	const d = new Date(s);
	if (isNaN(d)) return s;
	return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false, year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

// an integer × 10⁴ (an error in % as the server sends it) as an exact decimal: -1234 → "-0.1234"
export function e4(v) {
	if (v === null || v === undefined) return "";
	const n = BigInt(v), neg = n < 0n, a = neg ? -n : n;
	const f = (a % 10000n).toString().padStart(4, "0").replace(/0+$/, "");
	return (neg ? "-" : "") + (a / 10000n).toString() + (f ? "." + f : "");
}

// A State Grid asset barcode: 22 digits, the last a check digit (GS1-style
// mod-10 over the first 21, weight 3 on positions 1, 3, …, 21 from the left,
// weight 1 on the others; assets/barcode.c, domain.md). What is wrong with
// code, in words for the person, or "" when it is a valid barcode.
export function barcodeProblem(code) {
	if (!/^\d{22}$/.test(code)) return `条码 ${code} 应为 22 位数字（现为 ${code.length} 位）`;
	let sum = 0;
	for (let i = 0; i < 21; i++) sum += (code.charCodeAt(i) - 48) * (i % 2 === 0 ? 3 : 1);
	const want = (10 - (sum % 10)) % 10;
	return +code[21] === want ? "" : `条码 ${code} 的校验位是 ${code[21]}，应为 ${want}：请重新扫描或核对`;
}

export const stateNames = {
	arrived: "到货待检", sampling: "抽检中", verifying: "检定中", in_stock: "在库（中心）",
	failed: "检定不合格", in_transit: "在途", secondary_stock: "在库（二级库）", issued: "已领用",
	installed: "已安装", removed: "已拆回", fault_analysis: "故障分析", reverify: "待复检",
	returned_to_maker: "退厂", scrapped: "报废", lost: "丢失",
};
export const stateName = (s) => stateNames[s] || s;

// The pages a person sees, by role (a page's API refuses whoever lacks the permission anyway).
export const pages = [
	{ href: "/wh/orders.html", title: "配送单", desc: "建单、扫码拣货、发运、收货", roles: ["warehouse_clerk"] },
	{ href: "/wh/delivery.html", title: "到货接收", desc: "上传到货清单，逐行核对", roles: ["warehouse_clerk"] },
	{ href: "/wh/putaway.html", title: "上架", desc: "扫库位，再扫资产", roles: ["warehouse_clerk"] },
	{ href: "/wh/count.html", title: "盘点", desc: "扫码盘点，盘盈盘亏随扫随算", roles: ["warehouse_clerk", "manager"] },
	{ href: "/wh/reverify.html", title: "待复检", desc: "过期或久存的库存，送检", roles: ["warehouse_clerk"] },
	{ href: "/wh/seals.html", title: "封印", desc: "封印入库、发放，每只封印的去向与履历", roles: ["warehouse_clerk", "manager", "field_member", "lab_technician"] },
	{ href: "/wh/retire.html", title: "返厂与报废", desc: "一人申请，另一人审批", roles: ["warehouse_clerk", "quality_analyst", "manager"] },
	{ href: "/wh/stock.html", title: "库存", desc: "按库房、型号、状态", roles: ["warehouse_clerk", "manager"] },
	{ href: "/field/", title: "现场作业", desc: "装表、换表、故障上报（可离线）", roles: ["field_member"] },
	{ href: "/lab/board.html", title: "检定台看板", desc: "各检定台与任务的实时状态", roles: ["lab_technician", "checker", "approver", "quality_analyst", "manager"] },
	{ href: "/lab/certs.html", title: "证书审核", desc: "核验、批准（双人复核）", roles: ["checker", "approver", "lab_technician"] },
	{ href: "/lab/seal.html", title: "实验室施封", desc: "检定合格的表计用本人的封印加封", roles: ["lab_technician"] },
	{ href: "/lab/faults.html", title: "故障分析", desc: "现场故障表计的分析结论，仲裁检定的关联", roles: ["lab_technician", "quality_analyst", "manager"] },
	{ href: "/plan/orders.html", title: "换表工单", desc: "周期轮换、检验不合格的换表，逾期一目了然", roles: ["field_member", "manager"] },
	{ href: "/plan/inspect.html", title: "现场检验", desc: "便携标准表测误差，服务器判定", roles: ["field_member", "manager"] },
	{ href: "/plan/watch.html", title: "稽查监控", desc: "异常待办：查看证据、整改后关闭", roles: ["manager", "quality_analyst", "warehouse_clerk", "lab_technician", "field_member", "approver", "auditor"] },
	{ href: "/manager.html", title: "管理概览", desc: "库存、临期资产、今日检定、合格率", roles: ["manager", "admin"] },
	{ href: "/tokens.html", title: "API 令牌", desc: "扫码枪、对接系统用的令牌：新建、吊销", roles: null },
	{ href: "/check.html", title: "证书查验", desc: "输入证书编号与查验码", roles: null },
];

export const roleNames = {
	admin: "管理员", warehouse_clerk: "库管员", lab_technician: "检定员", checker: "核验员",
	approver: "批准人", field_member: "装接人员", quality_analyst: "质量分析员", manager: "主管", auditor: "审计员",
};

export function pagesFor(user) {
	return pages.filter((p) => !p.roles || p.roles.some((r) => user.roles.includes(r)));
}

// Log in first (or come back here afterwards), draw the top bar; the person.
export async function boot(title) {
	const user = await whoami();
	if (!user) {
		location.replace("/login.html?next=" + encodeURIComponent(location.pathname + location.search + location.hash));
		return new Promise(() => {});
	}
	document.title = title + " · 计量资产管理";
	const nav = h("nav", { "aria-label": "页面" }, h("a", { href: "/" }, "首页"),
		pagesFor(user).filter((p) => p.roles).map((p) => h("a", { href: p.href }, p.title)),
		user.session === "browser" ? h("a", { href: "/password.html" }, "修改密码") : null,
		h("a", { href: "/tokens.html" }, "API 令牌"));
	// Logging out that did not reach the server leaves the session valid: say
	// so, and stay (the person may be leaving a shared computer).
	const out = h("button", { class: "link", type: "button", id: "logout", onclick: async () => {
		try {
			await logout();
		} catch (e) {
			const box = $("#msg") || document.body;
			box.prepend(h("div", { class: "msg error", role: "alert", id: "logout-failed" }, "退出失败，您仍处于登录状态：" + e.message));
			return;
		}
		location.href = "/login.html";
	} }, "退出");
	const bar = h("header", { class: "top" }, h("span", { class: "brand" }, "计量资产管理"), nav,
		h("span", { class: "who", id: "who" }, `${user.display_name}（${user.roles.map((r) => roleNames[r] || r).join("、")}）`), out);
	document.body.prepend(bar);
	return user;
}

// The page shows what it is for: the browser tests measure up to here.
export function usable() {
	if (document.body.dataset.ready) return;
	performance.mark("usable");
	document.body.dataset.ready = "1";
}

export function message(box, kind, text) {
	box.replaceChildren(text ? h("div", { class: "msg " + kind, role: kind === "error" ? "alert" : "status" }, text) : "");
}

// A change the server accepted: said at once, whatever happens next. Then the
// page reads its data again (reload, may be null); if that fails, the change
// still stands and the person is told the page is stale, not that the change
// was refused (W8: the reload used to share the change's try/catch).
export async function done(box, text, reload) {
	message(box, "ok", text);
	if (!reload) return;
	try {
		await reload();
		message(box, "ok", text); // again: a reload may redraw the box
	} catch (e) {
		message(box, "ok", text);
		box.append(h("div", { class: "msg warn", role: "status", dataset: { refresh: "failed" } }, "已完成，但刷新页面数据失败，请刷新页面：" + e.message));
	}
}

// Two sounds a person tells apart without looking: accepted (short, high), refused (long, low, twice).
let audio;
export function beep(ok) {
	try {
		audio = audio || new AudioContext();
		const t = audio.currentTime;
		const tones = ok ? [[1320, 0, 0.08]] : [[220, 0, 0.18], [180, 0.22, 0.18]];
		for (const [f, at, len] of tones) {
			const o = audio.createOscillator(), g = audio.createGain();
			o.type = ok ? "sine" : "square";
			o.frequency.value = f;
			g.gain.value = 0.15;
			o.connect(g).connect(audio.destination);
			o.start(t + at);
			o.stop(t + at + len);
		}
	} catch (e) {
		/* no sound here: the colour and the text still say it */
	}
}

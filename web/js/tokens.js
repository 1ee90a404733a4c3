// tokens.js — a person's API tokens (server/README.md, *Credentials*): make
// one scoped to some of one's roles with a lifetime (POST /api/tokens; the
// token is shown once, only its hash is stored), list them (GET
// /api/tokens; an administrator may name another person) and revoke one
// with a reason (POST /api/tokens/{id}/revoke). Only a password session
// makes tokens: the server refuses a token making tokens.
import { api, newKey } from "./api.js";
import { boot, h, $, fmtTime, message, roleNames, usable } from "./ui.js";

const user = await boot("API 令牌");
const admin = user.permissions.includes("user.admin");
let whose = "";
// roles come as a PostgreSQL array's text, "{warehouse_clerk,lab_technician}"
// "2027-01-03 07:47:39+08" (to_char's OF) as an ISO time a Date reads
const iso = (t) => t ? t.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00") : t;
const roleList = (v) => Array.isArray(v) ? v : String(v || "").replace(/^\{|\}$/g, "").split(",").filter(Boolean);

async function load() {
	const r = await api("GET", "/api/tokens" + (whose ? "?login=" + encodeURIComponent(whose) : ""));
	$("#list tbody").replaceChildren(...r.items.map((t) => {
		const live = !t.revoked_at && new Date(iso(t.expires_at)) > new Date();
		const reason = h("input", { id: "why-" + t.token_id, maxlength: 500, autocomplete: "off" });
		return h("tr", { id: "tok-" + t.token_id, dataset: { live: live ? "1" : "0" } },
			h("td", {}, "#" + t.token_id), h("td", {}, t.label + (whose ? `（${t.login}）` : "")),
			h("td", {}, roleList(t.roles).map((x) => roleNames[x] || x).join("、")),
			h("td", {}, fmtTime(iso(t.expires_at))), h("td", {}, t.last_seen_at ? fmtTime(iso(t.last_seen_at)) : "未用过"),
			h("td", { class: "state" }, t.revoked_at ? h("span", {}, h("span", { class: "badge bad" }, "已吊销"), " " + (t.revoked_reason || ""))
				: !live ? h("span", { class: "badge" }, "已过期")
				: h("div", {}, h("span", { class: "badge ok" }, "有效"),
					h("label", { for: "why-" + t.token_id }, "吊销原因"), reason,
					h("button", { type: "button", class: "secondary revoke", onclick: () => revoke(t.token_id) }, "吊销"))));
	}));
	if (!r.items.length) $("#list tbody").append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "没有令牌")));
}

async function revoke(id) {
	const reason = $("#why-" + id).value.trim();
	if (!reason) return message($("#msg"), "error", "请填写吊销原因");
	try {
		await api("POST", `/api/tokens/${id}/revoke`, { reason }, { idempotencyKey: newKey() });
		await load();
		message($("#msg"), "ok", `令牌 #${id} 已吊销，立即失效`);
	} catch (e) {
		message($("#msg"), "error", "吊销被拒绝：" + e.message);
	}
}

$("#roles").append(...user.roles.map((r) => h("label", { class: "check" },
	h("input", { type: "checkbox", name: "role", value: r }), `${roleNames[r] || r}（${r}）`)));
if (user.session !== "browser") {
	$("#go").disabled = true;
	message($("#msg"), "warn", "用 API 令牌登录时不能新建令牌，请用密码登录。");
}
$("#create").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const roles = [...document.querySelectorAll("input[name=role]:checked")].map((c) => c.value);
	if (!roles.length) return message($("#msg"), "error", "请至少选择一个角色");
	try {
		const r = await api("POST", "/api/tokens", { label: $("#label").value.trim(), roles, ttl_days: Number($("#days").value) });
		const box = h("input", { id: "token", readonly: true, value: r.token, "aria-describedby": "token-help" });
		$("#secret").replaceChildren(h("div", { class: "msg warn", role: "status" },
			h("label", { for: "token" }, `令牌 #${r.token_id}（只显示这一次，请立即复制保存）`), box,
			h("p", { id: "token-help" }, "关闭或刷新页面后无法再看到它；丢失请吊销后重新生成。"),
			h("button", { type: "button", class: "secondary", onclick: () => { box.select(); navigator.clipboard?.writeText(r.token).catch(() => {}); } }, "复制")));
		box.select();
		$("#create").querySelectorAll("input[name=role]").forEach((c) => { c.checked = false; });
		$("#label").value = "";
		whose = "";
		await load();
		message($("#msg"), "ok", `已生成令牌 #${r.token_id}`);
	} catch (e) {
		message($("#msg"), "error", "生成被拒绝：" + e.message);
	}
});
if (admin) {
	$("#whose").hidden = false;
	$("#whose").addEventListener("submit", (e) => { e.preventDefault(); whose = $("#login").value.trim(); load(); });
}
await load();
usable();

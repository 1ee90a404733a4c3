// api.js — the one way the pages talk to `meterlab serve` (server/README.md).
// Browser sessions live in the HttpOnly cookie; every change (POST) carries
// the session's CSRF token (X-CSRF-Token), which login and whoami return.
// Every failure is the server's one error shape, thrown as ApiError.

export class ApiError extends Error {
	constructor(status, code, message, details) {
		super(message);
		this.status = status;
		this.code = code;
		this.details = details || {};
	}
}

let csrf = sessionStorage.getItem("ml_csrf") || "";
// The login of the session the token belongs to: a change this tab sends
// passes the CSRF check only while the cookie is still that session, so a
// change that goes through acts for this person (the field queue relies on it).
let csrfLogin = sessionStorage.getItem("ml_csrf_login") || "";

export function setCsrf(token, login) {
	csrf = token || "";
	csrfLogin = (csrf && login) || "";
	if (csrf) sessionStorage.setItem("ml_csrf", csrf);
	else sessionStorage.removeItem("ml_csrf");
	if (csrfLogin) sessionStorage.setItem("ml_csrf_login", csrfLogin);
	else sessionStorage.removeItem("ml_csrf_login");
}

// Whom this tab's changes act for ("" before whoami or login told it).
export function actingLogin() {
	return csrfLogin;
}

// method, path, optional JSON body, optional { idempotencyKey }.
export async function api(method, path, body, opts = {}) {
	const headers = { Accept: "application/json" };
	if (method !== "GET") {
		headers["Content-Type"] = "application/json";
		if (csrf) headers["X-CSRF-Token"] = csrf;
		if (opts.idempotencyKey) headers["Idempotency-Key"] = opts.idempotencyKey;
	}
	let res;
	try {
		res = await fetch(path, {
			method,
			headers,
			body: method === "GET" ? undefined : JSON.stringify(body || {}),
			credentials: "same-origin",
			cache: "no-store",
		});
	} catch (e) {
		throw new ApiError(0, "offline", "无法连接服务器（网络中断？）");
	}
	const text = await res.text();
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch (e) {
		data = null;
	}
	if (!res.ok) {
		const e = (data && data.error) || {};
		throw new ApiError(res.status, e.code || "http_" + res.status, explain(res.status, e), e.details);
	}
	return data;
}

// The server's messages are English and name the offending value; the
// person reads a Chinese sentence first, the server's words after it.
const codes = {
	unauthenticated: "请先登录",
	forbidden: "无权执行此操作",
	not_found: "未找到",
	conflict: "与当前状态冲突",
	state: "当前状态不允许此操作",
	exists: "已存在",
	invalid_input: "输入有误",
	bad_credentials: "登录名或密码错误",
	throttled: "尝试次数过多，请稍后再试",
	rate_limited: "请求过于频繁，请稍后再试",
	csrf: "页面已过期，请刷新",
	no_runner: "本服务器不执行检定（未以 --runners 启动），请在检定机上执行",
	runner_busy: "服务器的检定执行能力已用满，请稍后再试",
	stopping: "服务器正在停止",
};

// codes whose Chinese sentence says it all (the server's words add nothing for the person)
const plain = new Set(["unauthenticated", "bad_credentials", "throttled", "rate_limited", "csrf"]);

function explain(status, e) {
	const zh = codes[e.code] || (status >= 500 ? "服务器错误" : "请求被拒绝");
	return e.message && !plain.has(e.code) ? zh + "：" + e.message : zh;
}

// The person of this session (roles, permissions, CSRF token), or null when not logged in.
export async function whoami() {
	try {
		const u = await api("GET", "/api/whoami");
		if (u.csrf_token) setCsrf(u.csrf_token, u.login);
		return u;
	} catch (e) {
		if (e.status === 401) {
			setCsrf("");
			return null;
		}
		throw e;
	}
}

export async function login(loginName, password) {
	const u = await api("POST", "/api/login", { login: loginName, password });
	setCsrf(u.csrf_token, u.login);
	return u;
}

// Throws when the server did not end the session (network down, 5xx): the
// session is still valid and the caller must say so. A session that had
// ended already (401) counts as logged out.
export async function logout() {
	try {
		await api("POST", "/api/logout", {});
	} catch (e) {
		if (e.status !== 401) throw e;
	}
	setCsrf("");
}

// A fresh Idempotency-Key (8–128 printable ASCII; server/README.md).
export function newKey() {
	if (crypto.randomUUID) return crypto.randomUUID();
	const b = crypto.getRandomValues(new Uint8Array(16));
	return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

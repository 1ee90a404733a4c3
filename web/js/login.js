// login.js — the password form; back to the page that sent the person here.
import { login } from "./api.js";
import { $, message, usable } from "./ui.js";

function next() {
	const n = new URLSearchParams(location.search).get("next") || "/";
	// Only a path of this site. The URL parser drops tabs and newlines and
	// reads a backslash as a slash, so "/\t/evil" or "/\\evil" would become
	// "//evil" (another site): no control character, whitespace or backslash,
	// one leading slash, and resolved it must stay on this origin.
	if (!/^\/(?!\/)/.test(n) || /[\x00-\x20\x7f\\]/.test(n)) return "/";
	let u;
	try {
		u = new URL(n, location.origin);
	} catch (e) {
		return "/";
	}
	if (u.origin !== location.origin || u.pathname.startsWith("//")) return "/";
	return u.pathname + u.search + u.hash;
}

$("#login").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const go = $("#go");
	go.disabled = true;
	message($("#msg"), "", "");
	try {
		await login($("#user").value.trim(), $("#pw").value);
		location.replace(next());
	} catch (e) {
		message($("#msg"), "error", e.message);
		$("#pw").select();
	} finally {
		go.disabled = false;
	}
});
usable();

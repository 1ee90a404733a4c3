// login.js — the password form; back to the page that sent the person here.
import { login } from "./api.js";
import { $, message, usable } from "./ui.js";

function next() {
	const n = new URLSearchParams(location.search).get("next") || "/";
	// only a path of this site (never //elsewhere or a scheme)
	return /^\/(?!\/)[^\\]*$/.test(n) ? n : "/";
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

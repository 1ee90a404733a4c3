// check.js — typing a certificate's number and code opens the same page the QR code opens.
import { $, usable } from "./ui.js";

$("#check").addEventListener("submit", (ev) => {
	ev.preventDefault();
	const n = $("#number").value.trim(), c = $("#code").value.trim();
	location.href = "/verify/" + encodeURIComponent(n) + "?code=" + encodeURIComponent(c) + "&format=html";
});
usable();

// scan.js — the keyboard-wedge scan field. A scanner types the code and
// Enter into the focused field, as fast as every half second or faster. Each
// Enter takes the code at once (the field is emptied for the next one, and
// never disabled, so focus stays), and the codes are handled strictly one
// after another in the order they came: handle(code) of the next starts
// when the previous one's promise settled. Each code gets a line in the log
// (newest on top): waiting, then accepted or refused with the reason beside
// the code, and a sound (ui.beep) that tells the two apart without looking.
// On phones, a camera button scans through BarcodeDetector where the
// browser has it (tested with a stand-in detector and camera in chromium,
// tests/web/run.py t_camera; no real camera was tried).
import { h, beep } from "./ui.js";

// input: the <input>; log: an <ol class="scans">; handle(code, li) → {ok, text}
// (li: the code's line in the log, for a page that adds to it).
export function scanField(input, log, handle) {
	const queue = [];
	let busy = false;
	let seq = 0;

	async function drain() {
		if (busy) return;
		busy = true;
		while (queue.length) {
			const { code, li } = queue.shift();
			let r;
			try {
				r = await handle(code, li);
			} catch (e) {
				r = { ok: false, text: e.message };
			}
			li.className = r.ok ? "ok" : "bad";
			li.querySelector(".why").textContent = r.text || (r.ok ? "已处理" : "被拒绝");
			beep(r.ok);
		}
		busy = false;
		input.dispatchEvent(new CustomEvent("scans-idle"));
	}

	function take(raw) {
		const code = raw.trim();
		if (!code) return;
		const li = h("li", { class: "wait", dataset: { code, seq: ++seq } },
			h("span", { class: "code" }, code), h("span", { class: "why" }, "处理中…"));
		log.prepend(li);
		queue.push({ code, li });
		drain();
	}

	// A scanner ends a code with Enter, or with Tab where it is set up so:
	// a Tab after a typed code takes it and keeps the focus here for the
	// next one; a Tab in the empty field moves the focus on as usual.
	input.addEventListener("keydown", (ev) => {
		if (ev.key !== "Enter" && !(ev.key === "Tab" && !ev.shiftKey && input.value.trim())) return;
		ev.preventDefault();
		const v = input.value;
		input.value = "";
		take(v);
	});
	// a pasted list (or a scanner that pastes): every line is a code
	input.addEventListener("paste", (ev) => {
		const t = ev.clipboardData.getData("text");
		if (!/[\r\n\t]/.test(t)) return;
		ev.preventDefault();
		t.split(/[\r\n\t]+/).forEach(take);
	});
	input.setAttribute("autocomplete", "off");
	input.setAttribute("autocapitalize", "off");
	input.setAttribute("spellcheck", "false");
	input.setAttribute("enterkeyhint", "send");
	cameraButton(input, take);
	return { take, pending: () => queue.length + (busy ? 1 : 0) };
}

function cameraButton(input, take) {
	if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
	const btn = h("button", { type: "button", class: "secondary", "aria-label": "用摄像头扫码" }, "摄像头扫码");
	input.after(btn);
	btn.addEventListener("click", async () => {
		const det = new window.BarcodeDetector({ formats: ["code_128", "qr_code", "ean_13", "data_matrix"] });
		const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
		const video = h("video", { playsinline: true, muted: true, class: "pdf" });
		btn.after(video);
		video.srcObject = stream;
		await video.play();
		let last = "", stop = false, byCode = false;
		const done = h("button", { type: "button", onclick: () => { stop = true; } }, "停止");
		video.after(done);
		while (!stop) {
			const codes = await det.detect(video).catch(() => []);
			for (const c of codes) if (c.rawValue !== last) {
				last = c.rawValue;
				if (take(c.rawValue) === true) stop = byCode = true; // one code was all it wanted (focus moved on)
			}
			await new Promise((r) => setTimeout(r, 250));
		}
		stream.getTracks().forEach((t) => t.stop());
		video.remove();
		done.remove();
		if (!byCode) input.focus();
	});
}

// A camera button beside one field (phones): the first code seen fills it
// and the focus moves on. Only where the browser offers BarcodeDetector.
export function cameraInto(input, next) {
	cameraButton(input, (code) => {
		input.value = code;
		input.dispatchEvent(new Event("input", { bubbles: true })); // the page's checks see it as typed
		if (next) next.focus();
		return true;
	});
}

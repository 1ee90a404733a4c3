// password.js — change one's own password (POST /api/password: the old one
// is checked; every other session and API token of the person ends).
import { api } from "./api.js";
import { boot, $, message, usable } from "./ui.js";

const user = await boot("修改密码");
$("#username").value = user.login;
$("#pwform").addEventListener("submit", async (ev) => {
	ev.preventDefault();
	if ($("#new").value !== $("#again").value) return message($("#msg"), "error", "两次输入的新密码不一致");
	$("#go").disabled = true;
	try {
		const r = await api("POST", "/api/password", { old_password: $("#old").value, new_password: $("#new").value });
		message($("#msg"), "ok", `密码已修改；其他 ${r.sessions_ended} 个登录已退出`);
		$("#pwform").reset();
	} catch (e) {
		message($("#msg"), "error", "修改被拒绝：" + e.message);
	} finally {
		$("#go").disabled = false;
	}
});
usable();

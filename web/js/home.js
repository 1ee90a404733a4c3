// home.js — the home page of each role: the person's pages as tiles.
import { boot, h, $, pagesFor, roleNames, usable } from "./ui.js";

const user = await boot("首页");
$("#hello").textContent = `您好，${user.display_name}`;
$("#tiles").replaceChildren(...pagesFor(user).map((p) =>
	h("a", { class: "tile", href: p.href, dataset: { page: p.href } }, h("strong", {}, p.title), h("span", {}, p.desc))));
$("#extra").replaceChildren(h("p", { class: "muted" }, "角色：" + user.roles.map((r) => roleNames[r] || r).join("、")));
usable();

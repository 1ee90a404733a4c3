#!/usr/bin/python3
"""Browser tests of the web pages (issue 13), run by ctest.

web_fixture (tests/web/web_fixture.cc) makes a fresh database with people,
certificates, stores and assets, starts a real `meterlab serve` serving
web/, and takes commands on stdin (stop/start the server, one SQL value).
python3-selenium drives Debian's headless chromium (chromium-driver).

Every page is captured at 1280x800 and 390x844 into OUT/screenshots/, and
for every page's first load (cache cleared) the bytes transferred (the
Resource Timing API's transferSize of the document and of everything it
fetched) and the time until the page marked itself usable
(performance.mark("usable"), set when its data is shown) go to
OUT/web-metrics.json. Assertions read what the page shows.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

SIZES = [(1280, 800, False), (390, 844, True)]


class Fixture:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("web_fixture did not start (see its standard error)")
        self.data = json.loads(line)
        self.base = "http://127.0.0.1:%d" % self.data["port"]

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def sql(self, q):
        return json.loads(self.cmd("sql " + q.replace("\n", " ")))

    def close(self):
        try:
            self.cmd("quit")
        except Exception:
            pass
        try:
            self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()


class Browser:
    def __init__(self, fx, out):
        self.fx = fx
        self.out = out
        self.shots = os.path.join(out, "screenshots")
        os.makedirs(self.shots, exist_ok=True)
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
                  "--window-size=1280,800", "--lang=zh-CN", "--no-first-run",
                  "--disable-extensions", "--mute-audio", "--autoplay-policy=no-user-gesture-required"):
            o.add_argument(a)
        if os.geteuid() == 0:
            o.add_argument("--no-sandbox")  # chromium's sandbox refuses to run as root
        o.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.d.set_page_load_timeout(20)
        self.metrics = {}
        self.size(*SIZES[0])

    def size(self, w, hgt, mobile):
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": w, "height": hgt, "deviceScaleFactor": 1, "mobile": mobile})

    def get(self, path):
        self.d.get(self.fx.base + path)

    def get_ready(self, path):
        """Open path and wait until its page is usable. A path that differs from
        the page shown only in its #fragment loads no new document: the page
        reloads itself on hashchange, a moment later, and until then ready()
        would see the old page. The old page's ready mark is cleared first."""
        self.d.execute_script("delete document.body.dataset.ready")
        self.get(path)
        self.ready()

    def wait(self, cond, timeout=10, what="condition"):
        try:
            # A page that re-renders replaces the elements a condition looked up:
            # a stale element means "not yet", so look again.
            return WebDriverWait(self.d, timeout, poll_frequency=0.05,
                                 ignored_exceptions=[StaleElementReferenceException]).until(lambda d: cond())
        except TimeoutException:
            raise AssertionError("timed out waiting for " + what + " on " + self.d.current_url)

    def ready(self, timeout=10):
        self.wait(lambda: self.d.execute_script(
            "return document.readyState === 'complete' && (!document.querySelector('script[type=module]') || !!document.body.dataset.ready)"),
            timeout, "the page to be usable")

    def css(self, sel):
        return self.d.find_element(By.CSS_SELECTOR, sel)

    def csss(self, sel):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def text(self, sel):
        return self.css(sel).text

    def wait_text(self, sel, want, timeout=10):
        def has():  # read in the page: an element being redrawn is never stale there
            texts = self.d.execute_script(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)", sel)
            return any(want in t for t in texts)
        self.wait(has, timeout, "%r in %s" % (want, sel))

    def shot(self, name, at=None):
        """The page as it is now, at both sizes (the layout reflows, nothing
        reloads), from its top or scrolled to the element `at`."""
        for w, hgt, mobile in SIZES:
            self.size(w, hgt, mobile)
            if at:
                self.d.execute_script("document.querySelector(arguments[0]).scrollIntoView()", at)
            else:
                self.d.execute_script("window.scrollTo(0, 0)")
            time.sleep(0.15)
            self.d.save_screenshot(os.path.join(self.shots, "%s-%d.png" % (name, w)))
        self.size(*SIZES[0])

    def visit(self, name, path, shoot=True):
        """First load of a page with the cache cleared: metrics, then screenshots."""
        self.d.execute_cdp_cmd("Network.clearBrowserCache", {})
        self.get(path)
        self.ready()
        m = self.d.execute_script("""
            const nav = performance.getEntriesByType('navigation')[0];
            const res = performance.getEntriesByType('resource');
            const mark = performance.getEntriesByName('usable')[0];
            return {bytes: nav.transferSize + res.reduce((a, r) => a + r.transferSize, 0),
                    requests: 1 + res.length,
                    usable_ms: Math.round(mark ? mark.startTime : nav.loadEventEnd),
                    dom_ms: Math.round(nav.domContentLoadedEventEnd)};""")
        m["path"] = path
        self.metrics[name] = m
        if shoot:
            self.shot(name)
        return m

    def login(self, user, password=None):
        self.d.delete_all_cookies()
        self.get("/login.html")
        self.d.execute_script("sessionStorage.clear()")
        self.ready()
        self.css("#user").send_keys(user)
        self.css("#pw").send_keys(password or self.fx.data["password"])
        self.css("#go").click()
        self.wait(lambda: "/login.html" not in self.d.current_url, 10, "login of " + user)
        self.ready()

    def close(self):
        self.d.quit()


# ---- the tests ----

def t_verify_page(b, fx):
    """A scanned QR code opens the public verification page: no login, says genuine."""
    v = fx.data["verify"]
    b.d.delete_all_cookies()
    b.visit("verify", "/verify/%s?code=%s" % (v["number"], v["code"]))
    assert b.text("#status") == "证书真实有效", b.text("#status")
    assert b.text("#number") == v["number"]
    assert b.text("#barcode") == v["barcode"]
    b.get("/verify/%s?code=AAAA-AAAA" % v["number"])
    assert b.text("#status") == "查无此证书", b.text("#status")
    # typed by hand on the public form: the same answer
    b.visit("check", "/check.html")
    b.css("#number").send_keys(v["number"])
    b.css("#code").send_keys(v["code"] + Keys.ENTER)
    b.wait_text("#status", "证书真实有效")


def t_login_and_homes(b, fx):
    """The login page refuses a wrong password on the page; each role gets its home."""
    b.d.delete_all_cookies()
    b.get("/")
    b.wait(lambda: "/login.html" in b.d.current_url, 10, "redirect to login")
    b.visit("login", "/login.html")
    b.css("#user").send_keys("mlt_clerk")
    b.css("#pw").send_keys("wrong password")
    b.css("#go").click()
    b.wait_text("#msg", "登录名或密码错误")
    b.shot("login-refused")
    homes = {
        "mlt_clerk": ["配送单", "上架", "库存"],
        "mlt_field": ["现场作业", "换表工单", "现场检验", "稽查监控"],
        "mlt_tech": ["检定台看板", "证书审核"],
        "mlt_checker": ["证书审核"],
        "mlt_approver": ["证书审核"],
        "mlt_manager": ["管理概览", "库存", "换表工单", "现场检验", "稽查监控"],
        "mlt_auditor": ["证书查验"],
    }
    for user, want in homes.items():
        b.login(user)
        b.visit("home-" + user.replace("mlt_", ""), "/")
        tiles = [e.text.split("\n")[0] for e in b.csss(".tile")]
        for t in want:
            assert t in tiles, (user, tiles)
        if user != "mlt_clerk":
            assert "配送单" not in tiles, (user, tiles)
    # logging out ends the session: the home page sends one back to the login
    b.css("header.top button.link").click()
    b.wait(lambda: "/login.html" in b.d.current_url, 10, "logout")
    b.get("/")
    b.wait(lambda: "/login.html" in b.d.current_url, 10, "redirect after logout")


def t_login_next(b, fx):
    """After the login the page goes back to `next` only when it is a path of
    this site (web audit W2): a tab, a newline or a backslash that the URL
    parser would drop or read as a slash (/\t/evil.example/x is
    //evil.example/x) lands on the home page instead; a page's own path,
    query and #fragment come back whole (W9)."""
    def login_via(next_q, user="mlt_tech"):
        b.d.delete_all_cookies()
        b.get("/login.html?next=" + next_q)
        b.ready()
        b.css("#user").send_keys(user)
        b.css("#pw").send_keys(fx.data["password"])
        b.css("#go").click()
        b.wait(lambda: "/login.html" not in b.d.current_url, 10, "the login with next=" + next_q)
        return b.d.current_url
    for bad in ["/%09/evil.example/x", "/%0a/evil.example/x", "/%0d%0a/evil.example/x", "/%5C/evil.example/x",
                "/%5Cevil.example", "//evil.example/x", "/%2F/evil.example/x", "https://evil.example/x",
                "javascript:alert(1)", "%20/%09/evil.example"]:
        url = login_via(bad)
        assert url == fx.base + "/", (bad, url)
    assert login_via("/wh/stock.html%3Fstore%3DCENTRAL", "mlt_clerk") == fx.base + "/wh/stock.html?store=CENTRAL"
    # a page that sends one to log in keeps its #fragment
    run = fx.data["start"]["long"]
    b.d.delete_all_cookies()
    b.get("/lab/run.html#%d" % run)
    b.wait(lambda: "/login.html" in b.d.current_url, 10, "redirect to login")
    b.ready()
    b.css("#user").send_keys("mlt_tech")
    b.css("#pw").send_keys(fx.data["password"])
    b.css("#go").click()
    b.wait(lambda: b.d.current_url == fx.base + "/lab/run.html#%d" % run, 10, "back on the run")


def t_cert_queue(b, fx):
    """A checker and an approver sign in the page; a third person without the
    role is refused; one person may not both check and approve (four eyes)."""
    d1, d2 = fx.data["queue"]["drafts"]
    b.login("mlt_checker")
    b.visit("certs-checker", "/lab/certs.html#%d" % d1)
    assert b.text("#state") == "待核验", b.text("#state")
    assert "/preview" in b.css("#pdf").get_attribute("src")
    b.css("#check").click()
    b.wait_text("#state", "待批准")
    assert b.text("#checker") not in ("", "—")
    b.wait_text("#msg", "已核验")
    b.shot("certs-checked")

    b.login("mlt_approver")
    b.visit("certs-approver", "/lab/certs.html#%d" % d1)
    assert b.text("#state") == "待批准"
    b.css("#approve").click()
    b.wait_text("#state", "已签发", timeout=20)
    b.wait_text("#msg", "已签发：WB")
    assert b.css("#pdf").get_attribute("src").endswith("/%d/pdf" % d1)
    assert fx.sql("SELECT state FROM certificate WHERE id = %d" % d1) == "issued"
    time.sleep(0.5)  # the stored PDF in its frame
    b.shot("certs-issued")
    # withdrawn (作废) by the approver, with a reason
    b.css("#wd-reason").send_keys("证书客户名称有误，重新出具")
    b.css("#withdraw").click()
    b.wait_text("#state", "已作废")
    assert fx.sql("SELECT count(*) FROM cert_withdrawal WHERE cert_id = %d" % d1) == "1"

    # the technician who drafted it has no checker role: the page says so, and
    # the database refuses even a forced click
    b.login("mlt_tech")
    b.get("/lab/certs.html#%d" % d2)
    b.ready()
    assert b.css("#check").get_attribute("disabled") is not None
    assert "没有核验权限" in b.text("#note"), b.text("#note")
    b.d.execute_script("document.querySelector('#check').disabled = false")
    b.css("#check").click()
    b.wait_text("#msg", "核验被拒绝")
    assert "无权" in b.text("#msg"), b.text("#msg")
    b.shot("certs-refused")
    assert fx.sql("SELECT state FROM certificate WHERE id = %d" % d2) == "draft"

    # checker and approver in one person: checks, then may not approve
    b.login("mlt_both")
    b.get("/lab/certs.html#%d" % d2)
    b.ready()
    b.css("#check").click()
    b.wait_text("#state", "待批准")
    b.css("#approve").click()
    b.wait_text("#msg", "批准被拒绝")
    assert b.text("#state") == "待批准"
    b.shot("certs-four-eyes")
    assert fx.sql("SELECT state FROM certificate WHERE id = %d" % d2) == "checked"


def scan_log(b):
    """The scan log, oldest first: (code, class, reason)."""
    rows = b.d.execute_script("""return [...document.querySelectorAll('#log li')].map(
        li => [li.dataset.code, li.className, li.querySelector('.why').textContent]);""")
    return list(reversed(rows))


def t_warehouse(b, fx):
    """A clerk creates an order, picks it by scanning (fast, one refused, focus
    kept), dispatches it; the receiving store scans what came and the page
    keeps the missing list from the receipts' answers (a count, not the list),
    reading it again when another scanner received one, and rebuilds it from
    the server after a reload; closing
    records it lost in transit. Put-away by
    scanning and the stock overview."""
    w = fx.data["warehouse"]
    bc = w["barcodes"]
    b.login("mlt_clerk")
    b.visit("orders", "/wh/orders.html")
    Select(b.css("#from")).select_by_value(w["from"])
    Select(b.css("#to")).select_by_value(w["to"])
    Select(b.css("#model")).select_by_value(w["model"])
    qty = b.css("#qty")
    qty.clear()
    qty.send_keys("3")
    b.css("#create-go").click()
    b.wait_text("#counts", "计划 3 件，已拣 0 件")
    order = int(b.d.execute_script("return location.hash.slice(1)"))
    # a scanner: four codes with Enter as fast as keys go, one not registered
    scans = [bc[0], w["unknown"], bc[1], bc[2]]
    b.css("#scan").send_keys("".join(c + Keys.ENTER for c in scans))
    b.wait_text("#counts", "已拣 3 件", timeout=15)
    b.wait(lambda: all(r[1] != "wait" for r in scan_log(b)), 10, "every scan handled")
    log = scan_log(b)
    assert [r[0] for r in log] == scans, log
    assert [r[1] for r in log] == ["ok", "bad", "ok", "ok"], log
    assert "拒绝" in log[1][2] and w["unknown"] in log[1][2], log[1]
    assert b.d.execute_script("return document.activeElement.id") == "scan"
    b.shot("orders-picked")
    b.css("#dispatch").click()
    b.wait_text("#status", "已发运")
    b.wait_text("#msg", "已发运 3 件")

    # the receiving store: the page reads what is in transit once; a receipt's
    # answer counts what is left and names only its own scans (an order of
    # 100 000 meters answered its whole list to every scan), so the page takes
    # each received code off its list and reads the pages again only when the
    # list and that count disagree
    b.login("mlt_clerk2")
    b.visit("orders-receive", "/wh/orders.html#%d" % order)
    assert b.text("#scanlabel").startswith("收货扫码")
    b.wait(lambda: [e.text for e in b.csss("#missing .missing-code")] == bc[:3], 10, "the list in transit")
    b.d.execute_script("""window.mlPages = 0; const f = window.fetch;
        window.fetch = (u, o) => { if (/[/]api[/]orders[/][0-9]+[?]limit=10000/.test(String(u))) window.mlPages++; return f(u, o); };""")
    b.css("#scan").send_keys(bc[0] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 1 and scan_log(b)[0][1] != "wait", 15, "the first receipt")
    assert scan_log(b)[0][1] == "ok", scan_log(b)
    b.wait(lambda: [e.text for e in b.csss("#missing .missing-code")] == bc[1:3], 10, "the received one taken off")
    assert b.d.execute_script("return window.mlPages") == 0, "no page read for a receipt the list agrees with"
    # another scanner of the store receives bc[1]: its answer counts what is
    # left and gives the first page of it (all of it here: next is null)
    r = b.d.execute_async_script("""const done = arguments[2];
        fetch('/api/orders/' + arguments[0] + '/receive', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('ml_csrf')},
            body: JSON.stringify({barcodes: [arguments[1]]})})
          .then(r => r.json()).then(j => done(j), (e) => done(String(e)));""", order, bc[1])
    assert "missing" not in r, r
    assert (r["counts"]["received"], r["in_transit_count"], r["in_transit"], r["next"]) == (1, 1, [bc[2]], None), r
    # this page's next scan (one not sent) finds its list one too long: read again
    b.css("#scan").send_keys(bc[5] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 2 and all(r[1] != "wait" for r in scan_log(b)), 15, "receipts")
    log = scan_log(b)
    assert [r[1] for r in log] == ["ok", "bad"], log
    assert "多到" in log[1][2], log[1]
    b.wait_text("#counts", "已收 2 件")
    b.wait(lambda: [e.text for e in b.csss("#missing .missing-code")] == [bc[2]], 10, "the list read again")
    assert b.d.execute_script("return window.mlPages") == 1, b.d.execute_script("return window.mlPages")
    missing = [e.text for e in b.csss("#missing .missing-code")]
    assert missing == [bc[2]], missing
    assert "缺失 1 件" in b.text("#missing")
    b.shot("orders-missing")
    # a reload (or the order opened afresh) starts from the server: the missing
    # list is rebuilt from what is still in transit, so closing names it
    b.d.execute_script("delete document.body.dataset.ready")
    b.d.refresh()
    b.ready()
    b.wait_text("#status", "已发运")
    b.wait_text("#counts", "已收 2 件")
    b.wait(lambda: [e.text for e in b.csss("#missing .missing-code")] == [bc[2]], 10, "the missing list rebuilt")
    assert "缺失 1 件" in b.text("#missing"), b.text("#missing")
    # the API pages the barcodes in transit by keyset: a full page names its last as next
    r = b.d.execute_async_script("""const done = arguments[2], u = '/api/orders/' + arguments[0];
        Promise.all([fetch(u + '?limit=1').then(r => r.json()),
                     fetch(u + '?limit=1&after=' + arguments[1]).then(r => r.json())])
          .then(([a, z]) => done([a.in_transit, a.next, z.in_transit, z.next]), (e) => done(String(e)));""", order, bc[2])
    assert r == [[bc[2]], bc[2], [], None], r
    b.css("#close").click()
    b.wait_text("#msg", "1 件记为途中丢失")
    b.wait_text("#status", "已关闭")
    assert b.text("#missing") == "", b.text("#missing")  # recorded lost: no longer shown as outstanding
    assert fx.sql("SELECT state FROM asset WHERE barcode = '%s'" % bc[2]) == "lost"
    assert fx.sql("SELECT count(*) FROM asset a JOIN location l USING (location_id) "
                  "WHERE l.code = '%s' AND barcode IN ('%s', '%s')" % (w["to"], bc[0], bc[1])) == "2"

    # put-away: a slot, then assets; an asset before any slot is refused
    b.login("mlt_clerk")
    b.visit("putaway", "/wh/putaway.html")
    b.css("#scan").send_keys(bc[3] + Keys.ENTER + w["slot"] + Keys.ENTER + bc[3] + Keys.ENTER
                             + bc[4] + Keys.ENTER + w["unknown"] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 5 and all(r[1] != "wait" for r in scan_log(b)), 15, "put-away")
    log = scan_log(b)
    assert [r[1] for r in log] == ["bad", "ok", "ok", "ok", "bad"], log
    assert b.text("#done") == "2"
    assert b.d.execute_script("return document.activeElement.id") == "scan"
    b.shot("putaway-scanned")
    assert fx.sql("SELECT s.barcode FROM asset a JOIN asset_slot x USING (asset_id) "
                  "JOIN store_slot s USING (slot_id) WHERE a.barcode = '%s'" % bc[4]) == w["slot"]

    b.visit("stock", "/wh/stock.html")
    b.wait_text("#total", "合计")
    rows = [e.text for e in b.csss("#stock tbody tr")]
    assert any(w["to"] in r and "2" in r for r in rows), rows


def t_field(b, fx):
    """Phone first, offline: the page is kept by a service worker and is
    installable; an install, a swap, a removal and a fault report made while the server
    is stopped wait in IndexedDB (the page counts them) and are sent once
    after it is back; a retry of a sent one with its key is replayed, not
    applied again."""
    f = fx.data["field"]
    bc = f["barcodes"]
    b.login(f["login"])
    b.visit("field", "/field/")
    b.d.set_script_timeout(15)
    assert b.d.execute_async_script(
        "const done = arguments[0]; navigator.serviceWorker.ready.then(() => done(true), () => done(false));")
    b.get("/field/")
    b.ready()
    b.wait(lambda: b.d.execute_script("return !!navigator.serviceWorker.controller"), 10, "the service worker")
    b.wait_text("#team", "表计 4 只")
    inst = b.d.execute_cdp_cmd("Page.getInstallabilityErrors", {})
    assert not inst.get("installabilityErrors"), inst
    assert fx.cmd("stop") == "stopped"
    b.get("/field/")  # the server is down: the service worker's copy
    b.ready()
    b.wait_text("#net", "离线")
    # the install, the swap of that meter, the fault report of the removed one
    # a scanner ends the barcode with Enter: the form goes on to the next field, it does not submit
    b.css("#i-barcode").send_keys(bc[0] + Keys.ENTER)
    assert b.d.execute_script("return document.activeElement.id") == "i-point"
    b.css("#i-point").send_keys(f["point"])
    b.css("#i-reading").send_keys("12.5")
    b.css("#i-seals").send_keys(f["seals"][0])
    b.css("#install button").click()
    b.wait_text("#queued", "1")
    b.css("#s-old").send_keys(bc[0])
    b.css("#s-old-reading").send_keys("13.75")
    Select(b.css("#s-reason")).select_by_value("rotation")
    b.css("#s-new").send_keys(bc[1])
    b.css("#s-reading").send_keys("0.5")
    b.css("#s-seals").send_keys(f["seals"][1])
    b.css("#swap button").click()
    b.wait_text("#queued", "2")
    b.css("#r-barcode").send_keys(bc[1])
    b.css("#r-reading").send_keys("1.25")
    Select(b.css("#r-reason")).select_by_value("fault")
    b.css("#r-seals").send_keys(f["seals"][1])
    b.css("#remove button").click()
    b.wait_text("#queued", "3")
    b.css("#f-barcode").send_keys(bc[0])
    Select(b.css("#f-symptom")).select_by_value("FAST")
    b.css("#f-desc").send_keys("客户反映电量偏高，现场校验走快")
    b.css("#f-lab").send_keys(f["lab"])
    b.css("#fault button").click()
    b.wait_text("#queued", "4")
    b.wait_text("#msg", "离线")
    b.shot("field-offline-queued")
    ops = b.d.execute_async_script(
        "const done = arguments[0]; import('/field/queue.js').then((q) => q.all()).then(done);")
    assert [o["path"] for o in ops] == ["/api/field/install", "/api/field/swap", "/api/field/remove",
                                             "/api/field/faults"], ops
    assert len({o["key"] for o in ops}) == 4
    assert fx.sql("SELECT count(*) FROM installation i JOIN metering_point p USING (point_id) "
                  "WHERE p.code = '%s'" % f["point"]) == "0"
    assert fx.cmd("start") == "started"
    b.wait_text("#queued", "0", timeout=20)
    b.wait(lambda: len(b.csss("#sent li.ok")) == 4, 10, "four sent")
    b.wait_text("#net", "在线")
    b.shot("field-sent")
    q = ("SELECT string_agg(a.barcode || ':' || (i.removed_at IS NULL), ',' ORDER BY i.installation_id) "
         "FROM installation i JOIN metering_point p USING (point_id) JOIN asset a USING (asset_id) "
         "WHERE p.code = '%s'" % f["point"])
    want = "%s:false,%s:false" % (bc[0], bc[1])
    assert fx.sql(q) == want, fx.sql(q)
    assert fx.sql("SELECT count(*) FROM fault_report r JOIN asset a USING (asset_id) "
                  "WHERE a.barcode = '%s'" % bc[0]) == "1"
    # the answer to the install was "lost": sending it again with its key is replayed
    r = b.d.execute_async_script("""
        const [op, done] = arguments;
        import('/js/api.js').then((m) => m.api('POST', op.path, op.body, {idempotencyKey: op.key}))
            .then((x) => done({ok: true}), (e) => done({ok: false, status: e.status, msg: e.message}));""", ops[0])
    assert r["ok"], r
    assert fx.sql(q) == want
    assert fx.sql("SELECT count(*) FROM api_idempotency k JOIN app_user u USING (user_id) "
                  "WHERE u.login = '%s'" % f["login"]) == "4"


def t_field_session(b, fx):
    """The field queue and the session (web audit W1, W3). A login in another
    tab replaces the session cookie, so this tab's CSRF token is stale: an
    install made here afterwards is sent (a fresh token fetched), not refused
    for good. When the session ends (logged out in the other tab) the page
    says 登录已过期 with a link back to it, and keeps the removal made
    meanwhile; another person's login on the phone holds it (it is not
    sent under their name); the person who made it logs in again and it is
    sent, recorded as them."""
    f = fx.data["field"]
    bc = f["barcodes"][2]
    point = f["point"]
    inst = ("SELECT coalesce(string_agg(coalesce(ui.login, '?') || ':' || coalesce(ur.login, '-'), ','), 'none') "
            "FROM installation i JOIN asset a USING (asset_id) JOIN app_user ui ON ui.user_id = i.installed_by "
            "LEFT JOIN app_user ur ON ur.user_id = i.removed_by WHERE a.barcode = '%s'" % bc)
    b.login(f["login"])
    b.get_ready("/field/")
    first = b.d.current_window_handle
    b.d.switch_to.new_window("tab")
    b.login(f["login"])  # the same person again: a new session cookie for both tabs
    b.d.switch_to.window(first)
    b.css("#i-barcode").send_keys(bc)
    b.css("#i-point").send_keys(point)
    b.css("#i-reading").send_keys("3")
    b.css("#install button").click()
    b.wait(lambda: any("装表 " + bc in li.text for li in b.csss("#sent li")), 15, "the install answered")
    assert not b.csss("#sent li.bad"), b.text("#sent")
    b.wait_text("#queued", "0")
    assert fx.sql(inst) == "%s:-" % f["login"], fx.sql(inst)
    # the session ends (logged out in the other tab): the removal made now waits, the page says why
    b.d.switch_to.window(b.d.window_handles[1])
    b.d.set_script_timeout(15)
    b.d.execute_async_script("const done = arguments[0]; import('/js/api.js').then((m) => m.logout()).then(() => done(1), () => done(0));")
    b.d.switch_to.window(first)
    b.css("#r-barcode").send_keys(bc)
    b.css("#r-reading").send_keys("4.5")
    Select(b.css("#r-reason")).select_by_value("fault")
    b.css("#remove button").click()
    b.wait(lambda: b.css("#auth").is_displayed(), 15, "the expired-login banner")
    assert "登录已过期" in b.text("#auth"), b.text("#auth")
    link = b.css("#auth a").get_attribute("href")
    assert link.endswith("/login.html?next=%2Ffield%2F"), link
    b.wait_text("#queued", "1")
    b.shot("field-expired")
    time.sleep(3.5)  # a retry of the page's own (every 3 s) changes nothing
    assert b.css("#auth").is_displayed() and b.text("#queued") == "1"
    # someone else logs in on this phone: the removal is held for its person
    b.d.switch_to.window(b.d.window_handles[1])
    b.login("mlt_fwlab")
    b.d.switch_to.window(first)
    b.wait_text("#held", "由 %s 记录" % f["login"], 15)
    b.wait(lambda: not b.css("#auth").is_displayed(), 10, "the banner gone")
    assert b.text("#queued") == "0", b.text("#queued")
    b.shot("field-held")
    time.sleep(3.5)
    assert fx.sql(inst) == "%s:-" % f["login"], fx.sql(inst)
    # the person logs in again through the banner's way back: sent, as them
    b.d.switch_to.window(b.d.window_handles[1])
    b.d.close()
    b.d.switch_to.window(first)
    b.d.delete_all_cookies()
    b.get("/login.html?next=%2Ffield%2F")
    b.ready()
    b.css("#user").send_keys(f["login"])
    b.css("#pw").send_keys(fx.data["password"])
    b.css("#go").click()
    b.wait(lambda: b.d.current_url.endswith("/field/"), 10, "back on the field page")
    b.ready()
    b.wait(lambda: fx.sql(inst) == "%s:%s" % (f["login"], f["login"]), 15, "the removal recorded as its person")
    b.wait_text("#queued", "0")
    assert not b.text("#held"), b.text("#held")


def t_order_double_submit(b, fx):
    """A distribution order submitted twice at once (a double click, Enter
    twice) is made once (web audit W6): the button is off while the request
    runs and the form's filling keeps one Idempotency-Key until it succeeds."""
    b.login("mlt_clerk")
    b.get_ready("/wh/orders.html")
    b.wait(lambda: len(b.csss("#model option")) > 0, 10, "the models")
    b.css("#qty").clear()
    b.css("#qty").send_keys("1")
    orders = int(fx.sql("SELECT count(*) FROM dist_order"))
    b.d.execute_script("const f = document.querySelector('#create'); f.requestSubmit(); f.requestSubmit();")
    b.wait(lambda: int(fx.sql("SELECT count(*) FROM dist_order")) > orders, 10, "the order made")
    b.wait_text("#order h2", "配送单 #")
    time.sleep(1)
    assert int(fx.sql("SELECT count(*) FROM dist_order")) == orders + 1, fx.sql("SELECT count(*) FROM dist_order")


def t_lab_and_manager(b, fx):
    """The bench board follows runs live (Server-Sent Events: a run made now
    appears without a reload); a run's page plots each load point's errors
    against the limits; the manager's page shows the pass rate by model."""
    run = fx.data["queue"]["run"]
    b.login("mlt_tech")
    b.visit("board", "/lab/board.html")
    b.wait_text("#live", "实时")
    assert b.csss("#run-%d" % run)
    new = fx.sql("SELECT wf_make_run('live', 1, 0)")
    b.wait(lambda: b.csss("#run-%s" % new), 10, "the new run over the event stream")
    b.wait(lambda: b.css("#run-%s" % new).get_attribute("data-status") == "finished", 10, "its status")
    b.shot("board-live")
    b.visit("run", "/lab/run.html#%d" % run)
    assert b.csss("#plots .plot svg circle"), "no plotted errors"
    assert "合格" in b.text("#conclusions")
    assert len(b.csss("#results tbody tr")) > 0
    b.login("mlt_manager")
    b.visit("manager", "/manager.html")
    rates = b.d.execute_script("return [...document.querySelectorAll('#rates tbody tr')].map(r => r.innerText)")
    assert any("100.0" in r for r in rates), rates
    assert int(b.text("#runs-total")) >= 3
    # the planning pages from the manager's page: the overdue rotation order, the open items
    assert b.text("#plan-late .big") == "1", b.text("#plan-late")
    assert b.text("#plan-watch .big") == fx.sql("SELECT count(*) FROM watch_item WHERE status = 'open'")
    assert b.css("#plan-late").get_attribute("href").endswith("/plan/orders.html")


def t_count(b, fx):
    """A stock count by scanning: surplus and shortage live as the codes come,
    the database's report after submitting; the counter may not confirm their
    own count, a second clerk does and the shortage is recorded lost."""
    w = fx.data["warehouse"]
    bc = w["barcodes"]
    b.login("mlt_clerk")
    b.visit("count", "/wh/count.html")
    Select(b.css("#store")).select_by_value(w["from"])
    b.wait(lambda: b.text("#n-expected") != "0", 10, "the store's records")
    expected = int(b.text("#n-expected"))
    scans = [w["slot"], bc[3], bc[4], bc[5], bc[10], bc[0]]  # bc[0] was received elsewhere; bc[11] not scanned
    b.css("#scan").send_keys("".join(c + Keys.ENTER for c in scans))
    b.wait(lambda: len(scan_log(b)) == 6 and all(r[1] != "wait" for r in scan_log(b)), 10, "count scans")
    assert b.text("#n-surplus") == "1", b.text("#n-surplus")
    assert b.text("#n-short") == str(expected - 4), (b.text("#n-short"), expected)
    assert "盘盈" in scan_log(b)[5][2]
    # a double click makes one count (W6): the button is off while it is sent, the key kept
    counts = int(fx.sql("SELECT count(*) FROM stock_count"))
    b.d.execute_script("const s = document.querySelector('#submit'); s.click(); s.click();")
    b.wait_text("#msg", "已提交盘点单")
    time.sleep(1)
    assert int(fx.sql("SELECT count(*) FROM stock_count")) == counts + 1, fx.sql("SELECT count(*) FROM stock_count")
    assert b.text("#n-scanned") == "0", b.text("#n-scanned")  # submitted: not ready to be sent again
    lines = b.d.execute_script("return [...document.querySelectorAll('#count-lines tbody tr')].map(r => r.innerText)")
    assert any("盘盈" in l and bc[0] in l for l in lines), lines
    assert any("盘亏" in l and bc[11] in l for l in lines), lines
    count = b.text("#count-no")
    b.shot("count-submitted")
    b.css("#count-id").send_keys(count + Keys.ENTER)  # looked at first: confirm acts on the count shown
    b.wait_text("#view-head", "盘点人 mlt_clerk")
    b.css("#confirm").click()
    b.wait_text("#msg", "确认被拒绝")
    b.login("mlt_clerk2")
    b.get("/wh/count.html")
    b.ready()
    # the second person sees who counted and every difference before confirming
    b.css("#count-id").send_keys(count + Keys.ENTER)
    b.wait_text("#view-head", "盘点人 mlt_clerk")
    lines = b.d.execute_script("return [...document.querySelectorAll('#view-lines tbody tr')].map(r => r.innerText)")
    assert any("盘亏" in l and bc[11] in l for l in lines), lines
    b.shot("count-review", at="#confirm-form")
    b.css("#confirm").click()
    b.wait_text("#msg", "已确认")
    assert fx.sql("SELECT state FROM asset WHERE barcode = '%s'" % bc[11]) == "lost"
    # a count the second person rejects adjusts nothing
    lost = fx.sql("SELECT count(*) FROM asset WHERE state = 'lost'")
    b.login("mlt_clerk")
    b.get("/wh/count.html")
    b.ready()
    Select(b.css("#store")).select_by_value(w["from"])
    b.wait(lambda: b.text("#n-expected") != "0", 10, "the store's records")
    b.css("#scan").send_keys(bc[3] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 1 and scan_log(b)[0][1] != "wait", 10, "one scan")
    b.css("#submit").click()
    b.wait_text("#msg", "已提交盘点单")
    count2 = b.text("#count-no")
    b.login("mlt_clerk2")
    b.get("/wh/count.html")
    b.ready()
    b.css("#count-id").send_keys(count2 + Keys.ENTER)
    b.wait_text("#view-head", "待确认")
    b.css("#reason").clear()
    b.css("#reason").send_keys("漏扫货架，重新盘点")
    b.css("#reject").click()
    b.wait_text("#msg", "已驳回")
    b.wait_text("#view-head", "已驳回")
    assert fx.sql("SELECT status FROM stock_count WHERE count_id = %s" % count2) == "rejected"
    assert fx.sql("SELECT count(*) FROM asset WHERE state = 'lost'") == lost


def alert(b):
    """The page's confirm() or alert() dialog, once it is open."""
    def get():
        try:
            return b.d.switch_to.alert
        except NoAlertPresentException:
            return None
    return b.wait(get, 5, "a dialog")


def t_count_scans(b, fx):
    """Counting (W5, W7, W9): the live 账面 is the store's stock as the
    database counts it (in_stock/secondary_stock, every page); a mistyped
    slot code is refused while scanning and not sent, so the count goes
    through; one scan is taken back; a Tab-terminated scanner works; a store
    change asks before the scans go; confirm acts on the count shown, not
    on a number typed afterwards."""
    w = fx.data["warehouse"]
    bc = w["barcodes"]
    stock = ("SELECT count(*) FROM asset a JOIN location l USING (location_id) WHERE l.code = '%s' "
             "AND a.state IN ('in_stock', 'secondary_stock')" % w["from"])
    other = int(fx.sql("SELECT count(*) FROM asset a JOIN location l USING (location_id) WHERE l.code = '%s' "
                       "AND a.state NOT IN ('in_stock', 'secondary_stock')" % w["from"]))
    want = int(fx.sql(stock))
    assert other > 0 and want > 3, (other, want)  # the test means something: other states there, several pages
    b.login("mlt_clerk")
    b.get_ready("/wh/count.html?per=3")
    Select(b.css("#store")).select_by_value(w["from"])
    b.wait(lambda: b.text("#n-expected") == str(want), 10, "the store's stock, %d over pages of 3" % want)
    time.sleep(0.5)
    assert b.text("#n-expected") == str(want), (b.text("#n-expected"), want)
    # a mistyped slot (l for 1) refused beside its code; a code ended by Tab; one taken back
    b.css("#scan").send_keys(w["slot"] + Keys.ENTER + "A-01-0l" + Keys.ENTER + bc[3] + Keys.TAB)
    b.wait(lambda: len(scan_log(b)) == 3 and all(r[1] != "wait" for r in scan_log(b)), 10, "three scans")
    assert b.d.execute_script("return document.activeElement.id") == "scan"
    log = scan_log(b)
    assert [r[1] for r in log] == ["ok", "bad", "ok"], log
    assert "不是本库房" in log[1][2], log
    b.css("#scan").send_keys(bc[4] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 4 and scan_log(b)[3][1] != "wait", 10, "the fourth scan")
    assert b.text("#n-scanned") == "2"
    # the 删除 button is seen: a link's colour, not a button's white on the white line
    assert b.d.execute_script(
        "const e = document.querySelector('#log li[data-code=\"%s\"] button.remove');"
        "return getComputedStyle(e).color" % bc[4]) == "rgb(11, 92, 171)"
    b.css('#log li[data-code="%s"] button.remove' % bc[4]).click()
    assert [r[0] for r in scan_log(b)] == [w["slot"], "A-01-0l", bc[3]], scan_log(b)
    assert b.text("#n-scanned") == "1"
    # another store: asked first; "no" keeps the store and the scans
    Select(b.css("#store")).select_by_value(w["to"])
    a = alert(b)
    assert "清除已扫的 2 条" in a.text, a.text
    a.dismiss()
    assert b.css("#store").get_attribute("value") == w["from"]
    assert b.text("#n-scanned") == "1" and len(scan_log(b)) == 3
    b.shot("count-scans")
    counts = int(fx.sql("SELECT count(*) FROM stock_count"))
    b.css("#submit").click()
    b.wait_text("#msg", "已提交盘点单")
    c1 = b.text("#count-no")
    assert int(fx.sql("SELECT count(*) FROM stock_count")) == counts + 1
    assert fx.sql("SELECT scans FROM stock_count WHERE count_id = %s" % c1) == "2"  # the slot and bc[3]
    # a second count; then "yes" to a store change clears the scans
    b.css("#scan").send_keys(bc[5] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 1 and scan_log(b)[0][1] != "wait", 10, "one scan")
    b.css("#submit").click()
    b.wait(lambda: b.text("#count-no") != c1, 10, "the second count")
    c2 = b.text("#count-no")
    b.css("#scan").send_keys(bc[5] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 1 and scan_log(b)[0][1] != "wait", 10, "one scan")
    Select(b.css("#store")).select_by_value(w["to"])
    alert(b).accept()
    b.wait(lambda: not scan_log(b) and b.text("#n-scanned") == "0", 10, "the scans cleared")
    # the second person looks at count 1, then types count 2 and confirms: not confirmed unseen
    b.login("mlt_clerk2")
    b.get_ready("/wh/count.html")
    b.css("#count-id").send_keys(c1 + Keys.ENTER)
    b.wait_text("#view-head", "盘点单 #%s" % c1)
    b.css("#count-id").clear()
    b.css("#count-id").send_keys(c2)
    b.css("#confirm").click()
    b.wait_text("#view-head", "盘点单 #%s" % c2)
    b.wait_text("#msg", "请先核对盘点单 #%s" % c2)
    time.sleep(0.5)
    assert fx.sql("SELECT string_agg(status, ',' ORDER BY count_id) FROM stock_count WHERE count_id IN (%s, %s)" % (c1, c2)) == "counted,counted"
    b.css("#reject").click()  # now seen: acts on count 2
    b.wait_text("#msg", "已驳回")
    assert fx.sql("SELECT string_agg(status, ',' ORDER BY count_id) FROM stock_count WHERE count_id IN (%s, %s)" % (c1, c2)) == "counted,rejected"
    b.css("#count-id").clear()
    b.css("#count-id").send_keys(c1 + Keys.ENTER)
    b.wait_text("#view-head", "盘点单 #%s" % c1)
    b.css("#reject").click()
    b.wait_text("#msg", "已驳回")
    assert fx.sql("SELECT status FROM stock_count WHERE count_id = %s" % c1) == "rejected"


def t_delivery(b, fx):
    """A delivery file with a bad row is refused whole, the row named by its
    line; the corrected file is received as a new lot."""
    w = fx.data["warehouse"]
    good = [fx.data["delivery"][0], fx.data["delivery"][1]]
    bad = good[1][:-1] + str((int(good[1][-1]) + 1) % 10)  # wrong check digit
    d = os.path.join(b.out, "tmp")
    os.makedirs(d, exist_ok=True)
    head = "barcode,model_code,production_batch,production_date\n"
    p_bad, p_good = os.path.join(d, "delivery-bad.csv"), os.path.join(d, "delivery.csv")
    with open(p_bad, "w") as f:
        f.write(head + "%s,%s,B9,2026-10-01\n%s,%s,B9,2026-10-01\n" % (good[0], w["model"], bad, w["model"]))
    with open(p_good, "w") as f:
        f.write(head + "".join("%s,%s,B9,2026-10-01\n" % (g, w["model"]) for g in good))
    b.login("mlt_clerk")
    b.visit("delivery", "/wh/delivery.html")
    b.css("#file").send_keys(p_bad)
    b.css("#lot").send_keys("WLOT-WEB-2")
    b.css("#supplier").send_keys("浙江华仪")
    b.css("#go").click()
    b.wait_text("#msg", "整批未入库", timeout=20)
    lines = [e.text for e in b.csss("#issues td.line")]
    assert lines == ["3"], lines
    assert bad in b.text("#issues")
    b.shot("delivery-refused")
    assert fx.sql("SELECT count(*) FROM lot WHERE code = 'WLOT-WEB-2'") == "0"
    b.css("#file").send_keys(p_good)
    b.css("#go").click()
    b.wait_text("#msg", "已接收批次 WLOT-WEB-2：2 只", timeout=20)
    assert fx.sql("SELECT count(*) FROM asset a JOIN lot l USING (lot_id) WHERE l.code = 'WLOT-WEB-2'") == "2"


def t_reverify(b, fx):
    """The re-verification list shows the expired meter; sending it to the
    lab moves it there in the database and empties the list."""
    w = fx.data["warehouse"]
    bc = w["barcodes"]
    b.login("mlt_clerk")
    b.visit("reverify", "/wh/reverify.html")
    rows = b.d.execute_script("return [...document.querySelectorAll('#list tbody tr')].map(r => r.dataset.barcode)")
    assert bc[10] in rows, rows
    b.shot("reverify-list")
    Select(b.css("#lab")).select_by_value(fx.data["field"]["lab"])
    b.d.execute_script("document.querySelectorAll('.pick').forEach(c => { c.checked = c.value === arguments[0]; })", bc[10])
    b.css("#go").click()
    b.wait_text("#msg", "已送检 1 只")
    assert fx.sql("SELECT state FROM asset WHERE barcode = '%s'" % bc[10]) == "reverify"


def t_lab_task(b, fx):
    """A technician creates a verification task on the board (bench, scheme,
    meters scanned into positions): it appears over the event stream; the
    run page abandons it and its meters go back to re-verification, and a
    board whose stream opens only after that shows it abandoned. A
    standard whose calibration runs out soon is warned."""
    lab = fx.data["lab"]
    b.login("mlt_tech")
    b.get("/lab/board.html")
    b.ready()
    b.wait_text("#live", "实时")
    b.wait_text("#warn", lab["expiring"])
    Select(b.css("#t-bench")).select_by_value(lab["bench"])
    assert b.css("#t-manual").is_selected()  # a manual bench
    b.css("#t-scheme").send_keys(lab["scheme"])
    b.css("#t-temp").send_keys("21.5")
    b.css("#t-scan").send_keys("".join(c + Keys.ENTER for c in lab["barcodes"]))
    b.wait(lambda: len(scan_log(b)) == 2 and all(r[1] == "ok" for r in scan_log(b)), 10, "positions")
    b.css("#t-go").click()
    b.wait_text("#msg", "已创建任务")
    run = int(b.css("#msg").get_attribute("data-run"))
    b.wait(lambda: b.csss("#run-%d" % run), 10, "the new task over the event stream")
    assert b.css("#run-%d" % run).get_attribute("data-status") == "pending"
    b.shot("board-task")
    assert fx.sql("SELECT u.login FROM verification_run r JOIN app_user u ON u.user_id = r.operator_id "
                  "WHERE r.run_id = %d" % run) == "mlt_tech"
    # The board again, its stream held back (as a network break or a
    # server restart holds it) while the run is abandoned in another tab:
    # no event of that reaches the board, which reads its list again when
    # the stream opens.
    gate = b.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": GATED_EVENTSOURCE})
    b.get("/lab/board.html")
    b.ready()
    b.d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", gate)
    board = b.d.current_window_handle
    b.wait(lambda: b.csss("#run-%d" % run), 10, "the task in the list")
    b.d.switch_to.new_window("tab")
    b.get("/lab/run.html#%d" % run)
    b.ready()
    b.css("#abort-reason").send_keys("工作台故障")
    b.css("#abort").click()
    b.wait_text("#msg", "已放弃")
    assert fx.sql("SELECT status FROM verification_run WHERE run_id = %d" % run) == "aborted"
    assert fx.sql("SELECT state FROM asset WHERE barcode = '%s'" % lab["barcodes"][0]) == "reverify"
    b.d.close()
    b.d.switch_to.window(board)
    assert b.css("#run-%d" % run).get_attribute("data-status") == "pending", "the held-back board heard of the abort"
    b.d.execute_script("window.__streamGate = true")
    b.wait(lambda: b.css("#run-%d" % run).get_attribute("data-status") == "aborted", 10, "the abort on the board once its stream opened")
    b.wait_text("#live", "实时")


def t_password(b, fx):
    """A person changes their password in the page; the new one logs in."""
    b.login("mlt_auditor")
    b.visit("password", "/password.html")
    new = "staple battery horse correct"
    b.css("#old").send_keys(fx.data["password"])
    b.css("#new").send_keys(new)
    b.css("#again").send_keys(new)
    b.css("#go").click()
    b.wait_text("#msg", "密码已修改")
    b.login("mlt_auditor", new)
    assert b.text("#hello").startswith("您好")


def t_seals(b, fx):
    """The store receives a batch of seals and issues one to a team by
    scanning (a duplicate, an issued and an unknown seal refused beside their
    codes, focus kept); the database's own refusal (a seal received twice) is
    shown; a seal's history names who did each step; a field member sees the
    team's seals and may not issue."""
    f = fx.data["field"]
    b.login("mlt_clerk")
    b.visit("seals", "/wh/seals.html")
    assert b.css("#op").is_displayed()
    Select(b.css("#op-kind")).select_by_value("receive")
    b.css("#op-batch").send_keys("B-WEB-1")
    b.css("#op-scan").send_keys("SEAL-W001" + Keys.ENTER + "SEAL-W002" + Keys.ENTER + "SEAL-W002" + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 3 and all(r[1] != "wait" for r in scan_log(b)), 10, "seal scans")
    assert [r[1] for r in scan_log(b)] == ["ok", "ok", "bad"], scan_log(b)
    assert b.d.execute_script("return document.activeElement.id") == "op-scan"
    b.css("#op-go").click()
    b.wait_text("#msg", "已入库 2 只")
    assert fx.sql("SELECT string_agg(code || ':' || state, ',' ORDER BY code) FROM seal "
                  "WHERE batch = 'B-WEB-1'") == "SEAL-W001:in_store,SEAL-W002:in_store"
    # received twice: the database refuses the whole batch, naming the seal
    b.css("#op-batch").clear()
    b.css("#op-batch").send_keys("B-WEB-2")
    b.css("#op-scan").send_keys("SEAL-W003" + Keys.ENTER + "SEAL-W002" + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 2 and all(r[1] != "wait" for r in scan_log(b)), 10, "seal scans")
    b.css("#op-go").click()
    b.wait_text("#msg", "被拒绝")
    assert "SEAL-W002" in b.text("#msg") and "already registered" in b.text("#msg"), b.text("#msg")
    assert fx.sql("SELECT count(*) FROM seal WHERE code = 'SEAL-W003'") == "0"
    # issue to the team: only a seal in store goes
    b.css("#op-clear").click()
    Select(b.css("#op-kind")).select_by_value("issue")
    Select(b.css("#op-team")).select_by_value(f["team"])
    b.css("#op-scan").send_keys("SEAL-W001" + Keys.ENTER + f["seals"][0] + Keys.ENTER + "SEAL-NONE" + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 3 and all(r[1] != "wait" for r in scan_log(b)), 10, "issue scans")
    log = scan_log(b)
    assert [r[1] for r in log] == ["ok", "bad", "bad"], log
    assert "未登记" in log[2][2], log
    b.shot("seals-issue")
    b.css("#op-go").click()
    b.wait_text("#msg", "已发放 1 只给 " + f["team"])
    assert fx.sql("SELECT s.state || ' ' || l.code FROM seal s JOIN location l ON l.location_id = s.holder_team_id "
                  "WHERE s.code = 'SEAL-W001'") == "issued " + f["team"]
    # to a person: a technician who seals verified meters holds them personally
    b.css("#op-login").send_keys("mlt_tech")
    b.css("#op-scan").send_keys("SEAL-W002" + Keys.ENTER)
    b.wait(lambda: scan_log(b) and scan_log(b)[0][1] == "ok", 10, "the seal for the person")
    b.css("#op-go").click()
    b.wait_text("#msg", "已发放 1 只给 mlt_tech")
    assert fx.sql("SELECT u.login FROM seal s JOIN app_user u ON u.user_id = s.holder_user_id "
                  "WHERE s.code = 'SEAL-W002'") == "mlt_tech"
    b.css("#op-login").clear()
    b.css("#seals tr[data-code='SEAL-W001'] a").click()
    b.wait_text("#history", "发放")
    rows = b.d.execute_script("return [...document.querySelectorAll('#history tbody tr')].map(r => r.innerText)")
    assert len(rows) == 2 and "入库" in rows[0] and "B-WEB-1" in rows[0] and "mlt_clerk" in rows[0], rows
    assert "发放" in rows[1] and f["team"] in rows[1], rows
    b.shot("seals-history", at="#detail")
    # the field member: the team's seals, no store work; the API refuses a forced one
    b.login(f["login"])
    b.visit("seals-field", "/wh/seals.html")
    assert not b.css("#op").is_displayed()
    b.wait_text("#seals", "SEAL-W001")
    assert Select(b.css("#f-team")).first_selected_option.get_attribute("value") == f["team"]
    r = b.d.execute_async_script("""
        const done = arguments[0];
        import('/js/api.js').then((m) => m.api('POST', '/api/seals/destroy', {codes: ['SEAL-W001'], reason: 'x'}))
            .then(() => done('done'), (e) => done(e.status + ' ' + e.message));""")
    assert r.startswith("403") and "seal.manage" in r, r
    assert fx.sql("SELECT state FROM seal WHERE code = 'SEAL-W001'") == "issued"
    # the technician's own seals
    b.login("mlt_tech")
    b.get("/wh/seals.html")
    b.ready()
    b.css("#f-mine").click()
    # SEAL-W002 just issued, and the three the fixture issued for sealing in the lab (t_labseal)
    b.wait(lambda: sorted(b.d.execute_script("return [...document.querySelectorAll('#seals tbody tr')].map(r => r.dataset.code)"))
           == ["LSEAL-01", "LSEAL-02", "LSEAL-03", "SEAL-W002"], 10, "the technician's seals")
    assert "mlt_tech" in b.text("#seals tr[data-code='SEAL-W002'] .where")


def t_retire(b, fx):
    """Scrap and return to the maker in two steps: a clerk requests by
    scanning, the analyst's own request is refused when they approve it
    themselves (the server's words shown), a manager approves one and rejects
    the other; the database holds the outcome."""
    rt = fx.data["retire"]
    bc = rt["barcodes"]
    b.login("mlt_clerk")
    b.visit("retire", "/wh/retire.html")
    Select(b.css("#r-action")).select_by_value("scrap")
    b.css("#r-reason").send_keys("检定不合格，无修复价值")
    b.css("#r-scan").send_keys(bc[0] + Keys.ENTER + bc[1] + Keys.ENTER + bc[1] + Keys.ENTER
                               + fx.data["warehouse"]["unknown"] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 4 and all(r[1] != "wait" for r in scan_log(b)), 10, "retire scans")
    assert [r[1] for r in scan_log(b)] == ["ok", "ok", "bad", "bad"], scan_log(b)
    b.css("#r-go").click()
    b.wait_text("#msg", "已提交申请")
    scrap = int(fx.sql("SELECT max(request_id) FROM retire_request"))
    assert fx.sql("SELECT r.status || ' ' || u.login FROM retire_request r JOIN app_user u ON u.user_id = r.requested_by "
                  "WHERE request_id = %d" % scrap) == "pending mlt_clerk"
    assert not b.csss("#req-%d .approve" % scrap)  # a clerk does not approve
    # the analyst asks for a return to the maker and may not approve it
    b.login("mlt_analyst")
    b.get("/wh/retire.html")
    b.ready()
    Select(b.css("#r-action")).select_by_value("return_to_maker")
    Select(b.css("#r-to")).select_by_value(rt["maker"])
    b.css("#r-reason").send_keys("保修期内，退厂")
    b.css("#r-scan").send_keys(bc[2] + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 1 and scan_log(b)[0][1] == "ok", 10, "retire scan")
    b.css("#r-go").click()
    b.wait_text("#msg", "已提交申请")
    ret = int(fx.sql("SELECT max(request_id) FROM retire_request"))
    assert ret != scrap
    b.wait_text("#req-%d .requester" % ret, "mlt_analyst")
    assert "本人的申请" in b.text("#req-%d" % ret)
    b.css("#req-%d .approve" % ret).click()
    b.wait_text("#msg", "批准被拒绝")
    assert "a second person approves" in b.text("#msg"), b.text("#msg")
    b.shot("retire-self-refused")
    assert fx.sql("SELECT status FROM retire_request WHERE request_id = %d" % ret) == "pending"
    assert fx.sql("SELECT state FROM asset WHERE barcode = '%s'" % bc[2]) == "failed"
    # the manager decides both
    b.login("mlt_manager")
    b.visit("retire-manager", "/wh/retire.html")
    # the approver sees the assets before deciding
    b.wait_text("#req-%d details.assets" % scrap, bc[1])
    assert "检定不合格" in b.text("#req-%d details.assets" % scrap)
    b.css("#note-%d" % scrap).send_keys("同意报废")
    b.css("#req-%d .approve" % scrap).click()
    b.wait_text("#msg", "已批准申请 #%d：2 只" % scrap)
    # the message shows before the list is read again (ui.js done()): a click or
    # a note typed into the old list would be lost when it is redrawn
    b.wait(lambda: not b.csss('#req-%d[data-status="pending"]' % scrap), 10, "the list read again")
    b.css("#req-%d .reject" % ret).click()
    b.wait_text("#msg", "驳回请填写审批意见")
    b.css("#note-%d" % ret).send_keys("先做故障分析")
    b.css("#req-%d .reject" % ret).click()
    b.wait_text("#msg", "已驳回申请 #%d" % ret)
    assert fx.sql("SELECT string_agg(state, ',' ORDER BY barcode) FROM asset WHERE barcode IN ('%s', '%s')"
                  % (bc[0], bc[1])) == "scrapped,scrapped"
    assert fx.sql("SELECT r.status || ' ' || u.login FROM retire_request r JOIN app_user u ON u.user_id = r.decided_by "
                  "WHERE request_id = %d" % ret) == "rejected mlt_manager"
    assert fx.sql("SELECT state FROM asset WHERE barcode = '%s'" % bc[2]) == "failed"


def t_faults(b, fx):
    """The lab records the outcome of a field fault report (found by scanning
    the meter); the reporter may not judge their own report; the open list
    loses the judged one."""
    fl = fx.data["faults"]
    b.login("mlt_tech")
    b.visit("faults", "/lab/faults.html")
    ids = b.d.execute_script("return [...document.querySelectorAll('#list tbody tr')].map(r => r.id)")
    assert "fault-%d" % fl["field"] in ids and "fault-%d" % fl["own"] in ids, ids
    b.css("#scan").send_keys(fl["barcode"] + Keys.ENTER)
    b.wait_text("#detail", "故障报告 #%d" % fl["field"])
    assert b.text("#reporter") == "mlt_fw"
    b.css("input[name=outcome][value=maker]").click()
    b.css("#o-note").send_keys("计量芯片虚焊，属制造质量问题")
    b.shot("faults-outcome")
    b.css("#o-go").click()
    b.wait_text("#msg", "已记录故障 #%d 的结论：制造质量" % fl["field"])
    assert fx.sql("SELECT f.outcome || ' ' || u.login FROM fault_report f JOIN app_user u ON u.user_id = f.outcome_by "
                  "WHERE fault_id = %d" % fl["field"]) == "maker mlt_tech"
    # the person who reported the other fault is a technician too: refused
    b.login(fl["both"])
    b.get("/lab/faults.html#%d" % fl["own"])
    b.ready()
    ids = b.d.execute_script("return [...document.querySelectorAll('#list tbody tr')].map(r => r.id)")
    assert "fault-%d" % fl["field"] not in ids, ids
    b.wait_text("#detail", "本人上报")
    b.css("input[name=outcome][value=no_fault_found]").click()
    b.css("#o-go").click()
    b.wait_text("#msg", "结论被拒绝")
    assert "cannot also judge it" in b.text("#msg"), b.text("#msg")
    b.shot("faults-own-refused")
    assert fx.sql("SELECT outcome FROM fault_report WHERE fault_id = %d" % fl["own"]) is None


def t_cert_revise(b, fx):
    """An approver revises an issued certificate from its page: a validity
    beyond the model's period is refused by the database (shown), a corrected
    client makes a draft of revision 1; once checked and approved by two
    other people the old certificate is superseded."""
    old = fx.data["revise"]
    b.login("mlt_approver")
    b.visit("certs-revise", "/lab/certs.html#%d" % old)
    assert b.text("#state") == "已签发", b.text("#state")
    b.css("#revise-open").click()
    b.css("#rv-reason").send_keys("送检单位名称有误")
    b.css("#rv-valid_until").send_keys("2099-12-31")
    b.css("#rv-go").click()
    b.wait_text("#msg", "修订被拒绝")
    assert fx.sql("SELECT count(*) FROM certificate WHERE revises_id = %d" % old) == "0"
    b.css("#rv-valid_until").clear()
    b.css("#rv-client").send_keys("杭州市上城区供电所")
    b.shot("certs-revise-form")
    b.css("#rv-go").click()
    b.wait_text("#msg", "已生成修订版草稿（第 1 次修订）")
    new = int(fx.sql("SELECT id FROM certificate WHERE revises_id = %d" % old))
    # the message comes as soon as the revision is made; the page then reloads the new draft
    b.wait(lambda: b.text("#state") == "待核验" and b.text("#revision") == "第 1 次修订", 10, "the revision shown")
    b.login("mlt_checker")
    b.get("/lab/certs.html#%d" % new)
    b.ready()
    b.css("#check").click()
    b.wait_text("#state", "待批准")
    b.login("mlt_both")
    b.get("/lab/certs.html#%d" % new)
    b.ready()
    b.css("#approve").click()
    b.wait_text("#state", "已签发", timeout=20)
    assert fx.sql("SELECT new_id FROM cert_supersession WHERE old_id = %d" % old) == str(new)
    assert fx.sql("SELECT state FROM certificate WHERE id = %d" % new) == "issued"
    assert fx.sql("SELECT cert_no = (SELECT cert_no FROM certificate WHERE id = %d) FROM certificate WHERE id = %d"
                  % (old, new)) == "t"


def t_manual(b, fx):
    """A technician types a manual verification's readings into the run page:
    a malformed value is refused naming its line and nothing is stored; the
    corrected readings are judged by the server (one meter in, one out of
    the class 1 limit) and the run is finished."""
    lab = fx.data["lab"]
    m = lab["manual"]
    b.login("mlt_tech")
    b.get("/lab/board.html")
    b.ready()
    r = b.d.execute_async_script("""
        const [body, done] = arguments;
        import('/js/api.js').then((a) => a.api('POST', '/api/runs', body))
            .then((x) => done(x), (e) => done({error: e.message}));""",
        {"bench": lab["bench"], "scheme": lab["scheme"], "manual": True,
         "positions": ["1=" + m[0], "2=" + m[1]]})
    assert "run_id" in r, r
    run = r["run_id"]
    b.visit("run-manual", "/lab/run.html#%d" % run)
    assert b.css("#manual-form").is_displayed()
    fields = b.d.execute_script("return [...document.querySelectorAll('#manual-form input.reading')].map(e => e.id)")
    assert fields and fields[0] == "m-1-1", fields
    # Enter moves on like on paper; a value that is not a number is refused
    b.css("#" + fields[0]).send_keys("0.12, 0.10" + Keys.ENTER)
    assert b.d.execute_script("return document.activeElement.id") == fields[1]
    for f in fields[1:]:
        b.css("#" + f).send_keys("0.1x")
    b.css("#manual-go").click()
    b.wait_text("#msg", "读数被拒绝")
    assert fx.sql("SELECT status FROM verification_run WHERE run_id = %d" % run) == "pending"
    assert fx.sql("SELECT count(*) FROM run_conclusion WHERE run_id = %d" % run) == "0"
    b.shot("run-manual-refused")
    for i, f in enumerate(fields[1:]):
        b.css("#" + f).clear()
        b.css("#" + f).send_keys("3.5, 3.6")
    b.css("#manual-go").click()
    b.wait_text("#msg", "已录入并判定：合格 1 只，不合格 1 只", timeout=20)
    assert fx.sql("SELECT status FROM verification_run WHERE run_id = %d" % run) == "finished"
    assert fx.sql("SELECT string_agg(c.verdict, ',' ORDER BY p.position) FROM run_conclusion c "
                  "JOIN run_position p ON p.run_id = c.run_id AND p.asset_id = c.asset_id "
                  "WHERE c.run_id = %d AND c.item = 'overall'" % run) == "pass,fail"
    assert not b.css("#manual-form").is_displayed()
    b.wait(lambda: len(b.csss("#conclusions tbody tr")) == 2, 10, "the conclusions")
    b.shot("run-manual-judged", at="#conclusions")


def bearer(fx, token, path="/api/whoami"):
    """A request as a program would make it: (status, JSON)."""
    import urllib.request, urllib.error
    rq = urllib.request.Request(fx.base + path, headers={"Authorization": "Bearer " + token,
                                                          "Accept": "application/json"})
    try:
        with urllib.request.urlopen(rq, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def t_tokens(b, fx):
    """A clerk makes an API token scoped to one role in the page: shown once,
    it works for a program with that role only; the administrator sees it in
    the clerk's list; revoked in the page, it is refused at once."""
    b.login("mlt_clerk")
    b.visit("tokens", "/tokens.html")
    b.css("#label").send_keys("三号库扫码枪")
    b.css("input[name=role][value=warehouse_clerk]").click()
    days = b.css("#days")
    days.clear()
    days.send_keys("30")
    b.css("#go").click()
    b.wait_text("#msg", "已生成令牌")
    token = b.css("#token").get_attribute("value")
    assert len(token) >= 40, token
    tid = int(fx.sql("SELECT max(session_id) FROM auth_session s JOIN app_user u USING (user_id) "
                     "WHERE u.login = 'mlt_clerk' AND kind = 'api'"))
    assert fx.sql("SELECT array_to_string(scope_roles, ',') || ' ' || (expires_at - created_at)::text "
                  "FROM auth_session WHERE session_id = %d" % tid) == "warehouse_clerk 30 days"
    b.shot("tokens-created")
    st, who = bearer(fx, token)
    assert st == 200 and who["roles"] == ["warehouse_clerk"] and who["session"] == "api", (st, who)
    b.wait_text("#tok-%d" % tid, "有效")
    # the administrator reads the clerk's tokens
    b.login("mlt_admin")
    b.get("/tokens.html")
    b.ready()
    b.css("#login").send_keys("mlt_clerk" + Keys.ENTER)
    b.wait_text("#tok-%d" % tid, "三号库扫码枪")
    # the clerk revokes it: refused from then on
    b.login("mlt_clerk")
    b.get("/tokens.html")
    b.ready()
    b.css("#tok-%d .revoke" % tid).click()
    b.wait_text("#msg", "请填写吊销原因")
    b.css("#why-%d" % tid).send_keys("扫码枪遗失")
    b.css("#tok-%d .revoke" % tid).click()
    b.wait_text("#msg", "令牌 #%d 已吊销" % tid)
    b.wait_text("#tok-%d" % tid, "已吊销")
    st, body = bearer(fx, token)
    assert st == 401, (st, body)
    assert fx.sql("SELECT revoked_reason FROM auth_session WHERE session_id = %d" % tid) == "扫码枪遗失"


FAKE_CAMERA = """
// A stand-in for a phone's camera: BarcodeDetector "sees" the codes of
// window.__camCodes one per frame; getUserMedia gives a canvas's stream.
window.__camCodes = [];
window.BarcodeDetector = class {
    constructor(o) { window.__camFormats = (o && o.formats) || []; }
    static async getSupportedFormats() { return ["code_128", "qr_code", "ean_13", "data_matrix"]; }
    async detect(source) {
        window.__camFrames = (window.__camFrames || 0) + 1;
        const c = window.__camCodes.shift();
        return c ? [{ rawValue: c, format: "code_128" }] : [];
    }
};
if (navigator.mediaDevices) navigator.mediaDevices.getUserMedia = async (want) => {
    window.__camAsked = want;
    const cv = document.createElement("canvas");
    cv.width = 64; cv.height = 48;
    cv.getContext("2d").fillRect(0, 0, 64, 48);
    return cv.captureStream(10);
};
"""


def t_camera(b, fx):
    """Camera scanning where the browser has BarcodeDetector, with a fake
    detector and camera injected before the page's scripts (headless
    chromium has neither): a seal seen by the camera goes through the same
    scan queue as a typed one; on the field page a barcode seen fills its
    field and the focus moves on. Without BarcodeDetector there is no button."""
    b.login("mlt_clerk")
    b.get("/wh/seals.html")
    b.ready()
    assert not b.d.execute_script("return [...document.querySelectorAll('button')].some(x => x.textContent === '摄像头扫码')")
    sid = b.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_CAMERA})["identifier"]
    try:
        b.get("/wh/seals.html")
        b.ready()
        Select(b.css("#op-kind")).select_by_value("receive")
        cam = b.css("#op-scan + button")
        assert cam.text == "摄像头扫码", cam.text
        b.d.execute_script("window.__camCodes.push('SEAL-CAM1')")
        cam.click()
        b.wait(lambda: scan_log(b) and scan_log(b)[0][0] == "SEAL-CAM1" and scan_log(b)[0][1] == "ok", 10, "the camera's code")
        assert b.d.execute_script("return window.__camAsked.video.facingMode") == "environment"
        assert "code_128" in b.d.execute_script("return window.__camFormats")
        assert b.csss("video")
        b.shot("seals-camera")
        b.d.find_element(By.XPATH, "//button[text()='停止']").click()
        b.wait(lambda: not b.csss("video"), 5, "the camera to stop")
        assert b.d.execute_script("return document.activeElement.id") == "op-scan"
        b.css("#op-batch").send_keys("B-CAM")
        b.css("#op-go").click()
        b.wait_text("#msg", "已入库 1 只")
        assert fx.sql("SELECT batch FROM seal WHERE code = 'SEAL-CAM1'") == "B-CAM"
        # the field page: one barcode into one field, then the next field
        f = fx.data["field"]
        b.login(f["login"])
        b.get("/field/")
        b.ready()
        b.d.execute_script("window.__camCodes.push(arguments[0])", f["barcodes"][3])
        b.css("#i-barcode + button").click()
        b.wait(lambda: b.css("#i-barcode").get_attribute("value") == f["barcodes"][3], 10, "the field filled")
        b.wait(lambda: b.d.execute_script("return document.activeElement.id") == "i-point", 5, "the focus on the point")
    finally:
        b.d.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": sid})


def t_inspect(b, fx):
    """A field member records an on-site inspection: an expired portable
    standard is refused in the server's words and nothing is recorded; a mean
    of 1.15 % on a class 1 meter is judged by the server (rounded 1.2, fails)
    and opens a swap work order for the installing team."""
    pl = fx.data["plan"]
    b.login("mlt_fw")
    b.visit("inspect", "/plan/inspect.html")
    assert b.d.execute_script("return document.activeElement.id") == "point"
    b.css("#point").send_keys("WIP1")
    b.css("#standard").send_keys(pl["expired"])
    b.css("#rd-1").send_keys("1.1, 1.2")
    b.css("#rd-2").send_keys("0.2 0.2")
    b.css("#go").click()
    b.wait_text("#msg", "检验被拒绝")
    assert "has no calibration certificate valid on" in b.text("#msg"), b.text("#msg")
    b.shot("inspect-refused")
    assert fx.sql("SELECT count(*) FROM point_inspection") == "0"
    b.css("#standard").clear()
    b.css("#standard").send_keys(pl["standard"])
    b.css("#add").click()
    assert b.d.execute_script("return document.activeElement.id") == "lp-3"
    b.css("#go").click()
    b.wait_text("#msg", "已记录检验")
    assert b.text("#verdict") == "不合格", b.text("#verdict")
    rows = b.d.execute_script("return [...document.querySelectorAll('#points-result tbody tr')].map(r => [...r.cells].map(c => c.innerText))")
    assert rows[0][0] == "Ib 1.0" and rows[0][1] == "1.15" and rows[0][2] == "+1.2" and rows[0][3] == "1" and rows[0][4] == "不合格", rows
    assert rows[1][4] == "合格", rows
    order = b.css("#swap a").text.lstrip("#")
    b.shot("inspect-fail")
    assert fx.sql("SELECT i.verdict || ' ' || u.login || ' ' || p.code FROM point_inspection i JOIN app_user u ON u.user_id = i.recorded_by "
                  "JOIN metering_point p ON p.point_id = i.point_id") == "fail mlt_fw WIP1"
    assert fx.sql("SELECT kind || ' ' || status FROM swap_order WHERE order_id = %s" % order) == "inspection open"
    pl["inspection_order"] = int(order)


def read_all_pages(b, rows_sel, total_sel, total_text):
    """A paged list (?per=1): the server's total over every page at once, then
    加载更多 until it hides; returns the row ids shown, in order."""
    b.wait(lambda: total_text in b.text(total_sel), 10, "the total over every page: " + total_text)
    for _ in range(200):
        if b.css("#more").get_attribute("hidden") is not None:
            break
        n = len(b.csss(rows_sel))
        b.css("#more").click()
        b.wait(lambda: len(b.csss(rows_sel)) > n, 10, "the next page")
    assert b.css("#more").get_attribute("hidden") is not None, "still more after 200 pages"
    return [r.get_attribute("id") for r in b.csss(rows_sel)]


def t_swaps(b, fx):
    """Swap work orders: a field member sees their team's (none) and picks the
    other team's: the overdue rotation order and the inspection's; a manager
    cancels the rotation order with a reason."""
    pl = fx.data["plan"]
    b.login("mlt_fw")
    b.visit("swaps", "/plan/orders.html")
    assert Select(b.css("#f-team")).first_selected_option.get_attribute("value") == "WEB-TEAM"
    b.wait_text("#orders tbody", "没有符合条件的工单")
    Select(b.css("#f-team")).select_by_value(pl["team"])
    b.wait(lambda: len(b.csss("#orders tbody tr[id]")) == (2 if pl.get("inspection_order") else 1), 10, "the team's orders")
    b.wait_text("#total", "其中逾期 1 张")
    late = b.css("#order-%d" % pl["order"])
    assert "逾期" in late.text and "周期轮换" in late.text, late.text
    if pl.get("inspection_order"):
        assert "现场检验不合格" in b.text("#order-%d" % pl["inspection_order"])
    Select(b.css("#f-status")).select_by_value("overdue")
    b.wait(lambda: [r.get_attribute("id") for r in b.csss("#orders tbody tr[id]")] == ["order-%d" % pl["order"]], 10, "only the overdue one")
    b.css("#order-%d a" % pl["order"]).click()
    b.wait_text("#detail", "工单 #%d" % pl["order"])
    assert not b.csss("#cancel-form")  # a field member does not cancel
    b.shot("swaps")
    b.login("mlt_manager")
    b.get("/plan/orders.html#%d" % pl["order"])
    b.ready()
    b.wait_text("#detail", "工单 #%d" % pl["order"])
    b.css("#c-reason").send_keys("客户已销户，计量点拆除")
    b.shot("swaps-cancel", at="#cancel-form")
    b.css("#c-go").click()
    b.wait_text("#msg", "已取消工单 #%d" % pl["order"])
    b.wait_text("#d-status", "已取消")
    assert fx.sql("SELECT status || ' ' || u.login FROM swap_order o JOIN app_user u ON u.user_id = o.closed_by "
                  "WHERE order_id = %d" % pl["order"]) == "cancelled mlt_manager"
    # one order a page: the count is the server's over every page, 加载更多 shows each order once
    b.get("/plan/orders.html?per=1")
    b.ready()
    Select(b.css("#f-status")).select_by_value("all")
    want = fx.sql("SELECT string_agg('order-' || order_id, ' ' ORDER BY order_id) FROM swap_order").split()
    assert len(want) >= 2, want
    b.wait(lambda: len(b.csss("#orders tbody tr[id]")) == 1, 10, "one order a page")
    assert " ".join(read_all_pages(b, "#orders tbody tr[id]", "#total", "共 %d 张" % len(want))) == " ".join(want)


def t_watch(b, fx):
    """A monitoring work item: a field member of another team is refused
    (403, the server's words naming the team), no reason asked for and
    nothing written; the team's member closing while the meter is still
    past its validity is refused with the server's words and the reason is
    asked for; with a reason it closes, recorded as held, by the person.
    The refusal, at the top of the page, is brought into sight."""
    pl = fx.data["plan"]
    b.login("mlt_fw")  # of WEB-TEAM; the item is WEB-TEAM2's
    b.visit("watch", "/plan/watch.html")
    b.wait(lambda: b.csss("#item-%d" % pl["item"]), 10, "the rotation item")
    b.css("#item-%d a" % pl["item"]).click()
    b.wait_text("#detail", "待办 #%d" % pl["item"])
    b.css("#c-note").send_keys("不是本班的表，顺手关了")
    b.css("#c-go").click()
    b.wait_text("#msg", "关闭被拒绝")
    assert "work item %d belongs to field team %s: mlt_fw is not a member of it" % (pl["item"], pl["team"]) in b.text("#msg"), b.text("#msg")
    assert b.css("#c-reason-box").get_attribute("hidden") is not None  # a refusal, not a reason to ask for
    # the message is at the top of the page, the button at its foot: the refusal is brought into sight
    rect = b.d.execute_script("const r = document.querySelector('#msg').getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight]")
    assert rect[0] > -1 and rect[1] < rect[2] + 1, "the refusal is out of sight: %r" % rect
    b.shot("watch-other-team", at="#msg")
    assert fx.sql("SELECT status || ' ' || coalesce(note, '-') FROM watch_item WHERE item_id = %d" % pl["item"]) == "open -"
    b.login("mlt_fw2")  # of WEB-TEAM2
    b.get("/plan/watch.html")
    b.ready()
    b.wait(lambda: b.csss("#item-%d" % pl["item"]), 10, "the rotation item")
    assert "周期轮换逾期" in b.text("#item-%d" % pl["item"])
    Select(b.css("#f-rule")).select_by_value("unsealed_install")
    b.wait(lambda: b.csss("#items tbody tr[id]") and all(r.get_attribute("data-rule") == "unsealed_install" for r in b.csss("#items tbody tr[id]")), 10, "the rule filter")
    Select(b.css("#f-rule")).select_by_value("")
    b.wait(lambda: b.csss("#item-%d" % pl["item"]), 10, "all rules again")
    b.css("#item-%d a" % pl["item"]).click()
    b.wait_text("#detail", "待办 #%d" % pl["item"])
    assert b.css("#c-reason-box").get_attribute("hidden") is not None
    b.css("#c-note").send_keys("已通知城西装接二班换表")
    b.css("#c-go").click()
    b.wait_text("#msg", "关闭被拒绝")
    assert "the condition still holds" in b.text("#msg"), b.text("#msg")
    assert b.css("#c-reason-box").get_attribute("hidden") is None
    assert b.d.execute_script("return document.activeElement.id") == "c-reason"
    b.shot("watch-refused", at="#close-form")
    assert fx.sql("SELECT status FROM watch_item WHERE item_id = %d" % pl["item"]) == "open"
    b.css("#c-reason").send_keys("客户长期不在家，已约定下周换表")
    b.css("#c-go").click()
    b.wait_text("#msg", "已关闭待办 #%d（异常仍在" % pl["item"])
    b.wait_text("#d-reason", "客户长期不在家")
    assert fx.sql("SELECT status || ' ' || condition_held || ' ' || u.login FROM watch_item i JOIN app_user u ON u.user_id = i.closed_by "
                  "WHERE item_id = %d" % pl["item"]) == "closed true mlt_fw2"
    b.shot("watch-closed")
    # one item a page: the count is the server's over every page, 加载更多 shows each item once
    b.get("/plan/watch.html?per=1")
    b.ready()
    want = fx.sql("SELECT string_agg('item-' || item_id, ' ' ORDER BY item_id) FROM watch_item WHERE status = 'open'").split()
    assert len(want) >= 2, want
    b.wait(lambda: len(b.csss("#items tbody tr[id]")) == 1, 10, "one item a page")
    assert " ".join(read_all_pages(b, "#items tbody tr[id]", "#total", "共 %d 条" % len(want))) == " ".join(want)


# An EventSource that connects only once window.__streamGate is set, and
# notes the status of every snapshot (a stream's first event) it passes on:
# a stream that opens late, as a slow network or a busy server opens it.
GATED_EVENTSOURCE = """
const Real = window.EventSource;
window.__snapshots = [];
window.__streamGate = false;
window.EventSource = class {
    constructor(url) {
        this.t = new EventTarget();
        this.es = null;
        this.closed = false;
        const go = () => {
            if (this.closed) return;
            if (!window.__streamGate) return void setTimeout(go, 50);
            this.es = new Real(url);
            for (const k of ["open", "error", "run", "resync", "end"])
                this.es.addEventListener(k, (e) => {
                    if (k === "run" && JSON.parse(e.data).event === "snapshot")
                        window.__snapshots.push(JSON.parse(e.data).status);
                    this.t.dispatchEvent(new MessageEvent(k, { data: e.data }));
                });
        };
        go();
    }
    addEventListener(k, f) { this.t.addEventListener(k, f); }
    close() { this.closed = true; if (this.es) this.es.close(); }
};
"""


def t_run_start(b, fx):
    """A technician starts a run from its page (the server executes it,
    --runners 1): progress arrives over Server-Sent Events; another run
    started while the one runner is busy is refused in the server's words
    (503) and stays pending; the long run aborted, the other one started
    again completes, every step recorded as the technician, and the page
    learns of the end from the stream's snapshot when its stream opens
    only after the run ended."""
    st = fx.data["start"]
    b.login("mlt_tech")
    b.visit("run-start", "/lab/run.html#%d" % st["long"])
    assert not b.css("#start-form").get_attribute("hidden"), "no start button"
    b.css("#start").click()
    b.wait_text("#msg", "已开始执行任务 #%d" % st["long"], 15)
    b.wait(lambda: int(b.text("#progress").split("/")[0]) >= 1, 30, "a step over the event stream")
    assert b.text("#status") == "检定中", b.text("#status")
    assert b.text("#live") == "实时"
    b.shot("run-start-progress")
    # the one runner is busy: refused, in words
    b.get_ready("/lab/run.html#%d" % st["short"])
    b.css("#start").click()
    b.wait_text("#msg", "开始被拒绝")
    assert "执行能力已用满" in b.text("#msg") and "--runners" in b.text("#msg"), b.text("#msg")
    b.shot("run-start-busy")
    assert fx.sql("SELECT status FROM verification_run WHERE run_id = %d" % st["short"]) == "pending"
    # abort the long one from its page; the runner stops
    b.get_ready("/lab/run.html#%d" % st["long"])
    b.css("#abort-reason").send_keys("演示：让出检定台")
    b.css("#abort").click()
    b.wait_text("#msg", "已放弃")  # the answer or the event stream's status, whichever came last
    b.wait_text("#status", "已放弃")
    assert fx.sql("SELECT status FROM verification_run WHERE run_id = %d" % st["long"]) == "aborted"
    # the runner is free again (it may take a moment to let go of the aborted run)
    b.get_ready("/lab/run.html#%d" % st["short"])
    # A one-step run can finish within a poll of its start: the page then
    # replaces "已开始执行任务" with "检定已完成" before the test reads it (CI
    # of b6ac7c6 read the message twice and clicked a hidden button). So the
    # answer is taken from what stays: a refusal leaves its words and the
    # run pending; an accepted start moves the run out of pending.
    short_status = lambda: fx.sql("SELECT status FROM verification_run WHERE run_id = %d" % st["short"])
    b.d.execute_script(GATED_EVENTSOURCE)
    for _ in range(40):
        b.d.execute_script("document.querySelector('#msg').replaceChildren()")
        b.css("#start").click()
        b.wait(lambda: "开始被拒绝" in b.text("#msg") or short_status() != "pending", 15, "an answer")
        if "开始被拒绝" not in b.text("#msg"):
            break
        time.sleep(0.25)
    else:
        raise AssertionError("the runner never let go of the aborted run: " + b.text("#msg"))
    # The stream the click opened connects only now that the run has ended
    # (the page's EventSource held back): the end reaches the page through
    # the stream's first event, its snapshot, and nothing else.
    b.wait(lambda: short_status() == "finished", 60, "the short run finished")
    b.d.execute_script("window.__streamGate = true")
    b.wait_text("#status", "已完成", 60)
    assert b.d.execute_script("return window.__snapshots") == ["finished"], b.d.execute_script("return window.__snapshots")
    # the event stream sets the status at once; the page then reloads the run
    # (conclusions, progress, buttons) with a request of its own: wait for that
    b.wait(lambda: len(b.csss("#conclusions tbody tr")) == 2, 15, "the finished run's two conclusions")
    b.wait(lambda: b.text("#progress") == "1/1", 15, "progress 1/1")
    assert b.text("#status") == "已完成", b.text("#status")
    b.wait(lambda: b.css("#start-form").get_attribute("hidden") is not None, 15, "the start button hidden")
    b.shot("run-start-finished")
    assert fx.sql("SELECT r.status || ' ' || count(*) FILTER (WHERE u.login = 'mlt_tech') || '/' || count(*) FROM verification_run r "
                  "JOIN run_step s USING (run_id) JOIN app_user u ON u.user_id = s.recorded_by WHERE r.run_id = %d "
                  "GROUP BY r.status" % st["short"]) == "finished 1/1"


def t_labseal(b, fx):
    """A technician seals a verified meter in the lab with their own seals: a
    seal not theirs is refused beside its code, a meter not in stock after a
    passed verification is refused by the database (nothing applied); then
    two seals applied, recorded as the technician."""
    ls = fx.data["labseal"]
    b.login("mlt_tech")
    b.visit("labseal", "/lab/seal.html")
    mine = lambda: [e.get_attribute("data-code") for e in b.csss("#mine tbody tr[data-code]")]
    # the fixture's three (t_seals may have issued the technician one more)
    b.wait(lambda: set(ls["seals"]) <= set(mine()), 10, "my seals")
    # the person's own seals, every page of them (W4: the centre's first 1000 issued seals may hold none)
    b.get_ready("/lab/seal.html?per=2")
    b.wait(lambda: set(ls["seals"]) <= set(mine()), 10, "my seals over two pages")
    b.get_ready("/lab/seal.html")
    assert b.d.execute_script("return document.activeElement.id") == "barcode"
    b.css("#barcode").send_keys(fx.data["plan"]["barcodes"][0] + Keys.ENTER)  # installed at WIP1
    assert b.d.execute_script("return document.activeElement.id") == "scan"
    for c in [ls["not_mine"], ls["seals"][0], ls["seals"][1]]:
        b.css("#scan").send_keys(c + Keys.ENTER)
    b.wait(lambda: len(scan_log(b)) == 3 and all(s != "wait" for _, s, _ in scan_log(b)), 10, "three answers")
    log = {c: (s, why) for c, s, why in scan_log(b)}
    assert log[ls["not_mine"]][0] == "bad" and "不是发给您本人" in log[ls["not_mine"]][1], log
    assert log[ls["seals"][0]][0] == "ok" and log[ls["seals"][1]][0] == "ok", log
    b.css("#go").click()
    b.wait_text("#msg", "施封被拒绝")
    assert "only a meter that passed verification" in b.text("#msg"), b.text("#msg")
    b.shot("labseal-refused")
    assert fx.sql("SELECT string_agg(state, ',') FROM seal WHERE code IN ('%s', '%s')" % tuple(ls["seals"][:2])) == "issued,issued"
    b.css("#barcode").clear()
    b.css("#barcode").send_keys(ls["meter"])
    # the list cannot be read again after the apply went through (W8): the
    # page says applied, and separately that it is stale, never "refused"
    b.d.execute_script("""const f = window.fetch;
        window.fetch = (u, o) => (!o || !o.method || o.method === 'GET') && String(u).startsWith('/api/seals?')
            ? Promise.reject(new TypeError('network down')) : f(u, o);""")
    b.css("#go").click()
    b.wait_text("#msg", "刷新页面数据失败")
    assert "已给表计 %s 施封 2 只" % ls["meter"] in b.text("#msg"), b.text("#msg")
    assert "被拒绝" not in b.text("#msg"), b.text("#msg")
    assert fx.sql("SELECT string_agg(state, ',') FROM seal WHERE code IN ('%s', '%s')" % tuple(ls["seals"][:2])) == "applied,applied"
    b.get_ready("/lab/seal.html")
    b.wait(lambda: ls["seals"][2] in mine() and not set(ls["seals"][:2]) & set(mine()), 10, "the seal left")
    b.shot("labseal-done")
    assert fx.sql("SELECT count(*) FROM seal s JOIN asset a ON a.asset_id = s.asset_id JOIN seal_event e ON e.seal_id = s.seal_id "
                  "AND e.action = 'apply' JOIN app_user u ON u.user_id = e.actor_id WHERE s.state = 'applied' AND a.barcode = '%s' "
                  "AND u.login = 'mlt_tech'" % ls["meter"]) == "2"


def t_logout_offline(b, fx):
    """退出 that does not reach the server says so and stays (W9): the
    session is still valid; once it does, the person is logged out."""
    b.login("mlt_clerk")
    b.get_ready("/wh/stock.html")
    b.d.execute_script("""const f = window.fetch;
        window.fetch = (u, o) => String(u) === '/api/logout' ? Promise.reject(new TypeError('network down')) : f(u, o);""")
    b.css("#logout").click()
    b.wait_text("#logout-failed", "退出失败，您仍处于登录状态")
    assert "/wh/stock.html" in b.d.current_url
    r = b.d.execute_async_script("const done = arguments[0]; fetch('/api/whoami').then((r) => done(r.status));")
    assert r == 200, r
    b.get_ready("/wh/stock.html")
    b.css("#logout").click()
    b.wait(lambda: "/login.html" in b.d.current_url, 10, "the login page")
    r = b.d.execute_async_script("const done = arguments[0]; fetch('/api/whoami').then((r) => done(r.status));")
    assert r == 401, r


def t_field_check_digit(b, fx):
    """The field page refuses a barcode whose check digit is wrong (W9:
    mod-10, weights 3/1, as the server): the form is not queued."""
    f = fx.data["field"]
    good = f["barcodes"][2]
    bad = good[:21] + str((int(good[21]) + 1) % 10)
    b.login(f["login"])
    b.get_ready("/field/")
    queued = lambda: len(b.d.execute_async_script(
        "const done = arguments[0]; import('/field/queue.js').then((q) => q.all()).then(done);"))
    before = queued()
    b.css("#f-barcode").send_keys(bad)
    Select(b.css("#f-symptom")).select_by_value("FAST")
    b.css("#f-desc").send_keys("校验位测试")
    b.css("#f-lab").send_keys(f["lab"])
    b.css("#fault button").click()
    time.sleep(0.5)
    assert queued() == before, "a barcode with a wrong check digit was queued"
    v = b.css("#f-barcode").get_attribute("validationMessage")
    assert "校验位" in v and "应为 %s" % good[21] in v, v
    b.css("#f-barcode").clear()
    b.css("#f-barcode").send_keys(good)
    assert b.css("#f-barcode").get_attribute("validationMessage") == ""
    b.css("#f-barcode").clear()  # nothing sent: this test changes nothing


def t_arbitration(b, fx):
    """An arbitration complaint is answered on the fault page: a run that did
    not verify the meter is refused in the database's words; the run that did
    and its issued certificate are linked, by the technician."""
    ar = fx.data["arbitration"]
    b.login("mlt_tech")
    b.get("/lab/faults.html#%d" % ar["fault"])
    b.ready()
    b.wait_text("#arbitration", "仲裁检定")
    assert b.text("#a-run") == "未关联"
    assert "TS-WEB-1" in b.text("#detail")
    b.css("#a-run-id").send_keys(str(ar["wrong_run"]) + Keys.TAB)
    b.css("#a-go").click()
    b.wait_text("#msg", "关联被拒绝")
    assert "did not verify asset" in b.text("#msg"), b.text("#msg")
    assert fx.sql("SELECT arbitration_run_id FROM fault_report WHERE fault_id = %d" % ar["fault"]) is None
    b.css("#a-run-id").clear()
    b.css("#a-run-id").send_keys(str(ar["run"]) + Keys.TAB)
    b.wait(lambda: any(ar["cert_no"] in o.text for o in b.csss("#a-cert-id option")), 10, "the run's certificate offered")
    Select(b.css("#a-cert-id")).select_by_value(str(ar["cert"]))
    b.shot("arbitration-link", at="#arbitration")
    b.css("#a-go").click()
    b.wait_text("#msg", "已关联仲裁检定：任务 #%d" % ar["run"])
    b.wait_text("#a-cert", ar["cert_no"])
    assert "#%d" % ar["run"] in b.text("#a-run")
    assert not b.csss("#arbitration-form")
    assert fx.sql("SELECT arbitration_run_id || ' ' || arbitration_cert_id || ' ' || u.login FROM fault_report f JOIN app_user u "
                  "ON u.user_id = f.arbitration_linked_by WHERE fault_id = %d" % ar["fault"]) == "%d %d mlt_tech" % (ar["run"], ar["cert"])

def t_seal_pages(b, fx):
    """The seal list in pages (keyset on the code): three at a time with
    ?per=3, 加载更多 until the server says there is no more; every seal of
    the database shown once, in code order; the API's next is a full page's
    last code."""
    b.login("mlt_clerk")
    b.visit("seal-pages", "/wh/seals.html?per=3")
    b.wait(lambda: len(b.csss("#seals tbody tr[data-code]")) == 3, 10, "the first page")
    assert b.css("#more").is_displayed()
    b.wait_text("#total", "还有更多")
    b.shot("seal-pages")
    for _ in range(50):
        if not b.css("#more").is_displayed():
            break
        n = len(b.csss("#seals tbody tr[data-code]"))
        b.css("#more").click()
        b.wait(lambda: len(b.csss("#seals tbody tr[data-code]")) > n or not b.css("#more").is_displayed(), 10, "the next page")
    codes = b.d.execute_script("return [...document.querySelectorAll('#seals tbody tr[data-code]')].map(r => r.dataset.code)")
    assert codes == sorted(set(codes)), codes
    assert len(codes) == int(fx.sql("SELECT count(*) FROM seal")), codes
    assert codes == fx.sql("SELECT string_agg(code, ',' ORDER BY code) FROM seal").split(","), codes
    b.wait_text("#total", "共 %d 只" % len(codes))
    r = b.d.execute_async_script("""const done = arguments[0];
        fetch('/api/seals?limit=2').then(r => r.json()).then(j => done([j.items.map(i => i.code), j.next]));""")
    assert r[1] == r[0][1] == codes[1], r

TESTS = [t_verify_page, t_login_and_homes, t_login_next, t_cert_queue, t_warehouse, t_count, t_count_scans, t_reverify, t_delivery, t_field, t_field_session, t_order_double_submit,
         t_lab_and_manager, t_lab_task, t_password, t_seals,
         t_retire, t_faults, t_cert_revise, t_manual, t_tokens, t_camera, t_inspect, t_swaps, t_watch, t_run_start, t_labseal, t_arbitration, t_seal_pages,
         t_logout_offline, t_field_check_digit]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("-k", help="run only tests whose name contains this (several: comma-separated)")
    a = ap.parse_args()
    t0 = time.time()
    fx = Fixture(a.fixture)
    print("fixture ready in %.1f s, server on %s" % (time.time() - t0, fx.base), flush=True)
    b = None
    failed = []
    try:
        b = Browser(fx, a.out)
        for t in TESTS:
            if a.k and not any(k in t.__name__ for k in a.k.split(",")):
                continue
            t1 = time.time()
            try:
                t(b, fx)
                print("ok    %-28s %.1f s" % (t.__name__, time.time() - t1), flush=True)
            except Exception:
                failed.append(t.__name__)
                print("FAIL  %s\n%s" % (t.__name__, traceback.format_exc()), flush=True)
                try:
                    b.d.save_screenshot(os.path.join(b.shots, "FAILED-%s.png" % t.__name__))
                except Exception:
                    pass
        with open(os.path.join(a.out, "web-metrics.json"), "w") as f:
            json.dump({"pages": b.metrics,
                       "goals": {"bytes": 200 * 1024, "usable_ms": 1000}}, f, indent=1, sort_keys=True)
        print("%-22s %9s %5s %8s" % ("page", "bytes", "reqs", "usable"))
        for name, m in sorted(b.metrics.items()):
            print("%-22s %9d %5d %6d ms" % (name, m["bytes"], m["requests"], m["usable_ms"]))
            if m["bytes"] > 200 * 1024:
                failed.append("%s: %d bytes over 200 KB" % (name, m["bytes"]))
    finally:
        if b:
            b.close()
        fx.close()
    print("total %.1f s" % (time.time() - t0))
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

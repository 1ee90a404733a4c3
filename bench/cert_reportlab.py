#!/usr/bin/python3
"""ReportLab baseline for bench_cert: the same certificates, same layout
plan, same embedded font (wqy-zenhei face 0, subset by ReportLab), rendered
with python3-reportlab's canvas API (its fastest path).

Usage: cert_reportlab.py DOCS.json RUNS [KEEP_DIR]
Prints "RESULT rate=<docs/s wall> cpu_rate=<docs/CPU-s> median_kb=<> max_kb=<>"
(medians over RUNS; sizes from the first run). Run with /usr/bin/python3.
"""
import io
import json
import statistics
import sys
import time

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "WQY"
pdfmetrics.registerFont(TTFont(FONT, "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", subfontIndex=0))
W, H = A4
L, R = 56.0, W - 56.0
DASH = "—"


def d(v):
    return v if v else DASH


def cn_date(v):
    if v and len(v) == 10 and v[4] == "-" and v[7] == "-":
        return "%s年%s月%s日" % (v[:4], v[5:7], v[8:10])
    return d(v)


class Doc:
    def __init__(self, doc):
        self.doc = doc
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=A4, invariant=1, pageCompression=1)
        self.page = 1
        self.y = 0

    def text(self, x, y, size, s, align="l"):
        c = self.c
        c.setFont(FONT, size)
        if align == "c":
            c.drawCentredString(x, y, s)
        elif align == "r":
            c.drawRightString(x, y, s)
        else:
            c.drawString(x, y, s)

    def fit(self, s, size, w):
        tw = pdfmetrics.stringWidth(s, FONT, size)
        return size if tw <= w else max(5.0, size * w / tw)

    def furniture(self, total):
        c, doc = self.c, self.doc
        c.setLineWidth(1.2)
        c.rect(28, 28, W - 56, H - 56)
        c.setLineWidth(0.4)
        c.rect(32, 32, W - 64, H - 64)
        self.text(R, H - 56, 10, "证书编号：" + d(doc["cert_no"]), "r")
        self.text(R, H - 70, 9, "第 %d 页  共 %d 页" % (self.page, total), "r")
        if self.page > 1:
            self.text(L, H - 56, 10, d(doc["issuer"]))
            c.setLineWidth(0.6)
            c.line(L, H - 76, R, H - 76)

    def new_page(self, total):
        self.c.showPage()
        self.page += 1
        self.furniture(total)
        self.y = H - 90

    def cover(self):
        doc, c = self.doc, self.c
        notice = doc["kind"] == 2
        self.text(W / 2, H - 150, 30, "检定结果通知书" if notice else "检定证书", "c")
        if doc["revision"] > 0:
            self.text(W / 2, H - 176, 10.5, "第%d版，替代 %s" % (doc["revision"], d(doc["supersedes"])), "c")
        concl = d(doc["conclusion"])
        if not notice and doc["accuracy_class"]:
            concl = doc["accuracy_class"] + " " + concl
        rows = [("送检单位", doc["client"]), ("计量器具名称", doc["instrument"]),
                ("型号/规格", "%s  %s" % (d(doc["model"]), doc["spec"] or "")), ("出厂编号", doc["barcode"]),
                ("制造单位", doc["manufacturer"]), ("检定依据", doc["regulation"]), ("检定结论", concl), None,
                ("批准人", doc["approver"]), ("核验员", doc["checker"]), ("检定员", doc["verifier"]),
                ("检定日期", cn_date(doc["verified_on"]))]
        if not notice:
            rows.append(("有效期至", cn_date(doc["valid_until"])))
        y = H - 205
        for row in rows:
            if row is None:
                y -= 14
                continue
            self.text(L + 8, y - 16, 12, row[0])
            self.text(L + 100, y - 16, self.fit(d(row[1]), 12, R - L - 100), d(row[1]))
            c.setLineWidth(0.4)
            c.line(L + 96, y - 21, R, y - 21)
            y -= 28
        self.text((L + R - 130) / 2, 205, 12, d(doc["issuer"]), "c")
        self.text((L + R - 130) / 2, 188, 9, "（检定专用章）", "c")
        self.text(L, 150, 9, "计量检定机构授权证书号：" + d(doc["authorization_no"]))
        self.text(L, 137, 9, "地址：%s    邮编：%s" % (d(doc["address"]), d(doc["postcode"])))
        self.text(L, 124, 9, "电话：%s    传真：%s" % (d(doc["phone"]), d(doc["fax"])))
        self.text(L, 111, 9, "电子邮件：" + d(doc["email"]))
        if doc["qr_payload"]:
            qr = QrCodeWidget(doc["qr_payload"], barLevel="M")
            x0, y0, x1, y1 = qr.getBounds()
            dr = Drawing(86, 86, transform=[86.0 / (x1 - x0), 0, 0, 86.0 / (y1 - y0), 0, 0])
            dr.add(qr)
            renderPDF.draw(dr, c, R - 86, 112)
        self.text(R, 100, 8.5, "验证码：" + d(doc["verify_code"]), "r")

    def row(self, cols, cells, header, total):
        c = self.c
        h = 18
        if self.y - h < 70:
            self.new_page(total)
            self.row(cols, [x[0] for x in cols], True, total)
        top = self.y
        if header:
            c.setFillGray(0.9)
            c.rect(L, top - h, R - L, h, stroke=0, fill=1)
            c.setFillGray(0)
        x = L
        c.setLineWidth(0.5)
        for i, (head, w, al) in enumerate(cols):
            s = d(cells[i])
            fs = self.fit(s, 8.5 if header else 9, w - 6)
            al = "c" if header else al
            px = x + w / 2 if al == "c" else (x + w - 3 if al == "r" else x + 3)
            self.text(px, top - h + 5.5, fs, s, al)
            if i:
                c.line(x, top, x, top - h)
            x += w
        c.rect(L, top - h, R - L, h)
        self.y = top - h

    def table(self, cols, rows, total):
        self.row(cols, [x[0] for x in cols], True, total)
        for r in rows:
            self.row(cols, r, False, total)

    def heading(self, s, total):
        if self.y - 60 < 70:
            self.new_page(total)
        self.y -= 22
        self.text(L, self.y, 11, s)
        self.y -= 8

    def para(self, s, total):
        if self.y - 20 < 70:
            self.new_page(total)
        self.text(L + 12, self.y - 12, 10, s)
        self.y -= 17

    def render(self, total):
        doc = self.doc
        self.furniture(total)
        self.cover()
        self.new_page(total)
        self.text(L, self.y, 10, "原始记录号：" + d(doc["record_no"]))
        self.heading("一、检定依据", total)
        self.para(d(doc["regulation"]), total)
        self.heading("二、本次检定所使用的计量标准器具", total)
        self.table([("名称", 140, "c"), ("测量范围", 100, "c"), ("准确度等级/不确定度", 83, "c"),
                    ("证书编号", 95, "c"), ("有效期至", 65.276, "c")], doc["standards"], total)
        self.heading("三、检定地点及环境条件", total)
        self.para("检定地点：" + d(doc["place"]), total)
        self.para("温度：%s        相对湿度：%s" % (d(doc["temperature"]), d(doc["humidity"])), total)
        self.heading("四、声明", total)
        self.para("1. 本证书（通知书）给出的检定结果仅对本次所检定的计量器具有效。", total)
        self.para("2. 未经本检定机构书面批准，不得部分复制本证书（通知书）。", total)
        self.para("3. 本证书（通知书）无检定专用章、检定员、核验员、批准人签名均无效。", total)
        self.new_page(total)
        notice = doc["kind"] == 2
        self.text(W / 2, self.y - 6, 15, "检定结果（不合格）" if notice else "检定结果", "c")
        self.y -= 14
        if notice:
            failed = [i[0] for i in doc["items"] if i[1] and "不合格" in i[1]]
            failed += ["基本误差（%s %s %s）" % (e[0], e[2], e[3]) for e in doc["errors"] if "不合格" in (e[8] or "")]
            self.c.setLineWidth(1.5)
            self.c.rect(L, self.y - 74, R - L, 64)
            self.text(L + 10, self.y - 26, 11, "不合格项目（%d项）：" % len(failed))
            self.text(L + 10, self.y - 42, self.fit("、".join(failed), 11, R - L - 20), "、".join(failed) or DASH)
            self.text(L + 10, self.y - 60, 11, "结论：该计量器具经检定不合格，不得按原用途使用。")
            self.y -= 78
        self.heading("一、检定项目及结论", total)
        self.table([("序号", 40, "c"), ("检定项目", 150, "c"), ("结论", 80, "c"), ("说明", 213.276, "c")],
                   [[str(k + 1)] + it for k, it in enumerate(doc["items"])], total)
        if doc["errors"]:
            self.heading("二、基本误差", total)
            self.table([("负载点", 42, "c"), ("电流", 42, "c"), ("功率因数", 44, "c"), ("元件", 34, "c"),
                        ("误差读数(%)", 121, "r"), ("平均值(%)", 50, "r"), ("化整值(%)", 50, "r"),
                        ("误差限(%)", 50, "r"), ("结论", 50.276, "c")], doc["errors"], total)
        if doc["xfmr"]:
            self.heading("二、比值差和相位差", total)
            self.table([("百分点", 56, "c"), ("二次负荷", 70, "c"), ("比值差(%)", 70, "r"), ("相位差(′)", 70, "r"),
                        ("比值差限值(%)", 75, "r"), ("相位差限值(′)", 75, "r"), ("结论", 67.276, "c")],
                       doc["xfmr"], total)
        self.text(W / 2, self.y - 24, 10, "（以下空白）", "c")
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def main():
    docs = json.load(open(sys.argv[1], encoding="utf-8"))
    runs = int(sys.argv[2])
    keep = sys.argv[3] if len(sys.argv) > 3 else ""
    rates, cpu_rates, sizes = [], [], []
    for run in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        for i, doc in enumerate(docs):
            pdf = Doc(doc).render(3)
            if run == 0:
                sizes.append(len(pdf) / 1024.0)
                if keep and i < 4:
                    open("%s/reportlab-%d.pdf" % (keep, i), "wb").write(pdf)
        rates.append(len(docs) / (time.perf_counter() - w0))
        cpu_rates.append(len(docs) / (time.process_time() - c0))
    print("RESULT rate=%.2f cpu_rate=%.2f median_kb=%.2f max_kb=%.2f" % (
        statistics.median(rates), statistics.median(cpu_rates), statistics.median(sizes), max(sizes)))


if __name__ == "__main__":
    main()

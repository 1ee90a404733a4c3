/*
 * render_sample.c — sample certificate content (see render_sample.h).
 *
 * Load points and limits for a class-1 direct-connected meter follow
 * JJG 596-2012 Table 3 (domain.md §1.3–1.4); the displayed mean and rounded
 * values are produced here with integer arithmetic (rounding interval 0.1 %
 * for class 1, round-half-even per JJG 596-2012 §7.3.2), so the printed
 * numbers are self-consistent. They are sample data, not a judge.
 */
#include "reports/render_sample.h"

#include <stdio.h>
#include <string.h>

static const char *const CLIENTS[] = {
	"国网河南省电力公司郑州供电公司", "国网河南省电力公司洛阳供电公司",
	"国网河南省电力公司开封供电公司", "国网河南省电力公司新乡供电公司",
	"国网河南省电力公司南阳供电公司", "国网河南省电力公司信阳供电公司",
	"国网河南省电力公司周口供电公司", "国网河南省电力公司驻马店供电公司",
};
static const char *const VERIFIERS[] = { "张伟", "王芳", "李娜", "刘洋",
					 "陈静", "杨磊", "赵敏", "黄强" };
static const char *const CHECKERS[] = { "周杰", "吴霞", "徐涛", "孙丽", "马超", "朱琳" };
static const char *const MAKERS[] = {
	"宁波三星医疗电气股份有限公司", "深圳市科陆电子科技股份有限公司",
	"江苏林洋能源股份有限公司",     "威胜集团有限公司",
	"杭州海兴电力科技股份有限公司",
};

struct point {
	const char *load, *current, *pf, *limit;
};

/* JJG 596-2012 Table 3, class 1, direct connection, balanced load (subset). */
static const struct point METER_POINTS[] = {
	{ "Imax", "60 A", "1.0", "±1.0" },    { "Ib", "5 A", "1.0", "±1.0" },
	{ "0.1Ib", "0.5 A", "1.0", "±1.0" },  { "0.05Ib", "0.25 A", "1.0", "±1.5" },
	{ "Imax", "60 A", "0.5L", "±1.0" },   { "Ib", "5 A", "0.5L", "±1.0" },
	{ "0.2Ib", "1 A", "0.5L", "±1.5" },   { "Ib", "5 A", "0.8C", "±1.0" },
	{ "0.1Ib", "0.5 A", "0.8C", "±1.5" },
};
#define N_METER_POINTS (sizeof METER_POINTS / sizeof METER_POINTS[0])

static unsigned mix(unsigned x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	return x ^ (x >> 16);
}

/* Signed value in 1e-4 % printed as "-0.1691" / "+0.0520". */
static void fmt4(char *out, size_t n, long v)
{
	long a = v < 0 ? -v : v;
	snprintf(out, n, "%c%ld.%04ld", v < 0 ? '-' : '+', a / 10000, a % 10000);
}

/* Round v (1e-4 %) to a multiple of 0.1 % = 1000, half to even; print with one decimal. */
static void fmt_rounded(char *out, size_t n, long v)
{
	long a = v < 0 ? -v : v, q = a / 1000, r = a % 1000;
	if (r > 500 || (r == 500 && (q & 1)))
		q++;
	snprintf(out, n, "%s%ld.%ld", v < 0 && q ? "-" : q ? "+" : "", q / 10, q % 10);
}

static void fill_common(struct cert_sample *s, unsigned seq)
{
	struct cert_doc *d = &s->doc;
	unsigned h = mix(seq + 1);
	snprintf(s->cert_no, sizeof s->cert_no, "JL2026-%06u", seq % 1000000);
	snprintf(s->record_no, sizeof s->record_no, "YS2026-%06u", (seq * 7 + 13) % 1000000);
	snprintf(s->verify_code, sizeof s->verify_code, "%08X", h);
	snprintf(s->qr, sizeof s->qr, "https://jl.ha.sgcc.example/v?c=%s&k=%08X", s->cert_no, h);
	snprintf(s->client, sizeof s->client, "%s",
		 CLIENTS[h % (sizeof CLIENTS / sizeof CLIENTS[0])]);
	d->cert_no = s->cert_no;
	d->record_no = s->record_no;
	d->verify_code = s->verify_code;
	d->qr_payload = s->qr;
	d->client = s->client;
	d->issuer = (struct cert_issuer){
		.name = "国网河南省电力公司计量中心",
		.authorization_no = "(豫)法计(2021)01001号",
		.address = "河南省郑州市金水区黄河路85号",
		.postcode = "450052",
		.phone = "0371-67901234",
		.fax = "0371-67901235",
		.email = "jlzx@ha.sgcc.example",
	};
	d->verifier = VERIFIERS[h % 8];
	d->checker = CHECKERS[(h >> 8) % 6];
	d->approver = "郭建国";
	d->manufacturer = MAKERS[(h >> 16) % 5];
	d->verified_on = "2026-11-20";
	d->issued_on = "2026-11-21";
	d->place = "国网河南省计量中心2楼单相智能电能表流水线";
	d->temperature = "21.2 ℃";
	d->humidity = "53 %RH";
}

static void fill_meter_standards(struct cert_sample *s)
{
	s->standards[0] = (struct cert_standard){ "单相交流电能表标准装置", "220V (0.1~100)A",
						  "0.05级", "国量标豫证字第0123号", "2027-06-30" };
	s->standards[1] = (struct cert_standard){ "单相电能表检定装置", "200V (0.1~100)A", "0.1级",
						  "豫计检字第2026-0457号", "2027-03-31" };
	s->doc.standards = s->standards;
	s->doc.n_standards = 2;
}

static void fill_meter_items(struct cert_sample *s, int notice)
{
	static const char *const names[] = { "外观检查", "交流电压试验", "潜动试验",  "起动试验",
					     "基本误差", "仪表常数试验", "日计时误差" };
	static const char *const details[] = {
		"", "2 kV 1 min 无击穿", "0 脉冲 / 37.9 min", "Ist = 0.02 A 连续脉冲",
		"", "1200 imp/kWh",      "+0.12 s/d"
	};
	for (size_t i = 0; i < 7; i++) {
		int bad = notice && (i == 4 || i == 6);
		s->items[i] = (struct cert_item){ names[i], bad ? "不合格" : "合格", details[i] };
	}
	if (notice)
		s->items[6].detail = "+0.62 s/d（限值 ±0.5 s/d）";
	s->doc.items = s->items;
	s->doc.n_items = 7;
}

static void fill_meter_errors(struct cert_sample *s, unsigned seq, int notice)
{
	for (size_t i = 0; i < N_METER_POINTS; i++) {
		const struct point *p = &METER_POINTS[i];
		unsigned h = mix(seq * 31 + (unsigned)i);
		long r1 = (long)(h % 6001) - 3000, r2 = r1 + (long)((h >> 12) % 61) - 30;
		if (notice && i == 0)
			r1 += 15000, r2 += 15100; /* Imax 1.0 out of the ±1.0 % limit */
		char a[16], b[16];
		fmt4(a, sizeof a, r1);
		fmt4(b, sizeof b, r2);
		snprintf(s->readings[i], sizeof s->readings[i], "%s | %s", a, b);
		long mean = (r1 + r2) / 2; /* sample data: truncating mean is fine here */
		fmt4(s->mean[i], sizeof s->mean[i], mean);
		fmt_rounded(s->rounded[i], sizeof s->rounded[i], mean);
		s->errors[i] = (struct cert_error_row){
			p->load,       p->current,     p->pf,
			"合元",        s->readings[i], s->mean[i],
			s->rounded[i], p->limit,       notice && i == 0 ? "不合格" : "合格"
		};
	}
	s->doc.errors = s->errors;
	s->doc.n_errors = N_METER_POINTS;
}

static void fill_meter(struct cert_sample *s, unsigned seq, int notice)
{
	struct cert_doc *d = &s->doc;
	unsigned h = mix(seq + 7);
	d->kind = notice ? CERT_KIND_NOTICE : CERT_KIND_CERTIFICATE;
	snprintf(s->barcode, sizeof s->barcode, "41101%09u%08u", h % 1000000000u, seq % 100000000u);
	d->barcode = s->barcode;
	d->instrument = "单相费控智能电能表";
	d->model = "DDZY285-Z";
	d->spec = "220V 5(60)A 1200imp/kWh 50Hz 直接接入";
	d->regulation = "JJG 596-2012 电子式交流电能表";
	d->accuracy_class = "1级";
	d->conclusion = notice ? "不合格" : "合格";
	d->valid_until = notice ? NULL : "2032-11-19";
	fill_meter_standards(s);
	fill_meter_items(s, notice);
	fill_meter_errors(s, seq, notice);
}

/* JJG 313-2010 Table 1, class 0.2S: limits per percentage of rated current. */
static void fill_ct_rows(struct cert_sample *s, unsigned seq)
{
	static const char *const pct[] = { "1%", "5%", "20%", "100%", "120%" };
	static const char *const rl[] = { "±0.75", "±0.35", "±0.2", "±0.2", "±0.2" };
	static const char *const pl[] = { "±30", "±15", "±10", "±10", "±10" };
	size_t n = 0;
	for (int b = 0; b < 2; b++)
		for (size_t i = 0; i < 5 && n < 8; i++, n++) {
			unsigned h = mix(seq * 17 + (unsigned)n);
			long re = (long)(h % 200) - 100, ph = (long)((h >> 10) % 160) - 80;
			snprintf(s->ratio[n], sizeof s->ratio[n], "%+ld.%03ld", re / 1000,
				 (re < 0 ? -re : re) % 1000);
			if (re < 0 && re > -1000)
				s->ratio[n][0] = '-';
			snprintf(s->phase[n], sizeof s->phase[n], "%+.1f", (double)ph / 10.0);
			s->xfmr[n] = (struct cert_xfmr_row){ pct[i],      b ? "3.75 VA" : "15 VA",
							     s->ratio[n], s->phase[n],
							     rl[i],       pl[i],
							     "合格" };
		}
	s->doc.xfmr = s->xfmr;
	s->doc.n_xfmr = n;
}

static void fill_ct(struct cert_sample *s, unsigned seq)
{
	struct cert_doc *d = &s->doc;
	d->kind = CERT_KIND_CERTIFICATE;
	snprintf(s->barcode, sizeof s->barcode, "LH%08u", 20260000u + seq % 10000u);
	d->barcode = s->barcode;
	d->instrument = "低压电流互感器";
	d->model = "LMZJ1-0.66";
	d->spec = "300/5A 0.2S级 15VA cosφ=0.8";
	d->regulation = "JJG 313-2010 测量用电流互感器";
	d->accuracy_class = "0.2S级";
	d->conclusion = "合格";
	d->valid_until = "2028-11-19";
	s->standards[0] = (struct cert_standard){ "互感器校验仪", "(0~200)%", "2级",
						  "国量标豫证字第0211号", "2027-09-30" };
	s->standards[1] = (struct cert_standard){ "标准电流互感器", "(5~3000)A/5A", "0.01S级",
						  "国量标豫证字第0212号", "2027-09-30" };
	d->standards = s->standards;
	d->n_standards = 2;
	static const char *const names[] = { "外观检查",     "绝缘电阻测量", "工频耐压试验",
					     "绕组极性检查", "退磁",         "误差测量" };
	for (size_t i = 0; i < 6; i++)
		s->items[i] = (struct cert_item){ names[i], "合格", i == 1 ? "> 500 MΩ" : "" };
	d->items = s->items;
	d->n_items = 6;
	fill_ct_rows(s, seq);
}

void cert_sample_fill(struct cert_sample *s, enum cert_sample_kind kind, unsigned seq)
{
	memset(s, 0, sizeof *s);
	fill_common(s, seq);
	if (kind == CERT_SAMPLE_CT)
		fill_ct(s, seq);
	else
		fill_meter(s, seq, kind == CERT_SAMPLE_METER_NOTICE);
	if (seq % 10 == 9) { /* every tenth sample is a corrected reissue */
		s->doc.revision = 1;
		snprintf(s->supersedes, sizeof s->supersedes, "JL2025-%06u",
			 (seq * 3 + 1) % 1000000);
		s->doc.supersedes = s->supersedes;
	}
}

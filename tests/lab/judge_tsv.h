/* judge_tsv.h — reads the table-driven cases in tests/data/lab (tab-separated, # comments). */
#ifndef ML_TEST_JUDGE_TSV_H
#define ML_TEST_JUDGE_TSV_H

#include <fstream>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/pgtest.h"

struct TsvRow {
	int line;
	std::vector<std::string> f;
	const std::string &operator[](size_t i) const
	{
		return f.at(i);
	}
};

/* gtest prints parameters with this: show the data line, not bytes */
static inline void PrintTo(const TsvRow &r, std::ostream *os)
{
	*os << "line " << r.line << ":";
	for (const std::string &f : r.f)
		*os << " [" << f << "]";
}

static inline std::vector<std::string> tsv_split(const std::string &s, char sep)
{
	std::vector<std::string> out;
	std::string cur;
	std::istringstream in(s);
	while (std::getline(in, cur, sep))
		out.push_back(cur);
	return out;
}

/* All data rows of tests/data/lab/NAME; fails the test run when the file is missing. */
static inline std::vector<TsvRow> tsv_load(const char *name)
{
	std::vector<TsvRow> rows;
	std::string rel = std::string("tests/data/lab/") + name;
	std::ifstream in(pgtest_src(rel.c_str()));
	if (!in)
		throw std::runtime_error("cannot open " + rel);
	std::string line;
	for (int n = 1; std::getline(in, line); n++) {
		if (line.empty() || line[0] == '#')
			continue;
		rows.push_back(TsvRow{ n, tsv_split(line, '\t') });
	}
	return rows;
}

static inline std::string tsv_name(const TsvRow &r)
{
	return "line" + std::to_string(r.line);
}

#endif

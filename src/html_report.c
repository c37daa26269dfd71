#include "html_report.h"

#include <string.h>

#include "buffer.h"
#include "codes.h"
#include "normalize.h"

void imaddr_html_escape(FILE *out, const char *text)
{
	if (!text)
		return;
	struct imaddr_buf repaired;
	imaddr_buf_init(&repaired, 0);
	size_t length = strlen(text);
	if (!imaddr_normalize_utf8_valid(text, length, NULL)) {
		imaddr_normalize_utf8_repair(text, length, &repaired);
		text = repaired.data;
		length = repaired.len;
	}
	for (size_t i = 0; i < length; i++) {
		switch (text[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(text[i], out);
		}
	}
	imaddr_buf_release(&repaired);
}

static void cell(FILE *out, const char *text)
{
	fputs("<td>", out);
	imaddr_html_escape(out, text);
	fputs("</td>", out);
}

static void number_cell(FILE *out, uint64_t value)
{
	if (value)
		fprintf(out, "<td class=\"n\">%llu</td>", (unsigned long long)value);
	else
		fputs("<td class=\"n\"></td>", out);
}

/* Inline only: the page must open without the network (and a policy says so). */
static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 2em 2em;color:#1d2329}"
	"h1{font-size:1.5em;margin:.8em 0 .2em}h2{font-size:1.2em;margin:1.4em 0 .4em}"
	".meta{color:#555;margin:0}nav{margin:.6em 0}nav a{margin-right:1em}"
	"table{border-collapse:collapse;margin:.4em 0}"
	"th,td{border:1px solid #ccd;padding:2px 6px;text-align:left;vertical-align:top}"
	"th{background:#eef0f4;position:sticky;top:0}td.n{text-align:right}"
	".verdict{font-size:1.3em;font-weight:bold;padding:.4em .8em;display:inline-block}"
	".go{background:#dcf5dc;color:#185c18}.nogo{background:#fbe0e0;color:#8a1414}"
	".error td:first-child+td{color:#8a1414;font-weight:bold}"
	".warning td:first-child+td{color:#8a5a00}"
	"tr.g1 td{background:#f6f8ff}tr.g2 td{background:#fffaf0}"
	"tr.first td{border-top:2px solid #889}"
	"#findings-table td{max-width:28em;overflow-wrap:anywhere}"
	"#controls{margin:.5em 0}#controls input{width:20em}"
	"th[data-sort]{cursor:pointer}code{font-size:.95em}";

static const char *scheme_text(const char *scheme)
{
	if (!scheme)
		return "";
	return !strcmp(scheme, "userid") ? "UserID@Default_Domain" : "Directory URI";
}

static void write_scheme(FILE *out, const char *label, const char *scheme,
			 const char *default_domain)
{
	fprintf(out, "<p class=\"meta\">%s: %s", label, scheme_text(scheme));
	if (scheme && !strcmp(scheme, "userid")) {
		fputs(" (default domain ", out);
		imaddr_html_escape(out, default_domain);
		fputc(')', out);
	}
	fputs("</p>\n", out);
}

void imaddr_html_begin(FILE *out, const struct imaddr_run_description *run)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	      "<title>imaddr: ", out);
	imaddr_html_escape(out, run->input ? run->input : "input");
	fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<header>\n<h1>imaddr audit of ",
		style);
	imaddr_html_escape(out, run->input ? run->input : "input");
	fputs("</h1>\n<p class=\"meta\">", out);
	if (run->run_id)
		fprintf(out, "run %lld, ", (long long)run->run_id);
	fputs("started ", out);
	imaddr_html_escape(out, run->started);
	fputs(", imaddr ", out);
	imaddr_html_escape(out, run->version);
	fputs("</p>\n", out);
	if (run->premigration) {
		write_scheme(out, "today", run->current_scheme, run->current_default_domain);
		write_scheme(out, "target", run->scheme, run->default_domain);
	} else {
		write_scheme(out, "scheme", run->scheme, run->default_domain);
	}
	if (run->im_domains) {
		fputs("<p class=\"meta\">configured IM domains: ", out);
		imaddr_html_escape(out, run->im_domains);
		fputs("</p>\n", out);
	}
	fputs("</header>\n<nav><a href=\"#verdict\">Verdict and counts</a>", out);
	if (run->has_report)
		fputs("<a href=\"#changes\">Since the previous run</a><a href=\"#history\">"
		      "History</a>", out);
	fputs("<a href=\"#domains\">IM domains</a><a href=\"#findings\">Findings</a>", out);
	if (run->premigration)
		fputs("<a href=\"#plan\">Before and after</a>", out);
	fputs("</nav>\n", out);
}

static void count_row(FILE *out, const char *key, const char *label, uint64_t value)
{
	fprintf(out, "<tr><th>%s</th><td class=\"n\" data-count=\"%s\">%llu</td></tr>\n", label, key,
		(unsigned long long)value);
}

static void change_row(FILE *out, const char *key, const char *label, uint64_t value)
{
	fprintf(out, "<tr><th>%s</th><td class=\"n\" data-change=\"%s\">%llu</td></tr>\n", label,
		key, (unsigned long long)value);
}

static void write_changes(FILE *out, const struct imaddr_run_changes *changes)
{
	fputs("<section id=\"changes\"><h2>Since the previous run</h2>\n<p>", out);
	if (!changes->previous_run_id) {
		fputs("The first run of label <code>", out);
		imaddr_html_escape(out, changes->label);
		fputs("</code>: the next run of the label is compared with it.</p>\n</section>\n", out);
		return;
	}
	fprintf(out, "Run %lld compared with run %lld of ", (long long)changes->run_id,
		(long long)changes->previous_run_id);
	imaddr_html_escape(out, changes->previous_started);
	fputs(", label <code>", out);
	imaddr_html_escape(out, changes->label);
	fputs("</code>.</p>\n<table id=\"change-counts\">\n", out);
	change_row(out, "users-added", "users added", changes->users_added);
	change_row(out, "users-removed", "users removed", changes->users_removed);
	change_row(out, "im-addresses-changed", "IM addresses changed",
		   changes->im_addresses_changed);
	change_row(out, "new-errors", "new errors", changes->new_by_severity[IMADDR_SEVERITY_ERROR]);
	change_row(out, "new-warnings", "new warnings",
		   changes->new_by_severity[IMADDR_SEVERITY_WARNING]);
	change_row(out, "resolved-errors", "resolved errors",
		   changes->resolved_by_severity[IMADDR_SEVERITY_ERROR]);
	change_row(out, "resolved-warnings", "resolved warnings",
		   changes->resolved_by_severity[IMADDR_SEVERITY_WARNING]);
	uint64_t waived = 0;
	for (int severity = 0; severity < 3; severity++)
		waived += changes->waived_by_severity[severity];
	/* Only where a waiver was added, as in the text summary. */
	if (waived)
		change_row(out, "newly-waived", "newly waived findings", waived);
	fputs("</table>\n", out);
	bool any = false;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++)
		any |= changes->new_by_code[code] || changes->resolved_by_code[code] ||
		       changes->waived_by_code[code];
	if (any) {
		fprintf(out, "<table id=\"change-codes\"><thead><tr><th>severity</th><th>code</th>"
			"<th>new</th><th>resolved</th>%s</tr></thead><tbody>\n",
			waived ? "<th>newly waived</th>" : "");
		for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO;
		     severity--) {
			for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
				if ((int)imaddr_code_severity(code) != severity ||
				    !(changes->new_by_code[code] || changes->resolved_by_code[code] ||
				      changes->waived_by_code[code]))
					continue;
				fprintf(out, "<tr class=\"%s\" data-code=\"%s\"><td>%s</td><td>%s</td>",
					imaddr_severity_name(severity), imaddr_code_name(code),
					imaddr_severity_name(severity), imaddr_code_name(code));
				number_cell(out, changes->new_by_code[code]);
				number_cell(out, changes->resolved_by_code[code]);
				if (waived)
					number_cell(out, changes->waived_by_code[code]);
				fputs("</tr>\n", out);
			}
		}
		fputs("</tbody></table>\n", out);
	}
	if (changes->example_count) {
		fputs("<p>The first new findings:</p>\n<ul id=\"new-examples\">\n", out);
		for (size_t i = 0; i < changes->example_count; i++) {
			fputs("<li>", out);
			imaddr_html_escape(out, changes->examples[i]);
			if (changes->example_codes[i] < IMADDR_CODE_COUNT)
				fprintf(out, " (<code>%s</code>)",
					imaddr_code_name(changes->example_codes[i]));
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	}
	fputs("</section>\n", out);
}

/* The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1). */
static uint64_t round_up_nicely(uint64_t value)
{
	for (uint64_t scale = 1;; scale *= 10) {
		static const uint64_t steps[] = { 1, 2, 5 };
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			if (steps[i] * scale >= value)
				return steps[i] * scale;
		}
		if (scale > UINT64_MAX / 100)
			return value;
	}
}

/* Chart geometry, in SVG user units: the plot sits inside the margins. */
enum { CHART_WIDTH = 760, CHART_HEIGHT = 240, CHART_LEFT = 64, CHART_RIGHT = 16,
       CHART_TOP = 12, CHART_BOTTOM = 52, CHART_DATE_LABELS = 6 };

static double chart_x(size_t index, size_t count)
{
	double plot = CHART_WIDTH - CHART_LEFT - CHART_RIGHT;
	return count < 2 ? CHART_LEFT + plot / 2
			 : CHART_LEFT + plot * (double)index / (double)(count - 1);
}

static double chart_y(uint64_t value, uint64_t top)
{
	double plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM;
	return CHART_TOP + plot * (1.0 - (double)value / (double)top);
}

static void chart_line(FILE *out, const struct imaddr_run_changes *changes, uint64_t top,
		       bool errors)
{
	fprintf(out, "<polyline class=\"%s\" fill=\"none\" stroke-width=\"2\" stroke=\"%s\" "
		"points=\"", errors ? "errors" : "warnings", errors ? "#b22222" : "#c77700");
	for (size_t i = 0; i < changes->history_count; i++) {
		const struct imaddr_run_point *point = &changes->history[i];
		fprintf(out, "%s%.1f,%.1f", i ? " " : "", chart_x(i, changes->history_count),
			chart_y(errors ? point->errors : point->warnings, top));
	}
	fputs("\"/>\n", out);
	for (size_t i = 0; i < changes->history_count; i++) {
		const struct imaddr_run_point *point = &changes->history[i];
		uint64_t value = errors ? point->errors : point->warnings;
		fprintf(out, "<circle class=\"%s\" data-run=\"%lld\" data-value=\"%llu\" "
			"cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>run %lld, ",
			errors ? "errors" : "warnings", (long long)point->run_id,
			(unsigned long long)value, chart_x(i, changes->history_count),
			chart_y(value, top), errors ? "#b22222" : "#c77700",
			(long long)point->run_id);
		imaddr_html_escape(out, point->started);
		fprintf(out, ": %llu %s</title></circle>\n", (unsigned long long)value,
			errors ? "errors" : "warnings");
	}
}

/*
 * Errors and warnings per run of the label, drawn as inline SVG so that the
 * page needs no script and no library to show it; the numbers follow in a
 * table for readers who want them exactly.
 */
static void write_history(FILE *out, const struct imaddr_run_changes *changes)
{
	size_t count = changes->history_count;
	uint64_t highest = 0;
	for (size_t i = 0; i < count; i++) {
		if (changes->history[i].errors > highest)
			highest = changes->history[i].errors;
		if (changes->history[i].warnings > highest)
			highest = changes->history[i].warnings;
	}
	uint64_t top = round_up_nicely(highest);

	fputs("<section id=\"history\"><h2>History</h2>\n<p>Errors and warnings of the last ", out);
	fprintf(out, "%zu run%s of label <code>", count, count == 1 ? "" : "s");
	imaddr_html_escape(out, changes->label);
	fprintf(out, "</code> (at most %d).</p>\n", IMADDR_HISTORY_RUNS);
	fprintf(out, "<svg id=\"trend\" role=\"img\" aria-label=\"errors and warnings per run\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" "
		"font-family=\"system-ui,sans-serif\">\n", CHART_WIDTH, CHART_HEIGHT, CHART_WIDTH,
		CHART_HEIGHT);
	for (int step = 0; step <= 2; step++) {
		uint64_t value = top * (uint64_t)step / 2;
		double y = chart_y(value, top);
		fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ccd\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n", CHART_LEFT,
			CHART_WIDTH - CHART_RIGHT, y, y, CHART_LEFT - 6, y + 4,
			(unsigned long long)value);
	}
	/* A date under at most CHART_DATE_LABELS runs, the last one always. */
	size_t every = count / CHART_DATE_LABELS + 1;
	for (size_t i = 0; i < count; i++) {
		if (i % every && i + 1 != count)
			continue;
		if (i + 1 != count && count - 1 - i < every)
			continue;
		/* The ends' labels stay inside the picture. */
		const char *anchor = count > 1 && i == 0 ? "start"
				     : count > 1 && i + 1 == count ? "end" : "middle";
		double x = chart_x(i, count);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">run %lld"
			"<tspan x=\"%.1f\" dy=\"13\">%.10s</tspan></text>\n", x,
			CHART_HEIGHT - CHART_BOTTOM + 14, anchor,
			(long long)changes->history[i].run_id, x, changes->history[i].started);
	}
	chart_line(out, changes, top, false);
	chart_line(out, changes, top, true);
	fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#b22222\">&#9632; errors</text>"
		"<text x=\"%d\" y=\"%d\" fill=\"#c77700\">&#9632; warnings</text>\n</svg>\n",
		CHART_WIDTH / 2 - 80, CHART_HEIGHT - 4, CHART_WIDTH / 2 + 10, CHART_HEIGHT - 4);
	fputs("<details><summary>The runs</summary>\n<table id=\"history-table\"><thead><tr>"
	      "<th>run</th><th>started</th><th>users</th><th>errors</th><th>warnings</th>"
	      "<th>info</th></tr></thead><tbody>\n", out);
	for (size_t i = count; i-- > 0;) {
		const struct imaddr_run_point *point = &changes->history[i];
		fprintf(out, "<tr><td class=\"n\">%lld</td>", (long long)point->run_id);
		cell(out, point->started);
		fprintf(out, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
			"<td class=\"n\">%llu</td><td class=\"n\">%llu</td></tr>\n",
			(unsigned long long)point->users, (unsigned long long)point->errors,
			(unsigned long long)point->warnings, (unsigned long long)point->infos);
	}
	fputs("</tbody></table></details>\n</section>\n", out);
}

void imaddr_html_overview(FILE *out, const struct imaddr_run_description *run,
			  const struct imaddr_run_totals *totals, const char *outputs)
{
	uint64_t errors = totals->by_severity[IMADDR_SEVERITY_ERROR];
	fputs("<section id=\"verdict\"><h2>Verdict</h2>\n", out);
	if (errors)
		fprintf(out, "<p class=\"verdict nogo\" id=\"verdict-text\">NO-GO: %llu blocker%s on "
			"%llu user%s</p>\n", (unsigned long long)errors, errors == 1 ? "" : "s",
			(unsigned long long)totals->users_with_error,
			totals->users_with_error == 1 ? "" : "s");
	else
		fputs("<p class=\"verdict go\" id=\"verdict-text\">GO: no blockers</p>\n", out);
	struct imaddr_buf waived;
	imaddr_buf_init(&waived, 0);
	/* Code names and counts only: nothing of the directory's to escape. */
	if (!errors && run->premigration &&
	    imaddr_codes_describe_waived_errors(totals->waived_by_code, &waived))
		fprintf(out, "<p id=\"verdict-waived\">but %s.</p>\n", waived.data);
	imaddr_buf_release(&waived);
	fputs("<table id=\"counts\">\n", out);
	count_row(out, "users", "users", totals->users);
	count_row(out, "users-with-im-address", "with an IM address", totals->users_with_im_address);
	count_row(out, "users-without-im-address", "without an IM address",
		  totals->users - totals->users_with_im_address);
	count_row(out, "users-with-error", "with errors", totals->users_with_error);
	count_row(out, "errors", "errors", errors);
	count_row(out, "warnings", "warnings", totals->by_severity[IMADDR_SEVERITY_WARNING]);
	count_row(out, "infos", "info", totals->by_severity[IMADDR_SEVERITY_INFO]);
	if (totals->waived)
		count_row(out, "waived", "waived (accepted exceptions)", totals->waived);
	if (run->premigration) {
		count_row(out, "im-address-changes", "IM addresses that change",
			  totals->im_address_changes);
		count_row(out, "im-address-lost", "IM addresses lost", totals->im_address_lost);
		count_row(out, "im-address-gained", "IM addresses gained", totals->im_address_gained);
	}
	fputs("</table>\n<h2>Findings by code</h2>\n<table id=\"codes\"><thead><tr><th>severity</th>"
	      "<th>code</th><th>count</th><th>meaning</th></tr></thead><tbody>\n", out);
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (!totals->by_code[code] || (int)imaddr_code_severity(code) != severity)
				continue;
			fprintf(out, "<tr class=\"%s\" data-code=\"%s\"><td>%s</td><td>%s</td>"
				"<td class=\"n\">%llu</td><td>%s</td></tr>\n",
				imaddr_severity_name(severity), imaddr_code_name(code),
				imaddr_severity_name(severity), imaddr_code_name(code),
				(unsigned long long)totals->by_code[code], imaddr_code_summary(code));
		}
	}
	fputs("</tbody></table>\n", out);
	if (outputs && *outputs) {
		fputs("<h2>Files written</h2>\n<pre id=\"outputs\">", out);
		imaddr_html_escape(out, outputs);
		fputs("</pre>\n", out);
	}
	fputs("</section>\n", out);
	if (run->has_report && totals->changes) {
		write_changes(out, totals->changes);
		write_history(out, totals->changes);
	}
	fputs("<section id=\"domains\"><h2>IM domains</h2>\n", out);
	/* Without --im-domains nothing was checked: no column says "yes". */
	bool checked = run->im_domains != NULL;
	fprintf(out, "<table><thead><tr><th>A-label</th><th>U-label</th><th>users</th>%s"
		"</tr></thead><tbody>\n", checked ? "<th>configured</th>" : "");
	for (size_t i = 0; i < totals->domain_count; i++) {
		const struct imaddr_domain_count *d = &totals->domains[i];
		fputs("<tr>", out);
		cell(out, d->ascii);
		cell(out, d->unicode);
		number_cell(out, d->users);
		if (checked)
			cell(out, d->configured ? "yes" : "no");
		fputs("</tr>\n", out);
	}
	fputs("</tbody></table>\n<p>Subject Alternative Names for the cup-xmpp-s2s certificate: "
	      "<code id=\"san\">", out);
	for (size_t i = 0; i < totals->domain_count; i++) {
		if (i)
			fputs(", ", out);
		imaddr_html_escape(out, totals->domains[i].ascii);
	}
	fputs("</code></p>\n</section>\n", out);
}

void imaddr_html_findings_begin(FILE *out, const struct imaddr_run_totals *totals,
				uint64_t shown, uint64_t total)
{
	fputs("<section id=\"findings\"><h2>Findings</h2>\n<p id=\"findings-note\">", out);
	if (shown < total)
		fprintf(out, "This page holds the first %d findings of each code, and up to "
			"%d more to finish a duplicate group cut there: %llu of %llu. "
			"The worklist (<code>imaddr audit --worklist FILE.xlsx</code>) and the "
			"SQLite report have them all.", IMADDR_HTML_FINDINGS_PER_CODE,
			IMADDR_HTML_GROUP_REST_MAX,
			(unsigned long long)shown, (unsigned long long)total);
	else
		fprintf(out, "All %llu findings. The members of a duplicate group stand together "
			"under one group number.", (unsigned long long)total);
	fputs("</p>\n<div id=\"controls\" hidden><input id=\"q\" type=\"search\" "
	      "placeholder=\"Search users, values, messages\" aria-label=\"search\"> "
	      "<select id=\"code\" aria-label=\"code\"><option value=\"\">every code</option>", out);
	/* The changes of IM address have a table of their own, not rows here. */
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (totals->by_code[code] && code != IMADDR_CODE_IM_ADDRESS_CHANGES)
			fprintf(out, "<option>%s</option>", imaddr_code_name(code));
	}
	fputs("</select> <select id=\"severity\" aria-label=\"severity\"><option value=\"\">"
	      "every severity</option><option>error</option><option>warning</option>"
	      "<option>info</option></select> <button id=\"prev\" type=\"button\">previous"
	      "</button> <span id=\"page\"></span> <button id=\"next\" type=\"button\">next"
	      "</button> <span id=\"shown\"></span></div>\n"
	      "<table id=\"findings-table\"><thead><tr><th data-sort=\"n\">group</th>"
	      "<th data-sort=\"t\">severity</th><th data-sort=\"t\">code</th>"
	      "<th data-sort=\"t\">cluster</th><th data-sort=\"n\">line</th>"
	      "<th data-sort=\"t\">user ID</th><th data-sort=\"t\">DN</th>"
	      "<th data-sort=\"t\">field</th><th data-sort=\"t\">value</th>"
	      "<th data-sort=\"t\">message</th><th data-sort=\"t\">suggestion</th></tr></thead>"
	      "<tbody>\n", out);
}

void imaddr_html_finding_row(FILE *out, const struct imaddr_finding *f, uint64_t group)
{
	const char *severity = imaddr_severity_name(f->severity);
	const char *code = imaddr_code_name(f->code);
	fprintf(out, "<tr class=\"%s%s%s\" data-code=\"%s\" data-severity=\"%s\">", severity,
		group ? (group % 2 ? " g1" : " g2") : "",
		group && f->related_ordinal > f->ordinal ? " first" : "", code, severity);
	number_cell(out, group);
	cell(out, severity);
	cell(out, code);
	cell(out, f->cluster);
	number_cell(out, f->line);
	cell(out, f->user_id);
	cell(out, f->dn);
	cell(out, f->field);
	cell(out, f->value);
	cell(out, f->message);
	cell(out, f->suggestion);
	fputs("</tr>\n", out);
}

void imaddr_html_findings_end(FILE *out)
{
	fputs("</tbody></table>\n</section>\n", out);
}

void imaddr_html_plan_begin(FILE *out, uint64_t shown, uint64_t total)
{
	fputs("<section id=\"plan\"><h2>Before and after</h2>\n<p>", out);
	if (shown < total)
		fprintf(out, "The first %llu of %llu users whose IM address changes; the SQLite "
			"report's <code>im_address_plan</code> view has them all.",
			(unsigned long long)shown, (unsigned long long)total);
	else
		fprintf(out, "%llu users whose IM address changes, is lost or is gained.",
			(unsigned long long)total);
	fputs("</p>\n<table id=\"plan-table\"><thead><tr><th>cluster</th><th>line</th>"
	      "<th>user ID</th><th>DN</th><th>IM address today</th><th>IM address after</th>"
	      "<th>change</th></tr></thead><tbody>\n", out);
}

void imaddr_html_plan_row(FILE *out, const struct imaddr_html_plan_row *row)
{
	fputs("<tr>", out);
	cell(out, row->cluster);
	number_cell(out, row->line);
	cell(out, row->user_id);
	cell(out, row->dn);
	cell(out, row->before);
	cell(out, row->after);
	cell(out, row->change);
	fputs("</tr>\n", out);
}

void imaddr_html_plan_end(FILE *out)
{
	fputs("</tbody></table>\n</section>\n", out);
}

/*
 * Search, filters, sorting and pages of 200 rows over the table the page
 * already holds: without scripts every row simply shows. ?q=, ?code= and
 * ?severity= in the URL preset the controls (and make a search checkable
 * from a headless browser).
 */
static const char script[] =
	"(function(){'use strict';\n"
	"var table=document.getElementById('findings-table');if(!table)return;\n"
	"var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows),"
	"text=rows.map(function(r){return r.textContent.toLowerCase();}),"
	"order=rows.map(function(r,i){return i;}),matched=order,page=0,size=200;\n"
	"var q=document.getElementById('q'),code=document.getElementById('code'),"
	"severity=document.getElementById('severity'),shown=document.getElementById('shown'),"
	"label=document.getElementById('page');\n"
	"document.getElementById('controls').hidden=false;\n"
	"var params=new URLSearchParams(location.search);\n"
	"if(params.get('q'))q.value=params.get('q');\n"
	/* A code the run has none of filters to none, not to all: a link shared. */
	"function preset(select,value){if(!value)return;value=value.toLowerCase();"
	"select.value=value;if(select.value===value)return;"
	"var o=document.createElement('option');o.value=value;"
	"o.textContent=value+' (none in this run)';select.appendChild(o);select.value=value;}\n"
	"preset(code,params.get('code'));preset(severity,params.get('severity'));\n"
	"function render(){var pages=Math.max(1,Math.ceil(matched.length/size));"
	"if(page>=pages)page=pages-1;var from=page*size,to=from+size,visible={};"
	"for(var i=from;i<to&&i<matched.length;i++)visible[matched[i]]=true;"
	"var fragment=document.createDocumentFragment();"
	"for(var j=0;j<order.length;j++){var r=rows[order[j]];r.hidden=!visible[order[j]];"
	"fragment.appendChild(r);}body.appendChild(fragment);"
	"shown.textContent=matched.length+' of '+rows.length+' findings';"
	"shown.setAttribute('data-matched',matched.length);"
	"label.textContent='page '+(page+1)+' of '+pages;}\n"
	"function apply(){var s=q.value.toLowerCase(),c=code.value,v=severity.value;"
	"matched=order.filter(function(i){var r=rows[i];"
	"return(!c||r.getAttribute('data-code')===c)&&(!v||r.getAttribute('data-severity')===v)"
	"&&(!s||text[i].indexOf(s)>=0);});page=0;render();}\n"
	"function sortBy(th){var column=th.cellIndex,numeric=th.getAttribute('data-sort')==='n',"
	"down=th.getAttribute('aria-sort')==='ascending';"
	"Array.prototype.forEach.call(th.parentNode.cells,function(h){h.removeAttribute('aria-sort');});"
	"th.setAttribute('aria-sort',down?'descending':'ascending');"
	"function key(i){var t=rows[i].cells[column].textContent;"
	"return numeric?(t===''?Infinity:Number(t)):t.toLowerCase();}\n"
	"order=order.slice().sort(function(a,b){var x=key(a),y=key(b);"
	"var d=x<y?-1:x>y?1:a-b;return down?-d:d;});apply();}\n"
	"Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th){"
	"th.addEventListener('click',function(){sortBy(th);});});\n"
	"q.addEventListener('input',apply);code.addEventListener('change',apply);"
	"severity.addEventListener('change',apply);\n"
	"document.getElementById('prev').addEventListener('click',function(){"
	"if(page>0){page--;render();}});\n"
	"document.getElementById('next').addEventListener('click',function(){"
	"page++;render();});\n"
	"apply();})();\n";

void imaddr_html_end(FILE *out)
{
	fprintf(out, "<script>\n%s</script>\n</body></html>\n", script);
}

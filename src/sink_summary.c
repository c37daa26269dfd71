#include "sink_summary.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "codes.h"
#include "error.h"
#include "mapping.h"
#include "normalize.h"
#include "sink.h"

struct summary {
	struct imaddr_sink base;
	FILE *out;
	bool changes_only;      /* --quiet: the changes, when there are any */
	const struct imaddr_audit_options *options;
	const struct imaddr_run_totals *totals;  /* from end, printed at commit */
	struct imaddr_summary_notes notes;
};

static enum imaddr_status begin(struct imaddr_sink *sink, const struct imaddr_run_info *info,
				struct imaddr_error *err)
{
	struct summary *summary = (struct summary *)sink;
	summary->options = info->options;
	return IMADDR_OK;
}

static void describe_row(struct imaddr_buf *out, const struct imaddr_finding *finding)
{
	if (finding->cluster)
		imaddr_buf_appendf(out, "%s: ", finding->cluster);
	/* The line to find it in the file, the DN to find it in the directory. */
	if (finding->line)
		imaddr_buf_appendf(out, "line %llu%s", (unsigned long long)finding->line,
				   finding->dn ? ", " : "");
	if (finding->dn)
		imaddr_buf_appendf(out, "%s", finding->dn);
	else if (!finding->line)
		imaddr_buf_append_str(out, "run");
}

void imaddr_summary_set_release(struct imaddr_summary_set *set)
{
	for (size_t i = 0; i < set->member_count; i++)
		free(set->members[i]);
	for (int code = 0; code < IMADDR_CODE_COUNT; code++)
		imaddr_buf_release(&set->values[code]);
	memset(set, 0, sizeof(*set));
}

static bool same_members(const struct imaddr_summary_set *a, const struct imaddr_summary_set *b)
{
	return a->total_members == b->total_members && a->member_count == b->member_count &&
	       !memcmp(a->ordinals, b->ordinals, a->member_count * sizeof(a->ordinals[0]));
}

/*
 * The group read so far is complete: merge it into one shown, or show it.
 * A group whose every member's finding is waived is no problem left.
 */
static void close_group(struct imaddr_summary_notes *notes)
{
	struct imaddr_summary_set *group = &notes->current;
	enum imaddr_code code = notes->current_code;
	if (!group->total_members)
		return;
	if (!group->unwaived_members) {
		imaddr_summary_set_release(group);
		return;
	}
	notes->group_count[code]++;
	for (size_t i = 0; i < notes->shown_count; i++) {
		struct imaddr_summary_set *shown = &notes->shown[i];
		if (!same_members(shown, group))
			continue;
		shown->codes |= group->codes;
		imaddr_buf_append(&shown->values[code], group->values[code].data,
				  group->values[code].len);
		imaddr_summary_set_release(group);
		return;
	}
	if (notes->shown_count < IMADDR_SUMMARY_GROUPS) {
		notes->shown[notes->shown_count++] = *group;
		memset(group, 0, sizeof(*group));
	} else {
		notes->more_sets = true;
		imaddr_summary_set_release(group);
	}
}

static void add_member(struct imaddr_summary_notes *notes, const struct imaddr_finding *f)
{
	struct imaddr_summary_set *group = &notes->current;
	struct imaddr_buf *values = &group->values[f->code];
	if (imaddr_dup_groups_started(&notes->groups, f)) {
		close_group(notes);
		notes->current_code = f->code;
		group->codes = (uint64_t)1 << f->code;
		imaddr_buf_init(values, 0);
		if (f->field)
			imaddr_buf_appendf(values, "[%s] ", f->field);
	}
	if (group->member_count < IMADDR_SUMMARY_MEMBERS) {
		struct imaddr_buf who;
		imaddr_buf_init(&who, 0);
		describe_row(&who, f);
		group->ordinals[group->member_count] = f->ordinal;
		group->members[group->member_count++] = imaddr_buf_detach(&who);
		imaddr_buf_appendf(values, "%s'%s'", group->total_members ? ", " : "",
				   f->value ? f->value : "");
	} else if (group->total_members == IMADDR_SUMMARY_MEMBERS) {
		imaddr_buf_append_str(values, ", ...");
	}
	group->total_members++;
	group->unwaived_members += !f->waiver_reason;
}

/* "line 4 [mail]: message" and, below it, the waiver that accepts it. */
static void note_waived(struct imaddr_summary_notes *notes, const struct imaddr_finding *f)
{
	struct imaddr_buf line;
	if (notes->waived_count == IMADDR_SUMMARY_EXAMPLES)
		return;
	imaddr_buf_init(&line, 0);
	describe_row(&line, f);
	if (f->field)
		imaddr_buf_appendf(&line, " [%s]", f->field);
	imaddr_buf_appendf(&line, ": %s (%s)\n      waived by %s: %s", f->message,
			   imaddr_code_name(f->code), f->waiver_source ? f->waiver_source : "?",
			   f->waiver_reason);
	if (f->waiver_expires)
		imaddr_buf_appendf(&line, " (until %s)", f->waiver_expires);
	notes->waived[notes->waived_count++] = imaddr_buf_detach(&line);
}

void imaddr_summary_notes_init(struct imaddr_summary_notes *notes)
{
	memset(notes, 0, sizeof(*notes));
	imaddr_dup_groups_init(&notes->groups);
}

void imaddr_summary_notes_add(struct imaddr_summary_notes *notes, const struct imaddr_finding *f)
{
	size_t keep = f->code == IMADDR_CODE_IM_ADDRESS_CHANGES ? IMADDR_SUMMARY_CHANGES
								  : IMADDR_SUMMARY_EXAMPLES;
	if (f->waiver_reason)
		note_waived(notes, f);
	if (imaddr_dup_groups_next(&notes->groups, f)) {
		add_member(notes, f);
		return;
	}
	if (f->waiver_reason)
		return;
	if ((f->severity == IMADDR_SEVERITY_INFO && f->code != IMADDR_CODE_IM_ADDRESS_CHANGES) ||
	    notes->example_count[f->code] == keep)
		return;
	struct imaddr_buf line;
	imaddr_buf_init(&line, 0);
	describe_row(&line, f);
	if (f->field)
		imaddr_buf_appendf(&line, " [%s]", f->field);
	imaddr_buf_appendf(&line, ": %s", f->message);
	notes->examples[f->code][notes->example_count[f->code]++] = imaddr_buf_detach(&line);
}

void imaddr_summary_notes_finish(struct imaddr_summary_notes *notes)
{
	close_group(notes);
}

void imaddr_summary_notes_release(struct imaddr_summary_notes *notes)
{
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		for (size_t i = 0; i < notes->example_count[code]; i++)
			free(notes->examples[code][i]);
	}
	imaddr_summary_set_release(&notes->current);
	for (size_t i = 0; i < notes->shown_count; i++)
		imaddr_summary_set_release(&notes->shown[i]);
	for (size_t i = 0; i < notes->waived_count; i++)
		free(notes->waived[i]);
	imaddr_summary_notes_init(notes);
}

static enum imaddr_status finding(struct imaddr_sink *sink, const struct imaddr_finding *f,
				  struct imaddr_error *err)
{
	imaddr_summary_notes_add(&((struct summary *)sink)->notes, f);
	return IMADDR_OK;
}

/* "1 error, 2 warnings, 0 info" */
static void print_severity_counts(FILE *out, const uint64_t by_severity[3])
{
	uint64_t errors = by_severity[IMADDR_SEVERITY_ERROR];
	uint64_t warnings = by_severity[IMADDR_SEVERITY_WARNING];

	fprintf(out, "%llu error%s, %llu warning%s, %llu info", (unsigned long long)errors,
		errors == 1 ? "" : "s", (unsigned long long)warnings, warnings == 1 ? "" : "s",
		(unsigned long long)by_severity[IMADDR_SEVERITY_INFO]);
}

static void print_findings(FILE *out, const struct imaddr_run_totals *totals)
{
	uint64_t total = totals->by_severity[0] + totals->by_severity[1] +
			 totals->by_severity[2];
	fputs("\nfindings: ", out);
	print_severity_counts(out, totals->by_severity);
	fputc('\n', out);
	if (!total) {
		fputs("  none\n", out);
		return;
	}
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (!totals->by_code[code] || (int)imaddr_code_severity(code) != severity)
				continue;
			fprintf(out, "  %-8s %-26s %8llu  %s\n",
				imaddr_severity_name(severity), imaddr_code_name(code),
				(unsigned long long)totals->by_code[code],
				imaddr_code_summary(code));
		}
	}
}

/* Only with a waivers file: "waived: 4 (mail-duplicate 2, ...)" and the first few. */
static void print_waived(FILE *out, const char *waivers, const struct imaddr_summary_notes *notes,
			 const struct imaddr_run_totals *totals)
{
	const char *separator = " (";
	fprintf(out, "\nwaived: %llu", (unsigned long long)totals->waived);
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (!totals->waived_by_code[code] ||
			    (int)imaddr_code_severity(code) != severity)
				continue;
			fprintf(out, "%s%s %llu", separator, imaddr_code_name(code),
				(unsigned long long)totals->waived_by_code[code]);
			separator = ", ";
		}
	}
	fprintf(out, "%s, by the waivers of '%s'%s\n", totals->waived ? ")" : "", waivers,
		notes->waived_count ? "; the first:" : "");
	for (size_t i = 0; i < notes->waived_count; i++)
		fprintf(out, "  %s\n", notes->waived[i]);
}

/* printf pads by bytes; a U-label needs padding by the columns it takes to line up. */
/* `text` and spaces up to `width` columns; one space at least, past it. */
static void print_padded(FILE *out, const char *text, size_t width)
{
	size_t shown = imaddr_normalize_display_width(text, strlen(text));
	fputs(text, out);
	do
		fputc(' ', out);
	while (++shown < width);
}

static void print_domains(FILE *out, const struct imaddr_run_totals *totals)
{
	fprintf(out, "\nIM domains: %zu\n", totals->domain_count);
	if (!totals->domain_count)
		return;
	fprintf(out, "  %-32s %-32s %8s\n", "A-label", "U-label", "users");
	for (size_t i = 0; i < totals->domain_count; i++) {
		const struct imaddr_domain_count *d = &totals->domains[i];
		fputs("  ", out);
		print_padded(out, d->ascii, 33);
		print_padded(out, d->unicode, 33);
		fprintf(out, "%8llu%s\n", (unsigned long long)d->users,
			d->configured ? "" : "  (not configured)");
	}
	fputs("  Subject Alt Names for the cup-xmpp-s2s certificate:", out);
	for (size_t i = 0; i < totals->domain_count; i++)
		fprintf(out, "%s%s", i ? ", " : " ", totals->domains[i].ascii);
	fputc('\n', out);
}

static void print_examples(FILE *out, const struct imaddr_summary_notes *notes,
			   const struct imaddr_run_totals *totals, enum imaddr_severity severity)
{
	bool any = false;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (!notes->example_count[code] || code == IMADDR_CODE_IM_ADDRESS_CHANGES ||
		    imaddr_code_severity(code) != severity)
			continue;
		if (!any)
			fprintf(out, "\nfirst %ss:\n", imaddr_severity_name(severity));
		any = true;
		fprintf(out, "  %s (%llu):\n", imaddr_code_name(code),
			(unsigned long long)totals->by_code[code]);
		for (size_t i = 0; i < notes->example_count[code]; i++)
			fprintf(out, "    %s\n", notes->examples[code][i]);
		if (totals->by_code[code] > notes->example_count[code])
			fprintf(out, "    and %llu more\n",
				(unsigned long long)(totals->by_code[code] -
						     notes->example_count[code]));
	}
}

/* Each set of users once, with every value they share. */
static void print_duplicates(FILE *out, const struct imaddr_summary_notes *notes)
{
	uint64_t groups = 0;
	for (int code = 0; code < IMADDR_CODE_COUNT; code++)
		groups += notes->group_count[code];
	if (!groups)
		return;
	fprintf(out, "\nduplicate groups: %llu (", (unsigned long long)groups);
	const char *separator = "";
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (!notes->group_count[code])
			continue;
		fprintf(out, "%s%s %llu", separator, imaddr_code_name(code),
			(unsigned long long)notes->group_count[code]);
		separator = ", ";
	}
	if (notes->more_sets)
		fprintf(out, "), the first %zu sets of users (the report and the worklist have "
			"them all):\n", notes->shown_count);
	else
		fputs("), by the users who share them:\n", out);
	for (size_t i = 0; i < notes->shown_count; i++) {
		const struct imaddr_summary_set *group = &notes->shown[i];
		fputs("  ", out);
		for (size_t m = 0; m < group->member_count; m++)
			fprintf(out, "%s%s", m ? "; " : "", group->members[m]);
		if (group->total_members > group->member_count)
			fprintf(out, " and %llu more",
				(unsigned long long)(group->total_members - group->member_count));
		fputs("\n", out);
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (group->codes & ((uint64_t)1 << code))
				fprintf(out, "    %s %s\n", imaddr_code_name(code),
					group->values[code].data);
		}
	}
}

/* The first lines: how the input was read, so that a wrong guess shows at once. */
static void print_input(FILE *out, const struct imaddr_input_description *input)
{
	fprintf(out, "input: %s", input->format ? input->format : "input");
	if (input->encoding)
		fprintf(out, " in %s (%s)", input->encoding, input->encoding_how);
	if (input->delimiter)
		fprintf(out, ", delimiter %s", input->delimiter == '\t' ? "tab"
			: input->delimiter == ';' ? "';'" : "','");
	if (input->type_line_skipped)
		fputs(", PowerShell's #TYPE line skipped", out);
	fputc('\n', out);
	if (input->search_base)
		fprintf(out, "search: base '%s', scope %s\n", input->search_base,
			input->search_scope ? input->search_scope : "sub");
	if (input->filter) {
		fprintf(out, "entries: %llu, users: %llu selected by filter '%s'",
			(unsigned long long)input->entries,
			(unsigned long long)(input->entries - input->entries_skipped), input->filter);
		if (input->directory_type)
			fprintf(out, " (directory type %s, %s)", input->directory_type,
				input->directory_type_how);
		fprintf(out, ", %llu skipped\n", (unsigned long long)input->entries_skipped);
	}
	fputs(input->delimiter ? "columns:" : "attributes:", out);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const char *name = input->role_attribute[role];
		fprintf(out, "%s %s ", role ? "," : "", imaddr_role_name(role));
		if (name)
			fprintf(out, "'%s'%s", name,
				input->role_attribute_varies[role] ? " (varies)" : "");
		else
			fputs("none", out);
	}
	if (input->dn_attribute)
		fprintf(out, ", DN '%s'", input->dn_attribute);
	fputc('\n', out);
}

static void print_scheme(FILE *out, const char *label, enum imaddr_scheme scheme,
			 const char *default_domain)
{
	if (scheme == IMADDR_SCHEME_USERID)
		fprintf(out, "%s: UserID@Default_Domain (default domain %s)\n", label,
			default_domain);
	else
		fprintf(out, "%s: Directory URI\n", label);
}

static void print_changes(FILE *out, const struct imaddr_summary_notes *notes,
			  const struct imaddr_run_totals *totals)
{
	uint64_t changed = totals->im_address_changes + totals->im_address_lost +
			   totals->im_address_gained;
	fprintf(out, "IM addresses: %llu change, %llu user%s lose%s theirs, %llu gain one, "
		"%llu unchanged\n", (unsigned long long)totals->im_address_changes,
		(unsigned long long)totals->im_address_lost,
		totals->im_address_lost == 1 ? "" : "s", totals->im_address_lost == 1 ? "s" : "",
		(unsigned long long)totals->im_address_gained,
		(unsigned long long)(totals->users - changed));
	size_t shown = notes->example_count[IMADDR_CODE_IM_ADDRESS_CHANGES];
	if (!shown)
		return;
	/* The changes, the losses and the gains: every user whose IM address differs. */
	fprintf(out, "\nIM addresses that differ (%s%zu of %llu%s):\n",
		shown < changed ? "first " : "", shown, (unsigned long long)changed,
		shown < changed ? "; --worklist and --db keep them all"
				: "");
	for (size_t i = 0; i < shown; i++)
		fprintf(out, "  %s\n", notes->examples[IMADDR_CODE_IM_ADDRESS_CHANGES][i]);
}

/* The errors under the target block the change; each code's count is named. */
static void print_verdict(FILE *out, const struct imaddr_run_totals *totals)
{
	uint64_t blockers = totals->by_severity[IMADDR_SEVERITY_ERROR];
	if (!blockers) {
		struct imaddr_buf waived;
		imaddr_buf_init(&waived, 0);
		if (imaddr_codes_describe_waived_errors(totals->waived_by_code, &waived))
			fprintf(out, "\nGO: no blockers, but %s\n", waived.data);
		else
			fputs("\nGO: no blockers\n", out);
		imaddr_buf_release(&waived);
		return;
	}
	/* Counted as findings, read as people: a duplicate pair is two to four. */
	fprintf(out, "\nNO-GO: %llu blocker%s on %llu user%s (", (unsigned long long)blockers,
		blockers == 1 ? "" : "s", (unsigned long long)totals->users_with_error,
		totals->users_with_error == 1 ? "" : "s");
	const char *separator = "";
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		if (!totals->by_code[code] || imaddr_code_severity(code) != IMADDR_SEVERITY_ERROR)
			continue;
		fprintf(out, "%s%s %llu", separator, imaddr_code_name(code),
			(unsigned long long)totals->by_code[code]);
		separator = ", ";
	}
	fputs(")\n", out);
}

static enum imaddr_status end(struct imaddr_sink *sink, const struct imaddr_run_totals *totals,
			      struct imaddr_error *err)
{
	((struct summary *)sink)->totals = totals;
	return IMADDR_OK;
}

/* "2026-12-01T02:00:00Z" as "2026-12-01 02:00" (UTC). */
static void print_time(FILE *out, const char *iso)
{
	if (iso && strlen(iso) >= 16 && iso[10] == 'T')
		fprintf(out, "%.10s %.5s", iso, iso + 11);
	else
		fputs(iso ? iso : "?", out);
}

static void print_by_code(FILE *out, const char *what, uint64_t total,
			  const uint64_t by_code[IMADDR_CODE_COUNT])
{
	fprintf(out, "  %s: %llu\n", what, (unsigned long long)total);
	for (int severity = IMADDR_SEVERITY_ERROR; severity >= IMADDR_SEVERITY_INFO; severity--) {
		for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
			if (!by_code[code] || (int)imaddr_code_severity(code) != severity)
				continue;
			fprintf(out, "    %-8s %-26s %8llu\n", imaddr_severity_name(severity),
				imaddr_code_name(code), (unsigned long long)by_code[code]);
		}
	}
}

static uint64_t sum3(const uint64_t counts[3])
{
	return counts[0] + counts[1] + counts[2];
}

/* What changed since the previous run of the label: the news of a nightly run. */
static void print_since(FILE *out, const struct imaddr_run_changes *changes)
{
	fputs("since the previous run: ", out);
	if (!changes->previous_run_id) {
		fprintf(out, "none, run %lld is the first of label '%s'\n",
			(long long)changes->run_id, changes->label);
		return;
	}
	fprintf(out, "run %lld compared with run %lld of ", (long long)changes->run_id,
		(long long)changes->previous_run_id);
	print_time(out, changes->previous_started);
	fprintf(out, ", label '%s'\n", changes->label);
	if (!imaddr_run_changes_any(changes)) {
		fputs("  nothing changed\n", out);
		return;
	}
	fprintf(out, "  users: %llu added, %llu removed (%llu before)\n",
		(unsigned long long)changes->users_added,
		(unsigned long long)changes->users_removed,
		(unsigned long long)changes->previous_users);
	fprintf(out, "  IM addresses changed: %llu\n",
		(unsigned long long)changes->im_addresses_changed);
	print_by_code(out, "new findings", sum3(changes->new_by_severity), changes->new_by_code);
	print_by_code(out, "resolved findings", sum3(changes->resolved_by_severity),
		      changes->resolved_by_code);
	/* Only where a waiver was added: most labels never have one. */
	if (sum3(changes->waived_by_severity))
		print_by_code(out, "newly waived findings", sum3(changes->waived_by_severity),
			      changes->waived_by_code);
	if (!changes->example_count)
		return;
	fprintf(out, "  first new findings:\n");
	for (size_t i = 0; i < changes->example_count; i++) {
		enum imaddr_code code = changes->example_codes[i];
		if (code < IMADDR_CODE_COUNT)
			fprintf(out, "    %s (%s)\n", changes->examples[i], imaddr_code_name(code));
		else
			fprintf(out, "    %s\n", changes->examples[i]);
	}
}

void imaddr_summary_print_changes(FILE *out, const char *input_name,
				  const struct imaddr_run_changes *changes)
{
	fprintf(out, "imaddr audit of %s\n", input_name ? input_name : "input");
	print_since(out, changes);
}

void imaddr_summary_print(FILE *out, const struct imaddr_audit_options *options,
			  const struct imaddr_run_totals *totals,
			  const struct imaddr_summary_notes *notes)
{
	fprintf(out, "imaddr audit of %s\n", options->input_name ? options->input_name : "input");
	if (totals->input)
		print_input(out, totals->input);
	if (options->premigration) {
		print_scheme(out, "today", options->current_scheme,
			     options->current_default_domain ? options->current_default_domain
							     : options->default_domain);
		print_scheme(out, "target", options->scheme, options->default_domain);
	} else {
		print_scheme(out, "scheme", options->scheme, options->default_domain);
	}
	fprintf(out, "users: %llu, with an IM address: %llu, without: %llu, with errors: %llu\n",
		(unsigned long long)totals->users,
		(unsigned long long)totals->users_with_im_address,
		(unsigned long long)(totals->users - totals->users_with_im_address),
		(unsigned long long)totals->users_with_error);
	if (options->premigration)
		print_changes(out, notes, totals);
	print_findings(out, totals);
	if (options->waivers)
		print_waived(out, options->waivers, notes, totals);
	print_domains(out, totals);
	print_duplicates(out, notes);
	print_examples(out, notes, totals, IMADDR_SEVERITY_ERROR);
	print_examples(out, notes, totals, IMADDR_SEVERITY_WARNING);
	if (totals->changes) {
		fputc('\n', out);
		print_since(out, totals->changes);
	}
	if (totals->outputs && *totals->outputs)
		fprintf(out, "\noutputs:\n%s", totals->outputs);
	if (options->premigration)
		print_verdict(out, totals);
}

/*
 * A path as a shell word, so that the command can be pasted from a cron
 * mail: bare when it holds nothing a shell reads, else single-quoted.
 */
static void print_shell_word(FILE *out, const char *word)
{
	if (*word && strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789_./+,:@%=-") == strlen(word)) {
		fputs(word, out);
		return;
	}
	fputc('\'', out);
	for (; *word; word++) {
		if (*word == '\'')
			fputs("'\\''", out);
		else
			fputc(*word, out);
	}
	fputc('\'', out);
}

/*
 * --quiet on a label's first run: nothing to compare with, so all of it is
 * news, and --fail-on new exits 1 for it. A silent cron mail would leave
 * that unexplained; the counts and where the rest is say enough.
 */
static void print_first_of_label(FILE *out, const char *input_name,
				 const struct imaddr_run_changes *changes,
				 const struct imaddr_run_totals *totals)
{
	imaddr_summary_print_changes(out, input_name, changes);
	fprintf(out, "  users: %llu; findings: ", (unsigned long long)totals->users);
	print_severity_counts(out, totals->by_severity);
	if (sum3(totals->by_severity)) {
		fputs(" (printed by: imaddr report --db ", out);
		print_shell_word(out, changes->report_path ? changes->report_path : "FILE");
		fprintf(out, " --run %lld)", (long long)changes->run_id);
	}
	fputc('\n', out);
}

/* Printed once every output is in place: a failed run prints no summary. */
static enum imaddr_status commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct summary *summary = (struct summary *)sink;
	const struct imaddr_run_totals *totals = summary->totals;

	const struct imaddr_run_changes *changes = totals->changes;
	/* A failed write leaves its errno: the calls that succeed after keep it. */
	errno = 0;
	if (summary->changes_only) {
		if (changes && !changes->previous_run_id)
			print_first_of_label(summary->out, summary->options->input_name, changes,
					     totals);
		else if (imaddr_run_changes_any(changes))
			imaddr_summary_print_changes(summary->out, summary->options->input_name,
						     changes);
	} else {
		imaddr_summary_notes_finish(&summary->notes);
		imaddr_summary_print(summary->out, summary->options, totals, &summary->notes);
	}
	/* The run is in place by now; a summary lost (a full disk under cron) still fails it. */
	if (fflush(summary->out) != 0 || ferror(summary->out))
		return imaddr_error_set(err, IMADDR_ERR_IO, "cannot write the summary to %s: %s",
					imaddr_summary_stream_name(summary->out),
					strerror(errno ? errno : EIO));
	return IMADDR_OK;
}

const char *imaddr_summary_stream_name(FILE *out)
{
	return out == stdout ? "standard output" : out == stderr ? "standard error" : "its stream";
}

static void summary_free(struct imaddr_sink *sink)
{
	struct summary *summary = (struct summary *)sink;
	imaddr_summary_notes_release(&summary->notes);
	free(summary);
}

/* Last: it tells what the other outputs wrote. */
static const struct imaddr_sink_ops summary_ops = {
	.name = "summary",
	.flags = IMADDR_SINK_LAST,
	.begin = begin,
	.finding = finding,
	.end = end,
	.commit = commit,
	.free = summary_free,
};

enum imaddr_status imaddr_sink_summary_open(void *out, struct imaddr_sink **sink,
					    struct imaddr_error *err)
{
	if (!sink)
		return imaddr_error_null(err, __func__, "sink");
	*sink = NULL;
	/* Refused now rather than found when the run ends, its work done. */
	if (!out)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the summary needs a stream to print to, not NULL");
	struct summary *summary = imaddr_xcalloc(1, sizeof(*summary));
	summary->base.ops = &summary_ops;
	summary->out = out;
	imaddr_summary_notes_init(&summary->notes);
	*sink = &summary->base;
	return IMADDR_OK;
}

enum imaddr_status imaddr_sink_summary_open_changes(void *out, struct imaddr_sink **sink,
						    struct imaddr_error *err)
{
	/* Named here: imaddr_sink_summary_open is not what the caller called. */
	if (!sink)
		return imaddr_error_null(err, __func__, "sink");
	enum imaddr_status status = imaddr_sink_summary_open(out, sink, err);
	if (status == IMADDR_OK)
		((struct summary *)*sink)->changes_only = true;
	return status;
}

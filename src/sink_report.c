#include "sink_report.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "fields.h"
#include "mapping.h"
#include "report_changes.h"
#include "report_file.h"
#include "report_rows.h"
#include "report_runs.h"
#include "report_schema.h"
#include "report_state.h"
#include "report_summary.h"
#include "sink.h"
#include "sink_summary.h"
#include "error.h"

/*
 * The columns after run_id, numbers first: see prepare_inserts(). A user's
 * are its id, what it stores derived (report_schema.h), then the user fields
 * marked IMADDR_FIELD_REPORTED (fields.c).
 */
#define FINDING_NUMBERS 6
#define FINDING_TEXTS 12
_Static_assert(FINDING_NUMBERS <= IMADDR_REPORT_ROWS_MAX_NUMBERS &&
	       FINDING_TEXTS <= IMADDR_REPORT_ROWS_MAX_TEXTS,
	       "a row batch holds the widest row");

/* users.id is run_id * 2^32 + ordinal: see report_schema.h. */
#define ORDINALS_PER_RUN IMADDR_REPORT_SCHEMA_ORDINALS_PER_RUN

/*
 * When the stretches the previous run held pass one for every
 * MOVED_REWRITE_SHARE of its users (and MOVED_REWRITE_MIN), the run writes
 * the held users that moved again instead of holding them elsewhere. A
 * stretch splits at every user who joined or left above it since its users
 * were written, and a night rewrites every stretch that moved: without this
 * the stretches, and what each night writes, would grow with every joiner
 * and leaver up to one per user. One in 16 keeps a night's stretches under
 * 2% of what a first run writes; the night that writes the moved users
 * again costs about a first run, once every few weeks at 0.1% of users
 * joining and as many leaving a night (report-schema.md, "user_positions").
 */
#define MOVED_REWRITE_SHARE 16
#define MOVED_REWRITE_MIN 1024


enum report_state {
	REPORT_OPENED,   /* checked, nothing written */
	REPORT_BEGUN,    /* inside the run's transaction */
	REPORT_ENDED,    /* every row written, COMMIT still to come */
	REPORT_DONE      /* committed or thrown away */
};

struct report {
	struct imaddr_sink base;
	char *path;
	char *absolute_path;    /* the transaction_path other outputs' journals name */
	char *token;            /* the run's, recorded in run_commits */
	sqlite3 *db;            /* NULL until begin when the file does not exist */
	bool created;           /* this run created the file: throwing away removes it */
	bool new_schema;        /* this run creates the schema and its indexes */
	bool indexed;           /* the findings indexes exist (input_end made them) */
	bool locked;            /* BEGIN IMMEDIATE went through: the run may have written */
	int busy_timeout_ms;    /* how long a statement waits for another's lock */
	enum report_state state;
	sqlite3_int64 run_id;
	sqlite3_int64 previous_run_id;  /* 0 for the first run of a label */
	const struct imaddr_audit_options *options;  /* the run's, from begin */
	char *label;
	char *previous_started;
	/* What changed since the previous run: told to the summary (describe). */
	struct imaddr_run_changes changes;
	char *examples[IMADDR_CHANGES_EXAMPLES];
	struct imaddr_report_history history;
	/* What the summary names of the findings, kept for imaddr report. */
	struct imaddr_summary_notes notes;
	/*
	 * History kept as changes (report_state.h): what the previous run of the
	 * label held, when it left its state, and what this run holds. A user or
	 * finding whose hash the previous run held is not written again.
	 */
	bool has_state;
	bool state_to_load;             /* begun, the previous state not read yet */
	struct imaddr_report_versions previous_users;     /* by ordinal */
	struct imaddr_report_versions previous_findings;  /* by hash */
	struct imaddr_report_versions users_now;
	struct imaddr_report_versions findings_now;
	size_t next_previous;       /* the previous user after the last one held */
	bool users_moved;           /* a user held stands elsewhere than last night */
	bool rewrite_moved;         /* users that moved are written, not held: see above */
	/* The stretches of held users that stand elsewhere than written. */
	struct imaddr_report_position stretch;   /* the one growing; lo 0 when none */
	struct imaddr_report_positions positions_now;
	uint64_t users_written;
	uint64_t findings_written;
	uint32_t finding_count;     /* this run's findings so far: their ids */
	struct imaddr_report_rows users;
	struct imaddr_report_rows findings;
	size_t user_numbers;    /* the user fields that are report columns, by kind */
	size_t user_texts;
};

static enum imaddr_status db_error(const struct report *report, const char *doing,
				   struct imaddr_error *err)
{
	return imaddr_report_file_fail(report->db, report->path, doing, err);
}

static void release_statements(struct report *report)
{
	imaddr_report_rows_finalize(&report->users);
	imaddr_report_rows_finalize(&report->findings);
}

static void close_connection(struct report *report)
{
	release_statements(report);
	sqlite3_close(report->db);
	report->db = NULL;
}

/*
 * Throws the run away. ROLLBACK undoes every row of the run, so the report
 * is as the previous run left it; a file this run created goes altogether.
 *
 * After an I/O error (a full disk) SQLite has often ended the transaction
 * itself, so there is nothing for ROLLBACK to do, yet the journal is still
 * on disk and the pages the run wrote are still in the file: closing would
 * leave them for the next opener. Any read then plays the journal back,
 * truncates the file and deletes the journal. It needs no room on the disk;
 * should it fail all the same, the next opener rolls back. When the run
 * never took the lock there is nothing to play back, and the read could
 * only wait for another run's lock once more.
 */
static void discard(struct report *report)
{
	sqlite3 *db = report->db;

	if (db) {
		bool rolled_back = false;

		/* A statement in progress would keep the journal from playing back. */
		release_statements(report);
		if (!sqlite3_get_autocommit(db))
			rolled_back = sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK;
		if (report->locked && !rolled_back)
			sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
		close_connection(report);
	}
	if (report->created)
		imaddr_report_file_remove(report->path);
	report->created = false;
	report->state = REPORT_DONE;
}

/*
 * A failed write ends the run at once, rolled back before the error is
 * returned: the caller may never abort it (a threaded sink's worker stops
 * at the failure, and a caller may just exit).
 */
static enum imaddr_status fail(struct report *report, const char *doing, struct imaddr_error *err)
{
	/* SQLite's message first: discarding closes the connection. */
	enum imaddr_status status = db_error(report, doing, err);

	discard(report);
	return status;
}

/* The run's row, and what the report tells of the previous run of its label. */
static int begin_run(struct report *report, const struct imaddr_run_info *info)
{
	static const struct imaddr_audit_options no_options;
	const struct imaddr_audit_options *options =
		info && info->options ? info->options : &no_options;

	report->options = options;
	free(report->label);
	report->label = imaddr_xstrdup(options->label ? options->label
				       : options->input_name ? options->input_name : "");
	int rc = imaddr_report_runs_insert(report->db, info, report->label, &report->run_id);
	memset(&report->changes, 0, sizeof(report->changes));
	report->changes.run_id = report->run_id;
	report->changes.label = report->label;
	report->changes.report_path = report->path;
	if (rc == SQLITE_OK)
		rc = imaddr_report_runs_previous(report->db, report->run_id,
						 &report->previous_run_id,
						 &report->previous_started,
						 &report->changes.previous_users);
	report->changes.previous_run_id = report->previous_run_id;
	report->changes.previous_started = report->previous_started;
	return rc;
}

static int prepare_inserts(struct report *report)
{
	const struct imaddr_field_table *user = &imaddr_fields_user;
	struct imaddr_buf columns;
	char *reported = imaddr_fields_columns(user, IMADDR_FIELD_REPORTED);
	imaddr_buf_init(&columns, 0);
	imaddr_buf_appendf(&columns, "user_versions (first_run, id, derived, %s)", reported);
	free(reported);
	int rc = imaddr_report_rows_register(report->db);
	/*
	 * The id, what is derived (NULL when nothing), then the reported
	 * fields; a number's bit n + 2 is field n's.
	 */
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_prepare(&report->users, report->db, columns.data,
						report->run_id, 2 + (int)report->user_numbers,
						(int)report->user_texts,
						1u << 1 |
						imaddr_fields_zero_is_null(user,
									   IMADDR_FIELD_REPORTED)
							<< 2);
	imaddr_buf_release(&columns);
	/*
	 * id, ordinal, line, related_ordinal, user_version and related_version
	 * (all but the first two NULL when 0); dn ... waiver_source
	 */
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_prepare(&report->findings, report->db,
						"finding_versions (first_run, id, ordinal, line,"
						" related_ordinal, user_version, related_version, dn,"
						" code, severity, field, value, message, suggestion,"
						" user_id, cluster, waiver_reason, waiver_expires,"
						" waiver_source)",
						report->run_id, FINDING_NUMBERS, FINDING_TEXTS,
						1u << 2 | 1u << 3 | 1u << 4 | 1u << 5);
	return rc;
}

/* What the previous run of the label held: both states, or neither. */
static int load_state(struct report *report)
{
	bool users = false, findings = false;
	int rc = imaddr_report_state_load(report->db, report->label, "users",
					  report->previous_run_id, &report->previous_users, &users);
	if (rc == SQLITE_OK)
		rc = imaddr_report_state_load(report->db, report->label, "findings",
					      report->previous_run_id, &report->previous_findings,
					      &findings);
	report->has_state = users && findings;
	if (!report->has_state) {
		imaddr_report_versions_release(&report->previous_users);
		imaddr_report_versions_release(&report->previous_findings);
	}
	uint64_t stretches = 0;
	if (rc == SQLITE_OK && report->has_state)
		rc = imaddr_report_positions_count(report->db, report->label, report->run_id,
						   &stretches);
	report->rewrite_moved = stretches > MOVED_REWRITE_MIN &&
				stretches > report->previous_users.count / MOVED_REWRITE_SHARE;
	return rc;
}

/*
 * The previous run's state (19 MB for a million users) is read by the first
 * callback after begin, not by begin: begin runs on the audit's thread before
 * the input is opened, the callbacks on the report's own, while the audit
 * reads.
 */
static enum imaddr_status load_state_once(struct report *report, struct imaddr_error *err)
{
	if (!report->state_to_load)
		return IMADDR_OK;
	report->state_to_load = false;
	if (load_state(report) != SQLITE_OK)
		return db_error(report, "read", err);
	return IMADDR_OK;
}

static enum imaddr_status not_running(const struct report *report, struct imaddr_error *err)
{
	const char *why = report->state == REPORT_OPENED ? "has not begun" : "has ended";

	return imaddr_error_set(err, IMADDR_ERR_DB, "cannot write report '%s': the run %s",
				report->path, why);
}

/* Every callback between begin and end: the run must be begun, its state read. */
static enum imaddr_status check_running(struct report *report, struct imaddr_error *err)
{
	if (report->state != REPORT_BEGUN)
		return not_running(report, err);
	return load_state_once(report, err);
}

static enum imaddr_status report_begin(struct imaddr_sink *sink,
				       const struct imaddr_run_info *info,
				       struct imaddr_error *err)
{
	struct report *report = (struct report *)sink;
	enum imaddr_report_kind kind = IMADDR_REPORT_KIND_EMPTY;
	enum imaddr_status status = IMADDR_OK;
	int rc = SQLITE_OK;

	if (report->state != REPORT_OPENED)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot begin report '%s' twice", report->path);
	report->state = REPORT_BEGUN;
	free(report->token);
	report->token = imaddr_xstrdup(info && info->token ? info->token : "");
	if (!report->db) {
		status = imaddr_report_file_create(report->path, &report->created, err);
		if (status == IMADDR_OK)
			status = imaddr_report_file_connect(report->path, report->busy_timeout_ms,
							    &report->db, err);
		if (status != IMADDR_OK)
			goto out;
	}

	rc = imaddr_report_file_configure(report->db);
	/*
	 * IMMEDIATE takes the write lock now: a second run on the same report
	 * waits here instead of failing at its first insert.
	 */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(report->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		status = db_error(report, "lock", err);
		goto out;
	}
	report->locked = true;
	status = imaddr_report_file_check(report->db, report->path, &kind, err);
	if (status != IMADDR_OK)
		goto out;
	report->new_schema = kind == IMADDR_REPORT_KIND_EMPTY;
	if (report->new_schema)
		rc = imaddr_report_schema_create(report->db);
	else if (kind != IMADDR_REPORT_KIND_CURRENT)
		rc = imaddr_report_schema_migrate(report->db, kind);
	if (rc == SQLITE_OK)
		rc = imaddr_report_schema_refresh(report->db);
	if (rc == SQLITE_OK)
		rc = begin_run(report, info);
	if (rc == SQLITE_OK && report->run_id >= INT64_MAX / ORDINALS_PER_RUN) {
		status = imaddr_error_set(err, IMADDR_ERR_DB, "report '%s' is full: %lld runs",
					  report->path, (long long)report->run_id);
		goto out;
	}
	if (rc == SQLITE_OK)
		rc = prepare_inserts(report);
	report->state_to_load = report->previous_run_id != 0;
	if (rc != SQLITE_OK)
		status = db_error(report, "write", err);
out:
	if (status != IMADDR_OK)
		discard(report);
	return status;
}

/* Both batches: at the input's end and the run's, every row must be in. */
static int flush_rows(struct report *report)
{
	int rc = imaddr_report_rows_flush(&report->users);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_flush(&report->findings);
	return rc;
}

static void set_user_now(struct report *report, size_t index, uint64_t hash,
			 sqlite3_int64 id, const struct imaddr_user *written)
{
	struct imaddr_report_version item = { .hash = hash, .id = id };
	/* report_user checked the ordinal */
	item.ordinal = (uint32_t)written->ordinal;
	item.line = written->line < IMADDR_REPORT_VERSION_FAR ? (uint32_t)written->line
							      : IMADDR_REPORT_VERSION_FAR;
	imaddr_report_versions_set(&report->users_now, index, &item);
}

/*
 * The previous run's user with this content that is not held yet: most
 * nights the one after the last held, else any, through an index by hash
 * built only then.
 */
static size_t find_previous_user(struct report *report, uint64_t hash)
{
	struct imaddr_report_versions *previous = &report->previous_users;
	size_t next = report->next_previous;

	if (next < previous->count && previous->items[next].hash == hash &&
	    !previous->held[next] && previous->items[next].id &&
	    previous->items[next].line != IMADDR_REPORT_VERSION_FAR)
		return next;
	size_t found = imaddr_report_versions_find(previous, hash, NULL);
	if (found != SIZE_MAX && previous->items[found].line == IMADDR_REPORT_VERSION_FAR)
		return SIZE_MAX;
	return found;
}

static void end_stretch(struct report *report)
{
	struct imaddr_report_position *stretch = &report->stretch;
	if (stretch->version_lo && (stretch->ordinal_shift || stretch->line_shift))
		imaddr_report_positions_add(&report->positions_now, stretch);
	stretch->version_lo = 0;
}

/* Whether `user` stands elsewhere than `version` was written. */
static bool moved(const struct imaddr_report_version *version, const struct imaddr_user *user)
{
	return version->ordinal != user->ordinal || version->line != user->line;
}

/*
 * Holds the previous run's user `held` as this run's user `index`: no row
 * is written, and where it stands now differs from where it was written,
 * the stretch of held users moved alike grows by it or a new one starts.
 */
static void hold_user(struct report *report, size_t index, size_t held,
		      const struct imaddr_user *user)
{
	struct imaddr_report_versions *previous = &report->previous_users;
	const struct imaddr_report_version *version = &previous->items[held];
	struct imaddr_report_position *stretch = &report->stretch;
	int64_t ordinal_shift = (int64_t)user->ordinal - (int64_t)version->ordinal;
	int64_t line_shift = (int64_t)user->line - (int64_t)version->line;

	previous->held[held] = true;
	report->next_previous = held + 1;
	report->users_moved |= held != index;
	imaddr_report_versions_set(&report->users_now, index, version);
	/* A stretch covers versions of one run, which follow one another. */
	if (stretch->version_lo && version->id == stretch->version_hi + 1 &&
	    version->id / ORDINALS_PER_RUN == stretch->version_lo / ORDINALS_PER_RUN &&
	    ordinal_shift == stretch->ordinal_shift && line_shift == stretch->line_shift) {
		stretch->version_hi = version->id;
		return;
	}
	end_stretch(report);
	*stretch = (struct imaddr_report_position){
		.version_lo = version->id,
		.version_hi = version->id,
		.ordinal_shift = ordinal_shift,
		.line_shift = line_shift,
	};
}

static enum imaddr_status report_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				      struct imaddr_error *err)
{
	struct report *report = (struct report *)sink;
	uint64_t numbers[IMADDR_REPORT_ROWS_MAX_NUMBERS];
	const char *texts[IMADDR_REPORT_ROWS_MAX_TEXTS];

	enum imaddr_status running = check_running(report, err);
	if (running != IMADDR_OK)
		return running;
	if (user->ordinal == 0 || user->ordinal >= (uint64_t)ORDINALS_PER_RUN)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot write user %llu to report '%s': a run holds at most "
					"%lld users", (unsigned long long)user->ordinal, report->path,
					(long long)ORDINALS_PER_RUN - 1);
	numbers[0] = (uint64_t)report->run_id * (uint64_t)ORDINALS_PER_RUN + user->ordinal;
	/*
	 * The hash is of the values, whichever of them are stored derived, and
	 * not of where the user stands: a user is held wherever it moved. Whether
	 * it has a line is part of it, as a position cannot give it one.
	 */
	struct imaddr_user unplaced = *user;
	unplaced.ordinal = 0;
	unplaced.line = user->line != 0;
	imaddr_fields_values(&imaddr_fields_user, &unplaced, IMADDR_FIELD_REPORTED, numbers + 2,
			     texts);
	uint64_t hash = imaddr_report_state_hash(numbers + 2, (int)report->user_numbers, texts,
						 (int)report->user_texts);
	size_t index = (size_t)user->ordinal - 1;
	if (report->has_state && user->line < IMADDR_REPORT_VERSION_FAR) {
		size_t held = find_previous_user(report, hash);
		if (held != SIZE_MAX && !(report->rewrite_moved &&
					  moved(&report->previous_users.items[held], user))) {
			hold_user(report, index, held, user);
			return IMADDR_OK;
		}
		/* Written again where it stands: the next user is likely the next held. */
		if (held != SIZE_MAX)
			report->next_previous = held + 1;
	}
	end_stretch(report);
	set_user_now(report, index, hash, (sqlite3_int64)numbers[0], user);
	report->users_written++;
	struct imaddr_user stored;
	numbers[1] = imaddr_report_schema_derive(user, &stored);
	imaddr_fields_values(&imaddr_fields_user, numbers[1] ? &stored : user,
			     IMADDR_FIELD_REPORTED, numbers + 2, texts);
	if (imaddr_report_rows_append(&report->users, numbers, texts) != SQLITE_OK)
		return fail(report, "write a user to", err);
	return IMADDR_OK;
}

/* This run's user `ordinal` as stored; NULL for none (0) or one never told. */
static const struct imaddr_report_version *user_now(const struct report *report,
						     uint64_t ordinal)
{
	if (!ordinal || ordinal > report->users_now.count ||
	    !report->users_now.items[ordinal - 1].id)
		return NULL;
	return &report->users_now.items[ordinal - 1];
}

static enum imaddr_status report_finding(struct imaddr_sink *sink,
					 const struct imaddr_finding *finding,
					 struct imaddr_error *err)
{
	struct report *report = (struct report *)sink;
	bool of_no_user = finding->ordinal == 0;

	enum imaddr_status running = check_running(report, err);
	if (running != IMADDR_OK)
		return running;
	imaddr_summary_notes_add(&report->notes, finding);
	/* Kept as users.im_address_change: see report_schema.c. */
	if (finding->code == IMADDR_CODE_IM_ADDRESS_CHANGES)
		return IMADDR_OK;
	/* A user's line and DN are in users already. */
	const char *texts[FINDING_TEXTS] = {
		of_no_user ? finding->dn : NULL, imaddr_code_name(finding->code),
		imaddr_severity_name(finding->severity), finding->field, finding->value,
		finding->message, finding->suggestion, of_no_user ? NULL : finding->user_id,
		finding->cluster, finding->waiver_reason, finding->waiver_expires,
		finding->waiver_source,
	};
	/*
	 * A finding names its user, and the other user of a duplicate, by the
	 * version it was written with, and by the ordinal of that version: it
	 * moves as its user does.
	 */
	const struct imaddr_report_version *user = user_now(report, finding->ordinal);
	const struct imaddr_report_version *related = user_now(report, finding->related_ordinal);
	uint64_t numbers[FINDING_NUMBERS] = {
		0,
		user ? user->ordinal : finding->ordinal,
		of_no_user ? finding->line : 0,
		related ? related->ordinal : finding->related_ordinal,
		user ? (uint64_t)user->id : 0,
		related ? (uint64_t)related->id : 0,
	};
	/*
	 * Hashed with its users' content, and held only with the same user
	 * versions (`users`): two users alike may hold each other's versions.
	 */
	const uint64_t placed[] = {
		user ? user->hash : 0, numbers[2], related ? related->hash : 0,
	};
	uint64_t hash = imaddr_report_state_hash(placed, 3, texts, FINDING_TEXTS);
	uint64_t users = imaddr_report_versions_users((sqlite3_int64)numbers[4],
						      (sqlite3_int64)numbers[5]);
	sqlite3_int64 id = report->has_state
				   ? imaddr_report_versions_take(&report->previous_findings, hash,
								 users)
				   : 0;
	if (!id && report->finding_count == UINT32_MAX)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot write a finding to report '%s': a run holds at most "
					"%lu findings", report->path, (unsigned long)UINT32_MAX);
	if (!id) {
		id = report->run_id * ORDINALS_PER_RUN + ++report->finding_count;
		numbers[0] = (uint64_t)id;
		report->findings_written++;
		if (imaddr_report_rows_append(&report->findings, numbers, texts) != SQLITE_OK)
			return fail(report, "write a finding to", err);
	}
	struct imaddr_report_version item = { .hash = hash, .id = id };
	item.users = users;
	imaddr_report_versions_set(&report->findings_now, report->findings_now.count, &item);
	return IMADDR_OK;
}

/*
 * A broken source is not a clean night: an export cut short, or a filter
 * that lost half the directory, would show every finding of the missing
 * users as resolved. Checked before anything of the run's end is written.
 */
static enum imaddr_status check_shrink(struct report *report,
				       const struct imaddr_run_totals *totals,
				       struct imaddr_error *err)
{
	const struct imaddr_audit_options *options = report->options;
	uint64_t before = report->changes.previous_users;
	uint64_t now = totals ? totals->users : 0;

	if (!report->previous_run_id || !options || options->allow_shrink || now >= before)
		return IMADDR_OK;
	uint64_t lost = before - now;
	/* lost / before > max / 100, without rounding */
	if (lost * 100 <= before * (uint64_t)options->max_shrink_percent)
		return IMADDR_OK;
	return imaddr_error_set(err, IMADDR_ERR_INPUT,
		"%s: %llu users, %llu%% fewer than the %llu of run %lld of %.10s %.5s (label '%s'): more "
		"than --max-shrink %u%%, so a broken source rather than a clean night; nothing "
		"recorded (--allow-shrink records it)",
		options->input_name ? options->input_name : "input", (unsigned long long)now,
		(unsigned long long)((lost * 100 + before - 1) / before), (unsigned long long)before,
		(long long)report->previous_run_id, report->previous_started,
		strlen(report->previous_started) > 11 ? report->previous_started + 11 : "",
		report->label,
		options->max_shrink_percent);
}

/*
 * Ends the versions the previous run held and this one does not, and leaves
 * this run's state for the next run of the label.
 */
static int keep_changes(struct report *report)
{
	int rc = SQLITE_OK;
	bool users_unchanged = report->has_state && !report->users_written &&
			       !report->users_moved &&
			       report->users_now.count == report->previous_users.count;
	bool findings_unchanged = report->has_state && !report->findings_written &&
				  report->findings_now.count == report->previous_findings.count;

	if (report->previous_run_id && report->has_state) {
		rc = imaddr_report_state_end_unheld(report->db, "user_versions", report->run_id,
						    &report->previous_users);
		if (rc == SQLITE_OK)
			rc = imaddr_report_state_end_unheld(report->db, "finding_versions",
							    report->run_id,
							    &report->previous_findings);
	} else if (report->previous_run_id) {
		rc = imaddr_report_state_end_all(report->db, "user_versions", report->label,
						 report->run_id);
		if (rc == SQLITE_OK)
			rc = imaddr_report_state_end_all(report->db, "finding_versions",
							 report->label, report->run_id);
	}
	end_stretch(report);
	if (rc == SQLITE_OK && report->previous_run_id)
		rc = imaddr_report_positions_save(report->db, report->label, report->run_id,
						  &report->positions_now);
	if (rc == SQLITE_OK)
		rc = imaddr_report_state_save(report->db, report->label, "users", report->run_id,
					      &report->users_now, users_unchanged);
	if (rc == SQLITE_OK)
		rc = imaddr_report_state_save(report->db, report->label, "findings",
					      report->run_id, &report->findings_now,
					      findings_unchanged);
	return rc;
}

static enum imaddr_status report_input_end(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct report *report = (struct report *)sink;
	enum imaddr_status running = check_running(report, err);
	if (running != IMADDR_OK)
		return running;
	if (flush_rows(report) != SQLITE_OK)
		return fail(report, "write", err);
	if (report->new_schema && !report->indexed) {
		if (imaddr_report_schema_create_indexes(report->db) != SQLITE_OK)
			return fail(report, "index", err);
		report->indexed = true;
	}
	return IMADDR_OK;
}

static enum imaddr_status report_end(struct imaddr_sink *sink,
				     const struct imaddr_run_totals *totals,
				     struct imaddr_error *err)
{
	struct report *report = (struct report *)sink;
	int rc = SQLITE_OK;

	enum imaddr_status running = check_running(report, err);
	if (running != IMADDR_OK)
		return running;
	enum imaddr_status status = check_shrink(report, totals, err);
	if (status != IMADDR_OK) {
		discard(report);
		return status;
	}
	if (flush_rows(report) != SQLITE_OK)
		return fail(report, "write", err);
	rc = imaddr_report_runs_finish(report->db, report->run_id, totals);
	if (rc == SQLITE_OK)
		rc = imaddr_report_runs_insert_domains(report->db, report->run_id, totals);
	if (rc == SQLITE_OK)
		rc = keep_changes(report);
	if (rc == SQLITE_OK)
		rc = imaddr_report_changes_history(report->db, report->run_id, &report->history,
						   &report->changes);
	if (rc == SQLITE_OK && report->previous_run_id)
		rc = imaddr_report_changes_record(report->db, report->run_id,
						   report->previous_run_id, &report->changes);
	/* A caller that never said the input ended gets the indexes here. */
	if (rc == SQLITE_OK && report->new_schema && !report->indexed)
		rc = imaddr_report_schema_create_indexes(report->db);
	/*
	 * The planner's statistics, sampled: a few milliseconds. Without them it
	 * misjudges finding_versions_by_key for the run-to-run views. Not of
	 * user_versions: with no full index to sample, ANALYZE counts its rows,
	 * reading the whole table back (200 MB for a million users).
	 */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(report->db, "PRAGMA analysis_limit = 1000; "
				  "ANALYZE finding_versions; ANALYZE runs", NULL, NULL, NULL);
	/* After ANALYZE: the views' lookups need finding_versions_by_key planned right. */
	if (rc == SQLITE_OK && report->previous_run_id)
		rc = imaddr_report_changes_findings(report->db, report->run_id, &report->changes,
						    report->examples);
	if (rc == SQLITE_OK) {
		imaddr_summary_notes_finish(&report->notes);
		rc = imaddr_report_summary_save(report->db, report->run_id, totals, &report->notes,
						&report->changes);
	}
	if (rc == SQLITE_OK)
		rc = imaddr_report_runs_record_token(report->db, report->run_id, report->token);
	/* Prepared statements must not keep the commit from releasing its locks. */
	release_statements(report);
	if (rc != SQLITE_OK)
		return fail(report, "write", err);
	report->state = REPORT_ENDED;
	return IMADDR_OK;
}

/* The run's commit point: until COMMIT returns, no output is in place. */
static enum imaddr_status report_commit(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct report *report = (struct report *)sink;

	if (report->state != REPORT_ENDED)
		return not_running(report, err);
	if (sqlite3_exec(report->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(report, "commit", err);
	report->created = false;
	close_connection(report);
	report->state = REPORT_DONE;
	return IMADDR_OK;
}

static void report_describe(struct imaddr_sink *sink, struct imaddr_buf *out,
			    struct imaddr_run_totals *told)
{
	struct report *report = (struct report *)sink;
	if (report->state == REPORT_ENDED)
		told->changes = &report->changes;
}

static void report_abort(struct imaddr_sink *sink)
{
	struct report *report = (struct report *)sink;

	if (report->state == REPORT_BEGUN || report->state == REPORT_ENDED)
		discard(report);
}

static void report_free(struct imaddr_sink *sink)
{
	struct report *report = (struct report *)sink;

	/* A run neither committed nor aborted is thrown away, never half-kept. */
	if (report->state == REPORT_BEGUN || report->state == REPORT_ENDED)
		discard(report);
	if (report->db)
		close_connection(report);
	imaddr_report_rows_release(&report->users);
	imaddr_report_rows_release(&report->findings);
	free(report->path);
	free(report->absolute_path);
	free(report->token);
	free(report->label);
	free(report->previous_started);
	imaddr_report_versions_release(&report->previous_users);
	imaddr_report_versions_release(&report->previous_findings);
	imaddr_report_versions_release(&report->users_now);
	imaddr_report_versions_release(&report->findings_now);
	imaddr_report_positions_release(&report->positions_now);
	imaddr_summary_notes_release(&report->notes);
	for (size_t i = 0; i < IMADDR_CHANGES_EXAMPLES; i++)
		free(report->examples[i]);
	free(report);
}

static const struct imaddr_sink_ops report_ops = {
	.name = "report",
	.flags = IMADDR_SINK_ON_WORKER,
	.begin = report_begin,
	.user = report_user,
	.finding = report_finding,
	.input_end = report_input_end,
	.end = report_end,
	.describe = report_describe,
	.commit = report_commit,
	.abort = report_abort,
	.free = report_free,
};

/* The report as a journal beside an output in another directory finds it. */
static char *absolute(const char *path)
{
	struct imaddr_buf name;
	char cwd[4096];

	imaddr_buf_init(&name, 0);
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		imaddr_buf_appendf(&name, "%s/", cwd);
	imaddr_buf_append_str(&name, path);
	return imaddr_buf_detach(&name);
}

enum imaddr_status imaddr_sink_report_open(const char *path, int wait_ms,
					   struct imaddr_sink **out, struct imaddr_error *err)
{
	if (!out)
		return imaddr_error_null(err, __func__, "out");
	*out = NULL;
	if (!path)
		return imaddr_error_null(err, __func__, "path");
	struct report *report = imaddr_xcalloc(1, sizeof(*report));

	report->base.ops = &report_ops;
	report->path = imaddr_xstrdup(path);
	report->absolute_path = absolute(report->path);
	report->base.transaction_path = report->absolute_path;
	report->state = REPORT_OPENED;
	report->user_numbers = imaddr_fields_count(&imaddr_fields_user, IMADDR_FIELD_REPORTED,
						   IMADDR_FIELD_INTEGER);
	report->user_texts = imaddr_fields_count(&imaddr_fields_user, IMADDR_FIELD_REPORTED,
						 IMADDR_FIELD_STRING);
	if (report->user_numbers + 2 > IMADDR_REPORT_ROWS_MAX_NUMBERS ||
	    report->user_texts > IMADDR_REPORT_ROWS_MAX_TEXTS) {
		report_free(&report->base);
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"a user has more report columns than a row batch holds");
	}
	report->busy_timeout_ms = wait_ms >= 0 ? wait_ms : IMADDR_SINK_REPORT_BUSY_TIMEOUT_MS;
	imaddr_report_rows_init(&report->users);
	imaddr_report_rows_init(&report->findings);
	imaddr_report_versions_init(&report->previous_users);
	imaddr_report_versions_init(&report->previous_findings);
	imaddr_report_versions_init(&report->users_now);
	imaddr_report_versions_init(&report->findings_now);
	imaddr_summary_notes_init(&report->notes);
	enum imaddr_status status = imaddr_report_file_open(report->path,
							    report->busy_timeout_ms,
							    &report->db, err);
	if (status != IMADDR_OK) {
		report_free(&report->base);
		return status;
	}
	*out = &report->base;
	return IMADDR_OK;
}

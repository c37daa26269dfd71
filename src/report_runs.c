#include "report_runs.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "buffer.h"
#include "error.h"
#include "mapping.h"
#include "run_description.h"
#include "report_rows.h"

/* "1970-01-01T00:00:00Z" and its NUL */
#define UTC_TIME_SIZE 21

/* The previous run is the latest committed run of the same label. */
static const char insert_run_sql[] =
	"INSERT INTO runs (previous_run_id, started, version, input, scheme,\n"
	"                  default_domain, im_domains, current_scheme, current_default_domain,\n"
	"                  label, source_base, source_scope, source_filter, waivers)\n"
	"VALUES ((SELECT max(id) FROM runs WHERE label IS ?9 AND finished IS NOT NULL\n"
	"          AND pruned IS NULL),\n"
	"        ?2, ?3, ?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

static const char previous_run_sql[] =
	"SELECT p.id, p.started, p.users FROM runs AS r JOIN runs AS p ON p.id = r.previous_run_id\n"
	"WHERE r.id = ?1";

static const char finish_run_sql[] =
	"UPDATE runs SET finished = ?2, users = ?3, users_with_im_address = ?4,\n"
	"  users_with_error = ?5, errors = ?6, warnings = ?7, infos = ?8, mapping = ?9,\n"
	"  encoding = ?10, waived = ?11\n"
	"WHERE id = ?1";

/*
 * Which run each token committed: a journal beside a BAT file names a token,
 * and its run is committed exactly when this table holds it (staging.h).
 * Created by the first run that needs it, so a version 2 report written by
 * an earlier imaddr takes runs as before.
 */
static const char run_commits_sql[] =
	"CREATE TABLE IF NOT EXISTS run_commits (\n"
	"  run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  token TEXT NOT NULL\n"
	");\n";

static const char insert_domain_sql[] =
	"INSERT INTO domains (run_id, ascii, unicode, users, configured)\n"
	"VALUES (?1, ?2, ?3, ?4, ?5)";

static int bind_count(sqlite3_stmt *stmt, int index, uint64_t count)
{
	return sqlite3_bind_int64(stmt, index,
				  count > INT64_MAX ? INT64_MAX : (sqlite3_int64)count);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v2(db, sql, -1, stmt, NULL);
}

static void format_utc(int64_t unix_time, char out[UTC_TIME_SIZE])
{
	time_t seconds = (time_t)unix_time;
	struct tm tm;

	if (!gmtime_r(&seconds, &tm) ||
	    !strftime(out, UTC_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, UTC_TIME_SIZE, "1970-01-01T00:00:00Z");
}


int imaddr_report_runs_insert(sqlite3 *db, const struct imaddr_run_info *info, const char *label,
			      sqlite3_int64 *run_id)
{
	static const struct imaddr_audit_options no_options;
	const struct imaddr_audit_options *options =
		info && info->options ? info->options : &no_options;
	const char *version = info && info->version ? info->version : IMADDR_VERSION;
	int64_t started = info && info->started > 0 ? info->started : (int64_t)time(NULL);
	char started_text[UTC_TIME_SIZE];
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, insert_run_sql, &stmt);

	format_utc(started, started_text);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 1, options->input_name);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 2, started_text);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 3, version);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 4, imaddr_scheme_name(options->scheme));
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 5, options->default_domain);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 6, options->im_domains);
	if (rc == SQLITE_OK && options->premigration)
		rc = imaddr_report_rows_bind_text(stmt, 7, imaddr_scheme_name(options->current_scheme));
	if (rc == SQLITE_OK && options->premigration)
		rc = imaddr_report_rows_bind_text(stmt, 8, options->current_default_domain
								   ? options->current_default_domain
								   : options->default_domain);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 9, label);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 10, options->source_base);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 11, options->source_scope);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 12, options->source_filter);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 13, options->waivers);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_step(stmt);
	if (rc == SQLITE_OK)
		*run_id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(stmt);
	return rc;
}

int imaddr_report_runs_previous(sqlite3 *db, sqlite3_int64 run_id, sqlite3_int64 *previous_id,
				char **previous_started, uint64_t *previous_users)
{
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, previous_run_sql, &stmt);

	*previous_id = 0;
	*previous_users = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *started = (const char *)sqlite3_column_text(stmt, 1);
		*previous_id = sqlite3_column_int64(stmt, 0);
		free(*previous_started);
		*previous_started = imaddr_xstrdup(started ? started : "");
		*previous_users = (uint64_t)sqlite3_column_int64(stmt, 2);
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(stmt);
	return rc;
}

static char *mapping_text(const struct imaddr_input_description *input)
{
	struct imaddr_buf text;
	imaddr_buf_init(&text, 0);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const char *name = input->role_attribute[role];
		if (!name)
			continue;
		imaddr_buf_appendf(&text, "%s%s=%s%s", text.len ? ", " : "",
				   imaddr_role_name((enum imaddr_role)role), name,
				   input->role_attribute_varies[role] ? " (varies)" : "");
	}
	if (input->dn_attribute)
		imaddr_buf_appendf(&text, "%sDN=%s", text.len ? ", " : "", input->dn_attribute);
	return imaddr_buf_detach(&text);
}

int imaddr_report_runs_finish(sqlite3 *db, sqlite3_int64 run_id,
			      const struct imaddr_run_totals *totals)
{
	char finished[UTC_TIME_SIZE];
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, finish_run_sql, &stmt);

	format_utc((int64_t)time(NULL), finished);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 2, finished);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 3, totals->users);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 4, totals->users_with_im_address);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 5, totals->users_with_error);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 6, totals->by_severity[IMADDR_SEVERITY_ERROR]);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 7, totals->by_severity[IMADDR_SEVERITY_WARNING]);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 8, totals->by_severity[IMADDR_SEVERITY_INFO]);
	if (rc == SQLITE_OK && totals && totals->input) {
		char *mapping = mapping_text(totals->input);
		rc = sqlite3_bind_text(stmt, 9, mapping, -1, free);
	}
	/* Never mis-decoded silently: the report says how the input was read too. */
	if (rc == SQLITE_OK && totals && totals->input && totals->input->encoding) {
		const struct imaddr_input_description *input = totals->input;
		char *encoding = sqlite3_mprintf("%s (%s)", input->encoding,
						 input->encoding_how ? input->encoding_how : "given");
		rc = encoding ? sqlite3_bind_text(stmt, 10, encoding, -1, sqlite3_free) : SQLITE_NOMEM;
	}
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 11, totals->waived);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_step(stmt);
	sqlite3_finalize(stmt);
	return rc;
}

int imaddr_report_runs_insert_domains(sqlite3 *db, sqlite3_int64 run_id,
				      const struct imaddr_run_totals *totals)
{
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(db, insert_domain_sql, &stmt);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	for (size_t i = 0; rc == SQLITE_OK && totals && i < totals->domain_count; i++) {
		const struct imaddr_domain_count *domain = &totals->domains[i];

		rc = imaddr_report_rows_bind_text(stmt, 2, domain->ascii);
		if (rc == SQLITE_OK)
			rc = imaddr_report_rows_bind_text(stmt, 3, domain->unicode);
		if (rc == SQLITE_OK)
			rc = bind_count(stmt, 4, domain->users);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(stmt, 5, domain->configured);
		if (rc == SQLITE_OK)
			rc = imaddr_report_rows_step(stmt);
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc;
}

int imaddr_report_runs_record_token(sqlite3 *db, sqlite3_int64 run_id, const char *token)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_exec(db, run_commits_sql, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		rc = prepare(db, "INSERT INTO run_commits (run_id, token) VALUES (?1, ?2)",
			     &stmt);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_bind_text(stmt, 2, token);
	if (rc == SQLITE_OK)
		rc = imaddr_report_rows_step(stmt);
	sqlite3_finalize(stmt);
	return rc;
}


int imaddr_report_runs_read_domains(sqlite3 *db, sqlite3_int64 run_id,
				    struct imaddr_domain_count **domains, size_t *count)
{
	sqlite3_stmt *stmt = NULL;
	size_t capacity = 0;
	int rc = prepare(db, "SELECT ascii, unicode, users, configured FROM domains "
			     "WHERE run_id = ?1 ORDER BY ascii", &stmt);

	*domains = NULL;
	*count = 0;
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		if (*count == capacity) {
			capacity = capacity ? capacity * 2 : 16;
			*domains = imaddr_xrealloc(*domains, capacity * sizeof(**domains));
		}
		struct imaddr_domain_count *domain = &(*domains)[(*count)++];
		const char *ascii = (const char *)sqlite3_column_text(stmt, 0);
		const char *unicode = (const char *)sqlite3_column_text(stmt, 1);
		domain->ascii = imaddr_xstrdup(ascii ? ascii : "");
		domain->unicode = imaddr_xstrdup(unicode ? unicode : domain->ascii);
		sqlite3_int64 users = sqlite3_column_int64(stmt, 2);
		domain->users = users > 0 ? (uint64_t)users : 0;
		domain->configured = sqlite3_column_int(stmt, 3) != 0;
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void imaddr_report_runs_free_domains(struct imaddr_domain_count *domains, size_t count)
{
	for (size_t i = 0; domains && i < count; i++) {
		free((char *)domains[i].ascii);
		free((char *)domains[i].unicode);
	}
	free(domains);
}

enum imaddr_status imaddr_report_runs_missing(sqlite3 *db, const char *path,
					      sqlite3_int64 run_id, struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	/*
	 * A pruned run whose rows later runs still read keeps its row, marked;
	 * one pruned whole leaves a gap below the newest run.
	 */
	int rc = sqlite3_prepare_v2(db,
		"SELECT (SELECT pruned IS NOT NULL FROM runs WHERE id = ?1),"
		"       (SELECT min(id) FROM runs WHERE pruned IS NULL),"
		"       (SELECT max(id) FROM runs WHERE pruned IS NULL)", -1, &stmt, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	sqlite3_int64 first = 0, last = 0;
	bool pruned = false;
	if (rc == SQLITE_ROW) {
		pruned = sqlite3_column_int(stmt, 0) == 1;
		first = sqlite3_column_int64(stmt, 1);
		last = sqlite3_column_int64(stmt, 2);
		pruned |= sqlite3_column_type(stmt, 0) == SQLITE_NULL && run_id > 0 && run_id < last;
	}
	sqlite3_finalize(stmt);
	if (pruned)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run %lld: it "
					"was pruned (imaddr prune or --keep-runs); the oldest run it "
					"keeps is %lld, the newest %lld", path, (long long)run_id,
					(long long)first, (long long)last);
	if (last)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run %lld: "
					"the newest is run %lld", path, (long long)run_id,
					(long long)last);
	return imaddr_error_set(err, IMADDR_ERR_USAGE, "the report '%s' has no run %lld", path,
				(long long)run_id);
}

/*
 * The SQLite report's schema: the tables, indexes and views
 * (docs/report-schema.md), the versions this imaddr reads and the migrations
 * from older ones, and how a user version stores columns equal to another.
 * The report's other modules: report_file.c (the file, its version check and
 * the connection's settings), report_rows.c (the inserts), report_changes.c
 * (run-to-run changes) and sink_report.c (the sink).
 */
#ifndef IMADDR_REPORT_SCHEMA_H
#define IMADDR_REPORT_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "imaddr.h"

/*
 * `PRAGMA user_version` of the schema this imaddr writes. A report with a
 * higher version was written by a newer imaddr and is refused rather than
 * appended to with rows the newer schema may not expect.
 */
#define IMADDR_REPORT_SCHEMA_VERSION 8

/*
 * `PRAGMA application_id` of an imaddr report ("imad"): it tells a report
 * from any other SQLite file that happens to have a matching user_version.
 */
#define IMADDR_REPORT_SCHEMA_APPLICATION_ID 0x696d6164

/*
 * A version row's id (user_versions, finding_versions) is the id of the run
 * that wrote it times 2^32 plus the row's number in that run, so that the
 * versions a run wrote are one range read without any index: a run holds
 * fewer than this many users, and the report fewer than INT64_MAX / this runs.
 */
#define IMADDR_REPORT_SCHEMA_ORDINALS_PER_RUN ((sqlite3_int64)1 << 32)

/* SQL: the versions (user_versions, finding_versions) run `run` wrote. */
#define IMADDR_REPORT_SCHEMA_WRITTEN_BY_SQL(alias, run) \
	alias ".id BETWEEN " run " * 4294967296 AND " run " * 4294967296 + 4294967295"

/*
 * A run's versions: those first written by a run of its label up to it
 * (run_history), still held by it (end_run after it, or none).
 */
#define IMADDR_REPORT_SCHEMA_HELD_AT_SQL(version, run) \
	"(" version ".end_run IS NULL OR " version ".end_run > " run ")"

/*
 * Where a user version stands in run `run`: the user_positions row (its id)
 * that moves it there, or NULL when it stands where it was written
 * (user_versions.ordinal and line). A run's positions do not overlap and
 * each covers versions of one run, so the nearest one at or below `version`
 * in that run's range is the only candidate; the caller checks that its
 * version_hi reaches `version`. One index seek per lookup.
 */
#define IMADDR_REPORT_SCHEMA_POSITION_AT_SQL(version, run) \
	"(SELECT q.id FROM user_positions AS q\n" \
	"   WHERE q.version_lo BETWEEN (" version ") - (" version ") % 4294967296 AND (" version ")\n" \
	"     AND q.first_run <= " run " AND " IMADDR_REPORT_SCHEMA_HELD_AT_SQL("q", run) "\n" \
	"   ORDER BY q.version_lo DESC LIMIT 1)"

/*
 * SQL: how far user version `version` moved by run `run`, `column` being
 * ordinal_shift or line_shift; 0 when it did not.
 */
#define IMADDR_REPORT_SCHEMA_SHIFT_SQL(version, run, column) \
	"coalesce((SELECT s." column " FROM user_positions AS s\n" \
	"   WHERE s.id = " IMADDR_REPORT_SCHEMA_POSITION_AT_SQL(version, run) \
	" AND s.version_hi >= (" version ")), 0)"

/*
 * SQL: the ordinal in run `run` of the user of finding_versions row `f`: its
 * user version's, moved as that version was (0 for a finding of no user).
 */
#define IMADDR_REPORT_SCHEMA_FINDING_ORDINAL_SQL(f, run) \
	"CASE WHEN " f ".user_version IS NULL THEN " f ".ordinal\n" \
	"     ELSE " f ".ordinal + " IMADDR_REPORT_SCHEMA_SHIFT_SQL(f ".user_version", run, "ordinal_shift") " END"

/*
 * user_versions.derived: the columns a user version stores as NULL because
 * they equal another column of the same row, one bit each. For most users
 * the directory URI is the mail address, the IM address the directory URI
 * and the IM domain what follows its '@': stored once, a first run's report
 * is a quarter smaller. The users view puts the values back
 * (IMADDR_REPORT_SCHEMA_USER_COLUMN_SQL); a NULL `derived`, as in rows a
 * version 6 imaddr wrote, derives nothing.
 */
enum imaddr_report_derived {
	IMADDR_REPORT_DERIVED_DIRECTORY_URI = 1,     /* = mail */
	IMADDR_REPORT_DERIVED_CURRENT_URI = 2,       /* = directory_uri */
	IMADDR_REPORT_DERIVED_IM_ADDRESS = 4,        /* = directory_uri */
	IMADDR_REPORT_DERIVED_IM_DOMAIN = 8,         /* = im_address after its first '@' */
	IMADDR_REPORT_DERIVED_IM_ADDRESS_BEFORE = 16 /* = im_address */
};

/* SQL: the value of user_versions row `v`'s column, derived or stored. */
#define IMADDR_REPORT_SCHEMA_DERIVED_SQL(v, bit, column, value) \
	"CASE WHEN " v ".derived & " #bit " THEN " value " ELSE " v "." column " END"
#define IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL(v) \
	IMADDR_REPORT_SCHEMA_DERIVED_SQL(v, 1, "directory_uri", v ".mail")
#define IMADDR_REPORT_SCHEMA_CURRENT_URI_SQL(v) \
	IMADDR_REPORT_SCHEMA_DERIVED_SQL(v, 2, "current_uri", \
					 IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL(v))
#define IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL(v) \
	IMADDR_REPORT_SCHEMA_DERIVED_SQL(v, 4, "im_address", \
					 IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL(v))
#define IMADDR_REPORT_SCHEMA_IM_DOMAIN_SQL(v) \
	IMADDR_REPORT_SCHEMA_DERIVED_SQL(v, 8, "im_domain", \
		"substr(" IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL(v) ", instr(" \
		IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL(v) ", '@') + 1)")
#define IMADDR_REPORT_SCHEMA_IM_ADDRESS_BEFORE_SQL(v) \
	IMADDR_REPORT_SCHEMA_DERIVED_SQL(v, 16, "im_address_before", \
					 IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL(v))

/**
 * Stores `user` as a user version: sets the columns that equal another
 * (see enum imaddr_report_derived) to NULL in `stored`, a copy of it, and
 * returns the bits to store in `derived`.
 */
uint64_t imaddr_report_schema_derive(const struct imaddr_user *user, struct imaddr_user *stored);

enum imaddr_report_kind {
	IMADDR_REPORT_KIND_EMPTY,     /* a new or empty database: begin makes the schema */
	/* In order: a message names the version as 2 + (kind - IMADDR_REPORT_KIND_VERSION_2). */
	IMADDR_REPORT_KIND_VERSION_2, /* begin brings it to this version first */
	IMADDR_REPORT_KIND_VERSION_3, /* likewise */
	IMADDR_REPORT_KIND_VERSION_4, /* likewise: full copies become versions */
	IMADDR_REPORT_KIND_VERSION_5, /* likewise: the waiver columns are added */
	IMADDR_REPORT_KIND_VERSION_6, /* likewise: user_versions.derived is added */
	IMADDR_REPORT_KIND_VERSION_7, /* likewise: users are matched by content */
	IMADDR_REPORT_KIND_CURRENT    /* an imaddr report this version can append to */
};

/**
 * Creates the tables and views and marks the file with the application ID
 * and schema version; inside the run's transaction. The findings indexes
 * come later (imaddr_report_schema_create_indexes). Returns SQLite's code.
 */
int imaddr_report_schema_create(sqlite3 *db);

/**
 * What changed in version 8 after it came out without changing what a
 * reader finds: the indexes added (POSITIONS_INDEXES_SQL), made when
 * missing, and the views, made anew as this imaddr defines them, so that a
 * fix to a view reaches a report at its next run or prune. In the caller's
 * transaction.
 */
int imaddr_report_schema_refresh(sqlite3 *db);

/** Creates the findings indexes; returns SQLite's result code. */
int imaddr_report_schema_create_indexes(sqlite3 *db);

/**
 * Brings a version 2 to 5 report (`kind`) to this version, inside the run's
 * transaction: from 2, the columns and view pre-migration runs and clusters
 * added; from 3, the run identity (runs.label, source_base, source_scope,
 * source_filter, mapping; a migrated run's label is its input); from 4, the
 * history kept as versions; from 5, the accepted exceptions (the findings'
 * waiver columns, runs.waivers and runs.waived). Returns SQLite's code.
 */
int imaddr_report_schema_migrate(sqlite3 *db, enum imaddr_report_kind kind);

#endif /* IMADDR_REPORT_SCHEMA_H */

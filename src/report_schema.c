#include "report_schema.h"

#include <stdio.h>
#include <string.h>

/*
 * The schema, version 8 (version 2, the columns pre-migration runs and
 * clusters added, see migrate_2_sql; the run identity, migrate_3_sql; the
 * history kept as versions, migrate_4_sql; the accepted exceptions,
 * migrate_5_sql; columns equal to another stored once, migrate_6_sql; users
 * matched by content, migrate_7_sql). A run is one contiguous range of every
 * table and index, so that the load appends and a question about one run
 * reads one range:
 *
 * - user_versions is a rowid table whose id is first_run * 2^32 + the
 *   user's ordinal in that run, so that a run's versions are read without
 *   any index. Rows are appended in id order, the cheapest insert SQLite
 *   has: a WITHOUT ROWID table keyed on (run_id, ordinal) cost the load a
 *   fifth more, and any index on users a third (see docs/performance.md).
 * - A held version that stands elsewhere in a later run (a user inserted
 *   above it) is moved by a user_positions row, one per stretch of such
 *   versions, rather than written again.
 * - A finding names its user by the user version it was written with
 *   (finding_versions.user_version), which holds as long as it does.
 * - findings carry the user ID of their user, so that run-to-run matching
 *   reads findings alone; users has no index by user ID.
 * - im_address_changes is a table the run fills at its end, by merging its
 *   users with the previous run's, both read in user ID order.
 *
 * Strings are NULL when absent; so are line and related_ordinal when 0.
 *
 * The run_id foreign keys are declarations for readers and tools: imaddr
 * does not turn foreign_keys on (each check would cost a lookup per row),
 * but someone pruning old runs can, and ON DELETE CASCADE then deletes a
 * run's users, findings, changes and domains with it.
 */
#define HELD_AT_SQL IMADDR_REPORT_SCHEMA_HELD_AT_SQL
#define SHIFT_SQL IMADDR_REPORT_SCHEMA_SHIFT_SQL
#define FINDING_ORDINAL_SQL IMADDR_REPORT_SCHEMA_FINDING_ORDINAL_SQL

/* SQL: the ordinal in run `run` of user version `v` (a user_versions row). */
#define USER_ORDINAL_SQL(v, run) \
	v ".ordinal + " SHIFT_SQL(v ".id", run, "ordinal_shift")

/*
 * The runs whose versions run `run_id` may see: those of its label up to it,
 * pruned ones included (report_prune.c), for every run not pruned.
 */
#define RUN_HISTORY_VIEW_SQL \
	"CREATE VIEW run_history AS\n" \
	"  SELECT r.id AS run_id, g.id AS version_run\n" \
	"  FROM runs AS r JOIN runs AS g ON g.label IS r.label AND g.id <= r.id\n" \
	"  WHERE r.pruned IS NULL;\n"

/* Each user's IM address today and under the target, side by side. */
#define PLAN_VIEW_SQL \
	"CREATE VIEW im_address_plan AS\n" \
	"  SELECT u.run_id, u.ordinal, u.cluster, u.line, u.dn, u.user_id,\n" \
	"         u.im_address_before, u.im_address, u.im_address_change,\n" \
	"         u.im_address_change IS NOT NULL AS changes\n" \
	"  FROM users AS u;\n"

/*
 * A pre-migration run's im-address-changes findings are kept as each user's
 * users.im_address_change, not as rows of findings: every user of a scheme
 * change has one, and a million more rows would double the report and its
 * run. The counts still count them. Waived findings are counted apart, as
 * the run counted them.
 */
#define CODE_COUNTS_VIEW_SQL \
	"CREATE VIEW code_counts AS\n" \
	"  SELECT run_id, code, severity, sum(waiver_reason IS NULL) AS count,\n" \
	"         sum(waiver_reason IS NOT NULL) AS waived\n" \
	"  FROM findings GROUP BY run_id, code, severity\n" \
	"  UNION ALL\n" \
	"  SELECT run_id, 'im-address-changes', 'info', count(*), 0\n" \
	"  FROM users WHERE im_address_change IS NOT NULL GROUP BY run_id;\n"

/*
 * A finding of one run matches one of another on user ID, code and field
 * (severity follows from the code); one of no user (ordinal 0) on code,
 * field and value. `a` is the finding, `b` the candidate.
 */
#define SAME_FINDING_SQL(a, b) \
	b ".code = " a ".code AND " b ".user_id IS " a ".user_id AND " b ".field IS " a ".field\n" \
	"  AND (" b ".ordinal <> 0) = (" a ".ordinal <> 0) AND (" a ".ordinal <> 0 OR " b ".value IS " a ".value)"

/*
 * The views every earlier schema had, named alike, over the versions: each
 * run's users and findings exactly as that run saw them.
 */
#define VIEWS_SQL \
	RUN_HISTORY_VIEW_SQL \
	"CREATE VIEW users AS\n" \
	"  SELECT h.run_id * 4294967296 + v.ordinal + coalesce(p.ordinal_shift, 0) AS id,\n" \
	"         h.run_id, v.ordinal + coalesce(p.ordinal_shift, 0) AS ordinal,\n" \
	"         v.line + coalesce(p.line_shift, 0) AS line, v.dn,\n" \
	"         v.user_id, v.mail, v.first_name, v.last_name,\n" \
	"         " IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL("v") " AS directory_uri,\n" \
	"         " IMADDR_REPORT_SCHEMA_CURRENT_URI_SQL("v") " AS current_uri,\n" \
	"         " IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL("v") " AS im_address,\n" \
	"         " IMADDR_REPORT_SCHEMA_IM_DOMAIN_SQL("v") " AS im_domain,\n" \
	"         " IMADDR_REPORT_SCHEMA_IM_ADDRESS_BEFORE_SQL("v") " AS im_address_before,\n" \
	"         v.im_address_change, v.cluster\n" \
	"  FROM run_history AS h\n" \
	"  JOIN user_versions AS v ON v.id BETWEEN h.version_run * 4294967296\n" \
	"                                     AND h.version_run * 4294967296 + 4294967295\n" \
	"  LEFT JOIN user_positions AS p\n" \
	"    ON p.id = " IMADDR_REPORT_SCHEMA_POSITION_AT_SQL("v.id", "h.run_id") "\n" \
	"   AND p.version_hi >= v.id\n" \
	"  WHERE " HELD_AT_SQL("v", "h.run_id") ";\n" \
	"CREATE VIEW findings AS\n" \
	"  SELECT v.id, h.run_id, " FINDING_ORDINAL_SQL("v", "h.run_id") " AS ordinal,\n" \
	"         v.line, v.dn, v.user_id, v.code, v.severity, v.field, v.value,\n" \
	"         CASE WHEN v.related_version IS NULL THEN v.related_ordinal\n" \
	"              ELSE v.related_ordinal\n" \
	"                   + " SHIFT_SQL("v.related_version", "h.run_id", "ordinal_shift") " END\n" \
	"         AS related_ordinal,\n" \
	"         v.message, v.suggestion, v.cluster,\n" \
	"         v.waiver_reason, v.waiver_expires, v.waiver_source, v.user_version,\n" \
	"         v.related_version\n" \
	"  FROM run_history AS h\n" \
	"  JOIN finding_versions AS v ON v.id BETWEEN h.version_run * 4294967296\n" \
	"                                        AND h.version_run * 4294967296 + 4294967295\n" \
	"  WHERE " HELD_AT_SQL("v", "h.run_id") ";\n" \
	PLAN_VIEW_SQL \
	"CREATE VIEW latest_run AS\n" \
	"  SELECT * FROM runs WHERE pruned IS NULL ORDER BY id DESC LIMIT 1;\n" \
	"CREATE VIEW finding_rows AS\n" \
	"  SELECT f.run_id, f.id AS finding_id, f.ordinal,\n" \
	"         coalesce(u.line + " SHIFT_SQL("u.id", "f.run_id", "line_shift") ", f.line) AS line,\n" \
	"         coalesce(u.dn, f.dn) AS dn, f.user_id,\n" \
	"         f.code, f.severity, f.field, f.value, f.message, f.suggestion,\n" \
	"         f.related_ordinal,\n" \
	"         o.line + " SHIFT_SQL("o.id", "f.run_id", "line_shift") " AS related_line,\n" \
	"         o.dn AS related_dn, o.user_id AS related_user_id,\n" \
	"         f.waiver_reason, f.waiver_expires, f.waiver_source\n" \
	"  FROM findings AS f\n" \
	"  LEFT JOIN user_versions AS u ON u.id = f.user_version\n" \
	"  LEFT JOIN user_versions AS o ON o.id = f.related_version;\n" \
	"CREATE VIEW error_users AS\n" \
	"  SELECT e.run_id * 4294967296 + " USER_ORDINAL_SQL("u", "e.run_id") " AS id, e.run_id,\n" \
	"         " USER_ORDINAL_SQL("u", "e.run_id") " AS ordinal,\n" \
	"         u.line + " SHIFT_SQL("u.id", "e.run_id", "line_shift") " AS line, u.dn,\n" \
	"         u.user_id, u.mail, u.first_name, u.last_name,\n" \
	"         " IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL("u") " AS directory_uri,\n" \
	"         " IMADDR_REPORT_SCHEMA_CURRENT_URI_SQL("u") " AS current_uri,\n" \
	"         " IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL("u") " AS im_address,\n" \
	"         " IMADDR_REPORT_SCHEMA_IM_DOMAIN_SQL("u") " AS im_domain\n" \
	"  FROM (SELECT DISTINCT h.run_id, v.user_version\n" \
	"        FROM run_history AS h\n" \
	"        JOIN finding_versions AS v ON v.id BETWEEN h.version_run * 4294967296\n" \
	"                                         AND h.version_run * 4294967296 + 4294967295\n" \
	"        WHERE v.severity = 'error' AND v.user_version IS NOT NULL\n" \
	"          AND v.waiver_reason IS NULL AND " HELD_AT_SQL("v", "h.run_id") ") AS e\n" \
	"  JOIN user_versions AS u ON u.id = e.user_version;\n" \
	CODE_COUNTS_VIEW_SQL \
	/* \
	 * A run's new findings are among the versions it wrote, its resolved \
	 * and newly waived ones among those it ended: small sets when little \
	 * changed. Waived findings are never new: a finding whose waiver \
	 * lapsed is. One a waiver now accepts is not resolved, as the problem \
	 * is still there: it is in waived_findings. \
	 */ \
	"CREATE VIEW new_findings AS\n" \
	"  SELECT r.id AS run_id, r.previous_run_id, f.id AS finding_id,\n" \
	"         " FINDING_ORDINAL_SQL("f", "r.id") " AS ordinal,\n" \
	"         f.user_id, f.code, f.severity, f.field, f.value, f.message\n" \
	"  FROM runs AS r\n" \
	"  JOIN finding_versions AS f ON f.id BETWEEN r.id * 4294967296\n" \
	"                                        AND r.id * 4294967296 + 4294967295\n" \
	"  WHERE r.previous_run_id IS NOT NULL AND r.pruned IS NULL AND f.waiver_reason IS NULL\n" \
	"    AND NOT EXISTS (SELECT 1 FROM finding_versions AS pf JOIN runs AS g ON g.id = pf.first_run\n" \
	"                    WHERE " SAME_FINDING_SQL("f", "pf") "\n" \
	"                      AND pf.waiver_reason IS NULL\n" \
	"                      AND g.label IS r.label AND g.id <= r.previous_run_id\n" \
	"                      AND " HELD_AT_SQL("pf", "r.previous_run_id") ");\n" \
	"CREATE VIEW resolved_findings AS\n" \
	"  SELECT r.id AS run_id, r.previous_run_id, pf.id AS previous_finding_id,\n" \
	"         " FINDING_ORDINAL_SQL("pf", "r.previous_run_id") " AS previous_ordinal,\n" \
	"         pf.user_id, pf.code, pf.severity,\n" \
	"         pf.field, pf.value, pf.message\n" \
	"  FROM runs AS r\n" \
	"  JOIN finding_versions AS pf ON pf.end_run = r.id\n" \
	"  WHERE r.previous_run_id IS NOT NULL AND r.pruned IS NULL AND pf.waiver_reason IS NULL\n" \
	"    AND NOT EXISTS (SELECT 1 FROM finding_versions AS f JOIN runs AS g ON g.id = f.first_run\n" \
	"                    WHERE " SAME_FINDING_SQL("pf", "f") "\n" \
	"                      AND g.label IS r.label AND g.id <= r.id\n" \
	"                      AND " HELD_AT_SQL("f", "r.id") ");\n" \
	/* \
	 * Newly waived: a waived finding the run wrote (a waiver is part of \
	 * the row, so a finding it now accepts is written anew) whose unwaived \
	 * self the run ended. Once each, however many namesakes share its key. \
	 */ \
	"CREATE VIEW waived_findings AS\n" \
	"  SELECT r.id AS run_id, r.previous_run_id, f.id AS finding_id,\n" \
	"         (SELECT min(pf.id) FROM finding_versions AS pf\n" \
	"          WHERE pf.end_run = r.id AND pf.waiver_reason IS NULL\n" \
	"            AND " SAME_FINDING_SQL("pf", "f") ") AS previous_finding_id,\n" \
	"         " FINDING_ORDINAL_SQL("f", "r.id") " AS ordinal,\n" \
	"         f.user_id, f.code, f.severity,\n" \
	"         f.field, f.value, f.message, f.waiver_reason, f.waiver_expires, f.waiver_source\n" \
	"  FROM runs AS r\n" \
	"  JOIN finding_versions AS f ON f.id BETWEEN r.id * 4294967296\n" \
	"                                        AND r.id * 4294967296 + 4294967295\n" \
	"  WHERE r.previous_run_id IS NOT NULL AND r.pruned IS NULL AND f.waiver_reason IS NOT NULL\n" \
	"    AND EXISTS (SELECT 1 FROM finding_versions AS pf\n" \
	"                WHERE pf.end_run = r.id AND pf.waiver_reason IS NULL\n" \
	"                  AND " SAME_FINDING_SQL("pf", "f") ");\n"

#define VIEW_NAMES_SQL(verb) \
	verb " VIEW IF EXISTS im_address_plan; " verb " VIEW IF EXISTS latest_run;\n" \
	verb " VIEW IF EXISTS finding_rows; " verb " VIEW IF EXISTS error_users;\n" \
	verb " VIEW IF EXISTS code_counts; " verb " VIEW IF EXISTS new_findings;\n" \
	verb " VIEW IF EXISTS resolved_findings; " verb " VIEW IF EXISTS waived_findings;\n"

/* Version 2 reports are brought up to version 3 by the first run that writes them. */
static const char migrate_2_sql[] =
	"ALTER TABLE runs ADD COLUMN current_scheme TEXT\n"
	"  CHECK (current_scheme IN ('userid', 'directory-uri'));\n"
	"ALTER TABLE runs ADD COLUMN current_default_domain TEXT;\n"
	"ALTER TABLE users ADD COLUMN im_address_before TEXT;\n"
	"ALTER TABLE users ADD COLUMN im_address_change TEXT\n"
	"  CHECK (im_address_change IN ('changes', 'lost', 'gained'));\n"
	"ALTER TABLE users ADD COLUMN cluster TEXT;\n"
	"ALTER TABLE findings ADD COLUMN cluster TEXT;\n";

/*
 * Version 3 reports are brought up to version 4 (run identity) by the first
 * run that writes them. Their runs' label is their input as given, which is
 * what "the same input" meant to them.
 */
#define RUNS_BY_LABEL_SQL "CREATE INDEX runs_by_label ON runs (label, id);\n"

static const char migrate_3_sql[] =
	"ALTER TABLE runs ADD COLUMN label TEXT;\n"
	"ALTER TABLE runs ADD COLUMN source_base TEXT;\n"
	"ALTER TABLE runs ADD COLUMN source_scope TEXT;\n"
	"ALTER TABLE runs ADD COLUMN source_filter TEXT;\n"
	"ALTER TABLE runs ADD COLUMN mapping TEXT;\n"
	"ALTER TABLE runs ADD COLUMN encoding TEXT;\n"
	"UPDATE runs SET label = input;\n"
	RUNS_BY_LABEL_SQL;

/*
 * The runs in which held user versions stand elsewhere than where they were
 * written: one row per stretch of consecutive versions of one run moved by
 * the same amount (a user inserted above them), held as versions are.
 */
/*
 * The stretches the label's latest run holds, in the order the next run
 * compares them, without reading the ended ones (a year of nights ends
 * millions); and a run's stretches, for the prune. Added to version 8
 * without a new version, as an index changes no reader's view: every run
 * and prune makes them when missing (imaddr_report_schema_refresh).
 */
#define POSITIONS_INDEXES_SQL \
	"CREATE INDEX IF NOT EXISTS user_positions_held ON user_positions\n" \
	"  (version_lo, version_hi, ordinal_shift, line_shift, first_run, end_run)\n" \
	"  WHERE end_run IS NULL;\n" \
	"CREATE INDEX IF NOT EXISTS user_positions_by_run ON user_positions (first_run);\n"

#define USER_POSITIONS_SQL \
	"CREATE TABLE user_positions (\n" \
	"  id INTEGER PRIMARY KEY,\n" \
	"  first_run INTEGER NOT NULL REFERENCES runs (id),\n" \
	"  end_run INTEGER,\n" \
	"  version_lo INTEGER NOT NULL,\n" \
	"  version_hi INTEGER NOT NULL,\n" \
	"  ordinal_shift INTEGER NOT NULL,\n" \
	"  line_shift INTEGER NOT NULL\n" \
	");\n" \
	"CREATE INDEX user_positions_by_version ON user_positions (version_lo);\n" \
	POSITIONS_INDEXES_SQL

/*
 * No CHECK constraint on the columns every row fills (a version's change
 * kind, a finding's severity): imaddr writes them from its own constants,
 * and one CHECK cost SQLite a fifth of a 100k-user run's instructions
 * (callgrind: 4.68 G with both, 3.66 G without).
 */
#define VERSIONS_SQL \
	"CREATE TABLE user_versions (\n" \
	"  id INTEGER PRIMARY KEY,\n" \
	"  first_run INTEGER NOT NULL REFERENCES runs (id),\n" \
	"  end_run INTEGER,\n" \
	"  ordinal INTEGER NOT NULL,\n" \
	"  line INTEGER,\n" \
	"  dn TEXT,\n" \
	"  user_id TEXT,\n" \
	"  mail TEXT,\n" \
	"  first_name TEXT,\n" \
	"  last_name TEXT,\n" \
	"  directory_uri TEXT,\n" \
	"  current_uri TEXT,\n" \
	"  im_address TEXT,\n" \
	"  im_domain TEXT,\n" \
	"  im_address_before TEXT,\n" \
	"  im_address_change TEXT,\n" \
	"  cluster TEXT,\n" \
	"  derived INTEGER\n" \
	");\n" \
	"CREATE TABLE finding_versions (\n" \
	"  id INTEGER PRIMARY KEY,\n" \
	"  first_run INTEGER NOT NULL REFERENCES runs (id),\n" \
	"  end_run INTEGER,\n" \
	"  ordinal INTEGER NOT NULL,\n" \
	"  line INTEGER,\n" \
	"  related_ordinal INTEGER,\n" \
	"  dn TEXT,\n" \
	"  user_id TEXT,\n" \
	"  code TEXT NOT NULL,\n" \
	"  severity TEXT NOT NULL,\n" \
	"  field TEXT,\n" \
	"  value TEXT,\n" \
	"  message TEXT,\n" \
	"  suggestion TEXT,\n" \
	"  cluster TEXT,\n" \
	"  waiver_reason TEXT,\n" \
	"  waiver_expires TEXT,\n" \
	"  waiver_source TEXT,\n" \
	"  user_version INTEGER,\n" \
	"  related_version INTEGER\n" \
	");\n" \
	USER_POSITIONS_SQL \
	/* Only ended versions are in these: a first run's inserts skip them. */ \
	"CREATE INDEX user_versions_ended ON user_versions (end_run) WHERE end_run IS NOT NULL;\n" \
	"CREATE INDEX finding_versions_ended ON finding_versions (end_run)\n" \
	"  WHERE end_run IS NOT NULL;\n" \
	"CREATE TABLE label_states (\n" \
	"  label TEXT NOT NULL,\n" \
	"  what TEXT NOT NULL CHECK (what IN ('users', 'findings')),\n" \
	"  data BLOB NOT NULL,\n" \
	"  UNIQUE (label, what)\n" \
	");\n"

/*
 * Version 4 reports (every run's users and findings copied whole) are
 * brought to version 5 by the first run that writes them: each run's rows
 * become versions that hold for that run alone, ended by the next run of its
 * label. They have no label state, so the next run of each label writes its
 * users and findings whole once more.
 */
static const char migrate_4_sql[] =
	VIEW_NAMES_SQL("DROP")
	VERSIONS_SQL
	"CREATE TEMP TABLE run_ends AS\n"
	"  SELECT r.id, (SELECT min(n.id) FROM runs AS n WHERE n.label IS r.label AND n.id > r.id)\n"
	"         AS end_run\n"
	"  FROM runs AS r;\n"
	"INSERT INTO user_versions (id, first_run, end_run, ordinal, line, dn, user_id, mail,\n"
	"    first_name, last_name, directory_uri, current_uri, im_address, im_domain,\n"
	"    im_address_before, im_address_change, cluster)\n"
	"  SELECT u.id, u.run_id, e.end_run, u.ordinal, u.line, u.dn, u.user_id, u.mail,\n"
	"         u.first_name, u.last_name, u.directory_uri, u.current_uri, u.im_address,\n"
	"         u.im_domain, u.im_address_before, u.im_address_change, u.cluster\n"
	"  FROM users AS u JOIN temp.run_ends AS e ON e.id = u.run_id ORDER BY u.id;\n"
	"INSERT INTO finding_versions (id, first_run, end_run, ordinal, line, related_ordinal, dn,\n"
	"    user_id, code, severity, field, value, message, suggestion, cluster)\n"
	"  SELECT f.run_id * 4294967296 + row_number() OVER (PARTITION BY f.run_id ORDER BY f.id),\n"
	"         f.run_id, e.end_run, f.ordinal, f.line, f.related_ordinal, f.dn, f.user_id,\n"
	"         f.code, f.severity, f.field, f.value, f.message, f.suggestion, f.cluster\n"
	"  FROM findings AS f JOIN temp.run_ends AS e ON e.id = f.run_id\n"
	"  ORDER BY f.run_id, f.id;\n"
	"DROP TABLE temp.run_ends;\n"
	"DROP TABLE users;\n"
	"DROP TABLE findings;\n"
	"CREATE INDEX finding_versions_by_key ON finding_versions (user_id, code, field);\n";

/*
 * Version 5 reports are brought to version 6 (accepted exceptions) by the
 * first run that writes them: the findings' waiver columns, and the views
 * that show them or leave waived findings out, made anew. The runs'
 * columns come with migrate_runs_5_sql, which every older version needs.
 * Their label state holds hashes without the waiver, so the next run of
 * each label writes its findings whole once more.
 */
static const char migrate_5_sql[] =
	"DROP VIEW IF EXISTS run_history; DROP VIEW IF EXISTS users;\n"
	"DROP VIEW IF EXISTS findings;\n"
	VIEW_NAMES_SQL("DROP")
	"ALTER TABLE finding_versions ADD COLUMN waiver_reason TEXT;\n"
	"ALTER TABLE finding_versions ADD COLUMN waiver_expires TEXT;\n"
	"ALTER TABLE finding_versions ADD COLUMN waiver_source TEXT;\n";

/*
 * Version 6 reports are brought to version 7 (columns equal to another
 * stored once: user_versions.derived) by the first run that writes them.
 * Their rows keep every value, with a NULL `derived`, and read as before;
 * their label state hashes the values, not how they are stored, so the next
 * run writes only what changed.
 */
static const char migrate_6_sql[] =
	"DROP VIEW IF EXISTS run_history; DROP VIEW IF EXISTS users;\n"
	"DROP VIEW IF EXISTS findings;\n"
	VIEW_NAMES_SQL("DROP")
	"ALTER TABLE user_versions ADD COLUMN derived INTEGER;\n";

/*
 * Version 5 to 7 reports are brought to version 8 (users matched by
 * content, positions kept apart) by the first run that writes them; older
 * ones got the tables whole from migrate_4_sql.
 */
static const char migrate_7_sql[] =
	"ALTER TABLE finding_versions ADD COLUMN user_version INTEGER;\n"
	"ALTER TABLE finding_versions ADD COLUMN related_version INTEGER;\n"
	USER_POSITIONS_SQL;

/*
 * A finding of a version 7 report or older named its user by ordinal, looked
 * up in each run: it now names the user version it was written with, as the
 * run that wrote it saw it. The label states matched users by ordinal: the
 * next run of each label writes its users and findings whole once more.
 */
#define USER_BY_ORDINAL_SQL(ordinal) \
	"(SELECT x.id FROM runs AS g\n" \
	"   JOIN user_versions AS x ON x.id = g.id * 4294967296 + " ordinal "\n" \
	"   WHERE g.label IS (SELECT label FROM runs WHERE id = finding_versions.first_run)\n" \
	"     AND g.id <= finding_versions.first_run\n" \
	"     AND " HELD_AT_SQL("x", "finding_versions.first_run") "\n" \
	"   ORDER BY g.id DESC LIMIT 1)"

static const char name_user_versions_sql[] =
	"UPDATE finding_versions\n"
	"  SET user_version = CASE WHEN ordinal <> 0 THEN\n"
	"        " USER_BY_ORDINAL_SQL("finding_versions.ordinal") " END,\n"
	"      related_version = CASE WHEN related_ordinal IS NOT NULL THEN\n"
	"        " USER_BY_ORDINAL_SQL("finding_versions.related_ordinal") " END\n"
	"  WHERE ordinal <> 0 OR related_ordinal IS NOT NULL;\n"
	"DELETE FROM label_states;\n";

/* Every older version's runs: a pruned run stays while later runs hold its versions. */
static const char migrate_runs_7_sql[] =
	"ALTER TABLE runs ADD COLUMN pruned INTEGER;\n";

/* Every migration ends with the views made anew over the tables as they are now. */
static const char remake_views_sql[] =
	"DROP VIEW IF EXISTS run_history; DROP VIEW IF EXISTS users;\n"
	"DROP VIEW IF EXISTS findings;\n"
	VIEW_NAMES_SQL("DROP")
	VIEWS_SQL;

static const char migrate_runs_5_sql[] =
	"ALTER TABLE runs ADD COLUMN waivers TEXT;\n"
	"ALTER TABLE runs ADD COLUMN waived INTEGER;\n";

static const char schema_sql[] =
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  previous_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,\n"
	"  started TEXT NOT NULL,\n"
	"  finished TEXT,\n"
	"  version TEXT NOT NULL,\n"
	"  input TEXT,\n"
	"  scheme TEXT NOT NULL CHECK (scheme IN ('userid', 'directory-uri')),\n"
	"  default_domain TEXT,\n"
	"  im_domains TEXT,\n"
	"  current_scheme TEXT CHECK (current_scheme IN ('userid', 'directory-uri')),\n"
	"  current_default_domain TEXT,\n"
	"  label TEXT,\n"
	"  source_base TEXT,\n"
	"  source_scope TEXT,\n"
	"  source_filter TEXT,\n"
	"  mapping TEXT,\n"
	"  encoding TEXT,\n"
	"  users INTEGER,\n"
	"  users_with_im_address INTEGER,\n"
	"  users_with_error INTEGER,\n"
	"  errors INTEGER,\n"
	"  warnings INTEGER,\n"
	"  infos INTEGER,\n"
	"  waivers TEXT,\n"
	"  waived INTEGER,\n"
	"  pruned INTEGER\n"
	");\n"
	VERSIONS_SQL
	"CREATE TABLE im_address_changes (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  previous_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,\n"
	"  user_id TEXT NOT NULL,\n"
	"  ordinal INTEGER NOT NULL,\n"
	"  previous_ordinal INTEGER NOT NULL,\n"
	"  previous_im_address TEXT,\n"
	"  im_address TEXT,\n"
	"  PRIMARY KEY (run_id, ordinal, previous_ordinal)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE domains (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  ascii TEXT NOT NULL,\n"
	"  unicode TEXT,\n"
	"  users INTEGER NOT NULL,\n"
	"  configured INTEGER NOT NULL,\n"
	"  PRIMARY KEY (run_id, ascii)\n"
	") WITHOUT ROWID;\n"
	RUNS_BY_LABEL_SQL
	VIEWS_SQL;

/*
 * The index new_findings and resolved_findings look findings up by. The
 * first run of a report creates it when its input ends
 * (sink_report.c: report_input_end): by sorting the findings of the read,
 * which is cheaper than keeping it up to date during it, and while the
 * audit's thread looks for duplicates, whose findings then keep it up to
 * date. Later runs write only the findings that changed and keep it.
 */
static const char findings_indexes_sql[] =
	"CREATE INDEX finding_versions_by_key ON finding_versions (user_id, code, field);\n";

/* Equal, and neither NULL: NULL would read back as the other's value. */
static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

uint64_t imaddr_report_schema_derive(const struct imaddr_user *user, struct imaddr_user *stored)
{
	uint64_t derived = 0;
	*stored = *user;
	if (same(user->directory_uri, user->mail)) {
		stored->directory_uri = NULL;
		derived |= IMADDR_REPORT_DERIVED_DIRECTORY_URI;
	}
	if (same(user->current_uri, user->directory_uri)) {
		stored->current_uri = NULL;
		derived |= IMADDR_REPORT_DERIVED_CURRENT_URI;
	}
	if (same(user->im_address, user->directory_uri)) {
		stored->im_address = NULL;
		derived |= IMADDR_REPORT_DERIVED_IM_ADDRESS;
	}
	const char *at = user->im_address ? strchr(user->im_address, '@') : NULL;
	if (at && same(user->im_domain, at + 1)) {
		stored->im_domain = NULL;
		derived |= IMADDR_REPORT_DERIVED_IM_DOMAIN;
	}
	if (same(user->im_address_before, user->im_address)) {
		stored->im_address_before = NULL;
		derived |= IMADDR_REPORT_DERIVED_IM_ADDRESS_BEFORE;
	}
	return derived;
}

int imaddr_report_schema_create(sqlite3 *db)
{
	char pragmas[128];
	int rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);

	snprintf(pragmas, sizeof(pragmas), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 IMADDR_REPORT_SCHEMA_APPLICATION_ID, IMADDR_REPORT_SCHEMA_VERSION);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	return rc;
}

int imaddr_report_schema_migrate(sqlite3 *db, enum imaddr_report_kind kind)
{
	char pragma[64];
	int rc = SQLITE_OK;

	if (kind == IMADDR_REPORT_KIND_VERSION_2)
		rc = sqlite3_exec(db, migrate_2_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK && kind <= IMADDR_REPORT_KIND_VERSION_3)
		rc = sqlite3_exec(db, migrate_3_sql, NULL, NULL, NULL);
	/* Version 4's indexes go with its tables, made as version 7 has them. */
	if (rc == SQLITE_OK && kind <= IMADDR_REPORT_KIND_VERSION_4)
		rc = sqlite3_exec(db, migrate_4_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK && kind == IMADDR_REPORT_KIND_VERSION_5)
		rc = sqlite3_exec(db, migrate_5_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK && kind <= IMADDR_REPORT_KIND_VERSION_5)
		rc = sqlite3_exec(db, migrate_runs_5_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK &&
	    (kind == IMADDR_REPORT_KIND_VERSION_5 || kind == IMADDR_REPORT_KIND_VERSION_6))
		rc = sqlite3_exec(db, migrate_6_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK && kind >= IMADDR_REPORT_KIND_VERSION_5)
		rc = sqlite3_exec(db, migrate_7_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, migrate_runs_7_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, name_user_versions_sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, remake_views_sql, NULL, NULL, NULL);
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", IMADDR_REPORT_SCHEMA_VERSION);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
	return rc;
}

int imaddr_report_schema_refresh(sqlite3 *db)
{
	int rc = sqlite3_exec(db, POSITIONS_INDEXES_SQL, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, remake_views_sql, NULL, NULL, NULL);
	return rc;
}

int imaddr_report_schema_create_indexes(sqlite3 *db)
{
	return sqlite3_exec(db, findings_indexes_sql, NULL, NULL, NULL);
}

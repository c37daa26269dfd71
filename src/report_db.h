/*
 * The SQLite report: the one module of imaddr that calls SQLite. Its sink is
 * opened with imaddr_report_db_open() (include/imaddr.h); the tables, indexes
 * and views are described in docs/report-schema.md.
 */
#ifndef IMADDR_REPORT_DB_H
#define IMADDR_REPORT_DB_H

#include "imaddr.h"

/*
 * `PRAGMA user_version` of the schema this imaddr writes. A report with a
 * higher version was written by a newer imaddr and is refused rather than
 * appended to with rows the newer schema may not expect.
 */
#define IMADDR_REPORT_DB_SCHEMA_VERSION 2

/*
 * `PRAGMA application_id` of an imaddr report ("imad"): it tells a report
 * from any other SQLite file that happens to have a matching user_version.
 */
#define IMADDR_REPORT_DB_APPLICATION_ID 0x696d6164

#endif /* IMADDR_REPORT_DB_H */

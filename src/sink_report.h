/*
 * The SQLite report as a sink: a run's users, findings and totals written
 * into one transaction, opened with imaddr_sink_report_open()
 * (include/imaddr.h). The file and the connection's settings are
 * report_file.c's, the schema report_schema.c's, the inserts report_rows.c's,
 * the label's state report_state.c's, the comparison with
 * the previous run report_changes.c's; docs/report-schema.md describes the
 * tables, indexes and views.
 */
#ifndef IMADDR_SINK_REPORT_H
#define IMADDR_SINK_REPORT_H

#include <stdbool.h>

#include "imaddr.h"

/*
 * How long a statement waits for another connection's lock on the report,
 * in milliseconds, opening included: a second imaddr appending to the same
 * report waits for the first one's transaction to end rather than failing
 * at once, and a reader in the middle of a long query delays the commit the
 * same way. The opener's default; each report keeps its own.
 */
#define IMADDR_SINK_REPORT_BUSY_TIMEOUT_MS 30000

#endif /* IMADDR_SINK_REPORT_H */

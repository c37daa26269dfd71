/*
 * Retention: the oldest runs of each label removed from the SQLite report
 * (imaddr_report_prune, declared in imaddr.h; imaddr prune and audit
 * --keep-runs). A removed run that wrote versions a kept run still holds
 * stays as a row marked pruned, so that every kept run reads as it did and
 * the label's next run finds its state as it was left;
 * docs/report-schema.md, "Pruning old runs".
 */
#ifndef IMADDR_REPORT_PRUNE_H
#define IMADDR_REPORT_PRUNE_H

#include "imaddr.h"

#endif /* IMADDR_REPORT_PRUNE_H */

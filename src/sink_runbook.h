/*
 * The change procedure for the audited target (--runbook): IM and Presence's
 * steps in the order it requires, with this audit's figures filled in.
 * docs/runbook.md is the same text without them.
 */
#ifndef IMADDR_SINK_RUNBOOK_H
#define IMADDR_SINK_RUNBOOK_H

#include "imaddr.h"

#endif /* IMADDR_SINK_RUNBOOK_H */

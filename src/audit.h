/*
 * The audit: reads every record through the rules (rules_user.h), spools the
 * users, feeds the outputs through the output driver (sink.h), and after
 * the last record reports duplicates (duplicates.h) and the IM domain
 * inventory, then ends the outputs. The public API is in imaddr.h.
 */
#ifndef IMADDR_AUDIT_H
#define IMADDR_AUDIT_H

#include "imaddr.h"

#endif /* IMADDR_AUDIT_H */

/*
 * Which entries of a directory export are users, as Unified CM's LDAP sync
 * selects them: the filter given, else the directory type's default
 * filter, of the type given or inferred from the first entry that is a
 * user under one of the defaults (objectClass user: ad, or ad-lds with
 * msDS-UserAccountDisabled; inetOrgPerson: openldap). An LDIF's entries
 * and the rows of a CSV with an objectClass column (csvde over a whole
 * domain) are selected here, so that one export gives the same users
 * whichever way it was written.
 */
#ifndef IMADDR_ENTRY_SELECT_H
#define IMADDR_ENTRY_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imaddr.h"
#include "ldif_filter.h"

struct imaddr_entry_select {
	struct imaddr_ldif_filter filter;
	bool filter_ready;          /* given, or the directory type is known */
	bool filter_given;          /* --filter */
	bool every_entry;           /* --filter '': (objectclass=*) */
	enum imaddr_directory_type directory_type;
	const char *directory_type_how;   /* NULL: no type (a filter given, or none yet) */
	uint64_t entries;
	uint64_t entries_skipped;
	uint64_t entries_classless;       /* without objectClass, taken or not */
};

/** Sets up a selection with no filter yet; allocates nothing. */
void imaddr_entry_select_init(struct imaddr_entry_select *select);

/**
 * Sets up the selection `options` ask for: their filter (empty: every
 * entry with an objectClass), else their directory type's default filter
 * when the type is given, else none yet. IMADDR_ERR_USAGE for a filter
 * libldap cannot parse or a directory type out of range; nothing is held
 * then.
 */
enum imaddr_status imaddr_entry_select_configure(struct imaddr_entry_select *select,
						 const struct imaddr_file_options *options,
						 struct imaddr_error *err);

/**
 * Selects with `text` (--filter; RFC 4515) whatever the entries are.
 * IMADDR_ERR_USAGE, naming it, when libldap cannot parse it.
 */
enum imaddr_status imaddr_entry_select_set_filter(struct imaddr_entry_select *select,
						  const char *text, struct imaddr_error *err);

/**
 * Selects with the default filter of `type`; `how` (a static string) says
 * where the type came from ("--directory-type").
 */
enum imaddr_status imaddr_entry_select_set_type(struct imaddr_entry_select *select,
						enum imaddr_directory_type type, const char *how,
						struct imaddr_error *err);

/**
 * Counts an entry of `count` values (borrowed for the call) and says
 * whether it is a user. An entry with no objectClass at all (an export of
 * chosen attributes, filtered when it was made) is taken when no filter
 * was given, as no default filter can say anything about it. Before the
 * type is known, an entry that cannot tell it is skipped. Fails only as
 * imaddr_entry_select_set_type does.
 */
enum imaddr_status imaddr_entry_select_entry(struct imaddr_entry_select *select,
					     const struct imaddr_ldif_value *values, size_t count,
					     bool *selected, struct imaddr_error *err);

/** Counts as skipped an entry the filter took but the reader leaves out. */
void imaddr_entry_select_skip(struct imaddr_entry_select *select);

/** Copies the filter, directory type and counts into the summary's description. */
void imaddr_entry_select_describe(const struct imaddr_entry_select *select,
				  struct imaddr_input_description *input);

void imaddr_entry_select_release(struct imaddr_entry_select *select);

#endif /* IMADDR_ENTRY_SELECT_H */

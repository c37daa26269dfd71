/*
 * The rules of one user: from a reader's record to the user the outputs
 * see, its duplicate keys and its findings. The rules of one value (a user
 * ID, a directory URI, a domain, an IM address) are rules.h's; this
 * module applies them to a record under the run's scheme and builds the IM
 * address.
 */
#ifndef IMADDR_RULES_USER_H
#define IMADDR_RULES_USER_H

#include "rules.h"
#include "confusables.h"
#include "fields.h"
#include "imaddr.h"
#include "reader.h"
#include "strmap.h"

/* How a user's IM address differs from today's (pre-migration runs). */
enum imaddr_rules_change {
	IMADDR_RULES_UNCHANGED = 0,
	IMADDR_RULES_CHANGED,
	IMADDR_RULES_LOST,       /* has one today, none under the target */
	IMADDR_RULES_GAINED      /* has none today, one under the target */
};

struct imaddr_rules_user {
	const struct imaddr_audit_options *options;
	struct imaddr_address default_domain;
	struct imaddr_address current_default_domain;  /* pre-migration, userid today */
	struct imaddr_strmap configured_domains;  /* A-label -> configured */
	struct imaddr_strmap domain_cache;        /* see rules.h */

	/* What the last check found: valid until the next. */
	struct imaddr_rules_findings checks;
	const char *key_field[IMADDR_KEY_COUNT];  /* the attribute each key came from */
	const char *im_domain_unicode;            /* U-label of the IM domain, or NULL */
	enum imaddr_rules_change change;          /* pre-migration */
	/* The UTS #39 skeletons confusable indexes (confusables.h): of the user
	 * ID's key and, under the Directory URI scheme, of the IM address as
	 * local key@U-label; NULL where there is none, and for a value that is
	 * all ASCII (confusables.h takes those only when it must). */
	const struct imaddr_buf *skeleton[IMADDR_CONFUSABLE_KINDS];

	/* Scratch, reused so that the hot path does not allocate. */
	struct imaddr_buf raw[IMADDR_ROLE_COUNT];
	struct imaddr_buf userid;
	struct imaddr_buf userid_key;
	bool userid_ascii;                 /* the user ID as read is all ASCII */
	struct imaddr_buf mail_key;
	struct imaddr_buf im_address;
	struct imaddr_buf im_key;
	struct imaddr_address uri;
	struct imaddr_address scratch;
	struct imaddr_address current_uri;
	struct imaddr_rules_findings quiet;       /* findings of today's values: not reported */
	struct imaddr_buf before;
	struct imaddr_buf before_key;
	struct imaddr_buf skeleton_text[IMADDR_CONFUSABLE_KINDS];
	struct imaddr_skeleton_memo skeleton_memo;
};

/**
 * Sets the rules up for `options` (borrowed for the rules' life). Fails with
 * IMADDR_ERR_USAGE, saying which option is wrong, for a missing or invalid
 * default domain or an invalid IM domain; release the rules either way.
 */
enum imaddr_status imaddr_rules_user_init(struct imaddr_rules_user *rules,
					  const struct imaddr_audit_options *options,
					  struct imaddr_error *err);
void imaddr_rules_user_release(struct imaddr_rules_user *rules);

/**
 * Checks one record: fills `out` (the user, ordinal included, and its keys;
 * strings borrowed from the record or the rules until the next check) and
 * leaves its findings in rules->checks.
 */
void imaddr_rules_user_check(struct imaddr_rules_user *rules, const struct imaddr_record *record,
			     uint64_t ordinal, struct imaddr_spooled_user *out);

/** Whether an A-label IM domain is configured (always, when none are). */
bool imaddr_rules_user_domain_configured(const struct imaddr_rules_user *rules,
					 const char *ascii);

#endif /* IMADDR_RULES_USER_H */

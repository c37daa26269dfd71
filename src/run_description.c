#include "run_description.h"

#include <string.h>
#include <time.h>

const char *imaddr_scheme_name(enum imaddr_scheme scheme)
{
	return scheme == IMADDR_SCHEME_USERID ? "userid" : "directory-uri";
}

void imaddr_run_description_of_run(struct imaddr_run_description *out,
				   const struct imaddr_audit_options *options, int64_t started,
				   char started_text[IMADDR_RUN_TIME_SIZE],
				   const struct imaddr_run_totals *totals)
{
	time_t when = (time_t)started;
	struct tm utc;
	started_text[0] = '\0';
	if (gmtime_r(&when, &utc))
		strftime(started_text, IMADDR_RUN_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &utc);
	*out = (struct imaddr_run_description){
		.run_id = totals && totals->changes ? totals->changes->run_id : 0,
		.input = options->input_name,
		.started = started_text,
		.version = IMADDR_VERSION,
		.scheme = imaddr_scheme_name(options->scheme),
		.default_domain = options->default_domain,
		.im_domains = options->im_domains,
		.premigration = options->premigration,
		.current_scheme = imaddr_scheme_name(options->current_scheme),
		.current_default_domain = options->current_default_domain
						  ? options->current_default_domain
						  : options->default_domain,
		.waivers = options->waivers,
		.has_report = totals && totals->changes,
	};
}

#include "tool_audit_options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buffer.h"
#include "sink_bat.h"

static const char usage[] =
	"usage: imaddr audit [--csv FILE | --ldif FILE | -H URI] [options]\n"
	"\n"
	"Input (without one: the URI of ldap.conf or .ldaprc, as ldapsearch;\n"
	"several with --cluster NAME before each cluster's):\n"
	"  --csv FILE             CSV with a header row ('-': standard input)\n"
	"  --ldif FILE            LDIF, e.g. from ldifde or ldapsearch ('-': standard input)\n"
	"  -H, --ldap URI         an ldap://, ldaps:// or ldapi:// directory server\n"
	"Files (--csv, --ldif):\n"
	"  --encoding NAME        when there is no byte order mark and it is not UTF-8,\n"
	"                         e.g. windows-1252 (default: detected, or refused)\n"
	"CSV (--csv):\n"
	"  --delimiter ,|;|tab    (default: whichever splits the header most)\n"
	"  --dn-attr NAME         the DN's column (dn, else DistinguishedName)\n"
	"Which entries are users (--ldif, --ldap; a CSV leaves out the disabled accounts\n"
	"its Enabled, userAccountControl or msDS-UserAccountDisabled column names):\n"
	"  --filter FILTER        an LDAP filter (default: the directory type's)\n"
	"  --directory-type ad|ad-lds|openldap   CUCM's default filter and user ID\n"
	"                         (--ldif: inferred from the entries when not given)\n"
	"Directory server (with an LDAP URI; ldapsearch's short options):\n"
	"  -b, --base DN          (ldap.conf's BASE)\n"
	"  -s, --scope base|one|sub|children   (sub)\n"
	"  -D, --bind-dn DN       simple bind; the password from one of:\n"
	"  -y, --password-file FILE   its first line (not readable by others)\n"
	"  -W, --ask-password     ask on the terminal\n"
	"                         or IMADDR_LDAP_PASSWORD; never the command line\n"
	"  -Y, --sasl-mech EXTERNAL|GSSAPI  -Z, --starttls  --ca-file FILE\n"
	"  --page-size N (1000)  --timeout SECONDS\n"
	"Mapping (every input):\n"
	"  --userid-attr NAME     user ID (sAMAccountName, else USER ID)\n"
	"  --uri-attr NAME        directory URI source (DIRECTORY URI, mail, EmailAddress)\n"
	"  --mail-attr NAME       mail (mail, MAIL ID, EmailAddress)\n"
	"  --first-name-attr NAME (givenName, FIRST NAME)\n"
	"  --last-name-attr NAME  (sn, LAST NAME, Surname)\n"
	"Scheme:\n"
	"  --scheme userid|directory-uri   (userid)\n"
	"  --default-domain DOMAIN         required for userid\n"
	"  --im-domains LIST               configured IM domains, comma-separated\n"
	"Pre-migration (today's configuration, when the target above differs):\n"
	"  --current-scheme userid|directory-uri  --current-default-domain DOMAIN\n"
	"  --current-uri-attr NAME   where today's directory URI is (DIRECTORY URI)\n"
	"Output:\n"
	"  --bat FILE  --bat-chunk N  --db FILE   ('--bat -': standard output)\n"
	"  -q, --quiet            no summary (with --db: the changes only, below)\n"
	"  --ldif-fixes FILE   LDIF modify records for URIs the directory should fix\n"
	"  --runbook FILE      the change procedure with this audit's figures\n"
	"  --html FILE         the HTML report of this run\n"
	"  --worklist FILE     one row per finding: FILE.xlsx or FILE.csv\n"
	"  --json FILE         the run as JSON ('-': standard output, instead of the summary)\n"
	"  --json-findings N   findings of each code the JSON lists (20)\n"
	"  --wait SECONDS      wait for another run on the same outputs (30)\n"
	"  --fail-on error|warning|never   exit 1 at or above it (error)\n"
	"  --fail-on new, --fail-on-new   exit 1 only for findings at or above the\n"
	"                      threshold that the previous run of the label did not\n"
	"                      have (needs --db)\n"
	"Nightly runs (--db):\n"
	"  --label NAME        the audit profile: the previous run is the latest of the\n"
	"                      label (default: derived from the source)\n"
	"  --max-shrink PCT    refuse a run with more than PCT% fewer users than the\n"
	"                      previous run (10)  --allow-shrink  record it all the same\n"
	"  --keep-runs N       after the run, keep only the newest N runs of its label\n"
	"  --no-user-cache     check every user again: keep no user cache beside the\n"
	"                      report (FILE.users/, for the label's next run)\n"
	"  --syslog            one line per run to syslog (journald): label, counts, exit\n"
	"  --syslog-facility user|daemon|local0..local7   (user)\n"
	"Accepted exceptions:\n"
	"  --waivers FILE      a CSV of code,user_id,value,reason,expires: the findings\n"
	"                      it matches are counted apart and decide no exit status\n"
	"Configuration file (settings named as the long options, [profile] sections):\n"
	"  --config FILE          (" TOOL_CONFIG_DEFAULT " when present)\n"
	"  --profile NAME         also the settings of [NAME]; the command line wins\n"
	"  -h, --help  -V, --version\n"
	"Exit: 0 clean, 1 findings, 2 usage or input error (no users included, a\n"
	"shrunken source), 3 I/O, LDAP or report failure, 130 interrupted.\n";


/* ldapsearch's letters where it has one; ':' first: getopt_long prints nothing. */
static const char short_options[] = ":hVqxZWH:b:s:D:y:Y:";

/* Sorted by name. */
static const struct option long_options[] = {
	{ "allow-shrink", no_argument, NULL, OPT_ALLOW_SHRINK },
	{ "ask-password", no_argument, NULL, OPT_ASK_PASSWORD },
	{ "base", required_argument, NULL, OPT_BASE },
	{ "bat", required_argument, NULL, OPT_BAT },
	{ "bat-chunk", required_argument, NULL, OPT_BAT_CHUNK },
	{ "bind-dn", required_argument, NULL, OPT_BIND_DN },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "current-default-domain", required_argument, NULL, OPT_CURRENT_DEFAULT_DOMAIN },
	{ "current-scheme", required_argument, NULL, OPT_CURRENT_SCHEME },
	{ "current-uri-attr", required_argument, NULL, OPT_CURRENT_URI_ATTR },
	{ "db", required_argument, NULL, OPT_DB },
	{ "default-domain", required_argument, NULL, OPT_DEFAULT_DOMAIN },
	{ "delimiter", required_argument, NULL, OPT_DELIMITER },
	{ "directory-type", required_argument, NULL, OPT_DIRECTORY_TYPE },
	{ "dn-attr", required_argument, NULL, OPT_DN_ATTR },
	{ "encoding", required_argument, NULL, OPT_ENCODING },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "fail-on-new", no_argument, NULL, OPT_FAIL_ON_NEW },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "first-name-attr", required_argument, NULL, OPT_FIRST_NAME_ATTR },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "im-domains", required_argument, NULL, OPT_IM_DOMAINS },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "json-findings", required_argument, NULL, OPT_JSON_FINDINGS },
	{ "keep-runs", required_argument, NULL, OPT_KEEP_RUNS },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "last-name-attr", required_argument, NULL, OPT_LAST_NAME_ATTR },
	{ "ldap", required_argument, NULL, OPT_LDAP },
	{ "ldif", required_argument, NULL, OPT_LDIF },
	{ "ldif-fixes", required_argument, NULL, OPT_LDIF_FIXES },
	{ "mail-attr", required_argument, NULL, OPT_MAIL_ATTR },
	{ "max-shrink", required_argument, NULL, OPT_MAX_SHRINK },
	{ "no-user-cache", no_argument, NULL, OPT_NO_USER_CACHE },
	{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "runbook", required_argument, NULL, OPT_RUNBOOK },
	{ "sasl-mech", required_argument, NULL, OPT_SASL_MECH },
	{ "scheme", required_argument, NULL, OPT_SCHEME },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "starttls", no_argument, NULL, OPT_STARTTLS },
	{ "syslog", no_argument, NULL, OPT_SYSLOG },
	{ "syslog-facility", required_argument, NULL, OPT_SYSLOG_FACILITY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "uri-attr", required_argument, NULL, OPT_URI_ATTR },
	{ "userid-attr", required_argument, NULL, OPT_USERID_ATTR },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "waivers", required_argument, NULL, OPT_WAIVERS },
	{ "worklist", required_argument, NULL, OPT_WORKLIST },
	{ NULL, 0, NULL, 0 },
};


static bool add_input(struct audit_config *config, int kind, const char *name)
{
	if (config->input_count == MAX_INPUTS) {
		tool_error("at most %d inputs in one run", MAX_INPUTS);
		return false;
	}
	/* The directory options (--base, --bind-dn...) are one set for the run. */
	for (size_t i = 0; kind == OPT_LDAP && i < config->input_count; i++) {
		if (config->inputs[i].kind == OPT_LDAP) {
			tool_error("one --ldap a run: audit the other directory into the same "
				   "report with a run of its own, or export it to LDIF");
			return false;
		}
	}
	config->inputs[config->input_count++] = (struct tool_input){ kind, name, config->cluster };
	if (kind == OPT_LDAP)
		config->ldap.uri = name;
	return true;
}

static bool parse_scheme(const char *option, const char *text, enum imaddr_scheme *out)
{
	if (!strcmp(text, "userid"))
		*out = IMADDR_SCHEME_USERID;
	else if (!strcmp(text, "directory-uri"))
		*out = IMADDR_SCHEME_DIRECTORY_URI;
	else {
		tool_error("%s takes userid or directory-uri, not '%s'", option, text);
		return false;
	}
	return true;
}

static bool parse_scope(const char *option, const char *text, enum imaddr_ldap_scope *out)
{
	for (int scope = IMADDR_LDAP_SCOPE_SUB; scope <= IMADDR_LDAP_SCOPE_CHILDREN; scope++) {
		if (!strcmp(text, imaddr_ldap_scope_name((enum imaddr_ldap_scope)scope))) {
			*out = (enum imaddr_ldap_scope)scope;
			return true;
		}
	}
	tool_error("%s takes base, one, sub or children, not '%s'", option, text);
	return false;
}

static bool has_input(const struct audit_config *config, int kind)
{
	for (size_t i = 0; i < config->input_count; i++) {
		if (config->inputs[i].kind == kind)
			return true;
	}
	return false;
}

static const char *option_name(int id)
{
	for (const struct option *option = long_options; option->name; option++) {
		if (option->val == id)
			return option->name;
	}
	return "?";
}

/*
 * Sets one option from its value; `what` names it in messages ("--scope" on
 * the command line). Returns a TOOL_EXIT_* status.
 */
static int set_option(struct audit_config *config, int id, const char *value, const char *what)
{
	long number;
	/*
	 * An empty value is a slip (a shell variable not set, "key =" in the
	 * file), never a setting, and would be recorded as one: only a base
	 * (the server's root), a bind DN (an anonymous bind) and a filter
	 * (every entry, as docs/ldap.md says) may be empty.
	 */
	if (value && !*value && id != OPT_BASE && id != OPT_BIND_DN && id != OPT_FILTER) {
		tool_error("%s takes a value, not ''", what);
		return TOOL_EXIT_USAGE;
	}
	switch (id) {
	case OPT_ASK_PASSWORD: config->ask_password = true; break;
	case OPT_BASE: config->ldap.base = value; break;
	case OPT_BAT: config->bat = value; break;
	case OPT_BAT_CHUNK:
		if (!tool_parse_number(what, value, 1, LONG_MAX, &number))
			return TOOL_EXIT_USAGE;
		config->bat_chunk = (uint64_t)number;
		break;
	case OPT_BIND_DN: config->ldap.bind_dn = value; break;
	case OPT_CA_FILE: config->ldap.ca_file = value; break;
	case OPT_CLUSTER: config->cluster = value; break;
	case OPT_CONFIG: config->config_path = value; break;
	case OPT_CSV:
	case OPT_LDIF:
	case OPT_LDAP:
		if (!add_input(config, id, value))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_CURRENT_SCHEME:
		if (!parse_scheme(what, value, &config->audit.current_scheme))
			return TOOL_EXIT_USAGE;
		config->current_scheme_given = true;
		config->audit.premigration = true;
		break;
	case OPT_CURRENT_DEFAULT_DOMAIN:
		config->audit.current_default_domain = value;
		config->audit.premigration = true;
		break;
	case OPT_CURRENT_URI_ATTR:
		config->current_uri_attr = value;
		config->audit.premigration = true;
		break;
	case OPT_DB: config->db = value; break;
	case OPT_DEFAULT_DOMAIN: config->audit.default_domain = value; break;
	case OPT_DELIMITER:
		if (!strcmp(value, ",") || !strcmp(value, ";"))
			config->file.delimiter = value[0];
		else if (!strcmp(value, "tab") || !strcmp(value, "\t"))
			config->file.delimiter = '\t';
		else {
			tool_error("%s takes ',', ';' or tab, not '%s'", what, value);
			return TOOL_EXIT_USAGE;
		}
		break;
	case OPT_DN_ATTR: config->dn_attr = value; break;
	case OPT_ENCODING: config->file.encoding = value; break;
	case OPT_FIRST_NAME_ATTR: config->first_name_attr = value; break;
	case OPT_LAST_NAME_ATTR: config->last_name_attr = value; break;
	case OPT_MAIL_ATTR: config->mail_attr = value; break;
	case OPT_DIRECTORY_TYPE:
		config->directory_type_given = true;
		if (!strcmp(value, "ad"))
			config->ldap.directory_type = IMADDR_DIRECTORY_AD;
		else if (!strcmp(value, "ad-lds"))
			config->ldap.directory_type = IMADDR_DIRECTORY_AD_LDS;
		else if (!strcmp(value, "openldap"))
			config->ldap.directory_type = IMADDR_DIRECTORY_OPENLDAP;
		else {
			tool_error("%s takes ad, ad-lds or openldap, not '%s'", what, value);
			return TOOL_EXIT_USAGE;
		}
		break;
	case OPT_ALLOW_SHRINK: config->audit.allow_shrink = true; break;
	case OPT_LABEL: config->audit.label = value; break;
	case OPT_MAX_SHRINK:
		if (!tool_parse_number(what, value, 0, 100, &number))
			return TOOL_EXIT_USAGE;
		config->audit.max_shrink_percent = (unsigned)number;
		break;
	case OPT_FAIL_ON_NEW: config->fail_new = true; break;
	case OPT_FAIL_ON:
		/* "new" keeps the threshold: --fail-on warning --fail-on new. */
		if (!strcmp(value, "new")) {
			config->fail_new = true;
			break;
		}
		config->fail_never = !strcmp(value, "never");
		if (!config->fail_never && (!imaddr_severity_parse(value, &config->fail_on) ||
					    config->fail_on == IMADDR_SEVERITY_INFO)) {
			tool_error("%s takes error, warning or never, not '%s'", what, value);
			return TOOL_EXIT_USAGE;
		}
		break;
	case OPT_FILTER: config->ldap.filter = value; break;
	case OPT_HTML: config->html = value; break;
	case OPT_IM_DOMAINS: config->audit.im_domains = value; break;
	case OPT_JSON: config->json = value; break;
	case OPT_JSON_FINDINGS:
		if (!tool_parse_number(what, value, 0, 1000000, &config->json_findings))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_KEEP_RUNS:
		if (!tool_parse_number(what, value, 1, INT_MAX, &config->keep_runs))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_LDIF_FIXES: config->ldif_fixes = value; break;
	case OPT_PAGE_SIZE:
		if (!tool_parse_number(what, value, 1, 100000, &number))
			return TOOL_EXIT_USAGE;
		config->ldap.page_size = (int)number;
		break;
	case OPT_PASSWORD_FILE: config->password_file = value; break;
	case OPT_PROFILE: config->profile = value; break;
	case OPT_QUIET: config->quiet = true; break;
	case OPT_RUNBOOK: config->runbook = value; break;
	case OPT_SASL_MECH: config->ldap.sasl_mech = value; break;
	case OPT_SCHEME:
		if (!parse_scheme(what, value, &config->audit.scheme))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_SCOPE:
		if (!parse_scope(what, value, &config->ldap.scope))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_SIMPLE: break;   /* ldapsearch's -x: a simple bind is what -D does */
	case OPT_STARTTLS: config->ldap.starttls = true; break;
	case OPT_SYSLOG: config->syslog = true; break;
	case OPT_NO_USER_CACHE: config->no_user_cache = true; break;
	case OPT_SYSLOG_FACILITY:
		if (!tool_syslog_facility(value, &config->syslog_facility)) {
			tool_error("%s takes user, daemon or local0 to local7, not '%s'", what, value);
			return TOOL_EXIT_USAGE;
		}
		break;
	case OPT_TIMEOUT:
		if (!tool_parse_number(what, value, 1, 86400, &number))
			return TOOL_EXIT_USAGE;
		config->ldap.timeout_seconds = (int)number;
		break;
	case OPT_URI_ATTR: config->uri_attr = value; break;
	case OPT_USERID_ATTR: config->userid_attr = value; break;
	case OPT_WAIT:
		if (!tool_parse_number(what, value, 0, 86400, &number))
			return TOOL_EXIT_USAGE;
		config->wait_ms = (int)number * 1000;
		break;
	case OPT_WAIVERS: config->audit.waivers = value; break;
	case OPT_WORKLIST: config->worklist = value; break;
	}
	return TOOL_EXIT_CLEAN;
}

static int parse_command_line(int argc, char **argv, struct audit_config *config)
{
	int option, index;
	char what[40];

	opterr = 0;
	/* A scan of its own: glibc keeps a group of short options across calls otherwise. */
	optind = 0;
	while (index = -1, (option = getopt_long(argc, argv, short_options, long_options,
						 &index)) != -1) {
		if (option == '?' || option == ':') {
			tool_option_refused(option, argv, "audit");
			return TOOL_EXIT_USAGE;
		}
		if (index >= 0 && !tool_option_typed_in_full(argv, long_options[index].name)) {
			optopt = 0;
			/* Looks up the name typed, as an unknown one. */
			optind -= long_options[index].has_arg && optarg == argv[optind - 1] ? 1 : 0;
			tool_option_refused('?', argv, "audit");
			return TOOL_EXIT_USAGE;
		}
		if (option == OPT_HELP || option == OPT_VERSION) {
			if (option == OPT_HELP)
				fputs(usage, stdout);
			else
				printf("imaddr %s\n", IMADDR_VERSION);
			config->answered = true;
			return TOOL_EXIT_CLEAN;
		}
		if (index >= 0)
			snprintf(what, sizeof(what), "--%s", long_options[index].name);
		else
			snprintf(what, sizeof(what), "-%c", option);
		int status = set_option(config, option, optarg, what);
		if (status != TOOL_EXIT_CLEAN)
			return status;
		config->given[option] = config->decided[option] = config->asked[option] = true;
	}
	/* What the command line said of --fail-on, before the file adds to it. */
	config->fail_new_asked = config->fail_new;
	config->fail_never_asked = config->fail_never;
	if (optind < argc) {
		/* Never shown: it could be a password typed where it does not belong. */
		tool_error("unexpected argument (not shown: passwords never go on "
			   "the command line; use -y FILE, " TOOL_PASSWORD_ENV " or -W)");
		return TOOL_EXIT_USAGE;
	}
	return TOOL_EXIT_CLEAN;
}

/* The inputs and their clusters: one setting, in order, from one place. */
static bool is_input(int id)
{
	return id == OPT_CSV || id == OPT_LDIF || id == OPT_LDAP || id == OPT_CLUSTER;
}

/* Checks every setting of the file, applied or not: a typo is found at once. */
static int check_settings(struct audit_config *config, int *ids)
{
	const struct tool_config_file *file = &config->config_file;
	for (size_t i = 0; i < file->count; i++) {
		const struct tool_config_entry *entry = &file->entries[i];
		ids[i] = -1;
		for (const struct option *option = long_options; option->name; option++) {
			if (!strcmp(option->name, entry->key))
				ids[i] = option->val;
		}
		if (!strcmp(entry->key, "password")) {
			tool_error("%s:%d: a password never goes in the configuration file: name a "
				   "password-file that only its owner can read", file->path,
				   entry->line);
			return TOOL_EXIT_USAGE;
		}
		if (ids[i] < 0 || ids[i] == OPT_HELP || ids[i] == OPT_VERSION ||
		    ids[i] == OPT_CONFIG || ids[i] == OPT_PROFILE || ids[i] == OPT_SIMPLE) {
			tool_error("%s:%d: '%s' is not a setting (settings are named as the long "
				   "options of 'imaddr audit --help')", file->path, entry->line,
				   entry->key);
			return TOOL_EXIT_USAGE;
		}
		/* Only the inputs come in a list; libinih gives an indented line as the key again. */
		for (size_t j = 0; !is_input(ids[i]) && j < i; j++) {
			if (ids[j] != ids[i] || strcmp(file->entries[j].section, entry->section))
				continue;
			tool_error("%s:%d: '%s' is set again (first on line %d): a setting takes one "
				   "value, and an indented line continues the one above it%s",
				   file->path, entry->line, entry->key, file->entries[j].line,
				   ids[i] == OPT_FAIL_ON ? " (for 'fail-on = new' with a threshold, "
				   "write 'fail-on-new = yes' and 'fail-on = LEVEL')" : "");
			return TOOL_EXIT_USAGE;
		}
	}
	return TOOL_EXIT_CLEAN;
}

/*
 * A switch (quiet, starttls, ask-password, allow-shrink, fail-on-new,
 * syslog, no-user-cache) is yes or no in the file.
 */
static int set_switch(struct audit_config *config, int id, const char *value, const char *what)
{
	bool on;
	if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
		on = true;
	else if (!strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
		on = false;
	else {
		tool_error("%s takes yes or no, not '%s'", what, value);
		return TOOL_EXIT_USAGE;
	}
	if (id == OPT_QUIET)
		config->quiet = on;
	else if (id == OPT_ALLOW_SHRINK)
		config->audit.allow_shrink = on;
	else if (id == OPT_FAIL_ON_NEW)
		config->fail_new = on;
	else if (id == OPT_STARTTLS)
		config->ldap.starttls = on;
	else if (id == OPT_SYSLOG)
		config->syslog = on;
	else if (id == OPT_NO_USER_CACHE)
		config->no_user_cache = on;
	else
		config->ask_password = on;
	return TOOL_EXIT_CLEAN;
}

static bool applies(const struct audit_config *config, int id);

/*
 * The file's settings of one section for what the command line left open:
 * the inputs first (inputs true), then the rest, which an LDAP setting joins
 * only when the input is LDAP.
 */
static int apply_section(struct audit_config *config, const int *ids, const char *section,
			 bool inputs)
{
	const struct tool_config_file *file = &config->config_file;
	char what[300];
	for (size_t i = 0; i < file->count; i++) {
		const struct tool_config_entry *entry = &file->entries[i];
		int id = ids[i];
		if (strcmp(entry->section, section) || is_input(id) != inputs)
			continue;
		/* -y and -W are one setting, how the password comes: the first to decide it wins. */
		bool decided = inputs ? config->decided[OPT_CSV] || config->decided[OPT_LDIF] ||
						config->decided[OPT_LDAP] || config->decided[OPT_CLUSTER]
				      : config->decided[id] ||
					(id == OPT_PASSWORD_FILE && config->decided[OPT_ASK_PASSWORD]) ||
					(id == OPT_ASK_PASSWORD && config->decided[OPT_PASSWORD_FILE]);
		if (decided || (!inputs && !applies(config, id)))
			continue;
		snprintf(what, sizeof(what), "%s:%d: %s", file->path, entry->line, entry->key);
		bool is_switch = id == OPT_QUIET || id == OPT_STARTTLS || id == OPT_ASK_PASSWORD ||
				 id == OPT_ALLOW_SHRINK || id == OPT_FAIL_ON_NEW || id == OPT_SYSLOG ||
				 id == OPT_NO_USER_CACHE;
		int status = is_switch ? set_switch(config, id, entry->value, what)
				       : set_option(config, id, entry->value, what);
		if (status != TOOL_EXIT_CLEAN)
			return status;
		if (!inputs) {
			config->decided[id] = true;
			config->asked[id] = *section != '\0';
		}
		/* The profile asks for --fail-on as the command line does. */
		if (*section && (id == OPT_FAIL_ON_NEW || id == OPT_FAIL_ON)) {
			config->fail_new_asked |= config->fail_new;
			config->fail_never_asked |= config->fail_never;
		}
	}
	/* The profile's inputs, when it has any, replace those of the whole file. */
	if (inputs && config->input_count)
		config->decided[OPT_CSV] = true;
	return TOOL_EXIT_CLEAN;
}

/* The profile's settings before the ones outside any section. */
static int apply_file(struct audit_config *config, const int *ids, bool inputs)
{
	int status = TOOL_EXIT_CLEAN;
	if (config->profile)
		status = apply_section(config, ids, config->profile, inputs);
	if (status == TOOL_EXIT_CLEAN)
		status = apply_section(config, ids, "", inputs);
	return status;
}

static int resolve_input(struct audit_config *config);

/* The command line, then the configuration file under it, then the input. */
static int merge_configuration(struct audit_config *config)
{
	const char *path = config->config_path;
	const char *default_path = tool_config_default_path();
	int unreadable = 0;
	/*
	 * The default file is for the users who may read it (the nightly
	 * account's group): for the others there is none, unless they ask for
	 * one of its profiles.
	 */
	if (!path && *default_path) {
		errno = 0;
		if (access(default_path, R_OK) == 0)
			path = default_path;
		else if (errno == EACCES)
			unreadable = errno;
		/* A file named on purpose that is not there is a typo, not "no file". */
		if (!path && getenv(TOOL_CONFIG_ENV)) {
			tool_error("%s names '%s', which cannot be read: %s", TOOL_CONFIG_ENV,
				   default_path, strerror(errno ? errno : ENOENT));
			return TOOL_EXIT_USAGE;
		}
	}
	if (!path) {
		if (config->profile && unreadable) {
			tool_error("--profile %s: cannot read %s: %s", config->profile,
				   default_path, strerror(unreadable));
			return TOOL_EXIT_USAGE;
		}
		if (config->profile) {
			tool_error("--profile %s: no configuration file (--config FILE, or %s)",
				   config->profile, *default_path ? default_path
								  : "IMADDR_CONFIG");
			return TOOL_EXIT_USAGE;
		}
		return resolve_input(config);
	}
	int status = tool_config_read(&config->config_file, path);
	if (status != TOOL_EXIT_CLEAN)
		return status;
	if (config->profile && (!*config->profile ||
				!tool_config_has_section(&config->config_file, config->profile))) {
		tool_error("%s: no profile [%s]", path, config->profile);
		return TOOL_EXIT_USAGE;
	}
	int *ids = calloc(config->config_file.count + 1, sizeof(*ids));
	if (!ids) {
		tool_error("out of memory");
		return TOOL_EXIT_FAILURE;
	}
	status = check_settings(config, ids);
	if (status == TOOL_EXIT_CLEAN)
		status = apply_file(config, ids, true);
	if (status == TOOL_EXIT_CLEAN)
		status = resolve_input(config);
	if (status == TOOL_EXIT_CLEAN)
		status = apply_file(config, ids, false);
	free(ids);
	return status;
}

/* The settings that only an LDAP input can use. */
static const int ldap_only_options[] = {
	OPT_BASE, OPT_BIND_DN, OPT_SASL_MECH, OPT_STARTTLS, OPT_PASSWORD_FILE,
	OPT_ASK_PASSWORD, OPT_SCOPE, OPT_CA_FILE, OPT_PAGE_SIZE, OPT_TIMEOUT,
};

/*
 * Whether the run's inputs can use a setting: the configuration file's
 * settings for other inputs are left out, as the command line's are refused.
 */
static bool applies(const struct audit_config *config, int id)
{
	bool csv = has_input(config, OPT_CSV), ldif = has_input(config, OPT_LDIF);
	for (size_t i = 0; i < sizeof(ldap_only_options) / sizeof(ldap_only_options[0]); i++) {
		if (ldap_only_options[i] == id)
			return config->ldap.uri != NULL;
	}
	if (id == OPT_ENCODING)
		return csv || ldif;
	if (id == OPT_DELIMITER || id == OPT_DN_ATTR)
		return csv;
	/*
	 * The file's selection is the directory's: a CSV export was most often
	 * filtered when it was made, and is selected only when the command
	 * line asks.
	 */
	if (id == OPT_FILTER || id == OPT_DIRECTORY_TYPE)
		return ldif || config->ldap.uri;
	return true;
}

/*
 * With clusters, every input follows the --cluster it belongs to. An input
 * before the first one, or a --cluster no input follows (a forgotten --csv),
 * would otherwise be audited without its cluster, or not at all, unsaid.
 */
static bool clusters_complete(const struct audit_config *config)
{
	const struct tool_input *last = &config->inputs[config->input_count - 1];
	if (config->cluster && last->cluster != config->cluster) {
		tool_error("--cluster '%s' is followed by no input: give its --csv, --ldif or "
			   "--ldap after it", config->cluster);
		return false;
	}
	for (size_t i = 0; config->cluster && i < config->input_count; i++) {
		if (!config->inputs[i].cluster) {
			tool_error("'%s' comes before the first --cluster: with clusters, give "
				   "each input after the --cluster it belongs to",
				   config->inputs[i].name);
			return false;
		}
	}
	return true;
}

static int resolve_input(struct audit_config *config)
{
	if (!config->input_count) {
		/* As ldapsearch: without -H, the URI libldap's configuration names. */
		config->configured_uri = imaddr_ldap_configured_uri();
		if (!config->configured_uri) {
			tool_error("no input: give --csv FILE, --ldif FILE or -H URI (or a URI in "
				   "ldap.conf)");
			return TOOL_EXIT_USAGE;
		}
		if (!add_input(config, OPT_LDAP, config->configured_uri))
			return TOOL_EXIT_USAGE;
	}
	return clusters_complete(config) ? TOOL_EXIT_CLEAN : TOOL_EXIT_USAGE;
}

uint64_t tool_audit_bat_chunk(const struct audit_config *config)
{
	if (config->bat_chunk)
		return config->bat_chunk;
	for (size_t i = 1; i < config->input_count; i++) {
		if (!imaddr_same_text(config->inputs[0].cluster, config->inputs[i].cluster))
			return UINT64_MAX;
	}
	return 0;
}

/* No output may land on a file the run reads, nor two outputs on one. */
static bool paths_apart(const struct audit_config *config)
{
	struct tool_path paths[MAX_INPUTS + 10];
	size_t count = 0;
	/* With chunks or clusters, --bat writes a directory: that must stand apart. */
	char *bat = config->bat && strcmp(config->bat, "-")
			    ? imaddr_bat_target(config->bat, tool_audit_bat_chunk(config) != 0)
			    : NULL;
	for (size_t i = 0; i < config->input_count; i++) {
		if (config->inputs[i].kind != OPT_LDAP)
			paths[count++] = (struct tool_path){
				config->inputs[i].kind == OPT_CSV ? "--csv" : "--ldif",
				config->inputs[i].name, false };
	}
	const struct tool_path others[] = {
		{ "--waivers", config->audit.waivers, false },
		{ "--password-file", config->password_file, false },
		{ "--config", config->config_path, false },
		{ "--db", config->db, false },
		{ "--bat", bat, true },
		{ "--runbook", config->runbook, true },
		{ "--ldif-fixes", config->ldif_fixes, true },
		{ "--json", config->json, true },
		{ "--worklist", config->worklist, true },
		{ "--html", config->html, true },
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		paths[count++] = others[i];
	bool apart = tool_paths_apart(paths, count);
	free(bat);
	return apart;
}

static int check_options(struct audit_config *config)
{
	if (!config->ldap.uri) {
		for (size_t i = 0; i < sizeof(ldap_only_options) / sizeof(ldap_only_options[0]);
		     i++) {
			if (config->given[ldap_only_options[i]]) {
				tool_error("--%s goes with an LDAP input (-H URI)",
					   option_name(ldap_only_options[i]));
				return TOOL_EXIT_USAGE;
			}
		}
	}
	bool csv = has_input(config, OPT_CSV), ldif = has_input(config, OPT_LDIF);
	if (!csv && !ldif && config->file.encoding) {
		tool_error("--encoding goes with --csv or --ldif: LDAP is UTF-8");
		return TOOL_EXIT_USAGE;
	}
	if (!csv && (config->file.delimiter || config->dn_attr)) {
		tool_error("--delimiter and --dn-attr go with --csv");
		return TOOL_EXIT_USAGE;
	}
	/* A file's entries or rows are selected as the server's would be. */
	config->file.filter = config->ldap.filter;
	config->file.directory_type = config->ldap.directory_type;
	config->file.directory_type_given = config->directory_type_given;
	if (config->ask_password && config->password_file) {
		tool_error("give only one of -y/--password-file and -W/--ask-password");
		return TOOL_EXIT_USAGE;
	}
	if (config->json && !strcmp(config->json, "-")) {
		if (config->bat && !strcmp(config->bat, "-")) {
			tool_error("--bat - and --json - cannot both have standard output");
			return TOOL_EXIT_USAGE;
		}
		config->quiet = true;   /* standard output is the JSON's */
	}
	if (config->bat_chunk && !config->bat) {
		tool_error("--bat-chunk goes with --bat");
		return TOOL_EXIT_USAGE;
	}
	/*
	 * The command line wins over the file; and a setting outside any
	 * section that needs what this run lacks (a report, syslog) is a
	 * default for the profiles that have it, left out here, where the
	 * command line's or the profile's own is refused.
	 */
	if (config->fail_new && config->fail_never) {
		if (!config->fail_new_asked) {
			config->fail_new = false;
		} else if (!config->fail_never_asked) {
			config->fail_never = false;
		} else {
			tool_error("--fail-on new and --fail-on never contradict each other");
			return TOOL_EXIT_USAGE;
		}
	}
	if (config->fail_new && !config->db) {
		if (config->fail_new_asked) {
			tool_error("--fail-on new needs --db: the report knows the previous run");
			return TOOL_EXIT_USAGE;
		}
		config->fail_new = false;
	}
	if (config->keep_runs && !config->db) {
		if (config->asked[OPT_KEEP_RUNS]) {
			tool_error("--keep-runs goes with --db");
			return TOOL_EXIT_USAGE;
		}
		config->keep_runs = 0;
	}
	/*
	 * They act through the report's previous run of the label: without
	 * one, a trial of the shrink guard would pass and prove nothing. Only
	 * when asked for: the defaults outside any section serve the profiles
	 * with a report and without one alike.
	 */
	static const struct {
		int option;
		const char *name;
		const char *why;
	} through_the_report[] = {
		{ OPT_MAX_SHRINK, "--max-shrink", "the report knows the previous run's users" },
		{ OPT_ALLOW_SHRINK, "--allow-shrink", "the report knows the previous run's users" },
		{ OPT_NO_USER_CACHE, "--no-user-cache", "the user cache lives beside the report" },
	};
	for (size_t i = 0; !config->db && i < sizeof(through_the_report) /
						     sizeof(through_the_report[0]); i++) {
		if (config->asked[through_the_report[i].option]) {
			tool_error("%s goes with --db: %s", through_the_report[i].name,
				   through_the_report[i].why);
			return TOOL_EXIT_USAGE;
		}
	}
	/* The syslog line names the label, even of a run without a report. */
	if (config->asked[OPT_LABEL] && !config->db && !config->syslog) {
		tool_error("--label goes with --db (or --syslog): it names the runs the "
			   "report compares");
		return TOOL_EXIT_USAGE;
	}
	if (config->asked[OPT_SYSLOG_FACILITY] && !config->syslog) {
		tool_error("--syslog-facility goes with --syslog");
		return TOOL_EXIT_USAGE;
	}
	return paths_apart(config) ? TOOL_EXIT_CLEAN : TOOL_EXIT_USAGE;
}

static void apply_mapping(struct audit_config *config)
{
	struct imaddr_mapping *mapping = &config->audit.mapping;
	if (config->userid_attr)
		imaddr_mapping_set(mapping, IMADDR_ROLE_USER_ID, config->userid_attr);
	else if (config->directory_type_given &&
		 config->ldap.directory_type == IMADDR_DIRECTORY_OPENLDAP)
		imaddr_mapping_set(mapping, IMADDR_ROLE_USER_ID, "uid");
	if (config->uri_attr)
		imaddr_mapping_set(mapping, IMADDR_ROLE_DIRECTORY_URI, config->uri_attr);
	if (config->current_uri_attr)
		imaddr_mapping_set(mapping, IMADDR_ROLE_CURRENT_URI, config->current_uri_attr);
	if (config->mail_attr)
		imaddr_mapping_set(mapping, IMADDR_ROLE_MAIL, config->mail_attr);
	if (config->first_name_attr)
		imaddr_mapping_set(mapping, IMADDR_ROLE_FIRST_NAME, config->first_name_attr);
	if (config->last_name_attr)
		imaddr_mapping_set(mapping, IMADDR_ROLE_LAST_NAME, config->last_name_attr);
	if (config->dn_attr)
		imaddr_mapping_set_dn(mapping, config->dn_attr);
	/* Only the default domain or the URI source changes: the scheme stays. */
	if (!config->current_scheme_given)
		config->audit.current_scheme = config->audit.scheme;
}

int tool_audit_options_read(int argc, char **argv, struct audit_config *config,
			    struct tool_password *password)
{
	memset(config, 0, sizeof(*config));
	config->fail_on = IMADDR_SEVERITY_ERROR;
	config->wait_ms = -1;
	config->json_findings = IMADDR_JSON_FINDINGS_PER_CODE;
	config->password = password;
	imaddr_audit_options_init(&config->audit);
	imaddr_ldap_options_init(&config->ldap);
	imaddr_file_options_init(&config->file);
	int exit_status = parse_command_line(argc, argv, config);
	if (exit_status != TOOL_EXIT_CLEAN || config->answered)
		return exit_status;
	exit_status = merge_configuration(config);
	if (exit_status == TOOL_EXIT_CLEAN)
		exit_status = check_options(config);
	if (exit_status == TOOL_EXIT_CLEAN)
		apply_mapping(config);
	return exit_status;
}

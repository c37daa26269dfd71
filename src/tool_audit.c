#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "buffer.h"
#include "tool.h"

static const char usage[] =
	"usage: imaddr audit (--csv FILE | --ldif FILE | -H URI) [options]\n"
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
	"Which entries are users (--ldif, --ldap):\n"
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
	"  --fail-on new       exit 1 only for findings at or above the threshold that\n"
	"                      the previous run of the label did not have (needs --db)\n"
	"Nightly runs (--db):\n"
	"  --label NAME        the audit profile: the previous run is the latest of the\n"
	"                      label (default: derived from the source)\n"
	"  --max-shrink PCT    refuse a run with more than PCT% fewer users than the\n"
	"                      previous run (10)  --allow-shrink  record it all the same\n"
	"  --keep-runs N       after the run, keep only the newest N runs of its label\n"
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
	"shrunken source), 3 I/O, LDAP or report failure.\n";

enum option_id {
	OPT_ASK_PASSWORD = 'W', OPT_BASE = 'b', OPT_BIND_DN = 'D', OPT_HELP = 'h',
	OPT_LDAP = 'H', OPT_PASSWORD_FILE = 'y', OPT_QUIET = 'q', OPT_SASL_MECH = 'Y',
	OPT_SCOPE = 's', OPT_SIMPLE = 'x', OPT_STARTTLS = 'Z', OPT_VERSION = 'V',
	OPT_BAT = 256, OPT_BAT_CHUNK, OPT_CA_FILE, OPT_CLUSTER, OPT_CONFIG, OPT_CSV,
	OPT_CURRENT_DEFAULT_DOMAIN, OPT_CURRENT_SCHEME, OPT_CURRENT_URI_ATTR, OPT_DB,
	OPT_DEFAULT_DOMAIN, OPT_DELIMITER, OPT_DIRECTORY_TYPE, OPT_DN_ATTR, OPT_ENCODING,
	OPT_FAIL_ON, OPT_FILTER, OPT_FIRST_NAME_ATTR, OPT_HTML, OPT_IM_DOMAINS, OPT_JSON,
	OPT_JSON_FINDINGS, OPT_LAST_NAME_ATTR, OPT_LDIF, OPT_LDIF_FIXES, OPT_MAIL_ATTR,
	OPT_PAGE_SIZE, OPT_PROFILE, OPT_RUNBOOK, OPT_SCHEME, OPT_TIMEOUT, OPT_URI_ATTR,
	OPT_USERID_ATTR, OPT_WAIT, OPT_WORKLIST, OPT_ALLOW_SHRINK, OPT_FAIL_ON_NEW, OPT_LABEL,
	OPT_MAX_SHRINK, OPT_WAIVERS, OPT_KEEP_RUNS, OPT_SYSLOG, OPT_SYSLOG_FACILITY,
	OPT_END
};

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

/* The LDAP progress line on standard error, redrawn in place. */
struct progress_line {
	const char *uri;
	int width;           /* of the longest line drawn; 0 when none is shown */
};

/* An input as given: CSV, LDIF or the directory server, and its cluster. */
#define MAX_INPUTS 16
struct tool_input {
	int kind;                 /* OPT_CSV, OPT_LDIF or OPT_LDAP */
	const char *name;         /* the file or the server's URI */
	const char *cluster;
};

struct audit_config {
	struct tool_input inputs[MAX_INPUTS];
	size_t input_count;
	const char *cluster;      /* the one the next inputs belong to */
	struct imaddr_audit_options audit;
	struct imaddr_ldap_options ldap;
	struct imaddr_file_options file;
	struct progress_line progress;
	const char *bat;
	const char *db;
	const char *runbook;
	const char *ldif_fixes;
	const char *json;
	const char *worklist;
	const char *html;
	long json_findings;
	long keep_runs;              /* 0: every run kept */
	bool syslog;                 /* a line for the run to syslog */
	int syslog_facility;
	const char *password_file;
	const char *userid_attr;
	const char *uri_attr;
	const char *mail_attr;
	const char *first_name_attr;
	const char *last_name_attr;
	const char *dn_attr;
	const char *current_uri_attr;
	bool current_scheme_given;
	bool directory_type_given;
	bool ask_password;
	uint64_t bat_chunk;
	int wait_ms;                 /* -1: the library's default */
	bool quiet;
	bool fail_never;
	bool fail_new;               /* only findings the previous run did not have */
	enum imaddr_severity fail_on;
	char *configured_uri;            /* ldap.conf's URI, when no input is given */
	struct tool_password *password;  /* main's buffer */
	const char *config_path;         /* --config */
	const char *profile;             /* --profile */
	struct tool_config_file config_file;  /* its settings, which the options borrow */
	bool given[OPT_END];             /* set on the command line */
	bool decided[OPT_END];           /* set on the command line or by the file */
	bool answered;                   /* --help or --version: printed, nothing to run */
	char *name;                      /* input_name's, which audit.input_name borrows */
	char *label;                     /* derived_label's, which audit.label borrows */
};

static bool parse_count(const char *option, const char *text, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long value = strtol(text, &end, 10);
	if (errno || end == text || *end || value < min || value > max) {
		tool_error("%s takes a whole number from %ld to %ld, not '%s'", option, min, max,
			   text);
		return false;
	}
	*out = value;
	return true;
}

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
	switch (id) {
	case OPT_ASK_PASSWORD: config->ask_password = true; break;
	case OPT_BASE: config->ldap.base = value; break;
	case OPT_BAT: config->bat = value; break;
	case OPT_BAT_CHUNK:
		if (!parse_count(what, value, 1, LONG_MAX, &number))
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
	case OPT_LABEL:
		if (!*value) {
			tool_error("%s takes a name, not ''", what);
			return TOOL_EXIT_USAGE;
		}
		config->audit.label = value;
		break;
	case OPT_MAX_SHRINK:
		if (!parse_count(what, value, 0, 100, &number))
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
		if (!parse_count(what, value, 0, 1000000, &config->json_findings))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_KEEP_RUNS:
		if (!parse_count(what, value, 1, INT_MAX, &config->keep_runs))
			return TOOL_EXIT_USAGE;
		break;
	case OPT_LDIF_FIXES: config->ldif_fixes = value; break;
	case OPT_PAGE_SIZE:
		if (!parse_count(what, value, 1, 100000, &number))
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
		if (!strcmp(value, "sub"))
			config->ldap.scope = IMADDR_LDAP_SCOPE_SUB;
		else if (!strcmp(value, "one"))
			config->ldap.scope = IMADDR_LDAP_SCOPE_ONE;
		else if (!strcmp(value, "base"))
			config->ldap.scope = IMADDR_LDAP_SCOPE_BASE;
		else if (!strcmp(value, "children"))
			config->ldap.scope = IMADDR_LDAP_SCOPE_CHILDREN;
		else {
			tool_error("%s takes base, one, sub or children, not '%s'", what, value);
			return TOOL_EXIT_USAGE;
		}
		break;
	case OPT_SIMPLE: break;   /* ldapsearch's -x: a simple bind is what -D does */
	case OPT_STARTTLS: config->ldap.starttls = true; break;
	case OPT_SYSLOG: config->syslog = true; break;
	case OPT_SYSLOG_FACILITY:
		if (!tool_syslog_facility(value, &config->syslog_facility)) {
			tool_error("%s takes user, daemon or local0 to local7, not '%s'", what, value);
			return TOOL_EXIT_USAGE;
		}
		break;
	case OPT_TIMEOUT:
		if (!parse_count(what, value, 1, 86400, &number))
			return TOOL_EXIT_USAGE;
		config->ldap.timeout_seconds = (int)number;
		break;
	case OPT_URI_ATTR: config->uri_attr = value; break;
	case OPT_USERID_ATTR: config->userid_attr = value; break;
	case OPT_WAIT:
		if (!parse_count(what, value, 0, 86400, &number))
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
		config->given[option] = config->decided[option] = true;
	}
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
	}
	return TOOL_EXIT_CLEAN;
}

/*
 * A switch (quiet, starttls, ask-password, allow-shrink, fail-on-new,
 * syslog) is yes or no in the file.
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
		bool decided = inputs ? config->decided[OPT_CSV] || config->decided[OPT_LDIF] ||
						config->decided[OPT_LDAP] || config->decided[OPT_CLUSTER]
				      : config->decided[id];
		if (decided || (!inputs && !applies(config, id)))
			continue;
		snprintf(what, sizeof(what), "%s:%d: %s", file->path, entry->line, entry->key);
		bool is_switch = id == OPT_QUIET || id == OPT_STARTTLS || id == OPT_ASK_PASSWORD ||
				 id == OPT_ALLOW_SHRINK || id == OPT_FAIL_ON_NEW || id == OPT_SYSLOG;
		int status = is_switch ? set_switch(config, id, entry->value, what)
				       : set_option(config, id, entry->value, what);
		if (status != TOOL_EXIT_CLEAN)
			return status;
		if (!inputs)
			config->decided[id] = true;
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
	if (!path && access(TOOL_CONFIG_DEFAULT, F_OK) == 0)
		path = TOOL_CONFIG_DEFAULT;
	if (!path) {
		if (config->profile) {
			tool_error("--profile %s: no configuration file (--config FILE, or "
				   TOOL_CONFIG_DEFAULT ")", config->profile);
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
	if (id == OPT_FILTER || id == OPT_DIRECTORY_TYPE)
		return ldif || config->ldap.uri;
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
	return TOOL_EXIT_CLEAN;
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
	if (!ldif && !config->ldap.uri && (config->ldap.filter || config->directory_type_given)) {
		tool_error("--filter and --directory-type go with --ldif or --ldap: a CSV export "
			   "was filtered when it was made");
		return TOOL_EXIT_USAGE;
	}
	/* An LDIF's entries are selected as the server's would be. */
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
	if (config->fail_new && config->fail_never) {
		tool_error("--fail-on new and --fail-on never contradict each other");
		return TOOL_EXIT_USAGE;
	}
	if (config->fail_new && !config->db) {
		tool_error("--fail-on new needs --db: the report knows the previous run");
		return TOOL_EXIT_USAGE;
	}
	if (config->keep_runs && !config->db) {
		tool_error("--keep-runs goes with --db");
		return TOOL_EXIT_USAGE;
	}
	if (config->decided[OPT_SYSLOG_FACILITY] && !config->syslog) {
		tool_error("--syslog-facility goes with --syslog");
		return TOOL_EXIT_USAGE;
	}
	return TOOL_EXIT_CLEAN;
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

/*
 * The bind password into main's one buffer: -y's file, else -W's prompt,
 * else IMADDR_LDAP_PASSWORD (taken at start-up), else a prompt when standard
 * input is a terminal.
 */
static int read_password(struct audit_config *config)
{
	struct tool_password *password = config->password;
	int status = TOOL_EXIT_CLEAN;
	if (!config->ldap.bind_dn || config->ldap.sasl_mech) {
		if (config->password_file || config->ask_password)
			tool_error("-y and -W go with -D/--bind-dn (a simple bind)");
		return config->password_file || config->ask_password ? TOOL_EXIT_USAGE
								      : TOOL_EXIT_CLEAN;
	}
	if (config->password_file)
		status = tool_password_read_file(password, config->password_file);
	else if (config->ask_password)
		status = tool_password_prompt(password, config->ldap.bind_dn);
	else if (password->too_long) {
		tool_error(TOOL_PASSWORD_ENV " is longer than %zu bytes", sizeof(password->text) - 1);
		status = TOOL_EXIT_USAGE;
	} else if (!password->held && !password->from_environment && isatty(STDIN_FILENO))
		status = tool_password_prompt(password, config->ldap.bind_dn);
	if (status != TOOL_EXIT_CLEAN)
		return status;
	if (!password->held) {
		tool_error("-D/--bind-dn needs a password: -y FILE, the " TOOL_PASSWORD_ENV
			   " environment variable, or -W to ask on the terminal");
		return TOOL_EXIT_USAGE;
	}
	config->ldap.password = password->text;
	return TOOL_EXIT_CLEAN;
}

/*
 * IMADDR_TEST_KILL_AT=STEP: SIGKILL at that step of the output protocol, for
 * the tests that check what a killed run leaves (tests/cases/kill-*);
 * STEP:TERM and STEP:INT raise that signal instead.
 */
static const char *kill_step;

static void kill_at_step(const char *step)
{
	size_t len = strcspn(kill_step, ":");
	if (strncmp(step, kill_step, len) || step[len])
		return;
	if (!strcmp(kill_step + len, ":TERM"))
		raise(SIGTERM);
	else if (!strcmp(kill_step + len, ":INT"))
		raise(SIGINT);
	else
		raise(SIGKILL);
}

static void set_test_hooks(void)
{
	kill_step = getenv("IMADDR_TEST_KILL_AT");
	if (kill_step && *kill_step)
		imaddr_set_step_hook(kill_at_step);
}

static void on_signal(int signal_number)
{
	(void)signal_number;
	imaddr_audit_request_stop();
}

static void catch_signals(void)
{
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_signal;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
}

/* The library reports; the program draws, only on a terminal (see open_reader). */
static void show_ldap_progress(void *context, const struct imaddr_ldap_progress *progress)
{
	struct progress_line *line = context;
	if (progress->done) {
		if (line->width) {
			fprintf(stderr, "\r%*s\r", line->width, "");
			fflush(stderr);
		}
		line->width = 0;
		return;
	}
	char text[300];
	double elapsed = progress->elapsed_seconds;
	int width = snprintf(text, sizeof(text), "imaddr: %s: %llu entries read, %.0f/s",
			     line->uri, (unsigned long long)progress->entries,
			     elapsed > 0 ? (double)progress->entries / elapsed : 0.0);
	if (width < 0)
		return;
	/* Pad over a longer previous line. */
	fprintf(stderr, "\r%s%*s", text, line->width > width ? line->width - width : 0, "");
	if (width > line->width)
		line->width = width;
	fflush(stderr);
}

static enum imaddr_status open_reader(struct audit_config *config,
				      const struct tool_input *input, struct imaddr_reader **out,
				      struct imaddr_error *err)
{
	if (input->kind == OPT_CSV)
		return imaddr_csv_reader_open_with(input->name, &config->file, out, err);
	if (input->kind == OPT_LDIF)
		return imaddr_ldif_reader_open_with(input->name, &config->file, out, err);
	if (isatty(STDERR_FILENO)) {
		config->progress.uri = config->ldap.uri;
		config->ldap.progress = show_ldap_progress;
		config->ldap.progress_context = &config->progress;
	}
	enum imaddr_status status = imaddr_ldap_reader_open(&config->ldap, out, err);
	/* The reader keeps a copy of its own, which it wipes after the bind. */
	tool_password_clear(config->password);
	config->ldap.password = NULL;
	return status;
}

/* With the BAT file on standard output, the summary goes to standard error. */
static FILE *summary_stream(const struct audit_config *config)
{
	return config->bat && !strcmp(config->bat, "-") ? stderr : stdout;
}

static enum imaddr_status add_outputs(struct audit_config *config, struct imaddr_audit *audit,
				      struct imaddr_error *err)
{
	struct imaddr_sink *sink;
	enum imaddr_status status = IMADDR_OK;
	/* The report first: its commit decides the run, and its lock is taken first. */
	if (config->db &&
	    (status = imaddr_sink_report_open(config->db, config->wait_ms, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->bat &&
	    (status = imaddr_sink_bat_open(config->bat, config->bat_chunk, config->wait_ms, &sink,
					   err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->ldif_fixes &&
	    (status = imaddr_sink_ldif_fixes_open(config->ldif_fixes, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->runbook &&
	    (status = imaddr_sink_runbook_open(config->runbook, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->worklist &&
	    (status = imaddr_sink_worklist_open(config->worklist, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->html &&
	    (status = imaddr_sink_html_open(config->html, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	if (status == IMADDR_OK && config->json &&
	    (status = imaddr_sink_json_open(config->json, (size_t)config->json_findings, &sink,
					    err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	FILE *summary = summary_stream(config);
	bool json_to_stdout = config->json && !strcmp(config->json, "-");
	if (status == IMADDR_OK && !config->quiet &&
	    (status = imaddr_sink_summary_open(summary, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	/* --quiet: only the news, for cron to mail (not into --json -'s stream). */
	if (status == IMADDR_OK && config->quiet && config->db && !json_to_stdout &&
	    (status = imaddr_sink_summary_open_changes(summary, &sink, err)) == IMADDR_OK)
		imaddr_audit_add_sink(audit, sink);
	return status;
}

/* "users.csv", or "east: ldap://dc1, west: users.csv" when clusters are named. */
static char *input_name(const struct audit_config *config)
{
	size_t size = 1;
	for (size_t i = 0; i < config->input_count; i++) {
		const struct tool_input *input = &config->inputs[i];
		size += strlen(input->name) + 4 + (input->cluster ? strlen(input->cluster) : 0);
	}
	char *name = calloc(1, size);
	size_t used = 0;
	if (!name)
		return NULL;
	for (size_t i = 0; i < config->input_count; i++) {
		const struct tool_input *input = &config->inputs[i];
		used += (size_t)snprintf(name + used, size - used, "%s%s%s%s", i ? ", " : "",
					 input->cluster ? input->cluster : "",
					 input->cluster ? ": " : "", input->name);
	}
	return name;
}

static const char *scope_name(enum imaddr_ldap_scope scope)
{
	switch (scope) {
	case IMADDR_LDAP_SCOPE_ONE: return "one";
	case IMADDR_LDAP_SCOPE_BASE: return "base";
	case IMADDR_LDAP_SCOPE_CHILDREN: return "children";
	default: return "sub";
	}
}

/*
 * The run's identity, unless --label names it: what tells this source from
 * another (docs/nightly.md). A file's name without its date stamp, so that
 * users-2026-12-01.csv follows users-2026-11-30.csv; a directory's search as
 * an LDAP URL, so that another base or filter is another profile.
 */
static char *derived_label(const struct audit_config *config)
{
	struct imaddr_buf label;
	imaddr_buf_init(&label, 0);
	for (size_t i = 0; i < config->input_count; i++) {
		const struct tool_input *input = &config->inputs[i];
		char *one;
		if (input->kind == OPT_LDAP)
			one = imaddr_run_label_for_ldap(input->name, config->ldap.base,
							scope_name(config->ldap.scope),
							config->audit.source_filter);
		else
			one = imaddr_run_label_for_file(input->name);
		imaddr_buf_appendf(&label, "%s%s%s%s", i ? ", " : "",
				   input->cluster ? input->cluster : "", input->cluster ? ": " : "",
				   one);
		/* An LDIF's users are the filter's. */
		if (input->kind == OPT_LDIF && config->ldap.filter)
			imaddr_buf_appendf(&label, "?%s", config->ldap.filter);
		free(one);
	}
	return imaddr_buf_detach(&label);
}

/* What the report records of the source beside the label. */
static void set_source(struct audit_config *config)
{
	if (config->ldap.uri) {
		config->audit.source_base = config->ldap.base;
		config->audit.source_scope = scope_name(config->ldap.scope);
		config->audit.source_filter =
			config->ldap.filter ? config->ldap.filter
					    : imaddr_directory_default_filter(config->ldap.directory_type);
	} else {
		config->audit.source_filter = config->ldap.filter;
	}
}

/*
 * The run's configuration from the command line and the configuration
 * file, checked, up to what the library is handed: no password is read and
 * no input or output opened. Returns a TOOL_EXIT_* status, with
 * config->answered after --help or --version. Release the configuration
 * in any case.
 */
static int configure(int argc, char **argv, struct audit_config *config,
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
	if (exit_status != TOOL_EXIT_CLEAN)
		return exit_status;
	apply_mapping(config);
	config->audit.input_name = config->name = input_name(config);
	set_source(config);
	if (!config->audit.label)
		config->audit.label = config->label = derived_label(config);
	return TOOL_EXIT_CLEAN;
}

static void audit_config_release(struct audit_config *config)
{
	free(config->name);
	free(config->label);
	free(config->configured_uri);
	tool_config_release(&config->config_file);
}

int tool_audit_configure_only(int argc, char **argv)
{
	struct audit_config config;
	struct tool_password password = { "", false, false, false };
	int exit_status = configure(argc, argv, &config, &password);
	audit_config_release(&config);
	return exit_status;
}

/*
 * --keep-runs: the run's label pruned after its commit. A failure leaves the
 * run recorded and exits 3; what was removed follows the summary.
 */
static int keep_runs(const struct audit_config *config, int exit_status)
{
	struct imaddr_prune_result result;
	struct imaddr_error err = { "" };
	enum imaddr_status status = imaddr_report_prune(config->db, config->audit.label,
							(unsigned)config->keep_runs,
							config->wait_ms, &result, &err);
	if (status != IMADDR_OK) {
		tool_error("the run is recorded, but --keep-runs failed: %s",
			   err.message[0] ? err.message : imaddr_strerror(status));
		return TOOL_EXIT_FAILURE;
	}
	if (!config->quiet) {
		FILE *out = summary_stream(config);
		fputc('\n', out);
		tool_print_pruned(out, &result, (unsigned)config->keep_runs, config->audit.label);
		fflush(out);
	}
	return exit_status;
}

/*
 * --syslog: the run's outcome in one line, whatever it was, once the options
 * are read; `totals` NULL when the run did not complete.
 */
static void send_syslog(const struct audit_config *config,
			const struct imaddr_run_totals *totals, int exit_status)
{
	struct tool_syslog_run run = {
		.label = config->audit.label,
		.exit_status = exit_status,
		.error = exit_status > TOOL_EXIT_FINDINGS ? tool_first_error() : NULL,
	};
	if (totals) {
		const struct imaddr_run_changes *changes = totals->changes;
		run.completed = true;
		run.users = totals->users;
		run.errors = totals->by_severity[IMADDR_SEVERITY_ERROR];
		run.warnings = totals->by_severity[IMADDR_SEVERITY_WARNING];
		if (changes) {
			run.run_id = changes->run_id;
			run.previous_run_id = changes->previous_run_id;
			for (int severity = 0; severity < 3; severity++) {
				run.new_findings += changes->new_by_severity[severity];
				run.resolved_findings += changes->resolved_by_severity[severity];
			}
		}
	}
	tool_syslog_send(config->syslog_facility, &run);
}

int tool_audit(int argc, char **argv, struct tool_password *password)
{
	struct audit_config config;
	struct imaddr_audit *audit = NULL;
	struct imaddr_input inputs[MAX_INPUTS] = { { NULL, NULL } };
	struct imaddr_run_totals totals;
	bool completed = false;
	struct imaddr_error err = { "" };
	enum imaddr_status status;

	int exit_status = configure(argc, argv, &config, password);
	if (exit_status != TOOL_EXIT_CLEAN || config.answered)
		goto out;
	exit_status = read_password(&config);
	if (exit_status != TOOL_EXIT_CLEAN)
		goto out;

	status = imaddr_audit_new(&config.audit, &audit, &err);
	for (size_t i = 0; status == IMADDR_OK && i < config.input_count; i++) {
		inputs[i].cluster = config.inputs[i].cluster;
		status = open_reader(&config, &config.inputs[i], &inputs[i].reader, &err);
	}
	if (status == IMADDR_OK)
		status = add_outputs(&config, audit, &err);
	if (status == IMADDR_OK) {
		set_test_hooks();
		catch_signals();
		status = imaddr_audit_run_inputs(audit, inputs, config.input_count, &totals, &err);
	}
	if (status != IMADDR_OK) {
		tool_error("%s", err.message[0] ? err.message : imaddr_strerror(status));
		exit_status = tool_exit_for(status);
		goto out;
	}
	completed = true;
	exit_status = TOOL_EXIT_CLEAN;
	for (int severity = config.fail_on; !config.fail_never && severity <= IMADDR_SEVERITY_ERROR;
	     severity++) {
		/* Without a previous run every finding is new. */
		uint64_t count = !config.fail_new ? totals.by_severity[severity]
				 : totals.changes && totals.changes->previous_run_id
					 ? totals.changes->new_by_severity[severity]
					 : totals.by_severity[severity];
		if (count)
			exit_status = TOOL_EXIT_FINDINGS;
	}
	if (config.keep_runs)
		exit_status = keep_runs(&config, exit_status);
out:
	/* Before the audit is freed: the changes are the report's. */
	if (config.syslog && !config.answered)
		send_syslog(&config, completed ? &totals : NULL, exit_status);
	for (size_t i = 0; i < config.input_count; i++)
		imaddr_reader_free(inputs[i].reader);
	imaddr_audit_free(audit);
	tool_password_clear(password);
	audit_config_release(&config);
	return exit_status;
}

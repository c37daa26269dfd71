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

#include "tool.h"

static const char usage[] =
	"usage: imaddr audit (--csv FILE | --ldif FILE | --ldap URI) [options]\n"
	"\n"
	"Input (several with --cluster NAME before each cluster's):\n"
	"  --csv FILE             CSV with a header row ('-': standard input)\n"
	"  --ldif FILE            LDIF, e.g. from ldifde or ldapsearch ('-': standard input)\n"
	"  --ldap URI             an ldap://, ldaps:// or ldapi:// directory server\n"
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
	"Directory server (--ldap):\n"
	"  --base DN  --scope sub|one\n"
	"  --bind-dn DN  --password-file FILE    (or IMADDR_LDAP_PASSWORD, or a prompt)\n"
	"  --sasl-mech EXTERNAL|GSSAPI  --starttls  --ca-file FILE\n"
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
	"  --bat FILE  --bat-chunk N  --db FILE  --quiet   ('--bat -': standard output)\n"
	"  --ldif-fixes FILE   LDIF modify records for URIs the directory should fix\n"
	"  --runbook FILE      the change procedure with this audit's figures\n"
	"  --html FILE         the HTML report of this run\n"
	"  --worklist FILE     one row per finding: FILE.xlsx or FILE.csv\n"
	"  --json FILE         the run as JSON ('-': standard output, instead of the summary)\n"
	"  --json-findings N   findings of each code the JSON lists (20)\n"
	"  --wait SECONDS      wait for another run on the same outputs (30)\n"
	"  --fail-on error|warning|never   exit 1 at or above it (error)\n"
	"Exit: 0 clean, 1 findings, 2 usage or input error (no users included),\n"
	"3 I/O, LDAP or report failure.\n";

enum option_id {
	OPT_BASE = 256, OPT_BAT, OPT_BAT_CHUNK, OPT_BIND_DN, OPT_CA_FILE, OPT_CLUSTER, OPT_CSV,
	OPT_CURRENT_DEFAULT_DOMAIN, OPT_CURRENT_SCHEME, OPT_CURRENT_URI_ATTR, OPT_DB,
	OPT_DEFAULT_DOMAIN, OPT_DELIMITER, OPT_DIRECTORY_TYPE, OPT_DN_ATTR, OPT_ENCODING,
	OPT_FAIL_ON, OPT_FILTER, OPT_FIRST_NAME_ATTR, OPT_HELP, OPT_HTML, OPT_IM_DOMAINS,
	OPT_JSON, OPT_JSON_FINDINGS, OPT_LAST_NAME_ATTR, OPT_LDAP, OPT_LDIF, OPT_LDIF_FIXES,
	OPT_MAIL_ATTR, OPT_RUNBOOK, OPT_PAGE_SIZE, OPT_PASSWORD_FILE, OPT_QUIET, OPT_SASL_MECH,
	OPT_SCHEME, OPT_SCOPE, OPT_STARTTLS, OPT_TIMEOUT, OPT_URI_ATTR, OPT_USERID_ATTR, OPT_WAIT,
	OPT_WORKLIST
};

/* Sorted by name. */
static const struct option long_options[] = {
	{ "base", required_argument, NULL, OPT_BASE },
	{ "bat", required_argument, NULL, OPT_BAT },
	{ "bat-chunk", required_argument, NULL, OPT_BAT_CHUNK },
	{ "bind-dn", required_argument, NULL, OPT_BIND_DN },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "cluster", required_argument, NULL, OPT_CLUSTER },
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
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "first-name-attr", required_argument, NULL, OPT_FIRST_NAME_ATTR },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "html", required_argument, NULL, OPT_HTML },
	{ "im-domains", required_argument, NULL, OPT_IM_DOMAINS },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "json-findings", required_argument, NULL, OPT_JSON_FINDINGS },
	{ "last-name-attr", required_argument, NULL, OPT_LAST_NAME_ATTR },
	{ "ldap", required_argument, NULL, OPT_LDAP },
	{ "ldif", required_argument, NULL, OPT_LDIF },
	{ "ldif-fixes", required_argument, NULL, OPT_LDIF_FIXES },
	{ "mail-attr", required_argument, NULL, OPT_MAIL_ATTR },
	{ "page-size", required_argument, NULL, OPT_PAGE_SIZE },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "sasl-mech", required_argument, NULL, OPT_SASL_MECH },
	{ "runbook", required_argument, NULL, OPT_RUNBOOK },
	{ "scheme", required_argument, NULL, OPT_SCHEME },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "starttls", no_argument, NULL, OPT_STARTTLS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "uri-attr", required_argument, NULL, OPT_URI_ATTR },
	{ "userid-attr", required_argument, NULL, OPT_USERID_ATTR },
	{ "wait", required_argument, NULL, OPT_WAIT },
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
	uint64_t bat_chunk;
	int wait_ms;                 /* -1: the library's default */
	bool quiet;
	bool fail_never;
	enum imaddr_severity fail_on;
	char *password;
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

static int parse_options(int argc, char **argv, struct audit_config *config)
{
	int option;
	long number;

	while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (option) {
		case OPT_BASE: config->ldap.base = optarg; break;
		case OPT_BAT: config->bat = optarg; break;
		case OPT_BAT_CHUNK:
			if (!parse_count("--bat-chunk", optarg, 1, LONG_MAX, &number))
				return TOOL_EXIT_USAGE;
			config->bat_chunk = (uint64_t)number;
			break;
		case OPT_BIND_DN: config->ldap.bind_dn = optarg; break;
		case OPT_CA_FILE: config->ldap.ca_file = optarg; break;
		case OPT_CLUSTER: config->cluster = optarg; break;
		case OPT_CSV:
		case OPT_LDIF:
		case OPT_LDAP:
			if (!add_input(config, option, optarg))
				return TOOL_EXIT_USAGE;
			if (option == OPT_LDAP)
				config->ldap.uri = optarg;
			break;
		case OPT_DB: config->db = optarg; break;
		case OPT_DEFAULT_DOMAIN: config->audit.default_domain = optarg; break;
		case OPT_DELIMITER:
			if (!strcmp(optarg, ",") || !strcmp(optarg, ";"))
				config->file.delimiter = optarg[0];
			else if (!strcmp(optarg, "tab") || !strcmp(optarg, "\t"))
				config->file.delimiter = '\t';
			else {
				tool_error("--delimiter takes ',', ';' or tab, not '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case OPT_DN_ATTR: config->dn_attr = optarg; break;
		case OPT_ENCODING: config->file.encoding = optarg; break;
		case OPT_FIRST_NAME_ATTR: config->first_name_attr = optarg; break;
		case OPT_LAST_NAME_ATTR: config->last_name_attr = optarg; break;
		case OPT_MAIL_ATTR: config->mail_attr = optarg; break;
		case OPT_DIRECTORY_TYPE:
			config->directory_type_given = true;
			if (!strcmp(optarg, "ad"))
				config->ldap.directory_type = IMADDR_DIRECTORY_AD;
			else if (!strcmp(optarg, "ad-lds"))
				config->ldap.directory_type = IMADDR_DIRECTORY_AD_LDS;
			else if (!strcmp(optarg, "openldap"))
				config->ldap.directory_type = IMADDR_DIRECTORY_OPENLDAP;
			else {
				tool_error("--directory-type takes ad, ad-lds or openldap, not '%s'",
					   optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case OPT_FAIL_ON:
			if (!strcmp(optarg, "never")) {
				config->fail_never = true;
			} else if (!imaddr_severity_parse(optarg, &config->fail_on) ||
				   config->fail_on == IMADDR_SEVERITY_INFO) {
				tool_error("--fail-on takes error, warning or never, not '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case OPT_FILTER: config->ldap.filter = optarg; break;
		case OPT_HELP:
			fputs(usage, stdout);
			exit(TOOL_EXIT_CLEAN);
		case OPT_HTML: config->html = optarg; break;
		case OPT_IM_DOMAINS: config->audit.im_domains = optarg; break;
		case OPT_JSON: config->json = optarg; break;
		case OPT_JSON_FINDINGS:
			if (!parse_count("--json-findings", optarg, 0, 1000000, &config->json_findings))
				return TOOL_EXIT_USAGE;
			break;
		case OPT_PAGE_SIZE:
			if (!parse_count("--page-size", optarg, 1, 100000, &number))
				return TOOL_EXIT_USAGE;
			config->ldap.page_size = (int)number;
			break;
		case OPT_PASSWORD_FILE: config->password_file = optarg; break;
		case OPT_QUIET: config->quiet = true; break;
		case OPT_RUNBOOK: config->runbook = optarg; break;
		case OPT_LDIF_FIXES: config->ldif_fixes = optarg; break;
		case OPT_SASL_MECH: config->ldap.sasl_mech = optarg; break;
		case OPT_SCHEME:
			if (!parse_scheme("--scheme", optarg, &config->audit.scheme))
				return TOOL_EXIT_USAGE;
			break;
		case OPT_CURRENT_SCHEME:
			if (!parse_scheme("--current-scheme", optarg, &config->audit.current_scheme))
				return TOOL_EXIT_USAGE;
			config->current_scheme_given = true;
			config->audit.premigration = true;
			break;
		case OPT_CURRENT_DEFAULT_DOMAIN:
			config->audit.current_default_domain = optarg;
			config->audit.premigration = true;
			break;
		case OPT_CURRENT_URI_ATTR:
			config->current_uri_attr = optarg;
			config->audit.premigration = true;
			break;
		case OPT_SCOPE:
			if (!strcmp(optarg, "sub"))
				config->ldap.scope = IMADDR_LDAP_SCOPE_SUB;
			else if (!strcmp(optarg, "one"))
				config->ldap.scope = IMADDR_LDAP_SCOPE_ONE;
			else {
				tool_error("--scope takes sub or one, not '%s'", optarg);
				return TOOL_EXIT_USAGE;
			}
			break;
		case OPT_STARTTLS: config->ldap.starttls = true; break;
		case OPT_TIMEOUT:
			if (!parse_count("--timeout", optarg, 1, 86400, &number))
				return TOOL_EXIT_USAGE;
			config->ldap.timeout_seconds = (int)number;
			break;
		case OPT_URI_ATTR: config->uri_attr = optarg; break;
		case OPT_USERID_ATTR: config->userid_attr = optarg; break;
		case OPT_WAIT:
			if (!parse_count("--wait", optarg, 0, 86400, &number))
				return TOOL_EXIT_USAGE;
			config->wait_ms = (int)number * 1000;
			break;
		case OPT_WORKLIST: config->worklist = optarg; break;
		default:
			fputs(usage, stderr);
			return TOOL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s' (passwords never go on the command line: "
			   "use --password-file or IMADDR_LDAP_PASSWORD)", argv[optind]);
		return TOOL_EXIT_USAGE;
	}
	if (!config->input_count) {
		tool_error("no input: give --csv FILE, --ldif FILE or --ldap URI");
		return TOOL_EXIT_USAGE;
	}
	if (!config->ldap.uri && (config->ldap.base || config->ldap.bind_dn ||
				  config->ldap.starttls || config->ldap.sasl_mech ||
				  config->password_file)) {
		tool_error("--base, --bind-dn, --sasl-mech, --starttls and --password-file go "
			   "with --ldap");
		return TOOL_EXIT_USAGE;
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

/* Reads a password without echo from the terminal. */
static char *prompt_password(const char *bind_dn)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return NULL;
	FILE *tty = fdopen(fd, "r+");
	if (!tty) {
		close(fd);
		return NULL;
	}
	struct termios saved, quiet;
	bool restore = tcgetattr(fd, &saved) == 0;
	if (restore) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	fprintf(tty, "LDAP password for %s: ", bind_dn);
	fflush(tty);
	char *line = NULL;
	size_t size = 0;
	ssize_t length = getline(&line, &size, tty);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &saved);
	fputc('\n', tty);
	fclose(tty);
	if (length < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

static int read_password(struct audit_config *config)
{
	if (!config->ldap.bind_dn || config->ldap.sasl_mech)
		return TOOL_EXIT_CLEAN;
	if (config->password_file) {
		FILE *file = fopen(config->password_file, "r");
		if (!file) {
			tool_error("cannot open '%s': %s", config->password_file, strerror(errno));
			return TOOL_EXIT_USAGE;
		}
		size_t size = 0;
		ssize_t length = getline(&config->password, &size, file);
		fclose(file);
		if (length < 0) {
			tool_error("'%s' is empty: no password", config->password_file);
			return TOOL_EXIT_USAGE;
		}
		config->password[strcspn(config->password, "\r\n")] = '\0';
	} else if (getenv("IMADDR_LDAP_PASSWORD")) {
		config->password = strdup(getenv("IMADDR_LDAP_PASSWORD"));
	} else if (isatty(STDIN_FILENO)) {
		config->password = prompt_password(config->ldap.bind_dn);
	}
	if (!config->password) {
		tool_error("--bind-dn needs a password: --password-file FILE, the "
			   "IMADDR_LDAP_PASSWORD environment variable, or a terminal to ask on");
		return TOOL_EXIT_USAGE;
	}
	config->ldap.password = config->password;
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
	return imaddr_ldap_reader_open(&config->ldap, out, err);
}

static enum imaddr_status add_outputs(struct audit_config *config, struct imaddr_audit *audit,
				      struct imaddr_error *err)
{
	struct imaddr_sink *sink;
	enum imaddr_status status = IMADDR_OK;
	bool bat_to_stdout = config->bat && !strcmp(config->bat, "-");
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
	/* With the BAT file on standard output, the summary goes to standard error. */
	if (status == IMADDR_OK && !config->quiet &&
	    (status = imaddr_sink_summary_open(bat_to_stdout ? stderr : stdout, &sink,
					       err)) == IMADDR_OK)
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

int tool_audit(int argc, char **argv)
{
	struct audit_config config = { .fail_on = IMADDR_SEVERITY_ERROR, .wait_ms = -1,
				       .json_findings = IMADDR_JSON_FINDINGS_PER_CODE };
	struct imaddr_audit *audit = NULL;
	struct imaddr_input inputs[MAX_INPUTS] = { { NULL, NULL } };
	char *name = NULL;
	struct imaddr_run_totals totals;
	struct imaddr_error err = { "" };
	enum imaddr_status status;

	imaddr_audit_options_init(&config.audit);
	imaddr_ldap_options_init(&config.ldap);
	imaddr_file_options_init(&config.file);
	int exit_status = parse_options(argc, argv, &config);
	if (exit_status != TOOL_EXIT_CLEAN)
		return exit_status;
	apply_mapping(&config);
	config.audit.input_name = name = input_name(&config);
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
	exit_status = TOOL_EXIT_CLEAN;
	for (int severity = config.fail_on; !config.fail_never && severity <= IMADDR_SEVERITY_ERROR;
	     severity++) {
		if (totals.by_severity[severity])
			exit_status = TOOL_EXIT_FINDINGS;
	}
out:
	for (size_t i = 0; i < config.input_count; i++)
		imaddr_reader_free(inputs[i].reader);
	imaddr_audit_free(audit);
	free(name);
	if (config.password) {
		/* The password leaves memory with the run. */
		memset(config.password, 0, strlen(config.password));
		free(config.password);
	}
	return exit_status;
}

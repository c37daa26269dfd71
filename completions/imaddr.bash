# bash completion for imaddr(1); installed as .../bash-completion/completions/imaddr.
# Needs nothing of the bash-completion package itself.

_imaddr_profiles()
{
	local config=${IMADDR_CONFIG-/etc/imaddr/imaddr.conf} i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		[[ ${COMP_WORDS[i]} == --config ]] && config=${COMP_WORDS[i + 1]}
	done
	config=${config/#\~/$HOME}
	[[ -r $config ]] && sed -n 's/^[[:space:]]*\[\([^]]*\)\].*/\1/p' -- "$config"
}

_imaddr()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local command= i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		audit | check-address | report | prune) command=${COMP_WORDS[i]}; break ;;
		esac
	done
	COMPREPLY=()
	case $command in
	'')
		COMPREPLY=($(compgen -W 'audit check-address report prune --help --version' -- "$cur"))
		return
		;;
	check-address)
		if [[ $prev == --fail-on ]]; then
			COMPREPLY=($(compgen -W 'error warning never' -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--fail-on --json --quiet --help --version' -- "$cur"))
		fi
		return
		;;
	report)
		if [[ $prev == --db || $prev == --html || $prev == --json || $prev == --worklist ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--db --html --json --json-findings --worklist --label
				--run --help --version' -- "$cur"))
		fi
		return
		;;
	prune)
		if [[ $prev == --db ]]; then
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--db --keep --label --wait --help --version' -- "$cur"))
		fi
		return
		;;
	esac

	case $prev in
	--csv | --ldif | --bat | --db | --config | --password-file | -y | --ca-file | --ldif-fixes | \
		--runbook | --html | --worklist | --json | --waivers)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--scope | -s) COMPREPLY=($(compgen -W 'base one sub children' -- "$cur")); return ;;
	--scheme | --current-scheme)
		COMPREPLY=($(compgen -W 'userid directory-uri' -- "$cur"))
		return
		;;
	--directory-type) COMPREPLY=($(compgen -W 'ad ad-lds openldap' -- "$cur")); return ;;
	--delimiter) COMPREPLY=($(compgen -W ', ; tab' -- "$cur")); return ;;
	--encoding)
		COMPREPLY=($(compgen -W 'utf-8 utf-16le utf-16be windows-1252 iso-8859-1' -- "$cur"))
		return
		;;
	--fail-on) COMPREPLY=($(compgen -W 'error warning never new' -- "$cur")); return ;;
	--syslog-facility)
		COMPREPLY=($(compgen -W 'user daemon local0 local1 local2 local3 local4 local5 local6
			local7' -- "$cur"))
		return
		;;
	--sasl-mech | -Y) COMPREPLY=($(compgen -W 'EXTERNAL GSSAPI' -- "$cur")); return ;;
	--profile) COMPREPLY=($(compgen -W "$(_imaddr_profiles)" -- "$cur")); return ;;
	--ldap | -H)
		compopt -o nospace 2>/dev/null
		COMPREPLY=($(compgen -W 'ldap:// ldaps:// ldapi:///' -- "$cur"))
		return
		;;
	--base | -b | --bind-dn | -D | --filter | --default-domain | --im-domains | --bat-chunk | \
		--page-size | --timeout | --userid-attr | --uri-attr | --cluster | \
		--current-default-domain | --current-uri-attr | --mail-attr | --first-name-attr | \
		--last-name-attr | --dn-attr | --wait | --json-findings | --label | --max-shrink | \
		--keep-runs)
		return
		;;
	esac
	COMPREPLY=($(compgen -W '--cluster --csv --ldif --ldap --encoding --delimiter --dn-attr
		--filter --directory-type --base --scope --bind-dn --password-file --ask-password
		--sasl-mech --starttls --ca-file --page-size --timeout --userid-attr --uri-attr
		--mail-attr --first-name-attr --last-name-attr --scheme --default-domain
		--im-domains --current-scheme --current-default-domain --current-uri-attr --bat
		--bat-chunk --db --ldif-fixes --runbook --html --worklist --json --json-findings
		--wait --quiet --fail-on --fail-on-new --label --max-shrink --allow-shrink --waivers --keep-runs
		--no-user-cache
		--syslog --syslog-facility --config
		--profile --help --version' -- "$cur"))
}

complete -F _imaddr imaddr

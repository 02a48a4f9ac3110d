# bash completion for sessionctl                           -*- shell-script -*-
#
# Completes commands, options (with file/directory completion for the
# options that take a path) and session ids. Ids come from the store at
# completion time: `sessionctl [--dir D] list --ids --all`, so --dir on the
# command line and $SESSIONCTL_DIR are honoured. A full id or the random hex
# part of an id can be completed, as sessionctl accepts either prefix.
#
# The command and option lists below are static; tests/test_completions.py
# fails when they drift from sessionctl/cli.py. Installation: see README.md.

_sessionctl_commands='list show export-md delete cleanup resume trash restore log rename tag untag pin unpin search stats du'
_sessionctl_global_opts='--dir --version -h --help'

# _sessionctl_opts CMD -> every option of CMD
_sessionctl_opts() {
    case $1 in
        list) echo '--workspace --here --model --vendor --since --until -n --limit -a --all --tag --pinned --json --jsonl --ids -v --verbose -h --help' ;;
        show) echo '--json --context --full --no-pager --from -h --help' ;;
        export-md) echo '-o --output --all --hidden --output-dir --context -v --verbose -h --help' ;;
        delete) echo '--dry-run --purge --force -v --verbose -h --help' ;;
        cleanup) echo '--older-than --before --empty --dry-run --purge --trash-retention --json -v --verbose -h --help' ;;
        resume) echo '--command --print --context --force -h --help' ;;
        trash) echo '--json -h --help' ;;
        log) echo '--since --action --id -n --limit --json --jsonl -h --help' ;;
        restore | rename | tag | untag | pin | unpin) echo '-v --verbose -h --help' ;;
        search) echo '--workspace --here --model --vendor --since --until --tag --pinned -a --all --role --trash -n --limit --json --jsonl --reindex -v --verbose -h --help' ;;
        stats) echo '--by --metric --workspace --here --model --vendor --since --until --tag --pinned -a --all --json --csv --prices -v --verbose -h --help' ;;
        du) echo '--by -n --limit --json -h --help' ;;
    esac
}

# _sessionctl_value_opts CMD -> the options of CMD (or of sessionctl itself
# when CMD is empty) that take a value
_sessionctl_value_opts() {
    case $1 in
        '') echo '--dir' ;;
        list) echo '--workspace --model --vendor --since --until -n --limit --tag' ;;
        show) echo '--from' ;;
        export-md) echo '-o --output --output-dir' ;;
        cleanup) echo '--older-than --before --trash-retention' ;;
        resume) echo '--command' ;;
        log) echo '--since --action --id -n --limit' ;;
        search) echo '--workspace --model --vendor --since --until --tag --role -n --limit' ;;
        stats) echo '--by --metric --workspace --model --vendor --since --until --tag --prices' ;;
        du) echo '--by -n --limit' ;;
    esac
}

# _sessionctl_id_args CMD -> how many session ids CMD takes: 1, "many" or none
_sessionctl_id_args() {
    case $1 in
        show | resume | rename | tag | untag) echo 1 ;;
        export-md | delete | pin | unpin) echo many ;;
    esac
}

# _sessionctl_dequote WORD: the word as the shell would pass it (quotes and
# backslashes removed, a leading ~ expanded), without evaluating anything.
_sessionctl_dequote() {
    local w=$1
    case $w in
        \'*\') w=${w:1:${#w}-2} ;;
        \"*\") w=${w:1:${#w}-2} ;;
        *) w=${w//\\/} ;;
    esac
    case $w in
        '~') w=$HOME ;;
        '~/'*) w=$HOME/${w#'~/'} ;;
    esac
    printf '%s' "$w"
}

# _sessionctl_ids DIR CUR: add the session ids (and hex parts) matching CUR
_sessionctl_ids() {
    local dir=$1 cur=$2 id out
    if [[ -n $dir ]]; then
        out=$(command sessionctl --dir "$dir" list --ids --all 2>/dev/null)
    else
        out=$(command sessionctl list --ids --all 2>/dev/null)
    fi
    while IFS= read -r id; do
        [[ -n $id ]] || continue
        if [[ $id == "$cur"* ]]; then
            COMPREPLY+=("$id")
        elif [[ -n $cur && $id =~ ^[0-9]{8}-[0-9]{6}-([0-9a-f]{16})$ \
                && ${BASH_REMATCH[1]} == "$cur"* ]]; then
            COMPREPLY+=("${BASH_REMATCH[1]}")
        fi
    done <<<"$out"
}

# _sessionctl_trash_ids DIR CUR: add the ids in the trash matching CUR
_sessionctl_trash_ids() {
    local dir=$1 cur=$2 line out
    if [[ -n $dir ]]; then
        out=$(command sessionctl --dir "$dir" trash 2>/dev/null)
    else
        out=$(command sessionctl trash 2>/dev/null)
    fi
    while IFS=$'\t' read -r line _; do
        [[ -n $line && $line == "$cur"* ]] && COMPREPLY+=("$line")
    done <<<"$out"
}

# _sessionctl_tags DIR CUR: add the tags in use matching CUR
_sessionctl_tags() {
    local dir=$1 cur=$2 out tag
    if [[ -n $dir ]]; then
        out=$(command sessionctl --dir "$dir" list --all --jsonl 2>/dev/null)
    else
        out=$(command sessionctl list --all --jsonl 2>/dev/null)
    fi
    # Tags are [a-z0-9_.:-] only: no JSON escapes to undo.
    for tag in $(grep -o '"tags":\[[^]]*\]' <<<"$out" | grep -o '"[a-z0-9_.:-]*"' \
                 | grep -vx '"tags"' | tr -d '"' | sort -u); do
        [[ $tag == "$cur"* ]] && COMPREPLY+=("$tag")
    done
}

_sessionctl_words() {
    local w
    for w in $1; do
        [[ $w == "$2"* ]] && COMPREPLY+=("$w")
    done
}

_sessionctl() {
    COMPREPLY=()
    local cword=$COMP_CWORD
    local cur=${COMP_WORDS[cword]} prev=${COMP_WORDS[cword - 1]}
    local opt=$prev last=$cword

    # With '=' in COMP_WORDBREAKS (the default), "--dir=/x" arrives as the
    # three words "--dir" "=" "/x".
    if [[ $cur == '=' ]]; then
        opt=$prev cur= last=$((cword - 1))
    elif [[ $prev == '=' ]] && ((cword >= 2)); then
        opt=${COMP_WORDS[cword - 2]} last=$((cword - 2))
    fi

    # Parse the words before the one being completed: the command, --dir,
    # how many positional arguments, whether "--" was seen.
    local i w cmd= dir= npos=0 ddash= value_opts
    value_opts=" $(_sessionctl_value_opts '') "
    for ((i = 1; i < last; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -z $ddash && $w == -* ]]; then
            if [[ $w == -- ]]; then
                ddash=1
            elif [[ $w == --*=* ]]; then # "--opt=value" as one word
                [[ -z $cmd && ${w%%=*} == --dir ]] && dir=$(_sessionctl_dequote "${w#*=}")
            elif [[ $value_opts == *" $w "* ]]; then
                [[ ${COMP_WORDS[i + 1]} == '=' ]] && ((i++))
                ((i++))
                [[ -z $cmd && $w == --dir ]] && dir=$(_sessionctl_dequote "${COMP_WORDS[i]}")
            fi
        elif [[ -z $cmd ]]; then
            cmd=$w
            value_opts=" $(_sessionctl_value_opts "$cmd") "
        else
            ((npos++))
        fi
    done

    # The value of an option: paths for the options that take one, nothing
    # for the others (--model, --since, ...).
    # Either the last option parsed took the word being completed as its
    # value, or the word follows "OPTION=".
    if ((i > last)) || { ((last < cword)) && [[ -z $ddash && $value_opts == *" $opt "* ]]; }; then
        case $opt in
            --dir | --workspace | --output-dir)
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -d -- "$cur"))
                ;;
            -o | --output | --prices)
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -f -- "$cur"))
                ;;
            --tag) _sessionctl_tags "$dir" "$cur" ;;
            --action) _sessionctl_words 'trash purge restore rename tag untag pin unpin' "$cur" ;;
            --role)
                COMPREPLY=($(compgen -W 'user assistant tool system' -- "$cur"))
                ;;
            --by)
                if [[ $cmd == du ]]; then
                    _sessionctl_words 'workspace session' "$cur"
                else
                    _sessionctl_words 'day week month model vendor workspace session tool' "$cur"
                fi
                ;;
            --metric)
                _sessionctl_words 'tokens cost sessions messages' "$cur"
                ;;
        esac
        return 0
    fi

    if [[ -z $ddash && $cur == -* ]]; then
        if [[ -z $cmd ]]; then
            _sessionctl_words "$_sessionctl_global_opts" "$cur"
        else
            _sessionctl_words "$(_sessionctl_opts "$cmd")" "$cur"
        fi
        return 0
    fi

    if [[ -z $cmd ]]; then
        _sessionctl_words "$_sessionctl_commands" "$cur"
        return 0
    fi

    case $cmd in
        restore) _sessionctl_trash_ids "$dir" "$cur"; return 0 ;;
        trash) ((npos == 0)) && _sessionctl_words 'empty' "$cur"; return 0 ;;
        tag | untag) ((npos > 0)) && { _sessionctl_tags "$dir" "$cur"; return 0; } ;;
    esac
    case $(_sessionctl_id_args "$cmd") in
        many) _sessionctl_ids "$dir" "$cur" ;;
        1) ((npos == 0)) && _sessionctl_ids "$dir" "$cur" ;;
    esac
    return 0
}

complete -F _sessionctl sessionctl

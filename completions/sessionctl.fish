# fish completion for sessionctl: commands, options (paths where an option
# takes one) and session ids. Ids come from the store at completion time:
# `sessionctl [--dir D] list --ids --all`, so --dir on the command line and
# $SESSIONCTL_DIR are honoured. A full id or the random hex part of an id can
# be completed, as sessionctl accepts either prefix.
#
# The command and option lists below are static; tests/test_completions.py
# fails when they drift from sessionctl/cli.py. Installation: see README.md.

# Options that take a value, per command ("" = sessionctl itself).
function __sessionctl_value_opts
    switch "$argv[1]"
        case ''
            echo --dir
        case list
            echo --workspace --model --vendor --since --until -n --limit --tag
        case export-md
            echo -o --output --output-dir
        case cleanup
            echo --older-than --before --trash-retention
        case resume
            echo --command
        case log
            echo --since --action --id -n --limit
        case show
            echo --from
        case search
            echo --workspace --model --vendor --since --until --tag --role -n --limit
        case stats
            echo --by --metric --workspace --model --vendor --since --until --tag --prices
        case du
            echo --by -n --limit
    end
end

# Parse the tokens before the cursor. Prints three lines: the command (or
# nothing), the --dir value (or nothing) and how many positional arguments
# the command has so far.
function __sessionctl_parse
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd
    set -l dir
    set -l npos 0
    set -l ddash
    set -l value_opts (string split ' ' -- (__sessionctl_value_opts ''))
    while set -q tokens[1]
        set -l w $tokens[1]
        set -e tokens[1]
        if test -z "$ddash"; and string match -q -- '-*' $w
            if test "$w" = --
                set ddash 1
            else if string match -q -- '--*=*' $w
                if test -z "$cmd"; and string match -q -- '--dir=*' $w
                    set dir (string replace -- '--dir=' '' $w)
                end
            else if contains -- $w $value_opts
                if test -z "$cmd"; and test "$w" = --dir; and set -q tokens[1]
                    set dir $tokens[1]
                end
                set -e tokens[1]
            end
        else if test -z "$cmd"
            set cmd $w
            set value_opts (string split ' ' -- (__sessionctl_value_opts $cmd))
        else
            set npos (math $npos + 1)
        end
    end
    printf '%s\n' "$cmd" "$dir" $npos
end

# True when the command is not given yet.
function __sessionctl_needs_command
    set -l p (__sessionctl_parse)
    test -z "$p[1]"
end

# True when the command is one of the arguments.
function __sessionctl_using
    set -l p (__sessionctl_parse)
    contains -- "$p[1]" $argv
end

# True when a session id may come next.
function __sessionctl_wants_id
    set -l p (__sessionctl_parse)
    switch "$p[1]"
        case export-md delete pin unpin
            return 0
        case show resume rename tag untag
            test "$p[3]" -eq 0
            return
    end
    return 1
end

# True when a tag may come next (tag/untag after the id).
function __sessionctl_wants_tag
    set -l p (__sessionctl_parse)
    contains -- "$p[1]" tag untag; and test "$p[3]" -gt 0
end

# The ids in the trash (for restore).
function __sessionctl_trash_ids
    set -l p (__sessionctl_parse)
    set -l dir (string replace -r -- '^~(?=/|$)' $HOME $p[2])
    if test -n "$dir"
        command sessionctl --dir $dir trash 2>/dev/null | string split -f1 \t
    else
        command sessionctl trash 2>/dev/null | string split -f1 \t
    end
end

# The tags in use (tags are [a-z0-9_.:-]: no JSON escapes to undo).
function __sessionctl_tags
    set -l p (__sessionctl_parse)
    set -l dir (string replace -r -- '^~(?=/|$)' $HOME $p[2])
    set -l out
    if test -n "$dir"
        set out (command sessionctl --dir $dir list --all --jsonl 2>/dev/null)
    else
        set out (command sessionctl list --all --jsonl 2>/dev/null)
    end
    string match -ar -- '"tags":\[[^]]*\]' $out | string match -ar -- '"[a-z0-9_.:-]*"' \
        | string match -v -- '"tags"' | string trim -c '"' | sort -u
end

# The session ids (and, for a non-empty prefix, the matching hex parts).
function __sessionctl_ids
    set -l p (__sessionctl_parse)
    # commandline -o removes quotes but does not expand a leading ~
    set -l dir (string replace -r -- '^~(?=/|$)' $HOME $p[2])
    set -l cur (commandline -ct)
    # an option, never an id (ids cannot start with -)
    string match -q -- '-*' "$cur"; and return
    set -l ids
    if test -n "$dir"
        set ids (command sessionctl --dir $dir list --ids --all 2>/dev/null)
    else
        set ids (command sessionctl list --ids --all 2>/dev/null)
    end
    for id in $ids
        if string match -q -- "$cur*" $id
            echo $id
        else if test -n "$cur"
            # [1] the whole id, [2] its hex part (when the id has that shape)
            set -l m (string match -r -- '^[0-9]{8}-[0-9]{6}-([0-9a-f]{16})$' $id)
            and string match -q -- "$cur*" $m[2]
            and echo $m[2]
        end
    end
end

complete -c sessionctl -e
complete -c sessionctl -f

# sessionctl itself
complete -c sessionctl -n __sessionctl_needs_command -l dir -x -a '(__fish_complete_directories)' -d 'Session store'
complete -c sessionctl -n __sessionctl_needs_command -l version -d 'Show the version'
complete -c sessionctl -s h -l help -d 'Show help and exit'
complete -c sessionctl -n __sessionctl_needs_command -a list -d 'List sessions, newest first'
complete -c sessionctl -n __sessionctl_needs_command -a show -d 'Show one session'
complete -c sessionctl -n __sessionctl_needs_command -a export-md -d 'Export sessions as markdown'
complete -c sessionctl -n __sessionctl_needs_command -a delete -d 'Delete sessions'
complete -c sessionctl -n __sessionctl_needs_command -a cleanup -d 'Remove old sessions'
complete -c sessionctl -n __sessionctl_needs_command -a resume -d 'Hand a session back to the agent'
complete -c sessionctl -n __sessionctl_needs_command -a trash -d 'List the trash; trash empty purges it'
complete -c sessionctl -n __sessionctl_needs_command -a restore -d 'Move sessions back from the trash'
complete -c sessionctl -n __sessionctl_needs_command -a log -d 'Show the audit log'
complete -c sessionctl -n __sessionctl_needs_command -a rename -d 'Rename a session'
complete -c sessionctl -n __sessionctl_needs_command -a tag -d 'Tag a session'
complete -c sessionctl -n __sessionctl_needs_command -a untag -d 'Remove tags from a session'
complete -c sessionctl -n __sessionctl_needs_command -a pin -d 'Pin sessions: cleanup skips them'
complete -c sessionctl -n __sessionctl_needs_command -a unpin -d 'Unpin sessions'
complete -c sessionctl -n __sessionctl_needs_command -a search -d "Search every session's text"
complete -c sessionctl -n __sessionctl_needs_command -a stats -d 'Token usage and cost'
complete -c sessionctl -n __sessionctl_needs_command -a du -d 'Disk use of sessions, trash and cache'

# session ids, trashed ids, tags
complete -c sessionctl -n __sessionctl_wants_id -a '(__sessionctl_ids)'
complete -c sessionctl -n '__sessionctl_using restore' -a '(__sessionctl_trash_ids)'
complete -c sessionctl -n __sessionctl_wants_tag -a '(__sessionctl_tags)'

# list
complete -c sessionctl -n '__sessionctl_using list' -l workspace -x -a '(__fish_complete_directories)' -d 'Only sessions of this workspace'
complete -c sessionctl -n '__sessionctl_using list' -l here -d 'Only sessions of the current directory'
complete -c sessionctl -n '__sessionctl_using list' -l model -x -d 'Only this model (exact)'
complete -c sessionctl -n '__sessionctl_using list' -l vendor -x -d 'Only this vendor (exact)'
complete -c sessionctl -n '__sessionctl_using list' -l since -x -d 'Updated at or after DATE'
complete -c sessionctl -n '__sessionctl_using list' -l until -x -d 'Updated before DATE'
complete -c sessionctl -n '__sessionctl_using list' -s n -l limit -x -d 'At most N sessions'
complete -c sessionctl -n '__sessionctl_using list' -s a -l all -d 'Include sessions without user text'
complete -c sessionctl -n '__sessionctl_using list' -l json -d 'A JSON array'
complete -c sessionctl -n '__sessionctl_using list' -l jsonl -d 'One JSON object per line'
complete -c sessionctl -n '__sessionctl_using list' -l ids -d 'One id per line (for xargs)'
complete -c sessionctl -n '__sessionctl_using list' -l tag -x -a '(__sessionctl_tags)' -d 'Only sessions with this tag (repeatable)'
complete -c sessionctl -n '__sessionctl_using list' -l pinned -d 'Only pinned sessions'

# show
complete -c sessionctl -n '__sessionctl_using show' -l json -d 'The loaded session as JSON'
complete -c sessionctl -n '__sessionctl_using show' -l context -d 'Only what resume feeds the agent'
complete -c sessionctl -n '__sessionctl_using show' -l full -d 'Do not fold long tool output or thinking'
complete -c sessionctl -n '__sessionctl_using show' -l no-pager -d 'Never use a pager'
complete -c sessionctl -n '__sessionctl_using show' -l from -x -d 'Start at message N'

# export-md
complete -c sessionctl -n '__sessionctl_using export-md' -s o -l output -r -F -d 'Write to FILE (atomically)'
complete -c sessionctl -n '__sessionctl_using export-md' -l all -d 'Export every visible session'
complete -c sessionctl -n '__sessionctl_using export-md' -l hidden -d 'With --all: also sessions without user text'
complete -c sessionctl -n '__sessionctl_using export-md' -l output-dir -x -a '(__fish_complete_directories)' -d 'With --all: write DIR/<id>.md'
complete -c sessionctl -n '__sessionctl_using export-md' -l context -d 'Only the resume context'

# delete
complete -c sessionctl -n '__sessionctl_using delete' -l dry-run -d 'Print the ids, remove nothing'
complete -c sessionctl -n '__sessionctl_using delete' -l purge -d 'Remove for good instead of moving to the trash'
complete -c sessionctl -n '__sessionctl_using delete' -l force -d 'Delete pinned sessions too'

# cleanup
complete -c sessionctl -n '__sessionctl_using cleanup' -l older-than -x -d 'Remove sessions idle longer than AGE (90min, 12h, 30d, 2w, 6mo, 1y)'
complete -c sessionctl -n '__sessionctl_using cleanup' -l before -x -d 'Remove sessions last updated before DATE'
complete -c sessionctl -n '__sessionctl_using cleanup' -l empty -d 'Also remove sessions without user text idle for an hour'
complete -c sessionctl -n '__sessionctl_using cleanup' -l dry-run -d 'Print the ids, remove nothing'
complete -c sessionctl -n '__sessionctl_using cleanup' -l json -d 'Print a JSON summary'
complete -c sessionctl -n '__sessionctl_using cleanup' -l purge -d 'Remove for good instead of moving to the trash'
complete -c sessionctl -n '__sessionctl_using cleanup' -l trash-retention -x -d 'Purge trash entries older than AGE (never keeps them)'

# trash, log
complete -c sessionctl -n '__sessionctl_using trash' -l json -d 'A JSON array'
complete -c sessionctl -n '__sessionctl_using trash' -a empty -d 'Purge the trash'
complete -c sessionctl -n '__sessionctl_using log' -l since -x -d 'At or after WHEN (a date or an age such as 7d)'
complete -c sessionctl -n '__sessionctl_using log' -l action -x -a 'trash purge restore rename tag untag pin unpin' -d 'Only this action'
complete -c sessionctl -n '__sessionctl_using log' -l id -x -d 'Only this session'
complete -c sessionctl -n '__sessionctl_using log' -s n -l limit -x -d 'At most N records'
complete -c sessionctl -n '__sessionctl_using log' -l json -d 'A JSON array'
complete -c sessionctl -n '__sessionctl_using log' -l jsonl -d 'One record per line'

# resume
complete -c sessionctl -n '__sessionctl_using resume' -l command -x -d 'Agent command; {id}, {workspace}, {file} are replaced'
complete -c sessionctl -n '__sessionctl_using resume' -l print -d 'Print cd WORKSPACE && COMMAND instead'
complete -c sessionctl -n '__sessionctl_using resume' -l context -d 'Print the resume context as JSON'
complete -c sessionctl -n '__sessionctl_using resume' -l force -d 'Resume even if an agent holds it'

# search
complete -c sessionctl -n '__sessionctl_using search' -l workspace -x -a '(__fish_complete_directories)' -d 'Only sessions of this workspace'
complete -c sessionctl -n '__sessionctl_using search' -l here -d 'Only sessions of the current directory'
complete -c sessionctl -n '__sessionctl_using search' -l model -x -d 'Only this model (exact)'
complete -c sessionctl -n '__sessionctl_using search' -l vendor -x -d 'Only this vendor (exact)'
complete -c sessionctl -n '__sessionctl_using search' -l since -x -d 'Updated at or after DATE'
complete -c sessionctl -n '__sessionctl_using search' -l until -x -d 'Updated before DATE'
complete -c sessionctl -n '__sessionctl_using search' -l tag -x -d 'Only sessions with this tag'
complete -c sessionctl -n '__sessionctl_using search' -l pinned -d 'Only pinned sessions'
complete -c sessionctl -n '__sessionctl_using search' -s a -l all -d 'Include sessions without user text'
complete -c sessionctl -n '__sessionctl_using search' -l role -x -a 'user assistant tool system' -d 'Only matches in this role'
complete -c sessionctl -n '__sessionctl_using search' -l trash -d 'Search the trash instead'
complete -c sessionctl -n '__sessionctl_using search' -s n -l limit -x -d 'At most N sessions'
complete -c sessionctl -n '__sessionctl_using search' -l json -d 'A JSON array'
complete -c sessionctl -n '__sessionctl_using search' -l jsonl -d 'One JSON object per line'
complete -c sessionctl -n '__sessionctl_using search' -l reindex -d 'Rebuild the search index first'

# --verbose, on the commands that have it
complete -c sessionctl -n '__sessionctl_using list export-md delete cleanup restore rename tag untag pin unpin search stats' -s v -l verbose -d 'Say more on stderr'

# stats
complete -c sessionctl -n '__sessionctl_using stats' -l by -x -a 'day week month model vendor workspace session tool' -d 'Rows by time, model, vendor, workspace, session or tool'
complete -c sessionctl -n '__sessionctl_using stats' -l metric -x -a 'tokens cost sessions messages' -d 'What the bar column shows'
complete -c sessionctl -n '__sessionctl_using stats' -l workspace -x -a '(__fish_complete_directories)' -d 'Only sessions of this workspace'
complete -c sessionctl -n '__sessionctl_using stats' -l here -d 'Only sessions of the current directory'
complete -c sessionctl -n '__sessionctl_using stats' -l model -x -d 'Only usage of this model (exact)'
complete -c sessionctl -n '__sessionctl_using stats' -l vendor -x -d 'Only usage of this vendor (exact)'
complete -c sessionctl -n '__sessionctl_using stats' -l since -x -d 'Usage at or after DATE'
complete -c sessionctl -n '__sessionctl_using stats' -l until -x -d 'Usage before DATE'
complete -c sessionctl -n '__sessionctl_using stats' -l tag -x -a '(__sessionctl_tags)' -d 'Only sessions with this tag'
complete -c sessionctl -n '__sessionctl_using stats' -l pinned -d 'Only pinned sessions'
complete -c sessionctl -n '__sessionctl_using stats' -s a -l all -d 'Include sessions without user text'
complete -c sessionctl -n '__sessionctl_using stats' -l json -d 'One JSON object'
complete -c sessionctl -n '__sessionctl_using stats' -l csv -d 'The rows as CSV'
complete -c sessionctl -n '__sessionctl_using stats' -l prices -r -F -d 'A price table merged over the shipped one'

# du
complete -c sessionctl -n '__sessionctl_using du' -l by -x -a 'workspace session' -d 'Rows by workspace or by session'
complete -c sessionctl -n '__sessionctl_using du' -s n -l limit -x -d 'At most N rows'
complete -c sessionctl -n '__sessionctl_using du' -l json -d 'One JSON object'


# fish completion for brum: options, the project's process names (after brum, -r and the ctl
# commands that take names), ctl subcommands, directories after -d and themes after --theme.
function __brum_names
    set -l tokens (commandline -opc)
    set -l dir
    set -l i (contains -i -- -d $tokens; or contains -i -- --dir $tokens)
    if test -n "$i"; and test (count $tokens) -gt $i
        set dir -d $tokens[(math $i + 1)]
    end
    brum --list-names $dir 2>/dev/null
end

function __brum_ctl_wants_name
    set -l tokens (commandline -opc)
    set -l i (contains -i -- ctl $tokens)
    test -n "$i"; or return 1
    test (count $tokens) -gt $i; or return 1
    contains -- $tokens[(math $i + 1)] start stop restart kill logs wait
end

set -l ctl_cmds ps start stop restart kill logs errors urls wait quit
complete -c brum -f
complete -c brum -n "not __fish_seen_subcommand_from ctl mcp" -a "(__brum_names)" -d process
complete -c brum -n "__fish_use_subcommand" -a "ctl" -d "drive a running brum"
complete -c brum -n "__fish_use_subcommand" -a "mcp" -d "MCP server for coding agents"
complete -c brum -n "__fish_seen_subcommand_from ctl; and not __fish_seen_subcommand_from $ctl_cmds" -a "$ctl_cmds"
complete -c brum -n "__brum_ctl_wants_name" -a "(__brum_names)" -d process
complete -c brum -s d -l dir -x -a "(__fish_complete_directories)" -d "project directory"
complete -c brum -s r -l run -x -a "(__brum_names)" -d "start a script at launch"
complete -c brum -l headless -d "no UI: print every line"
complete -c brum -s f -l filter -x -d "only lines matching a regex"
complete -c brum -s l -l list -d "print the processes and exit"
complete -c brum -l list-names -d "print the process names and exit"
complete -c brum -l check -d "check the project files and exit"
complete -c brum -l max-lines -x -d "lines kept per process"
complete -c brum -l max-bytes -x -d "log memory kept per process"
complete -c brum -l no-pty -d "pipes instead of a terminal"
complete -c brum -l via-pm -d "run scripts through the package manager"
complete -c brum -l no-detect -d "no error, warning and URL detection"
complete -c brum -l kill-timeout -x -d "grace period before SIGKILL"
complete -c brum -l theme -x -a "default light high-contrast mono" -d "colour theme"
complete -c brum -l log -r -F -d "diagnostics log"
complete -c brum -l concurrency -x -d "-r GLOB: at most N scripts at once"
complete -c brum -l stdin -x -a "(__brum_names)" -d "headless: standard input goes to a script"
complete -c brum -l prefix-key -x -a "C-a C-b C-x" -d "input mode prefix key"
complete -c brum -l log-dir -x -a "(__fish_complete_directories)" -d "write each process output to DIR/NAME.log"
complete -c brum -l log-raw -d "log files keep escape sequences"
complete -c brum -l log-max-size -x -d "rotate a log file at this size"
complete -c brum -l log-keep -x -d "rotated log files kept"
complete -c brum -l no-notify -d "no bell or desktop notification"
complete -c brum -s V -l version -d "print the version"
complete -c brum -s h -l help -d "print the help"

# bash completion for brum: options, the project's process names (after brum, -r and the ctl
# commands that take names), ctl subcommands, directories after -d and themes after --theme.
_brum_names() {
   local dir=() i
   for ((i = 1; i < COMP_CWORD; i++)); do
      case ${COMP_WORDS[i]} in
      -d | --dir) dir=(-d "${COMP_WORDS[i + 1]}") ;;
      esac
   done
   brum --list-names "${dir[@]}" 2>/dev/null
}

_brum() {
   local cur prev ctl=0 i
   cur=${COMP_WORDS[COMP_CWORD]}
   prev=${COMP_WORDS[COMP_CWORD - 1]}
   for ((i = 1; i < COMP_CWORD; i++)); do
      [[ ${COMP_WORDS[i]} == ctl ]] && ctl=i && break
      [[ ${COMP_WORDS[i]} == mcp ]] && ctl=-1 && break
   done
   case $prev in
   -d | --dir)
      COMPREPLY=($(compgen -d -- "$cur"))
      return ;;
   --theme)
      COMPREPLY=($(compgen -W "default light high-contrast mono" -- "$cur"))
      return ;;
   --log)
      COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
   --log-dir)
      COMPREPLY=($(compgen -d -- "$cur"))
      return ;;
   --stdin)
      COMPREPLY=($(compgen -W "$(_brum_names)" -- "$cur"))
      return ;;
   -f | --filter | --max-lines | --max-bytes | --kill-timeout | --for | --timeout | -n | --cursor | \
      --concurrency | --prefix-key | --log-max-size | --log-keep)
      return ;;
   esac
   if ((ctl > 0)); then
      if ((COMP_CWORD == ctl + 1)); then
         COMPREPLY=($(compgen -W "ps start stop restart kill logs errors urls wait quit --json -d --help" -- "$cur"))
         return
      fi
      case ${COMP_WORDS[ctl + 1]} in
      start | stop | restart | kill | logs | wait)
         if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "-w --wait --timeout -f --follow -n --cursor --filter --for --from" -- "$cur"))
         else
            COMPREPLY=($(compgen -W "$(_brum_names)" -- "$cur"))
         fi ;;
      esac
      return
   fi
   ((ctl < 0)) && { COMPREPLY=($(compgen -W "-d --dir --read-only --via-pm --help" -- "$cur")); return; }
   if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "$(brum --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u) -d -r -f -l -V -h" -- "$cur"))
      return
   fi
   local words
   words=$(_brum_names)
   ((COMP_CWORD == 1)) && words="$words ctl mcp"
   COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _brum brum

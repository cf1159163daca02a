#!/bin/sh
# A quiet watcher: one line every ten seconds until stopped.
esc=$(printf '\033')
dim="${esc}[2m" reset="${esc}[0m"

printf 'watching src/ for changes...\n'
while :; do
   sleep 10
   printf '%s%s%s no changes\n' "$dim" "$(date +%H:%M:%S)" "$reset"
done

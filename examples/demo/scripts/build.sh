#!/bin/sh
# A bundler build: a \r progress line, a warning, a summary.
esc=$(printf '\033')
green="${esc}[32m" yellow="${esc}[33m" dim="${esc}[2m" bold="${esc}[1m" reset="${esc}[0m"

printf '%svite v5.0.0 %sbuilding for production...%s\n' "$bold" "$green" "$reset"
for pct in 10 20 30 40 50 60 70 80 90 100; do
   printf '\rbuilding... %s%%' "$pct"
   sleep 0.1
done
printf '\n'
printf '%s✓%s 42 modules transformed.\n' "$green" "$reset"
printf '%sdist/%sindex.html                 0.46 kB\n' "$dim" "$reset"
printf '%sdist/%sassets/index-4f9c2a1b.css  8.12 kB\n' "$dim" "$reset"
printf '%sdist/%sassets/index-9d3e7f0c.js   612.40 kB\n' "$dim" "$reset"
printf '%swarning: chunk size exceeds 500 kB%s after minification; consider code splitting\n' "$yellow" "$reset"
printf '%s✓ built in 1.02s%s\n' "$green" "$reset"
exit 0

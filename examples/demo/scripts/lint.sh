#!/bin/sh
# ESLint-style report: two errors and a warning, then a failing exit.
esc=$(printf '\033')
red="${esc}[31m" yellow="${esc}[33m" dim="${esc}[2m" bold="${esc}[1m" ul="${esc}[4m" reset="${esc}[0m"

dir=$(pwd)
printf '\n%s%s/src/App.tsx%s\n' "$ul" "$dir" "$reset"
printf '  %s10:5%s   %serror%s    '"'"'x'"'"' is assigned a value but never used  %sno-unused-vars%s\n' \
   "$dim" "$reset" "$red" "$reset" "$dim" "$reset"
printf '  %s14:11%s  %swarning%s  Unexpected console statement               %sno-console%s\n' \
   "$dim" "$reset" "$yellow" "$reset" "$dim" "$reset"
printf '\n%s%s/src/utils/format.ts%s\n' "$ul" "$dir" "$reset"
printf '  %s3:1%s    %serror%s    '"'"'lodash'"'"' is defined but never used     %sno-unused-vars%s\n\n' \
   "$dim" "$reset" "$red" "$reset" "$dim" "$reset"
printf '%s✖ 3 problems (2 errors, 1 warning)%s\n\n' "$red$bold" "$reset"
exit 1

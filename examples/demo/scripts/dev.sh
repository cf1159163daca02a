#!/bin/sh
# A Vite-like dev server: a banner, then a log line every second until stopped.
esc=$(printf '\033')
green="${esc}[32m" cyan="${esc}[36m" yellow="${esc}[33m" dim="${esc}[2m" bold="${esc}[1m" reset="${esc}[0m"

printf '\n  %sVITE v5.0.0%s  %sready in %s312 ms%s\n\n' "$green$bold" "$reset" "$dim" "$reset$bold" "$reset"
printf '  %s➜%s  %sLocal%s:   %shttp://localhost:5173/%s\n' "$green" "$reset" "$bold" "$reset" "$cyan" "$reset"
printf '  %s➜%s  %sNetwork%s: %shttp://192.168.1.20:5173/%s\n' "$green" "$reset" "$bold" "$reset" "$cyan" "$reset"
printf '  %s➜  press h + enter to show help%s\n\n' "$dim" "$reset"

i=0
while :; do
   sleep 1
   i=$((i + 1))
   now=$(date +%H:%M:%S)
   case $((i % 7)) in
   0) printf '%s%s%s %s[vite]%s warning: %s/src/legacy.js%s uses a deprecated import.meta.glob option\n' \
         "$dim" "$now" "$reset" "$yellow$bold" "$reset" "$dim" "$reset" ;;
   3) printf '%s%s%s %s[vite]%s page reload %s/index.html%s\n' \
         "$dim" "$now" "$reset" "$cyan$bold" "$reset" "$dim" "$reset" ;;
   *) case $((i % 3)) in
      0) file=/src/App.tsx ;;
      1) file=/src/components/Header.tsx ;;
      *) file=/src/styles/main.css ;;
      esac
      printf '%s%s%s %s[hmr]%s update %s%s%s\n' "$dim" "$now" "$reset" "$green$bold" "$reset" "$dim" "$file" "$reset" ;;
   esac
done

#!/bin/sh
# A Jest-like run with one failing test: pass/fail lines, an assertion block, a summary.
esc=$(printf '\033')
red="${esc}[31m" green="${esc}[32m" dim="${esc}[2m" bold="${esc}[1m" reset="${esc}[0m"
pass="${esc}[42;30;1m" fail="${esc}[41;37;1m"

sleep 0.2
printf '%s PASS %s %ssrc/%sa.test.js%s\n' "$pass" "$reset" "$dim" "$reset$bold" "$reset"
sleep 0.2
printf '%s FAIL %s %ssrc/%sb.test.js%s\n' "$fail" "$reset" "$dim" "$reset$bold" "$reset"
printf '  %s● sum › adds numbers%s\n\n' "$red$bold" "$reset"
printf '    %sexpect(%sreceived%s).toBe(%sexpected%s) // Object.is equality%s\n\n' \
   "$dim" "$red" "$dim" "$green" "$dim" "$reset"
printf '    Expected: %s5%s\n' "$green" "$reset"
printf '    Received: %s4%s\n\n' "$red" "$reset"
printf '    %s  3 |%s test("adds numbers", () => {\n' "$dim" "$reset"
printf '    %s  4 |%s   const total = sum(2, 2);\n' "$dim" "$reset"
printf '    %s>%s %s5 |%s   expect(total).toBe(5);\n' "$red$bold" "$reset" "$dim" "$reset"
printf '    %s    |%s                 %s^%s\n' "$dim" "$reset" "$red$bold" "$reset"
printf '    %s  6 |%s });\n\n' "$dim" "$reset"
printf '      %sat Object.<anonymous> (%ssrc/b.test.js%s:5:17)%s\n\n' "$dim" "$reset" "$dim" "$reset"
printf '%sTests:%s       %s1 failed%s, %s11 passed%s, 12 total\n' "$bold" "$reset" "$red$bold" "$reset" "$green$bold" "$reset"
printf '%sSnapshots:%s   0 total\n' "$bold" "$reset"
printf '%sTime:%s        0.842 s\n' "$bold" "$reset"
printf '%sRan all test suites.%s\n' "$dim" "$reset"
exit 1

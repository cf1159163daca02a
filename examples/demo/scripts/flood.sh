#!/bin/sh
# As many ~100-byte lines as fast as possible (FLOOD_LINES, default 100000); every 10th coloured.
exec awk 'BEGIN {
   n = ENVIRON["FLOOD_LINES"]
   if (n == "") n = 100000
   pad = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt"
   for (i = 1; i <= n; i++) {
      if (i % 10 == 0)
         printf "\033[36m%08d\033[0m \033[33mflood\033[0m %s\n", i, pad
      else
         printf "%08d flood %s\n", i, pad
   }
}'

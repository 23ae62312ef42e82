#!/bin/sh
cat /app/greeting.txt
echo "files in /app: $(ls /app | tr '\n' ' ')"

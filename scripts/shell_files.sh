#!/usr/bin/env bash
# shell_files.sh: prints every shell script of the repository, one path per
# line relative to its root, for `make lint-sh`. A shell script is a *.sh
# file, a file whose first line is a sh, bash or dash shebang (runit run and
# finish files, my_init.d scripts, image/tools/*), or a sourced file that
# names its shell with a `# shellcheck shell=` directive in its first 5 lines
# (image/buildconfig). Skips what is not ours: .git, node_modules, .cache
# and the build outputs build/ and dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

find . \( -name .git -o -name node_modules -o -path ./.cache \
  -o -path ./build -o -path ./dist \) -prune -o -type f -print |
  sed 's|^\./||' | LC_ALL=C sort |
  while IFS= read -r file; do
    if [[ $file == *.sh ]] || awk '
      NR == 1 && /^#!.*[\/ ](ba|da)?sh([ \t]|$)/ { found = 1 }
      /^# shellcheck shell=(ba|da)?sh([ \t]|$)/ { found = 1 }
      found || NR == 5 { exit }
      END { exit !found }' "$file"; then
      printf '%s\n' "$file"
    fi
  done

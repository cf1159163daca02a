#!/usr/bin/env bash
# The installed tree: `cmake --install` puts brum, its themes, the man page and the bash, zsh and
# fish completions where those tools look; the man page is lint-clean and documents every option
# of `brum --help`; the completions complete the process names of the project in the current
# directory. Usage: tests/pkg/test_install.sh BUILD_DIR (a build configured with prefix /usr).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
dest=$build/pkg-dest
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$dest"
DESTDIR=$dest cmake --install "$build" >/dev/null
for f in usr/bin/brum usr/share/man/man1/brum.1 usr/share/bash-completion/completions/brum \
   usr/share/zsh/vendor-completions/_brum usr/share/fish/vendor_completions.d/brum.fish \
   usr/share/brum/themes/default.theme usr/share/brum/themes/light.theme; do
   [ -f "$dest/$f" ] || fail "cmake --install did not install /$f"
done
brum=$dest/usr/bin/brum
"$brum" --version | grep -q '^brum [0-9]' || fail "the installed brum does not run"

# the man page: mandoc's lint, groff's warnings, and every long option of --help
mandoc -T lint -W warning "$dest/usr/share/man/man1/brum.1" || fail "mandoc -T lint"
warn=$(groff -ww -mdoc -Tutf8 "$dest/usr/share/man/man1/brum.1" 2>&1 >/dev/null) || true
[ -z "$warn" ] || fail "groff warns: $warn"
page=$(mandoc -T ascii "$dest/usr/share/man/man1/brum.1" | sed "s/.\x08//g") # no overstrike
for opt in $("$brum" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
   grep -q -- "$opt" <<<"$page" || fail "brum(1) does not document $opt (it is in brum --help)"
done

# the completions, run against the demo project with the installed brum first on PATH
cd "$src/examples/demo"
export PATH=$dest/usr/bin:$PATH
got=$(bash -c 'source "$1"; COMP_WORDS=(brum ""); COMP_CWORD=1; _brum; echo "${COMPREPLY[*]}"
   COMP_WORDS=(brum -r bu); COMP_CWORD=2; _brum; echo "${COMPREPLY[*]}"
   COMP_WORDS=(brum ctl restart w); COMP_CWORD=3; _brum; echo "${COMPREPLY[*]}"' _ \
   "$dest/usr/share/bash-completion/completions/brum")
grep -qx 'dev build test lint watch flood ctl mcp' <<<"$(head -1 <<<"$got")" ||
   fail "bash: brum <Tab> gave '$(head -1 <<<"$got")'"
grep -qx 'build' <<<"$(sed -n 2p <<<"$got")" || fail "bash: brum -r bu<Tab> gave '$(sed -n 2p <<<"$got")'"
grep -qx 'watch' <<<"$(sed -n 3p <<<"$got")" || fail "bash: brum ctl restart w<Tab>"
zsh -n "$dest/usr/share/zsh/vendor-completions/_brum" || fail "zsh cannot parse _brum"
fishc() { fish -c "source $dest/usr/share/fish/vendor_completions.d/brum.fish; complete -C '$1'" | cut -f1 | tr '\n' ' '; }
[ "$(fishc 'brum -r wa')" = "watch " ] || fail "fish: brum -r wa<Tab> gave '$(fishc 'brum -r wa')'"
[[ "$(fishc 'brum ctl ')" == *restart* ]] || fail "fish: brum ctl <Tab>"
[[ "$(fishc 'brum ctl stop ')" == *flood* ]] || fail "fish: brum ctl stop <Tab>"
echo "install tree, man page and completions: ok"

#!/usr/bin/env bash
# Run every fuzz target of the module for FUZZTIME each (default 60s), one
# after another, and stop at the first crash.
#
#   FUZZTIME=30s scripts/fuzz.sh [PACKAGES...]   (default ./...)
#
# A crash leaves its input under the package's testdata/fuzz/FuzzXxx/; keep
# it as a seed once fixed.
set -euo pipefail
shopt -s nullglob

fuzztime=${FUZZTIME:-60s}
[ $# -gt 0 ] || set -- ./...

targets=0
while read -r dir pkg; do
	[ -n "$dir" ] || continue
	# Fuzz targets live in _test.go files as func FuzzXxx(f *testing.F);
	# many packages have no test files at all.
	tests=("$dir"/*_test.go)
	[ ${#tests[@]} -gt 0 ] || continue
	names=$(sed -n -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "${tests[@]}" | sort -u)
	for name in $names; do
		targets=$((targets + 1))
		echo "fuzz: $pkg $name for $fuzztime"
		if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"; then
			echo "fuzz: $pkg $name FAILED; the crasher is in $dir/testdata/fuzz/$name/" >&2
			exit 1
		fi
	done
done < <(go list -f '{{.Dir}} {{.ImportPath}}' "$@")

if [ "$targets" -eq 0 ]; then
	echo "fuzz: no fuzz targets found in $*" >&2
	exit 1
fi
echo "fuzz: $targets targets ran for $fuzztime each without a crash"

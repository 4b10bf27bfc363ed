#!/bin/sh
# lsqupload-nightly.sh - the nightly pattern for lsqupload.
#
# Uploads MANIFEST, then reruns that night's failures once, and keeps the
# night's outputs in a dated folder, as NAME.failures.csv (first pass),
# NAME.retry.failures.csv (still failing after the rerun) and
# NAME.results.csv (a copy of the ledger), NAME being the manifest's. The results file beside the manifest
# is the ledger: rows it records as uploaded are never sent again, so the
# same command can run every night over a manifest that grows.
#
# Usage: lsqupload-nightly.sh MANIFEST [lsqupload run flags...]
#   e.g. lsqupload-nightly.sh /srv/kyc/manifest.csv --region in21 \
#          --credentials /etc/lsqupload/credentials
#
# Environment (all optional):
#   LSQUPLOAD  the lsqupload binary (default: lsqupload on PATH)
#   LSQ_RUNS   folder holding one folder per night (default: runs/ beside
#              the manifest)
#   LSQ_NIGHT  name of tonight's folder (default: today, YYYY-MM-DD)
#
# Exit code: that of the last lsqupload run (0 all done, 1 rows failed or
# were rejected, 2 could not start, 3 another run holds the lock, 4 stopped
# by --max-duration, 130 interrupted).
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 MANIFEST [lsqupload run flags...]" >&2
	exit 2
fi
manifest=$1
shift

bin=${LSQUPLOAD:-lsqupload}
dir=$(cd "$(dirname "$manifest")" && pwd) || exit 2
base=$(basename "$manifest")
stem=${base%.*}
night="${LSQ_RUNS:-$dir/runs}/${LSQ_NIGHT:-$(date +%Y-%m-%d)}"
ledger="$dir/$stem.results.csv"
for arg in "$@"; do
	# A rehearsal keeps a ledger of its own, apart from the real one.
	case $arg in
	--sandbox=false | -sandbox=false | --sandbox=0 | -sandbox=0 | --sandbox=f | -sandbox=f) ;;
	--sandbox | -sandbox | --sandbox=* | -sandbox=*)
		ledger="$dir/$stem.sandbox.results.csv"
		night="$night-sandbox" ;;
	esac
done

# Outputs name identity documents: keep them private. Each manifest's
# files in the night's folder carry its name, so manifests can share it.
umask 077
mkdir -p "$night" || exit 2
failures="$night/$stem.failures.csv"

"$bin" run "$@" --results "$ledger" --failures "$failures" "$dir/$base" </dev/null
code=$?

# Rerun the failures once when the first pass finished with some. The
# failures CSV is itself a manifest; its outcomes go into the same ledger.
if [ "$code" -eq 1 ] && [ "$(wc -l <"$failures")" -gt 1 ]; then
	echo "lsqupload-nightly: rerunning the failures of $stem once" >&2
	"$bin" run "$@" --results "$ledger" --failures "$night/$stem.retry.failures.csv" \
		"$failures" </dev/null
	code=$?
fi

if [ -f "$ledger" ]; then
	cp -p "$ledger" "$night/$stem.results.csv"
fi
echo "lsqupload-nightly: exit $code; outputs in $night" >&2
exit "$code"

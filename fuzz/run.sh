#!/usr/bin/env bash
# Runs one fuzz target: `fuzz/run.sh <target> [seconds]` (default 600).
#
# New inputs go to fuzz/work/<target> (not committed); the committed seeds in
# fuzz/corpus/<target> and fuzz/regressions/<target> are read only. Crashes land in fuzz/artifacts/<target>.
# Memory is capped so that an allocation decided by a header alone is a
# finding: 512 MB in all, 256 MB for any one allocation.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh <target> [seconds]}
seconds=${2:-600}
toolchain=+nightly
if ! cargo +nightly --version >/dev/null 2>&1; then
    # Stable accepts the nightly-only flags cargo-fuzz passes with this.
    toolchain=
    export RUSTC_BOOTSTRAP=1
fi
mkdir -p "work/$target"
seeds=("corpus/$target")
if [ -d "regressions/$target" ]; then seeds+=("regressions/$target"); fi
exec nice -n 19 cargo $toolchain fuzz run "$target" "work/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb=512 -malloc_limit_mb=256 -timeout=10 \
    -print_final_stats=1

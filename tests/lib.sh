# Shared helpers for the shell-driven tests (integration and VM).
# Each test prints "ok"/"FAIL" lines per check and exits 0, 1 or 77 (skipped).
# A test that cannot run some of its cases calls skip_part: finish then exits
# 77 unless a check failed, so a partial run is never reported as a pass.

BERTH_SOURCE_ROOT=${BERTH_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# `berth publish` writes usr image patches at zstd level 19 by default, about
# 20-30 s each for the default image here; tests publish many releases, so a
# cheaper level (docs/updates.md, "Patches").
export BERTH_PATCH_LEVEL=${BERTH_PATCH_LEVEL:-12}
_checks_failed=0
_checks_passed=0
_parts_skipped=0

step() {
        echo "--- $*"
}

skip() {
        echo "SKIP: $*"
        exit 77
}

skip_part() {
        echo "SKIP (part): $*"
        _parts_skipped=$((_parts_skipped + 1))
}

need() {
        command -v "$1" >/dev/null 2>&1 || skip "$1 is not installed"
}

check() {
        local what=$1
        shift
        if "$@"; then
                echo "ok   - $what"
                _checks_passed=$((_checks_passed + 1))
        else
                echo "FAIL - $what"
                _checks_failed=$((_checks_failed + 1))
        fi
}

# The command must fail (non-zero) for the check to pass.
check_fails() {
        local what=$1
        shift
        if "$@" >/dev/null 2>&1; then
                echo "FAIL - $what (it succeeded)"
                _checks_failed=$((_checks_failed + 1))
        else
                echo "ok   - $what"
                _checks_passed=$((_checks_passed + 1))
        fi
}

finish() {
        echo "checks: $_checks_passed passed, $_checks_failed failed, $_parts_skipped parts skipped"
        [ "$_checks_failed" -eq 0 ] || return 1
        [ "$_parts_skipped" -eq 0 ] || return 77
}

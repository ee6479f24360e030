#!/bin/sh
# expect_cli.sh <exit code> <text> <command...>: runs the command (stdout discarded) and checks its
# exit code, that stderr is one line, and that it contains <text>. For the CLI robustness tests.
want_rc=$1 needle=$2
shift 2
err=$("$@" 2>&1 >/dev/null)
rc=$?
[ "$rc" -eq "$want_rc" ] || { echo "exit $rc, expected $want_rc; stderr: $err"; exit 1; }
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || { echo "stderr is not one line: $err"; exit 1; }
case "$err" in *"$needle"*) ;; *) echo "stderr lacks '$needle': $err"; exit 1 ;; esac
echo "ok: $err"

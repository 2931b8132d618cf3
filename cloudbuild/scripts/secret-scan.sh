#!/usr/bin/env bash
# The secret-scan gate (ci.yaml step secret-scan, `make security`, cloudbuild/scripts/ci-local.sh):
# detect-secrets over every tracked file, failing only on a secret that .secrets.baseline
# does not list. Each listed fixture is named, with the reason it is not a secret, in
# .gitleaks.toml (tests/deploy/test_secret_scans.py keeps the two lists equal).
#
# detect-secrets-hook is a pre-commit hook: when a listed fixture merely moved to another
# line it rewrites the baseline's line numbers and exits non-zero, asking for a `git add`.
# A gate must neither fail for that nor dirty the tree, so the hook reads a copy of the
# baseline and, when the first run only refreshed line numbers, runs once more: the second
# run fails only on a secret the baseline does not list.
#
#   DETECT_SECRETS_HOOK=.venv/bin/detect-secrets-hook cloudbuild/scripts/secret-scan.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
hook="${DETECT_SECRETS_HOOK:-detect-secrets-hook}"
copy="$(mktemp --suffix=.baseline)"
trap 'rm -f "$copy"' EXIT
cp .secrets.baseline "$copy"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files | grep -vx '.secrets.baseline')
else
  mapfile -t files < <(find . -type f -not -path './.git/*' -not -path './.venv/*' \
    -not -name .secrets.baseline | sed 's#^\./##')
fi
if ! "$hook" --baseline "$copy" "${files[@]}" >/dev/null 2>&1; then
  "$hook" --baseline "$copy" "${files[@]}"
fi
echo "secret-scan: ${#files[@]} files, no secret outside .secrets.baseline"

#!/usr/bin/env bash
# The pull-request pipeline (cloudbuild/ci.yaml) reproduced here, step by step, in its
# order: each step's own script, read from ci.yaml, runs with the local tools (`make
# ci-local`, and .ci/run on a clean clone). Only what cannot run here is stood in for:
#
#   start-postgres, start-redis, wait-databases   Docker containers on Cloud Build's network;
#       here the machine's PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL) must
#       answer instead, and the unit tests use them under the same variables.
#   pip-audit                                     --strict fails when a package cannot be
#       looked up, and PyPI's per-version JSON API cannot be reached from this machine, so
#       the step runs without --strict: every vulnerability found still fails it, and each
#       package it could not audit is listed.
#
# A step of ci.yaml this script has no rule for stops it, so the two cannot drift apart
# (tests/deploy/test_ci_local.py checks that as well). gitleaks and trivy belong to
# security.yaml, not to the pull-request pipeline: their binaries come from GitHub and
# Docker Hub, which this machine cannot reach.
#
# CI_LOCAL_SKIP names steps another part of the same run has already done (.ci/run runs
# `make test`, a superset of unit-tests on the same servers, just before); each is
# reported as skipped, never as passed.
#
#   TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
#   TEST_REDIS_URL=redis://127.0.0.1:6379/0 cloudbuild/scripts/ci-local.sh [STEP...]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
PY="$ROOT/.venv/bin/python"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:?TEST_DATABASE_URL is required (the local PostgreSQL)}"
export TEST_REDIS_URL="${TEST_REDIS_URL:?TEST_REDIS_URL is required (the local Redis)}"
[ -x "$PY" ] || make install

# steps: "id<TAB>name<TAB>entrypoint<TAB>base64(json args)<TAB>base64(json env)" per step, in order.
steps() {
  "$PY" - <<'EOF'
import base64, json, yaml
for s in yaml.safe_load(open("cloudbuild/ci.yaml"))["steps"]:
    enc = lambda v: base64.b64encode(json.dumps(v).encode()).decode()
    print("\t".join([s["id"], s["name"], s.get("entrypoint", ""), enc(s.get("args", [])), enc(s.get("env", []))]))
EOF
}
decode() { base64 -d <<<"$1"; }

# ci.yaml's step as a local command line: Cloud Build's $$ is the shell's $, /workspace is
# this checkout, the databases' container names are the local servers.
localize() {
  sed -e 's/\$\$/$/g' -e "s#/workspace#$ROOT#g" \
    -e "s#postgresql://postgres@postgres:5432/postgres#$TEST_DATABASE_URL#g" \
    -e "s#redis://redis:6379/0#$TEST_REDIS_URL#g"
}

run_script() { # run_script ENTRYPOINT ARGS_JSON ENV_JSON
  local entrypoint="$1" argv=() variables=() overrides=() e
  mapfile -d '' -t argv < <(decode "$2" | "$PY" -c \
    'import json,sys; sys.stdout.write("".join(a + "\0" for a in json.load(sys.stdin)))' | localize)
  mapfile -t variables < <(decode "$3" | "$PY" -c \
    'import json,sys; [print(e) for e in json.load(sys.stdin)]' | localize)
  for e in "${variables[@]}"; do
    case "$e" in
      PATH=*) overrides+=("PATH=$ROOT/.venv/bin:$PATH") ;;
      *) overrides+=("$e") ;;
    esac
  done
  env "${overrides[@]}" "$entrypoint" "${argv[@]}"
}

check_postgres() { "$PY" -c 'import asyncio, asyncpg, os; asyncio.run(asyncpg.connect(os.environ["TEST_DATABASE_URL"], timeout=5))'; }
check_redis() { "$PY" -c 'import os, redis; redis.Redis.from_url(os.environ["TEST_REDIS_URL"], socket_timeout=5).ping()'; }

only=" $* "
skip=" ${CI_LOCAL_SKIP:-} "
passed=0
skipped=0
while IFS=$'\t' read -r id name entrypoint args env; do
  if [ -n "${*:-}" ] && [[ "$only" != *" $id "* ]]; then continue; fi
  echo "== ci.yaml step $id"
  if [[ "$skip" == *" $id "* ]]; then
    echo "skipped (CI_LOCAL_SKIP): run elsewhere in this run"
    skipped=$((skipped + 1))
    continue
  fi
  case "$id" in
    # (one command a line: under `set -e` a failed check inside an && list would not stop us)
    start-postgres)
      check_postgres
      echo "the local PostgreSQL ($TEST_DATABASE_URL) stands in for $name"
      ;;
    start-redis)
      check_redis
      echo "the local Redis ($TEST_REDIS_URL) stands in for $name"
      ;;
    wait-databases)
      check_postgres
      check_redis
      echo "PostgreSQL and Redis answer"
      ;;
    pip-audit)
      decode "$args" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[-1])' | localize \
        | sed 's/pip-audit --strict /pip-audit /' >"${TMPDIR:-/tmp}/ci-local-pip-audit.sh"
      PATH="$ROOT/.venv/bin:$PATH" bash -c "$(cat "${TMPDIR:-/tmp}/ci-local-pip-audit.sh")"
      ;;
    secret-scan | install | lint | typecheck | unit-tests | bandit)
      if [ "$entrypoint" = make ]; then
        make "$(decode "$args" | "$PY" -c 'import json,sys; print(*json.load(sys.stdin))')"
      else
        run_script "$entrypoint" "$args" "$env"
      fi
      ;;
    *) echo "ci.yaml step '$id' has no local rule in $0" >&2; exit 1 ;;
  esac
  passed=$((passed + 1))
done < <(steps)
echo "ci-local: $passed ci.yaml steps passed, $skipped skipped"

#!/usr/bin/env bash
# Progressive, reversible releases with Knative traffic (cloudbuild/deploy.yaml, make rollback).
#
#   release.sh candidate RELEASE.yaml  pin each Service's traffic to its serving revision
#                                      (tag `current`), apply the release: the new revisions
#                                      get no traffic and the tag `candidate`
#   release.sh wait                    every Service Ready on its new revision
#   release.sh smoke candidate|current IMAGE
#                                      the smoke Job (knative/jobs/smoke-test.yaml) against
#                                      the tagged candidate URLs or the Services' own URLs
#   release.sh promote                 traffic to the candidates (CANARY_PERCENT, when set,
#                                      first sends that share for CANARY_SECONDS and checks
#                                      the candidates stay Ready); the old revision keeps the
#                                      tag `previous`
#   release.sh abort                   traffic stays on (or returns to) the pinned revision
#   release.sh rollback                every Service back to its previous revision
#
# Knative's tags give each revision its own address, cluster-local
# (http://candidate-<name>.ai-codereview.svc.cluster.local) and public
# (https://candidate-<name>.ai-codereview.DOMAIN), without moving any traffic.
#
# Revisions are pinned by name, never `latestRevision: true`, so an apply alone can create
# a revision but never route users to it. The revision that served before a release is
# kept in the annotation ai-codereview.dev/stable-revision (what abort returns to), the one
# before a promotion in ai-codereview.dev/previous-revision (what rollback returns to; a
# second rollback undoes the first).
#
# DRY_RUN=1 prints every kubectl/gcloud command and runs none; a value only the cluster
# knows prints as <name-current> or <name-new>. With PROJECT_ID (and ENV, REGION) set it
# first fetches the credentials of cluster ai-codereview-ENV.
set -euo pipefail
cd "$(dirname "$0")/../.."
NAMESPACE="${NAMESPACE:-ai-codereview}"
DRY_RUN="${DRY_RUN:-}"
STABLE=ai-codereview.dev/stable-revision
PREVIOUS=ai-codereview.dev/previous-revision
JOB=knative/jobs/smoke-test.yaml

line() { printf '%q ' "$@" | sed 's/ $//'; }
run() {
  echo "+ $(line "$@")"
  [ -n "$DRY_RUN" ] || "$@"
}
# read_value PLACEHOLDER CMD...: what a read-only CMD prints, <PLACEHOLDER> in a dry run.
read_value() {
  local placeholder="$1"
  shift
  echo "? $(line "$@")" >&2
  if [ -n "$DRY_RUN" ]; then echo "<$placeholder>"; else "$@"; fi
}
# Knative Services of the platform: one file each under knative/base (STYLE rule 18).
services() {
  grep -l '^apiVersion: serving.knative.dev/v1' knative/base/*.yaml | xargs -n1 basename | sed 's/\.yaml$//'
}
exists() { [ -n "$DRY_RUN" ] || kubectl -n "$NAMESPACE" get ksvc "$1" >/dev/null 2>&1; }
# serving NAME: the revision with the largest share of NAME's traffic now.
serving() {
  read_value "$1-current" kubectl -n "$NAMESPACE" get ksvc "$1" \
    -o 'jsonpath={range .status.traffic[*]}{.percent} {.revisionName}{"\n"}{end}' |
    sort -rn | awk 'NR==1 {print $NF}'
}
annotation() {
  read_value "$1-${3:-$2}" kubectl -n "$NAMESPACE" get ksvc "$1" \
    -o "jsonpath={.metadata.annotations.${2//./\\.}}"
}
newest() {
  read_value "$1-new" kubectl -n "$NAMESPACE" get ksvc "$1" -o 'jsonpath={.status.latestReadyRevisionName}'
}
traffic() { # traffic NAME JSON-LIST
  run kubectl -n "$NAMESPACE" patch ksvc "$1" --type=merge -p "{\"spec\":{\"traffic\":$2}}"
}
annotate() { # annotate NAME KEY VALUE
  run kubectl -n "$NAMESPACE" annotate ksvc "$1" --overwrite "$2=$3"
}
credentials() {
  if [ -n "${PROJECT_ID:-}" ]; then
    run gcloud container clusters get-credentials "ai-codereview-${ENV:?ENV is required}" \
      --region="${REGION:-europe-west1}" --project="$PROJECT_ID"
  fi
}

candidate() {
  local release="${1:?usage: release.sh candidate RELEASE.yaml}" name current
  for name in $(services); do
    if exists "$name"; then
      current="$(serving "$name")"
      annotate "$name" "$STABLE" "$current"
      traffic "$name" "[{\"revisionName\":\"$current\",\"percent\":100,\"tag\":\"current\"},{\"latestRevision\":true,\"percent\":0,\"tag\":\"candidate\"}]"
    fi
  done
  run kubectl apply -f "$release"
  for name in $(services); do
    # A first release has nothing to protect: its only revision takes the traffic.
    if [ -z "$DRY_RUN" ] && [ -z "$(annotation "$name" "$STABLE")" ]; then
      traffic "$name" '[{"latestRevision":true,"percent":100,"tag":"candidate"}]'
    fi
  done
}

wait_ready() {
  local name generation
  for name in $(services); do
    generation="$(read_value "$name-generation" kubectl -n "$NAMESPACE" get ksvc "$name" -o 'jsonpath={.metadata.generation}')"
    run kubectl -n "$NAMESPACE" wait "ksvc/$name" --timeout=300s \
      --for="jsonpath={.status.observedGeneration}=$generation"
    run kubectl -n "$NAMESPACE" wait "ksvc/$name" --timeout=300s --for=condition=Ready
  done
  run kubectl -n "$NAMESPACE" get ksvc -l app.kubernetes.io/part-of=ai-codereview
}

smoke() {
  local mode="${1:?usage: release.sh smoke candidate|current IMAGE}" image="${2:?image}" prefix="" name
  [ "$mode" = candidate ] && prefix="candidate-"
  [ "$mode" = candidate ] || [ "$mode" = current ] || { echo "mode: candidate or current" >&2; exit 2; }
  url() { echo "http://$prefix$1.$NAMESPACE.svc.cluster.local"; }
  local health=()
  for name in $(services); do health+=("$(url "$name")"); done
  echo "+ kubectl -n $NAMESPACE create configmap smoke-test --from-file=smoke.py=cloudbuild/scripts/smoke.py --dry-run=client -o yaml | kubectl apply -f -"
  [ -n "$DRY_RUN" ] || kubectl -n "$NAMESPACE" create configmap smoke-test \
    --from-file=smoke.py=cloudbuild/scripts/smoke.py --dry-run=client -o yaml | kubectl apply -f -
  run kubectl -n "$NAMESPACE" delete job smoke-test --ignore-not-found --wait=true
  local env=("AUTH_TOKENS_URL=$(url auth-tokens)" "PROJECTS_URL=$(url projects)"
    "PROJECT_FILES_URL=$(url project-files)" "ANALYSES_URL=$(url analyses)"
    "HEALTH_URLS=${health[*]}")
  echo "+ kubectl set image --local -f $JOB smoke=$image -o yaml | kubectl set env --local -f - $(line "${env[@]}") -o yaml | kubectl apply -f -"
  [ -n "$DRY_RUN" ] || kubectl set image --local -f "$JOB" "smoke=$image" -o yaml |
    kubectl set env --local -f - "${env[@]}" -o yaml | kubectl apply -f -
  local succeeded="" failed=""
  for _ in $(seq 120); do
    [ -z "$DRY_RUN" ] || { succeeded=1; break; }
    succeeded="$(kubectl -n "$NAMESPACE" get job smoke-test -o 'jsonpath={.status.succeeded}')"
    failed="$(kubectl -n "$NAMESPACE" get job smoke-test -o 'jsonpath={.status.conditions[?(@.type=="Failed")].status}')"
    [ "$succeeded" = 1 ] || [ "$failed" = True ] && break
    sleep 5
  done
  run kubectl -n "$NAMESPACE" logs job/smoke-test --tail=200 || true
  [ "$succeeded" = 1 ] || { echo "Smoke test against the $mode revisions failed." >&2; exit 1; }
}

promote() {
  local name stable new
  if [ -n "${CANARY_PERCENT:-}" ]; then
    for name in $(services); do
      stable="$(annotation "$name" "$STABLE" stable)"
      new="$(newest "$name")"
      [ -z "$stable" ] || [ "$stable" = "$new" ] ||
        traffic "$name" "[{\"revisionName\":\"$stable\",\"percent\":$((100 - CANARY_PERCENT)),\"tag\":\"current\"},{\"revisionName\":\"$new\",\"percent\":$CANARY_PERCENT,\"tag\":\"candidate\"}]"
    done
    run sleep "${CANARY_SECONDS:-120}"
    for name in $(services); do
      run kubectl -n "$NAMESPACE" wait "ksvc/$name" --timeout=60s --for=condition=Ready
    done
  fi
  for name in $(services); do
    stable="$(annotation "$name" "$STABLE" stable)"
    new="$(newest "$name")"
    if [ -n "$stable" ] && [ "$stable" != "$new" ]; then
      traffic "$name" "[{\"revisionName\":\"$new\",\"percent\":100,\"tag\":\"current\"},{\"revisionName\":\"$stable\",\"percent\":0,\"tag\":\"previous\"}]"
      annotate "$name" "$PREVIOUS" "$stable"
    else
      traffic "$name" "[{\"revisionName\":\"$new\",\"percent\":100,\"tag\":\"current\"}]"
    fi
  done
}

abort() {
  local name stable
  for name in $(services); do
    stable="$(annotation "$name" "$STABLE" stable)"
    [ -n "$stable" ] || { echo "  $name: first release, no revision to return to" >&2; continue; }
    traffic "$name" "[{\"revisionName\":\"$stable\",\"percent\":100,\"tag\":\"current\"}]"
  done
}

rollback() {
  credentials
  local name previous current missing=0
  for name in $(services); do
    previous="$(annotation "$name" "$PREVIOUS" previous)"
    if [ -z "$previous" ]; then
      echo "  $name: no previous revision recorded" >&2
      missing=1
      continue
    fi
    current="$(serving "$name")"
    traffic "$name" "[{\"revisionName\":\"$previous\",\"percent\":100,\"tag\":\"current\"},{\"revisionName\":\"$current\",\"percent\":0,\"tag\":\"previous\"}]"
    annotate "$name" "$PREVIOUS" "$current"
  done
  return "$missing"
}

command="${1:-}"
shift || true
case "$command" in
  candidate) candidate "$@" ;;
  wait) wait_ready ;;
  smoke) smoke "$@" ;;
  promote) promote ;;
  abort) abort ;;
  rollback) rollback ;;
  *) echo "usage: $0 candidate RELEASE.yaml | wait | smoke candidate|current IMAGE | promote | abort | rollback" >&2; exit 2 ;;
esac

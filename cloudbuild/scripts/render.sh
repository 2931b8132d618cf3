#!/usr/bin/env bash
# Renders knative/overlays/ENV for one cluster: base + eventing, with the placeholders
# REGION, PROJECT_ID and SHORT_SHA replaced, and refuses to print anything while one is
# left. cloudbuild/deploy.yaml (step render), the README's manual path and
# tests/deploy/test_render.py all render through this script, so what a person applies
# by hand is what the pipeline applies.
#
#   cloudbuild/scripts/render.sh ENV PROJECT_ID TAG [REGION] > release.yaml
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -lt 3 ]; then
  echo "usage: $0 ENV PROJECT_ID TAG [REGION]" >&2
  exit 2
fi
env="$1" project="$2" tag="$3" region="${4:-europe-west1}"
overlay="knative/overlays/$env"
[ -d "$overlay" ] || { echo "No overlay $overlay." >&2; exit 2; }
for value in "$project" "$tag" "$region"; do
  [[ "$value" =~ ^[a-z0-9][a-z0-9.-]*$ ]] || { echo "Not a valid name: '$value'." >&2; exit 2; }
done
rendered="$(kubectl kustomize "$overlay" \
  | sed -e "s#REGION-docker.pkg.dev/#${region}-docker.pkg.dev/#" \
        -e "s#PROJECT_ID#${project}#g" \
        -e "s#:SHORT_SHA\$#:${tag}#")"
if grep -nE 'REGION-docker|PROJECT_ID|SHORT_SHA' <<<"$rendered" >&2; then
  echo "Placeholders left in the rendered manifests of $overlay." >&2
  exit 1
fi
printf '%s\n' "$rendered"

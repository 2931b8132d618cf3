#!/usr/bin/env bash
# Zero to a running environment: creates, in order and idempotently, everything that
# knative/ and cloudbuild/ reference in one Google Cloud project, for one environment
# (staging or production, each with its own GKE cluster, database and Redis).
#
#   make bootstrap PROJECT_ID=my-project ENV=staging DOMAIN=staging.example.com \
#     GITHUB_OWNER=my-org GITHUB_REPO=ai-codereview ACME_EMAIL=me@example.com \
#     SLACK_WEBHOOK_URL=https://hooks.slack.com/services/...
#   make bootstrap PROJECT_ID=my-project ENV=staging DRY_RUN=1   # print, run nothing
#
# Every gcloud/kubectl command is printed before it runs, as a shell line after "+ "
# ("? " for a read-only existence check). With DRY_RUN=1 the commands are only printed:
# nothing is called, not even gcloud, and values only a real run could know (a private
# IP, a generated password) print as <placeholders>. tests/deploy/test_bootstrap.py reads
# that output and checks it against the manifests and pipelines.
#
# Idempotent: a resource that exists is left as it is; a secret gets a first version
# only when it has none, so a re-run never rotates a credential.
#
# Versions (versions.env): Knative Serving and Eventing, the net-istio networking layer
# (with the Istio it bundles) and cert-manager, pinned and named.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=cloudbuild/bootstrap/versions.env
source cloudbuild/bootstrap/versions.env

PROJECT_ID="${PROJECT_ID:?PROJECT_ID is required}"
ENV="${ENV:?ENV (staging|production) is required}"
REGION="${REGION:-europe-west1}"
DOMAIN="${DOMAIN:-$ENV.example.com}"
GITHUB_OWNER="${GITHUB_OWNER:-OWNER}"
GITHUB_REPO="${GITHUB_REPO:-ai-codereview}"
# Let's Encrypt's contact for the certificates (expiry notices).
ACME_EMAIL="${ACME_EMAIL:-admin@ai-codereview.dev}"
DRY_RUN="${DRY_RUN:-}"
case "$ENV" in staging | production) ;; *) echo "ENV must be staging or production" >&2; exit 2 ;; esac
[ -n "$DRY_RUN" ] || : "${SLACK_WEBHOOK_URL:?SLACK_WEBHOOK_URL is required (a Slack incoming webhook)}"
[[ "$PROJECT_ID" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || { echo "Not a project id: $PROJECT_ID" >&2; exit 2; }

NAMESPACE=ai-codereview
REPOSITORY=ai-codereview
NETWORK=ai-codereview
CLUSTER="ai-codereview-$ENV"
SQL_INSTANCE="ai-codereview-$ENV"
REDIS_INSTANCE="ai-codereview-$ENV"
DATABASE=ai_codereview
KEYRING=ai-codereview
COSIGN_KEY=cosign
FUNCTIONS_GSA="ai-codereview-functions@$PROJECT_ID.iam.gserviceaccount.com"
FUNCTIONS_KSA=ai-codereview-functions
BUILD_GSA="ai-codereview-build@$PROJECT_ID.iam.gserviceaccount.com"
KNATIVE_GSA="knative-controller@$PROJECT_ID.iam.gserviceaccount.com"
NOTIFIER_GSA="build-notifier@$PROJECT_ID.iam.gserviceaccount.com"
CERT_MANAGER_GSA="cert-manager@$PROJECT_ID.iam.gserviceaccount.com"
NODES_GSA="gke-nodes@$PROJECT_ID.iam.gserviceaccount.com"
DNS_ZONE="ai-codereview-$ENV"
SLACK_SECRET=slack-deploy-webhook
SERVICES=(auth-service version-control-service provider-service project-service
  comparison-service analysis-service ai-orchestrator)
# Kubernetes Secret, key, and the Secret Manager secret its value refers to (sm://NAME,
# resolved by the function at first use through Workload Identity). Secret Manager names
# carry the environment, so staging and production can share a project.
SECRET_KEYS=(
  "auth-service-secrets DATABASE_URL $ENV-auth-service-database-url"
  "auth-service-secrets REDIS_URL $ENV-redis-url"
  "auth-service-secrets AUTH_SIGNING_KEYS $ENV-auth-signing-keys"
  "auth-service-secrets ADMIN_PASSWORD $ENV-admin-password"
  "version-control-service-secrets DATABASE_URL $ENV-version-control-service-database-url"
  "version-control-service-secrets REDIS_URL $ENV-redis-url"
  "provider-service-secrets DATABASE_URL $ENV-provider-service-database-url"
  "provider-service-secrets REDIS_URL $ENV-redis-url"
  "provider-service-secrets QUOTA_SIGNING_KEY $ENV-quota-signing-key"
  "project-service-secrets DATABASE_URL $ENV-project-service-database-url"
  "project-service-secrets REDIS_URL $ENV-redis-url"
  "comparison-service-secrets DATABASE_URL $ENV-comparison-service-database-url"
  "comparison-service-secrets REDIS_URL $ENV-redis-url"
  "analysis-service-secrets DATABASE_URL $ENV-analysis-service-database-url"
  "analysis-service-secrets REDIS_URL $ENV-redis-url"
  "ai-orchestrator-secrets DATABASE_URL $ENV-ai-orchestrator-database-url"
  "ai-orchestrator-secrets REDIS_URL $ENV-redis-url"
  "platform-service-account PLATFORM_CLIENT_ID $ENV-platform-client-id"
  "platform-service-account PLATFORM_CLIENT_SECRET $ENV-platform-client-secret"
  "event-signing-key EVENT_SIGNING_KEY $ENV-event-signing-key"
)

say() { printf '\n== %s\n' "$*"; }
line() { printf '%q ' "$@" | sed 's/ $//'; }
# run CMD...: print it; run it unless DRY_RUN.
run() {
  echo "+ $(line "$@")"
  [ -n "$DRY_RUN" ] || "$@"
}
# exists CMD...: a read-only check (describe/get); false in a dry run, so every create prints.
exists() {
  echo "? $(line "$@")"
  [ -z "$DRY_RUN" ] && "$@" >/dev/null 2>&1
}
# value PLACEHOLDER CMD...: what CMD prints, or <PLACEHOLDER> in a dry run.
value() {
  local placeholder="$1"
  shift
  echo "? $(line "$@")" >&2
  if [ -n "$DRY_RUN" ]; then echo "<$placeholder>"; else "$@"; fi
}
# apply_stdin DESCRIPTION: kubectl apply -f - of what is piped in; a dry run prints it.
apply_stdin() {
  echo "+ kubectl apply --server-side --force-conflicts -f -  # $1"
  if [ -n "$DRY_RUN" ]; then sed 's/^/    | /'; else kubectl apply --server-side --force-conflicts -f -; fi
}
# secret_create NAME: the Secret Manager secret, without a value yet.
secret_create() {
  exists gcloud secrets describe "$1" --project="$PROJECT_ID" ||
    run gcloud secrets create "$1" --project="$PROJECT_ID" --replication-policy=automatic \
      --labels="app=ai-codereview,environment=$ENV"
}
# needs_value NAME: true when the secret has no enabled version yet (always in a dry run).
needs_value() {
  [ -n "$DRY_RUN" ] || [ -z "$(gcloud secrets versions list "$1" --project="$PROJECT_ID" \
    --filter='state=ENABLED' --format='value(name)' --limit=1)" ]
}
# secret_first_version NAME GENERATOR...: creates secret NAME and, when it has no version
# yet, adds one from what GENERATOR prints (never printed itself, never run in a dry run).
secret_first_version() {
  local name="$1"
  shift
  secret_create "$name"
  if needs_value "$name"; then
    echo "+ gcloud secrets versions add $name --project=$PROJECT_ID --data-file=-  # < $*"
    [ -n "$DRY_RUN" ] || "$@" | gcloud secrets versions add "$name" --project="$PROJECT_ID" --data-file=-
  fi
}
random_secret() { openssl rand -base64 48 | tr -d '\n/+=' | cut -c1-48; }
ec_private_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256; }
platform_client_id() { printf 'sa-%s' "$(openssl rand -hex 12)"; }
slack_webhook() { printf '%s' "$SLACK_WEBHOOK_URL"; }
project_role() { run gcloud projects add-iam-policy-binding "$PROJECT_ID" --member="$1" --role="$2" --condition=None --quiet; }

apis() {
  say "APIs"
  run gcloud services enable --project="$PROJECT_ID" \
    container.googleapis.com artifactregistry.googleapis.com cloudbuild.googleapis.com \
    secretmanager.googleapis.com sqladmin.googleapis.com redis.googleapis.com \
    servicenetworking.googleapis.com compute.googleapis.com cloudkms.googleapis.com \
    iam.googleapis.com iamcredentials.googleapis.com run.googleapis.com pubsub.googleapis.com \
    containeranalysis.googleapis.com dns.googleapis.com
}

network() {
  say "VPC with private services access (Cloud SQL and Memorystore on private IPs)"
  exists gcloud compute networks describe "$NETWORK" --project="$PROJECT_ID" ||
    run gcloud compute networks create "$NETWORK" --project="$PROJECT_ID" --subnet-mode=custom
  exists gcloud compute networks subnets describe "$NETWORK-$REGION" --region="$REGION" --project="$PROJECT_ID" ||
    run gcloud compute networks subnets create "$NETWORK-$REGION" --project="$PROJECT_ID" \
      --network="$NETWORK" --region="$REGION" --range=10.10.0.0/20 --enable-private-ip-google-access
  exists gcloud compute addresses describe "$NETWORK-services" --global --project="$PROJECT_ID" ||
    run gcloud compute addresses create "$NETWORK-services" --project="$PROJECT_ID" --global \
      --purpose=VPC_PEERING --prefix-length=16 --network="$NETWORK"
  run gcloud services vpc-peerings update --project="$PROJECT_ID" --force \
    --service=servicenetworking.googleapis.com --ranges="$NETWORK-services" --network="$NETWORK" ||
    run gcloud services vpc-peerings connect --project="$PROJECT_ID" \
      --service=servicenetworking.googleapis.com --ranges="$NETWORK-services" --network="$NETWORK"
}

registry_and_signing() {
  say "Artifact Registry repository and the cosign KMS key"
  exists gcloud artifacts repositories describe "$REPOSITORY" --location="$REGION" --project="$PROJECT_ID" ||
    run gcloud artifacts repositories create "$REPOSITORY" --project="$PROJECT_ID" \
      --location="$REGION" --repository-format=docker --description="ai-codereview images"
  exists gcloud kms keyrings describe "$KEYRING" --location=global --project="$PROJECT_ID" ||
    run gcloud kms keyrings create "$KEYRING" --location=global --project="$PROJECT_ID"
  exists gcloud kms keys describe "$COSIGN_KEY" --keyring="$KEYRING" --location=global --project="$PROJECT_ID" ||
    run gcloud kms keys create "$COSIGN_KEY" --keyring="$KEYRING" --location=global \
      --project="$PROJECT_ID" --purpose=asymmetric-signing --default-algorithm=ec-sign-p256-sha256
}

service_accounts() {
  say "Service accounts"
  local account
  for account in "$FUNCTIONS_GSA" "$BUILD_GSA" "$KNATIVE_GSA" "$NOTIFIER_GSA" "$CERT_MANAGER_GSA" "$NODES_GSA"; do
    exists gcloud iam service-accounts describe "$account" --project="$PROJECT_ID" ||
      run gcloud iam service-accounts create "${account%%@*}" --project="$PROJECT_ID" \
        --display-name="ai-codereview ${account%%@*}"
  done
  # The nodes: pull images, write logs and metrics; nothing else (pods have their own).
  local role
  for role in roles/artifactregistry.reader roles/logging.logWriter roles/monitoring.metricWriter \
    roles/monitoring.viewer roles/stackdriver.resourceMetadata.writer; do
    project_role "serviceAccount:$NODES_GSA" "$role"
  done
  # The functions: logs and traces; Secret Manager access is granted per secret below.
  project_role "serviceAccount:$FUNCTIONS_GSA" roles/logging.logWriter
  project_role "serviceAccount:$FUNCTIONS_GSA" roles/cloudtrace.agent
  # Cloud Build (the triggers run as this account): nested builds, images, signing,
  # deploying to GKE, reading the Slack webhook, writing logs.
  for role in roles/cloudbuild.builds.editor roles/artifactregistry.writer \
    roles/container.developer roles/logging.logWriter roles/storage.admin \
    roles/containeranalysis.notes.editor; do
    project_role "serviceAccount:$BUILD_GSA" "$role"
  done
  run gcloud iam service-accounts add-iam-policy-binding "$BUILD_GSA" --project="$PROJECT_ID" \
    --member="serviceAccount:$BUILD_GSA" --role=roles/iam.serviceAccountUser
  run gcloud kms keys add-iam-policy-binding "$COSIGN_KEY" --keyring="$KEYRING" --location=global \
    --project="$PROJECT_ID" --member="serviceAccount:$BUILD_GSA" --role=roles/cloudkms.signerVerifier
  # Knative's controller resolves image tags to digests: with Workload Identity it reads
  # Artifact Registry as this account (annotated on knative-serving/controller below).
  project_role "serviceAccount:$KNATIVE_GSA" roles/artifactregistry.reader
  # cert-manager answers Let's Encrypt's DNS-01 challenges in Cloud DNS.
  project_role "serviceAccount:$CERT_MANAGER_GSA" roles/dns.admin
}

cluster() {
  say "GKE cluster $CLUSTER (Standard, Workload Identity, Gateway API)"
  exists gcloud container clusters describe "$CLUSTER" --region="$REGION" --project="$PROJECT_ID" ||
    run gcloud container clusters create "$CLUSTER" --project="$PROJECT_ID" --region="$REGION" \
      --release-channel=regular --network="$NETWORK" --subnetwork="$NETWORK-$REGION" \
      --enable-ip-alias --workload-pool="$PROJECT_ID.svc.id.goog" --workload-metadata=GKE_METADATA \
      --machine-type=e2-standard-4 --num-nodes=1 --enable-autoscaling --min-nodes=1 --max-nodes=4 \
      --enable-shielded-nodes --shielded-secure-boot --enable-autorepair --enable-autoupgrade \
      --service-account="$NODES_GSA" --scopes=cloud-platform
  run gcloud container clusters get-credentials "$CLUSTER" --region="$REGION" --project="$PROJECT_ID"
}

knative() {
  say "cert-manager $CERT_MANAGER_VERSION, Knative Serving $KNATIVE_SERVING_VERSION with net-istio $NET_ISTIO_VERSION, Eventing $KNATIVE_EVENTING_VERSION"
  run kubectl apply -f "$CERT_MANAGER_URL/$CERT_MANAGER_VERSION/cert-manager.yaml"
  run kubectl -n cert-manager wait deployment --all --for=condition=Available --timeout=300s
  run kubectl apply -f "$KNATIVE_SERVING_URL/$KNATIVE_SERVING_VERSION/serving-crds.yaml"
  run kubectl apply -f "$KNATIVE_SERVING_URL/$KNATIVE_SERVING_VERSION/serving-core.yaml"
  run kubectl apply -l knative.dev/crd-install=true -f "$NET_ISTIO_URL/$NET_ISTIO_VERSION/istio.yaml"
  run kubectl apply -f "$NET_ISTIO_URL/$NET_ISTIO_VERSION/istio.yaml"
  run kubectl apply -f "$NET_ISTIO_URL/$NET_ISTIO_VERSION/net-istio.yaml"
  run kubectl apply -f "$KNATIVE_EVENTING_URL/$KNATIVE_EVENTING_VERSION/eventing-crds.yaml"
  run kubectl apply -f "$KNATIVE_EVENTING_URL/$KNATIVE_EVENTING_VERSION/eventing-core.yaml"
  run kubectl apply -f "$KNATIVE_EVENTING_URL/$KNATIVE_EVENTING_VERSION/in-memory-channel.yaml"
  run kubectl apply -f "$KNATIVE_EVENTING_URL/$KNATIVE_EVENTING_VERSION/mt-channel-broker.yaml"
  run kubectl -n knative-serving wait deployment --all --for=condition=Available --timeout=300s
  run kubectl -n knative-eventing wait deployment --all --for=condition=Available --timeout=300s
  # Tag-to-digest resolution from Artifact Registry under Workload Identity.
  run kubectl -n knative-serving annotate serviceaccount controller --overwrite \
    "iam.gke.io/gcp-service-account=$KNATIVE_GSA"
  run gcloud iam service-accounts add-iam-policy-binding "$KNATIVE_GSA" --project="$PROJECT_ID" \
    --role=roles/iam.workloadIdentityUser \
    --member="serviceAccount:$PROJECT_ID.svc.id.goog[knative-serving/controller]"
  run kubectl -n knative-serving rollout restart deployment controller
  run kubectl -n cert-manager annotate serviceaccount cert-manager --overwrite \
    "iam.gke.io/gcp-service-account=$CERT_MANAGER_GSA"
  run gcloud iam service-accounts add-iam-policy-binding "$CERT_MANAGER_GSA" --project="$PROJECT_ID" \
    --role=roles/iam.workloadIdentityUser \
    --member="serviceAccount:$PROJECT_ID.svc.id.goog[cert-manager/cert-manager]"
  run kubectl -n cert-manager rollout restart deployment cert-manager
  # The cluster's Knative settings: domain, TLS, secure pod defaults (cloudbuild/cluster/).
  sed -e "s#DOMAIN#$DOMAIN#g" -e "s#ACME_EMAIL#$ACME_EMAIL#g" -e "s#PROJECT_ID#$PROJECT_ID#g" \
    cloudbuild/cluster/knative-config.yaml | apply_stdin "cloudbuild/cluster/knative-config.yaml"
}

databases() {
  say "Cloud SQL for PostgreSQL and Memorystore for Redis, private IP only"
  local tier=db-custom-1-3840 redis_tier=basic availability=zonal
  if [ "$ENV" = production ]; then tier=db-custom-2-7680 redis_tier=standard availability=regional; fi
  exists gcloud sql instances describe "$SQL_INSTANCE" --project="$PROJECT_ID" ||
    run gcloud sql instances create "$SQL_INSTANCE" --project="$PROJECT_ID" --region="$REGION" \
      --database-version=POSTGRES_16 --edition=enterprise --tier="$tier" \
      --availability-type="$availability" --network="projects/$PROJECT_ID/global/networks/$NETWORK" \
      --no-assign-ip --storage-auto-increase --backup-start-time=02:00 --enable-point-in-time-recovery
  exists gcloud sql databases describe "$DATABASE" --instance="$SQL_INSTANCE" --project="$PROJECT_ID" ||
    run gcloud sql databases create "$DATABASE" --instance="$SQL_INSTANCE" --project="$PROJECT_ID"
  exists gcloud redis instances describe "$REDIS_INSTANCE" --region="$REGION" --project="$PROJECT_ID" ||
    run gcloud redis instances create "$REDIS_INSTANCE" --project="$PROJECT_ID" --region="$REGION" \
      --tier="$redis_tier" --size=1 --redis-version=redis_7_2 --network="projects/$PROJECT_ID/global/networks/$NETWORK" \
      --connect-mode=private-service-access --enable-auth
  SQL_IP="$(value cloud-sql-private-ip gcloud sql instances describe "$SQL_INSTANCE" \
    --project="$PROJECT_ID" --format='value(ipAddresses[0].ipAddress)')"
  REDIS_HOST="$(value redis-host gcloud redis instances describe "$REDIS_INSTANCE" \
    --region="$REGION" --project="$PROJECT_ID" --format='value(host)')"
}

# db_login SERVICE: a login of its own per service (its schema, its migrations), whose
# URL is the secret <env>-<service>-database-url. The password is generated and set only
# while that secret has no value, so a re-run keeps every working login as it is.
db_login() {
  local user="${1//-/_}" name="$ENV-$1-database-url" password="<generated>"
  secret_create "$name"
  needs_value "$name" || return 0
  [ -n "$DRY_RUN" ] || password="$(random_secret)"
  echo "+ gcloud sql users create $user --instance=$SQL_INSTANCE --project=$PROJECT_ID --password=<generated>"
  if [ -z "$DRY_RUN" ]; then
    gcloud sql users create "$user" --instance="$SQL_INSTANCE" --project="$PROJECT_ID" --password="$password" ||
      gcloud sql users set-password "$user" --instance="$SQL_INSTANCE" --project="$PROJECT_ID" --password="$password"
  fi
  echo "+ gcloud secrets versions add $name --project=$PROJECT_ID --data-file=-  # < postgresql://$user:<generated>@$SQL_IP:5432/$DATABASE"
  [ -n "$DRY_RUN" ] || printf 'postgresql://%s:%s@%s:5432/%s' "$user" "$password" "$SQL_IP" "$DATABASE" |
    gcloud secrets versions add "$name" --project="$PROJECT_ID" --data-file=-
}
redis_url() {
  local auth
  auth="$(value redis-auth-string gcloud redis instances get-auth-string "$REDIS_INSTANCE" \
    --region="$REGION" --project="$PROJECT_ID" --format='value(authString)')"
  printf 'redis://:%s@%s:6379/0' "$auth" "$REDIS_HOST"
}

secrets() {
  say "Secret Manager secrets (generated where they are credentials)"
  local service
  for service in "${SERVICES[@]}"; do
    db_login "$service"
  done
  secret_first_version "$ENV-redis-url" redis_url
  secret_first_version "$ENV-auth-signing-keys" ec_private_key
  secret_first_version "$ENV-admin-password" random_secret
  secret_first_version "$ENV-quota-signing-key" random_secret
  secret_first_version "$ENV-platform-client-id" platform_client_id
  secret_first_version "$ENV-platform-client-secret" random_secret
  # The HMAC key every producer signs its CloudEvents with and every consumer checks.
  secret_first_version "$ENV-event-signing-key" random_secret
  secret_first_version "$SLACK_SECRET" slack_webhook
  local name
  for name in $(printf '%s\n' "${SECRET_KEYS[@]}" | awk '{print $3}' | sort -u); do
    run gcloud secrets add-iam-policy-binding "$name" --project="$PROJECT_ID" \
      --member="serviceAccount:$FUNCTIONS_GSA" --role=roles/secretmanager.secretAccessor
  done
  for name in "$SLACK_SECRET"; do
    run gcloud secrets add-iam-policy-binding "$name" --project="$PROJECT_ID" \
      --member="serviceAccount:$BUILD_GSA" --role=roles/secretmanager.secretAccessor
    run gcloud secrets add-iam-policy-binding "$name" --project="$PROJECT_ID" \
      --member="serviceAccount:$NOTIFIER_GSA" --role=roles/secretmanager.secretAccessor
  done
}

namespace_and_kubernetes_secrets() {
  say "Namespace $NAMESPACE, the functions' Workload Identity, and the Kubernetes Secrets"
  run kubectl apply -f knative/base/namespace.yaml
  run gcloud iam service-accounts add-iam-policy-binding "$FUNCTIONS_GSA" --project="$PROJECT_ID" \
    --role=roles/iam.workloadIdentityUser \
    --member="serviceAccount:$PROJECT_ID.svc.id.goog[$NAMESPACE/$FUNCTIONS_KSA]"
  # Values are sm:// references, never the credentials: the Secret says where to read.
  local secret current="" args=() entry key name
  for entry in "${SECRET_KEYS[@]}" "end"; do
    read -r secret key name <<<"$entry"
    if [ "$secret" != "$current" ] && [ -n "$current" ]; then
      kubectl_secret "$current" "${args[@]}"
      args=()
    fi
    current="$secret"
    [ "$secret" = end ] || args+=("--from-literal=$key=sm://$name")
  done
}
kubectl_secret() {
  local name="$1"
  shift
  echo "+ kubectl -n $NAMESPACE create secret generic $name $(line "$@") --dry-run=client -o yaml | kubectl apply -f -"
  [ -n "$DRY_RUN" ] || kubectl -n "$NAMESPACE" create secret generic "$name" "$@" \
    --dry-run=client -o yaml | kubectl apply -f -
}

triggers() {
  say "Cloud Build triggers on $GITHUB_OWNER/$GITHUB_REPO (the Cloud Build GitHub app must be installed on it)"
  local trigger
  for trigger in cloudbuild/triggers/*.yaml; do
    case "$(basename "$trigger")" in
      develop.yaml) [ "$ENV" = staging ] || continue ;;
      main.yaml) [ "$ENV" = production ] || continue ;;
    esac
    local rendered="${TMPDIR:-/tmp}/$(basename "$trigger")"
    echo "+ sed -e s/OWNER/$GITHUB_OWNER/ -e s/REPOSITORY/$GITHUB_REPO/ -e s/PROJECT_ID/$PROJECT_ID/g -e s/ENV_DOMAIN/$DOMAIN/ $trigger > $rendered"
    [ -n "$DRY_RUN" ] || sed -e "s/OWNER/$GITHUB_OWNER/" -e "s/REPOSITORY/$GITHUB_REPO/" \
      -e "s/PROJECT_ID/$PROJECT_ID/g" -e "s/ENV_DOMAIN/$DOMAIN/" "$trigger" >"$rendered"
    run gcloud builds triggers import --project="$PROJECT_ID" --region=global --source="$rendered"
  done
}

notifier() {
  say "Slack on every failed deploy: the Cloud Build Slack notifier (success posts from deploy.yaml)"
  local bucket="gs://$PROJECT_ID-build-notifiers"
  exists gcloud storage buckets describe "$bucket" --project="$PROJECT_ID" ||
    run gcloud storage buckets create "$bucket" --project="$PROJECT_ID" --location="$REGION" \
      --uniform-bucket-level-access
  echo "+ sed s/PROJECT_ID/$PROJECT_ID/ cloudbuild/notifier/slack.yaml | gcloud storage cp - $bucket/slack.yaml"
  [ -n "$DRY_RUN" ] || sed "s/PROJECT_ID/$PROJECT_ID/g" cloudbuild/notifier/slack.yaml |
    gcloud storage cp - "$bucket/slack.yaml"
  run gcloud storage buckets add-iam-policy-binding "$bucket" \
    --member="serviceAccount:$NOTIFIER_GSA" --role=roles/storage.objectViewer
  run gcloud run deploy slack-notifier --project="$PROJECT_ID" --region="$REGION" \
    --image="$SLACK_NOTIFIER_IMAGE" --no-allow-unauthenticated --service-account="$NOTIFIER_GSA" \
    --update-env-vars="CONFIG_PATH=$bucket/slack.yaml,PROJECT_ID=$PROJECT_ID"
  exists gcloud pubsub topics describe cloud-builds --project="$PROJECT_ID" ||
    run gcloud pubsub topics create cloud-builds --project="$PROJECT_ID"
  run gcloud run services add-iam-policy-binding slack-notifier --project="$PROJECT_ID" \
    --region="$REGION" --member="serviceAccount:$NOTIFIER_GSA" --role=roles/run.invoker
  local url
  url="$(value slack-notifier-url gcloud run services describe slack-notifier --project="$PROJECT_ID" \
    --region="$REGION" --format='value(status.url)')"
  exists gcloud pubsub subscriptions describe slack-notifier --project="$PROJECT_ID" ||
    run gcloud pubsub subscriptions create slack-notifier --project="$PROJECT_ID" \
      --topic=cloud-builds --push-endpoint="$url" --push-auth-service-account="$NOTIFIER_GSA"
}

edge() {
  say "HTTPS: a static IP for the ingress and a Cloud DNS zone for $DOMAIN"
  exists gcloud compute addresses describe "ai-codereview-$ENV" --region="$REGION" --project="$PROJECT_ID" ||
    run gcloud compute addresses create "ai-codereview-$ENV" --project="$PROJECT_ID" --region="$REGION"
  local ip
  ip="$(value ingress-ip gcloud compute addresses describe "ai-codereview-$ENV" --region="$REGION" \
    --project="$PROJECT_ID" --format='value(address)')"
  run kubectl -n istio-system patch service istio-ingressgateway --type=merge \
    -p "{\"spec\":{\"loadBalancerIP\":\"$ip\"}}"
  exists gcloud dns managed-zones describe "$DNS_ZONE" --project="$PROJECT_ID" ||
    run gcloud dns managed-zones create "$DNS_ZONE" --project="$PROJECT_ID" --dns-name="$DOMAIN." \
      --description="ai-codereview $ENV" --dnssec-state=on
  local name
  for name in "api.$DOMAIN." "*.$NAMESPACE.$DOMAIN."; do
    exists gcloud dns record-sets describe "$name" --type=A --zone="$DNS_ZONE" --project="$PROJECT_ID" ||
      run gcloud dns record-sets create "$name" --type=A --ttl=300 --rrdatas="$ip" \
        --zone="$DNS_ZONE" --project="$PROJECT_ID"
  done
  value name-servers gcloud dns managed-zones describe "$DNS_ZONE" --project="$PROJECT_ID" \
    --format='value(nameServers)' >/dev/null
  echo "   Delegate $DOMAIN to the zone's name servers at your registrar (NS records)."
}

apis
network
registry_and_signing
service_accounts
cluster
knative
databases
secrets
namespace_and_kubernetes_secrets
edge
triggers
notifier
say "Done: $ENV in $PROJECT_ID. Next: push to the branch of $ENV (or make deploy PROJECT_ID=$PROJECT_ID ENV=$ENV DOMAIN=$DOMAIN)."

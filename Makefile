# The front door: `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install.stamp
SERVICES := $(patsubst functions/%/requirements.in,%,$(wildcard functions/*/requirements.in))
TESTARGS ?=
export PYTHONPATH := $(CURDIR)

.DEFAULT_GOAL := help
.PHONY: help install run run-% test test-unit lint format migrate bench load soak validate security \
        requirements deploy check-env clean dockerfiles images containers bootstrap rollback \
        ci-local

help: ## list the targets
	@grep -hE '^[a-zA-Z_%-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the pinned, hashed dev + runtime requirements
	@$(BIN)/python -m compileall -q -j 0 shared functions localdev tests >/dev/null

# The stock pip of `python3.11 -m venv` (23.2) mis-resolves extras under --require-hashes
# (it looks `coverage[toml]` up on the index and takes the newest release), so pip installs
# only the pinned, hashed uv of requirements-bootstrap.txt (no extras, no dependencies) and
# uv installs the rest, exactly as pinned and hashed. Bytecode is compiled at install (and
# `install` compiles the project's own tree, a no-op when nothing changed), as the images
# do: where PYTHONDONTWRITEBYTECODE is set, Python never writes it, and each process would
# compile every module it imports again (~1 s more per start of a function, measured).
$(STAMP): requirements-bootstrap.txt requirements-dev.txt $(wildcard functions/*/requirements.txt)
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
	  -r requirements-bootstrap.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --require-hashes \
	  -r requirements-dev.txt
	touch $@

run: install ## start the whole platform locally (embedded Postgres/Redis unless URLs given; IMAGES=1: from the images)
	IMAGES="$(IMAGES)" $(BIN)/python -m localdev.local

run-%: install ## run one function target under functions-framework, e.g. make run-auth_tokens
	@src=$$(grep -l "def $*(" functions/*/main.py | head -1); \
	  test -n "$$src" || { echo "no target $*"; exit 1; }; \
	  FUNCTION_TARGET=$* $(BIN)/functions-framework --target=$* --source=$$src --debug

test: install ## run every test (real PostgreSQL/Redis: TEST_DATABASE_URL/TEST_REDIS_URL or embedded)
	$(BIN)/pytest --cov --cov-report=term:skip-covered $(TESTARGS)

lint: install ## ruff (lint + format check) and mypy --strict on shared/, localdev/ and functions/
	$(BIN)/ruff check shared localdev functions tests
	$(BIN)/ruff format --check shared localdev functions tests
	$(BIN)/mypy

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix shared localdev functions tests
	$(BIN)/ruff format shared localdev functions tests

migrate: install ## apply every service's migrations to DATABASE_URL
	@test -n "$$DATABASE_URL" || { echo "DATABASE_URL is required"; exit 1; }
	$(BIN)/python -m shared.migrations $(patsubst %/main.py,%,$(wildcard functions/*/main.py))

bench: install ## benchmarks side by side with a hello-world function; writes tests/bench/results/
	$(BIN)/python -m tests.bench.run $(TESTARGS)

load: install ## locust, 100 users for 5 min, against the platform it starts as make run does (LOADARGS="--minutes 2")
	$(BIN)/python -m tests.bench.load load $(LOADARGS)

soak: install ## 35 min of steady load sampling RSS, connections and TTL-less Redis keys each minute; fails on growth
	$(BIN)/python -m tests.bench.load soak $(LOADARGS)

validate: install ## deploy artifacts: ../shared/tools/validate-deploy (when present) + manifest tests
	@if [ -x ../shared/tools/validate-deploy ]; then ../shared/tools/validate-deploy .; \
	  else echo "../shared/tools/validate-deploy not found: skipping the upstream-schema check"; fi
	$(BIN)/pytest tests/deploy -q

security: install ## bandit, pip-audit of every image's requirements (strict in Cloud Build), detect-secrets
	$(BIN)/bandit -q -c pyproject.toml -ll -ii -r shared localdev functions
	for r in functions/*/requirements.txt; do \
	  $(BIN)/pip-audit --require-hashes --disable-pip -r $$r || exit 1; done
	DETECT_SECRETS_HOOK=$(BIN)/detect-secrets-hook cloudbuild/scripts/secret-scan.sh

# Installed dependencies no code path of the service imports, left out of its image:
# pygments, markdown-it-py and mdurl come with rich (bandit's console output), which the
# orchestrator's in-process bandit never renders (11 MB; the container suite's review flow
# runs bandit without them).
NO_EMIT_ai_orchestrator := pygments markdown-it-py mdurl

requirements: install ## recompile the pinned, hashed requirement files from their .in files
	$(foreach s,$(SERVICES),$(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	  $(addprefix --no-emit-package ,$(NO_EMIT_$(s))) \
	  -o functions/$(s)/requirements.txt functions/$(s)/requirements.in &&) true
	$(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	  -o requirements-dev.txt requirements-dev.in
	# uv writes coverage without the extra pytest-cov asks for; pip 23 then looks the extra
	# up on the index and refuses it under --require-hashes, so the pin carries it.
	sed -i 's/^coverage==\(.*\) \\$$/coverage[toml]==\1 \\/' requirements-dev.txt

dockerfiles: install ## render functions/*/Dockerfile from localdev/service.Dockerfile.tmpl
	$(BIN)/python -m localdev.dockerfiles

images: install ## build the seven images acr/<service>:<git short sha> (docker, else ../shared/tools/image-build)
	$(BIN)/python -m localdev.images build

containers: install ## the container suite: twelve functions from their images, the review flow (make images first)
	$(BIN)/python -m localdev.images check
	$(BIN)/pytest tests/containers -m containers --no-cov -p no:cacheprovider $(TESTARGS)

check-env:
	@test -n "$$PROJECT_ID" || { echo "PROJECT_ID is required"; exit 1; }
	@test -n "$$ENV" || { echo "ENV (staging|production) is required"; exit 1; }

deploy: check-env ## submit the deploy pipeline: make deploy PROJECT_ID=... ENV=staging DOMAIN=...
	@test -n "$$DOMAIN" || { echo "DOMAIN (the environment's, as given to make bootstrap) is required"; exit 1; }
	gcloud builds submit --project=$$PROJECT_ID --config=cloudbuild/deploy.yaml \
	  --service-account=projects/$$PROJECT_ID/serviceAccounts/ai-codereview-build@$$PROJECT_ID.iam.gserviceaccount.com \
	  --substitutions=_ENV=$$ENV,_DOMAIN=$$DOMAIN,_TAG=$$(git rev-parse --short HEAD) .

clean: ## remove the venv, caches and local data (.local)
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov

# ---- Deploy for real (README "Deploy"): bootstrap an environment, roll it back, and run
# the pull-request pipeline's steps here. DRY_RUN=1 prints every gcloud/kubectl command
# and runs none (no gcloud needed).
bootstrap: ## create everything one environment needs: make bootstrap PROJECT_ID=... ENV=staging [DRY_RUN=1]
	@test -n "$$PROJECT_ID" || { echo "PROJECT_ID is required"; exit 1; }
	@test -n "$$ENV" || { echo "ENV (staging|production) is required"; exit 1; }
	cloudbuild/bootstrap/bootstrap.sh

rollback: ## pin every function of ENV back to its previous revision: make rollback ENV=staging [DRY_RUN=1]
	@test -n "$$ENV" || { echo "ENV (staging|production) is required"; exit 1; }
	cloudbuild/scripts/release.sh rollback

ci-local: install ## run cloudbuild/ci.yaml's steps here, in order, with the local tools
	cloudbuild/scripts/ci-local.sh

# Everyday commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install:  ## Create .venv and install the pinned packages
	scripts/setup.sh

pipeline: install  ## Build the spaCy pipeline from patterns/
	source scripts/env.sh && "$$PY" -m clinic_nlp.pipeline

train: install  ## Train the model if the data, config or patterns changed
	scripts/train.sh

validate: install  ## Check settings, patterns and training data
	scripts/validate.sh

run:  ## Set up, train if needed, start the servers, the demo page and the staff console
	scripts/run.sh

check:  ## Quick tier: lint, data checks, unit tests (no training, no servers; under a minute)
	scripts/check.sh

test:  ## Set up, train if needed, and run every test
	scripts/test.sh

evaluate: install  ## Train if needed; blind first-pass and dev-set figures, reports/heldout/
	scripts/evaluate.sh

cross-validate: install  ## Threshold tables by cross-validation on data/nlu and the dev sets
	source scripts/env.sh && "$$PY" -m evaluation.cross_validate

benchmark: install  ## Measure turns/s and latency against a stock Rasa bot; writes reports/benchmark/
	scripts/benchmark.sh

fuzz: install  ## Send N random and malformed requests (10000) to the chat webhook; reports/fuzz/
	scripts/fuzz.sh $(if $(N),--requests "$(N)") $(if $(SEED),--seed "$(SEED)") \
	  $(if $(URL),--url "$(URL)") $(foreach log,$(LOGS),--log "$(log)")

dead-ends: install  ## Send 200 held-out messages; count replies with no answer and no way to the clinic
	scripts/dead_ends.sh $(if $(SAMPLE),--sample "$(SAMPLE)") $(SETS)

forget-old:  ## Delete conversations older than retention_days
	source scripts/env.sh && "$$PY" -m staff_tools.retention

review:  ## List unanswered questions and feedback for a date range (FROM=YYYY-MM-DD TO=YYYY-MM-DD)
	@if [ -z "$(FROM)" ] || [ -z "$(TO)" ]; then \
	  echo "error: give the dates, e.g. make review FROM=2026-11-01 TO=2026-11-30" >&2; exit 2; fi
	source scripts/env.sh && "$$PY" -m staff_tools.review --from "$(FROM)" --to "$(TO)"

console-user: install  ## Create a staff console account, asking for its password (NAME=anna)
	@if [ -z "$(NAME)" ]; then \
	  echo "error: give the name, e.g. make console-user NAME=anna" >&2; exit 2; fi
	source scripts/env.sh && "$$PY" -m staff_console.accounts add "$(NAME)"

reload:  ## Train if needed, then load the model into the running server (keeps conversations)
	scripts/train.sh
	source scripts/env.sh && "$$PY" -m staff_tools.reload

test-scale-out:  ## Start PostgreSQL, Redis, nginx and two Rasa servers; test conversations survive
	scripts/scale_out_test.sh

lint: install  ## ruff and mypy
	source scripts/env.sh && "$$VENV/bin/ruff" check . && "$$VENV/bin/mypy"

lock: install  ## Re-pin every package in constraints.txt after editing requirements.txt
	source scripts/env.sh && "$$PY" -m pip install -r requirements.txt && \
	  { echo "# Exact versions of every package, for pip install -c. Regenerate: make lock"; \
	    "$$PY" -m pip freeze --exclude-editable; } > constraints.txt

clean:  ## Remove trained models, built pipeline and reports (keeps .venv and var/)
	rm -rf models build reports results .rasa

.PHONY: help install pipeline train validate run check test evaluate cross-validate lint lock clean review reload forget-old test-scale-out benchmark fuzz dead-ends console-user

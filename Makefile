# dfbench developer tasks. `make demo` and `make test` are the README's two set-up commands.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DFBENCH := $(VENV)/bin/dfbench
# torch is installed first, pinned, in its own step; everything after is installed with it held
# (.ci/constraints.txt), so no later package can replace it. See shared DEPENDENCIES notes in docs/install.md.
TORCH := torch==2.14.1 torchvision==0.29.1

.PHONY: install demo test lint leaderboard figures unseen publish reproduce bench stand-in-weights clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml plugins/mmaction/pyproject.toml plugins/image/pyproject.toml .ci/constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -c .ci/constraints.txt -e '.[test,face-alignment,dlib,analysis]' -e plugins/mmaction -e plugins/image
	$(PIP) check
	touch $@

# Trains for real every time in a fresh checkout: results/ is not committed (a re-run skips
# finished runs). `make publish` copies them into the committed leaderboard.
demo: install
	$(DFBENCH) run --detector resnext3d_nl --protocol cross --output results
	$(DFBENCH) run --detector shortcut_probe --protocol cross --output results  # the floor beside it
	$(DFBENCH) leaderboard --results results --out results/leaderboard.md

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check benchmark plugins tests benchmarks docs

leaderboard: install
	$(DFBENCH) leaderboard --results leaderboard/results --out leaderboard/README.md

# Grad-CAM and correlation need the records' checkpoints: run this where the committed runs trained.
figures: install
	$(DFBENCH) analyze figures --results leaderboard/results --out leaderboard/figures --work-dir work_dirs
	$(MAKE) leaderboard

# Train once, test many: every committed `all` run tested on the three dataset twins, two other
# compressions and the 40 perturbation settings, without retraining (docs/unseen-data.md). Run it
# where the committed runs trained (their checkpoints are under work_dirs).
unseen: install
	for r in leaderboard/results/ffpp-lq-all__all__*.json; do \
	  $(DFBENCH) evaluate --record $$r --test-data celebdf --test-data dfdc --test-data dfd \
	    --test-compression c23 --test-compression raw --perturb standard \
	    --output leaderboard/results --work-dir work_dirs || exit 1; \
	done
	$(MAKE) leaderboard

publish: install
	cp results/*.json leaderboard/results/
	$(MAKE) leaderboard

# Regenerate the committed board: every training record re-run from its settings into rerun/ (refused
# before training where this machine would run anything else), then every evaluation record scored
# again with the re-trained model (refused, and counted, when its weights are not the record's), then
# each checked against its record (docs/results.md). DATA=the board's dataset, when it is not where the records name it
# ($DFBENCH_CACHE/synthetic/v5-full: `dfbench data synth --version 5 --out ...`). About 30 single-thread hours.
reproduce: install
	status=0; for r in leaderboard/results/ffpp-lq-all__*.json leaderboard/results/ffpp-lq-single__*.json \
	    leaderboard/results/ffpp-lq-cross__*.json; do \
	  test -f rerun/$$(basename $$r) && continue; \
	  $(DFBENCH) rerun $$r $(if $(DATA),--data $(DATA)) --output rerun --work-dir work_dirs || status=1; \
	done; \
	refused=0; for r in leaderboard/results/ffpp-lq-cross-dataset__*.json \
	    leaderboard/results/ffpp-lq-cross-compression__*.json leaderboard/results/ffpp-lq-robustness__*.json; do \
	  test -f $$r || continue; test -f rerun/$$(basename $$r) && continue; \
	  case $$r in *cross-dataset__*) d="";; *) d="$(if $(DATA),--data $(DATA))";; esac; \
	  $(DFBENCH) rerun $$r $$d --output rerun --work-dir work_dirs; \
	  rc=$$?; test $$rc = 2 && refused=$$((refused + 1)); test $$rc = 1 && status=1; \
	done; \
	echo "$$refused evaluation record(s) could not be scored again here (the line before each says why)"; \
	$(DFBENCH) diff leaderboard/results rerun && exit $$status

bench: install
	$(PY) benchmarks/clip_loader.py
	$(PY) benchmarks/preprocess.py
	$(PY) benchmarks/inference_peak.py
	$(PY) benchmarks/train_overhead.py
	$(PY) benchmarks/precision.py
	$(PY) benchmarks/bootstrap.py
	$(PY) benchmarks/perturb_throughput.py

# The cpu size's --pretrained stand-in weights shipped in plugins/mmaction (dfbench_mmaction.formula):
# every pretrainable built-in detector, 2000 steps of formula-driven pretraining each (21 min on 2 cores).
stand-in-weights: install
	$(PY) -m dfbench_mmaction.formula --all

clean:
	rm -rf work_dirs results rerun .pytest_cache

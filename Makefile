# Set-up and entry points. `make test` and `make demo` create .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# torch is installed before the project so that pip never picks a build on its own. With no
# NVIDIA GPU visible the default is the CPU build that this kind of machine carries; a CUDA user
# passes their own, e.g. `make test TORCH_SPEC="torch>=2.4"`.
HAS_NVIDIA_GPU := $(shell nvidia-smi -L >/dev/null 2>&1 && echo yes)
TORCH_SPEC ?= $(if $(HAS_NVIDIA_GPU),torch>=2.1,torch==2.13.0)

.PHONY: venv test test-slow lint bench demo clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev,ray]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check envs gan_core advgrasp tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench_env.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_predict.py
	$(PY) benchmarks/bench_oracle_search.py

# The main job: adversarial and self-supervised training with one budget, held-out evaluation,
# report. Resumes where it stopped if interrupted.
demo: $(STAMP)
	$(VENV)/bin/advgrasp demo --run-dir runs/demo

clean:
	rm -rf $(VENV) build *.egg-info

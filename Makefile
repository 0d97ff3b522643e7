# The two commands of the README: `make demo` and `make test`.
.PHONY: setup demo test lint

# The runtime only (no torch): what the daemon and the demo need.
setup:
	./scripts/setup.sh

demo: setup
	@echo "Running the daemon on the bundled demo clip (Ctrl-C to stop); events: work/demo/events.csv"
	.venv/bin/anpr-edge run --config config/demo.yaml

# Adds the test tools (and the CPU torch of the reader's training tests) to .venv. The tests run in
# TEST_WORKERS processes (pytest-xdist; 0: in this one); a file's tests stay in one process, in order.
TEST_WORKERS ?= 2
test:
	./scripts/setup.sh --test
	.venv/bin/ruff check anpr_edge tests
	.venv/bin/mypy anpr_edge tests
	.venv/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

lint:
	./scripts/setup.sh --test
	.venv/bin/ruff check anpr_edge tests
	.venv/bin/mypy anpr_edge tests

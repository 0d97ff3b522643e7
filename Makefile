# The two commands of the README: `make demo` and `make test`.
.PHONY: setup demo test lint

setup:
	./scripts/setup.sh

demo: setup
	@echo "Running the daemon on the bundled demo clip (Ctrl-C to stop); events: work/demo/events.csv"
	.venv/bin/anpr-edge run --config config/demo.yaml

test:
	./scripts/setup.sh --test
	.venv/bin/ruff check anpr_edge tests
	.venv/bin/mypy anpr_edge tests
	.venv/bin/python -m pytest -q

lint: setup
	.venv/bin/ruff check anpr_edge tests
	.venv/bin/mypy anpr_edge tests

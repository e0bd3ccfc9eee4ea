# The two commands of the quick start. Both install whatever is missing first.
.PHONY: run test setup setup-test bench

run: setup
	.venv/bin/accord serve $(ARGS)

test: setup-test
	scripts/run-tests.sh

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

bench: setup-test
	for b in bench/*.py; do .venv/bin/python $$b; done

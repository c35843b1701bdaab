# The two commands that work on a fresh clone: `make demo` and `make test`.
.PHONY: demo test openapi messages lint format bench bench-access bench-care bench-voice

demo:
	./scripts/demo.sh $(ARGS)

test:
	./scripts/test.sh $(ARGS)

# Regenerate the committed API contract after changing an endpoint.
openapi:
	. scripts/venv.sh && YIMI_DATA_DIR=$$(mktemp -d) SECRET_KEY=x $$VENV/bin/python -c "import django, json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'yimi.settings'); django.setup(); from yimi.api import api; print(json.dumps(api.get_openapi_schema(path_prefix='/api/v1/'), ensure_ascii=False, indent=2, sort_keys=True))" > docs/api/openapi.json

# Extract translatable strings and compile the catalogues (needs GNU gettext).
messages:
	. scripts/venv.sh && cd yimi && ../$$VENV/bin/django-admin makemessages -l zh_Hans -d django --no-location --no-obsolete && ../$$VENV/bin/django-admin makemessages -l zh_Hans -d djangojs --no-location --no-obsolete && ../$$VENV/bin/django-admin compilemessages

lint:
	. scripts/venv.sh && $$VENV/bin/ruff check . && $$VENV/bin/ruff format --check .

format:
	. scripts/venv.sh && $$VENV/bin/ruff format . && $$VENV/bin/ruff check --fix .

bench:
	. scripts/venv.sh && $$VENV/bin/python -m pip install -q -e ".[bench]" && $$VENV/bin/python bench/places/run.py $(ARGS)

# Life-circle accessibility against networkx, OSMnx and pandana (pandana, AGPL, is benchmark-only:
# `make bench-access ARGS=--setup-pandana` once puts it in its own environment under bench/results).
bench-access:
	. scripts/venv.sh && $$VENV/bin/python -m pip install -q -e ".[bench]" && $$VENV/bin/python bench/access/run.py $(ARGS)

# The care ledger import (100,000 generated rows), 政策找人 over the register, incremental re-check.
bench-care:
	. scripts/venv.sh && $$VENV/bin/python bench/care/run.py $(ARGS)

# The children's mailbox through the real HTTP stack (yimi serve): 50 clients send letters, then
# look them up by receipt code; the rate limits are off for it (bench/voice/voice_bench_settings.py).
bench-voice:
	. scripts/venv.sh && $$VENV/bin/python bench/voice/run.py $(ARGS)

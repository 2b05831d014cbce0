# Qiaomen: `make demo` serves the demo city, `make test` runs the suite. See README.md.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_HOUSEHOLDS ?= 20000
DEMO_PASSWORD ?= qiaomen-demo
PYTEST_ARGS ?=

.PHONY: setup demo test lint bench mobile migrate

setup:
	@bash server/scripts/bootstrap.sh

migrate: setup
	@$(PY) manage.py migrate --noinput -v 0

demo: migrate
	@$(PY) manage.py seed_demo --households $(DEMO_HOUSEHOLDS) --password $(DEMO_PASSWORD) --if-empty
	@echo ""
	@echo "敲门 Qiaomen demo: http://$(HOST):$(PORT)/admin/   API docs: http://$(HOST):$(PORT)/api/docs/"
	@echo "Demo accounts / 演示账号 (password / 密码: $(DEMO_PASSWORD)):"
	@echo "  demo-city 市级管理员 · demo-district 区县管理员 · demo-chief 派出所所长"
	@echo "  demo-township 街道工作人员 · demo-worker 网格员 · demo-volunteer 志愿者"
	@$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	@.venv/bin/ruff check .

mobile: setup
	@$(PY) -c "import kivy" 2>/dev/null || .venv/bin/pip install -q -r mobile/requirements.txt
	@echo "敲门 field client → http://$(HOST):$(PORT) (run \`make demo\` first; demo-worker / $(DEMO_PASSWORD))"
	@QIAOMEN_SERVER=http://$(HOST):$(PORT) QIAOMEN_FIELD_HOME=$(CURDIR)/var/mobile KIVY_NO_ARGS=1 $(PY) mobile/main.py

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

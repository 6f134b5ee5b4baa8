"""The folder ↔ folder state machine (test_state_machine.py) with a CRM database table
(SQLite, the in-house `activities` shape) as the CRM side: the same edits, crashes
between applier steps, and the same invariants after every completed sync."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, settings

from tests.engine.harness import Env
from tests.engine.test_state_machine import SyncMachine
from tests.hypothesis_budget import examples
from tests.providers.sql import schemas


def sql_config_text() -> str:
    table = {k: v for k, v in schemas.ACTIVITIES_TABLE.items() if not isinstance(v, dict)}
    lines = ["[sql.crm]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    for key in ("show_as_values", "privacy_values"):
        pairs = ", ".join(
            f"{k} = {json.dumps(v)}" for k, v in schemas.ACTIVITIES_TABLE[key].items()
        )
        lines.append(f"{key} = {{ {pairs} }}")
    lines.append("[sql.crm.columns]")
    lines += [f"{k} = {json.dumps(v)}" for k, v in schemas.ACTIVITIES_TABLE["columns"].items()]
    return "\n".join(lines) + "\n"


class SqlSyncMachine(SyncMachine):
    def __init__(self) -> None:
        super().__init__()
        # the same machine, its CRM side replaced by a database table
        url = schemas.sqlite_url(self.root / "crm.sqlite")
        schemas.create(url, schemas.activities)
        self.saved_url = os.environ.get(schemas.ENV)
        os.environ[schemas.ENV] = url
        self.env = Env(
            self.root / "sql",
            crm_url="sql:crm/anna",
            config_text=sql_config_text(),
        )
        self.env.add_user(skip_private=False)
        assert self.env.init().result == "ok"

    def teardown(self) -> None:
        if self.saved_url is None:
            os.environ.pop(schemas.ENV, None)
        else:
            os.environ[schemas.ENV] = self.saved_url
        super().teardown()


SqlSyncMachine.TestCase.settings = settings(
    max_examples=examples(15),
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestSqlSyncMachine = SqlSyncMachine.TestCase

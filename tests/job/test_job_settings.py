"""SPEC R12: `[job]` settings override users' settings, and `user show` says which applies."""

from __future__ import annotations

from pathlib import Path

from sync.model import Privacy
from tests.job.helpers import Site, by_user, ev

JOB = """
[job]
skip_private = true
reminders = "off"
"""


def sources(site: Site, name: str) -> dict[str, tuple[object, str]]:
    run = site.cli("user", "show", name, "--json")
    assert run.code == 0, run
    return {k: (v["value"], v["source"]) for k, v in run.json()["settings"].items()}


def test_job_settings_override_user_settings_in_the_sync_and_in_user_show(
    tmp_path: Path,
) -> None:
    site = Site(tmp_path, JOB)
    # anna chose the opposite of the job on both; bo chose nothing
    site.add("anna", skip_private=False, reminders="sync", multiday="keep")
    site.add("bo")
    for name in ("anna", "bo"):
        site.put(name, "remote", ev(f"{name}-p", f"{name} private", privacy=Privacy.PRIVATE))
        site.put(name, "remote", ev(f"{name}-m", f"{name} meeting", reminder=15))
        assert site.cli("init", name).code == 0
        site.put(name, "remote", ev(f"{name}-m2", f"{name} later", days=2, reminder=30))
    run = site.cli("sync", "--all", "--json")
    assert run.code == 0, run
    assert set(by_user(run.json())) == {"anna", "bo"}

    for name in ("anna", "bo"):
        crm = {i.event.subject: i.event for i in site.items(name, "crm")}
        # skip_private from the job: the private item stayed on the remote only
        assert set(crm) == {f"{name} meeting", f"{name} later"}
        # reminders = off from the job: copies carry no reminder
        assert {e.reminder for e in crm.values()} == {None}

    anna = sources(site, "anna")
    assert anna["skip_private"] == (True, "job")
    assert anna["reminders"] == ("off", "job")
    assert anna["multiday"] == ("keep", "user")
    assert anna["window_past_days"] == (90, "default")
    assert sources(site, "bo")["skip_private"] == (True, "job")

    shown = site.cli("user", "show", "anna")
    assert shown.code == 0
    line = next(ln for ln in shown.out.splitlines() if "skip_private" in ln)
    assert "job" in line and "yes" in line

    # without the job value the user's own choice applies again
    site.ws.config_path.write_text('[job]\nreminders = "off"\n', encoding="utf-8")
    anna = sources(site, "anna")
    assert anna["skip_private"] == (False, "user")
    assert sources(site, "bo")["skip_private"] == (False, "default")


def test_job_enabled_false_skips_everyone(tmp_path: Path) -> None:
    site = Site(tmp_path, "[job]\nenabled = false\n")
    site.add("anna")
    assert site.cli("init", "anna").code == 0
    site.put("anna", "crm", ev("a1", "anna new"))
    run = site.cli("sync", "--all", "--json")
    assert run.code == 0, run
    (anna,) = run.json()["users"]
    assert (anna["result"], anna["reason"]) == ("skipped", "disabled ([job] enabled = false)")
    assert site.items("anna", "remote") == []

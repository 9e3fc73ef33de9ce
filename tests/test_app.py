"""The interactive app (sim/app.py): its settings, its views, and the page in a real browser.

Fast tests protect what the page relies on: an app run is the command line's run with the same
overrides and seed; each library scenario opens unchanged; the controls change exactly the keys
they name and can be undone; the views draw. The slow test starts the server as a student
would (``corridor-app``'s command and environment), drives Debian's chromium with playwright,
moves a lever, resets, steps, plays, checks that the charts change and that nothing failed or
reached beyond this machine, saves screenshots under ``results/test-artifacts/``, and stops
the server's whole process group.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import app_views as views
from sim.app_launch import SOLARA_ENV, server_command, server_env
from sim.app_model import (
    BASELINE,
    AppModel,
    AppSettings,
    compose_locked,
    scenario_names,
    scenario_question,
)
from sim.model import MigrationModel

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "results" / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
SMALL = 2_000


def _steps(model: MigrationModel, n: int) -> pd.DataFrame:
    for _ in range(n):
        model.step()
    return model.recorder.frame()


# ---- settings and the command line --------------------------------------------------------------
def test_every_library_scenario_opens_unchanged_with_its_question():
    names = scenario_names()
    assert names[0] == BASELINE and len(names) == len(list((ROOT / "configs" / "scenario").glob("*.yaml")))
    for name in names:
        assert scenario_question(name), f"{name}: no 'Question:' comment"
        s = AppSettings.for_scenario(name, size=SMALL)
        assert s.overrides() == [f"scenario={name}", f"population.size={SMALL}", f"run.seed={s.seed}"]


def test_app_run_is_the_command_line_run_with_the_same_overrides_and_seed():
    s = AppSettings.for_scenario(BASELINE, seed=7, size=SMALL)
    s.set_lever_date("iraq_flight_suspension", date(2021, 7, 1))
    s.set_enabled("iraq_consulate_closure", False)
    s.set_pushback("lithuania", False)
    s.behaviour["border.attempt_prob_per_day"] = 0.08
    over = s.overrides()
    assert "levers.iraq_flight_suspension.when.start=2021-07-01" in over
    assert "levers.iraq_consulate_closure.enabled=false" in over
    assert "levers.lt_pushbacks.enabled=false" in over
    assert "border.attempt_prob_per_day=0.08" in over
    app = _steps(AppModel(s), 260)
    cli = _steps(MigrationModel(compose_locked(over)), 260)
    pd.testing.assert_frame_equal(app, cli)
    assert app["pushback_lithuania"].sum() == 0


def test_pushback_switch_off_and_on_again_restores_the_scenario():
    s = AppSettings.for_scenario(BASELINE, size=SMALL)
    for seg in s.segments():
        assert s.pushes_back(seg)
        s.set_pushback(seg, False)
        assert not s.pushes_back(seg)
    assert "levers.lv_state_of_emergency.pushback=false" in s.overrides()
    for seg in s.segments():
        s.set_pushback(seg, True)
    assert s.overrides() == AppSettings.for_scenario(BASELINE, size=SMALL).overrides()
    # where the scenario had no pushbacks, switching them on turns the segment's levers on
    none = AppSettings.for_scenario("no_levers", size=SMALL)
    assert not none.pushes_back("latvia")
    none.set_pushback("latvia", True)
    assert none.pushes_back("latvia") and "levers.lv_state_of_emergency.enabled=true" in none.overrides()


def test_repatriation_flights_move_together_and_stay_in_the_run():
    s = AppSettings.for_scenario(BASELINE, size=SMALL)
    old = [date.fromisoformat(d) for d in s.levers["iraq_repatriation_flights"]["when"]["dates"]]
    s.set_lever_date("iraq_repatriation_flights", date(2022, 2, 20))
    new = [date.fromisoformat(d) for d in s.levers["iraq_repatriation_flights"]["when"]["dates"]]
    assert new[0] == date(2022, 2, 20) and all(d <= s.run_window[1] for d in new)
    assert [d - new[0] for d in new] == [d - old[0] for d in old][: len(new)]
    assert len(s.levers["iraq_repatriation_flights"]["seats"]) == len(new)
    AppModel(s)  # the config is valid


def test_views_draw_and_change_as_the_model_steps():
    s = AppSettings.for_scenario(BASELINE, size=10_000)  # enough rows that a week has arrivals
    model = AppModel(s)
    chart = views.people_chart(s.run_window, [])
    diagram = views.CorridorDiagram(model.world.origin_names, model.world.hubs, model.world.segment_ids)
    w = model.world

    def draw():
        via = sum(model.route_flows, np.zeros((w.n_origins, len(w.hubs) + 1)))
        return (chart.update(views.people_data(model.column)),
                diagram.update(via, np.zeros(3), np.zeros(3), 0.0, np.zeros(5), 0.0, np.zeros(3), 0.0, "today"))
    first = draw()
    _steps(model, 240)  # to late August 2021: flights, hubs and the border all busy
    later = draw()
    for a, b in zip(first, later, strict=True):
        assert a.startswith(b"\x89PNG") and b.startswith(b"\x89PNG") and a != b
    assert model.column("n_in_eu").shape == (240,)


def test_launcher_binds_loopback_with_telemetry_off_and_local_assets():
    cmd = server_command(port=8811)
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and "--production" in cmd and "--no-open" in cmd
    env = server_env({})
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env["SOLARA_ASSETS_CDN"].startswith("http://127.0.0.1:") and env == SOLARA_ENV


# ---- the page in a real browser ---------------------------------------------------------------------
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"the app server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app server did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """End the server's process group (solara may start children) and check it is gone."""
    pgid = proc.pid  # start_new_session: the server leads its own group
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=10)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail(f"processes of the app server's group {pgid} are still running")


@pytest.mark.slow
def test_page_in_chromium_moves_a_lever_resets_steps_and_plays():
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: run `bash scripts/setup.sh` as root (it installs Debian's "
                    "chromium with apt-get), or `apt-get install chromium`; the browser test needs it")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "app-server.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log, "w") as out:
        proc = subprocess.Popen(server_command(port=port), env=server_env(), cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    problems: list[str] = []
    blocked: list[str] = []
    try:
        _wait_for_server(url, proc, log)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 1250})

            def route(r):
                if r.request.url.startswith(LOCAL):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)

            page.goto(url)
            step = page.get_by_role("button", name="Step")
            step.wait_for(timeout=60_000)
            time_text = page.get_by_text(re.compile(r"^Time: "))
            people = page.locator("img").first
            expect(people).to_be_visible(timeout=30_000)
            expect(page.get_by_text("The model runs with these settings.")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "app-01-loaded.png", full_page=True)

            # move a lever: Iraq's flight suspension two weeks earlier (keyboard on the slider)
            slider = page.locator(".date-iraq_flight_suspension [role=slider]")
            slider.focus()
            for _ in range(14):
                slider.press("ArrowLeft")
            expect(page.get_by_text("2021-Jul-23")).to_be_visible()
            page.get_by_text("Lithuania pushes back").click()
            expect(page.get_by_text(re.compile("press RESET"))).to_be_visible()
            command = page.get_by_text(re.compile("levers.iraq_flight_suspension.when.start=2021-07-23"))
            expect(command).to_be_visible()
            expect(command).to_contain_text("levers.lt_pushbacks.enabled=false")
            page.screenshot(path=ARTIFACTS / "app-02-lever-moved.png", full_page=True)

            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_text("The model runs with these settings.")).to_be_visible(timeout=30_000)
            expect(time_text).to_have_text("Time: 0.0")
            before = people.screenshot()

            for n in (1, 2, 3):  # one Step is one render interval (7 days)
                step.click()
                expect(time_text).to_have_text(f"Time: {7.0 * n}", timeout=30_000)
            page.wait_for_timeout(1500)
            after = people.screenshot()
            assert before != after, "the people-by-state chart did not change after stepping"
            page.screenshot(path=ARTIFACTS / "app-03-stepped.png", full_page=True)

            # a second visitor gets a model of their own, with the library's settings
            other = browser.new_page(viewport={"width": 1500, "height": 1250})
            other.route("**/*", route)
            other.on("pageerror", lambda e: problems.append(f"second page error: {e}"))
            other.goto(url)
            other.get_by_role("button", name="Step").wait_for(timeout=60_000)
            expect(other.get_by_text(re.compile(r"^Time: "))).to_have_text("Time: 0.0")
            expect(other.get_by_text("2021-Aug-6")).to_be_visible()
            other.close()
            expect(time_text).to_have_text("Time: 21.0")

            # play: the speed a student sees (days per second, rendering included)
            t0, w0 = float(time_text.inner_text().split(":")[1]), time.monotonic()
            page.get_by_role("button", name="▶").click()
            page.wait_for_timeout(8000)
            t1, w1 = float(time_text.inner_text().split(":")[1]), time.monotonic()
            page.get_by_role("button", name="❚❚").click()
            speed = (t1 - t0) / (w1 - w0)
            (ARTIFACTS / "app-speed.txt").write_text(
                f"{speed:.1f} days per second while playing ({t1 - t0:.0f} days in {w1 - w0:.1f} s; "
                f"population 20,000; load average {os.getloadavg()[0]:.1f})\n")
            assert t1 > t0 + 7, "playing did not advance the model"
            page.wait_for_timeout(1500)
            page.screenshot(path=ARTIFACTS / "app-04-played.png", full_page=True)
            browser.close()
    finally:
        _stop(proc)
    server_log = log.read_text()
    assert not blocked, f"the page asked for addresses beyond this machine: {blocked[:5]}"
    assert not problems, "errors in the page:\n" + "\n".join(problems[:10])
    for bad in ("Traceback", "Could not load URL", "error in step"):
        assert bad not in server_log, f"'{bad}' in the server's log ({log})"

"""The interactive app (sim/app/page.py): its settings, its views, and the page in a real browser.

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

from sim.app import views
from sim.app.launch import SOLARA_ENV, server_command, server_env
from sim.app.model import (
    AppModel,
    AppSettings,
    compose_locked,
    scenario_names,
)
from sim.model.model import MigrationModel
from sim.running.compose import default_scenario
from sim.running.labels import scenario_question

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "results" / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
SMALL = 2_000
BASELINE = default_scenario()  # the scenario the app opens (configs/config.yaml's)


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
    chart = views.people_chart(s.run_window, [], model.labels, model.world.hubs)
    diagram = views.CorridorDiagram(model.world.origin_names, model.world.hubs, model.world.segment_ids, model.labels)
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
    assert model.column("n_in_destination").shape == (240,)


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


def _time(locator) -> float:
    """The step counter Mesa shows ("Time: 21.0"): days simulated so far."""
    return float(locator.inner_text().split(":")[1])


def _settled(page, read, quiet: float = 2.0, timeout: float = 90.0):
    """What ``read()`` returns once it has stopped changing for ``quiet`` seconds in a row
    (polled; a slow machine only takes longer). Fails if it keeps changing for ``timeout`` s."""
    end = time.monotonic() + timeout
    value, since = read(), time.monotonic()
    while time.monotonic() < end:
        page.wait_for_timeout(250)
        now = read()
        if now != value:
            value, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return value
    pytest.fail(f"the page kept changing for {timeout:.0f} s (last: {value!r})")


@pytest.mark.slow
def test_page_in_chromium_moves_a_lever_resets_steps_and_plays():
    """Waits on what the page shows (the counter, the charts' titles: the numbers they draw),
    never on fixed delays, so it passes on a slow machine and a fast one alike."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: run `bash scripts/setup.sh` as root (it installs Debian's "
                    "chromium with apt-get), or `apt-get install chromium`; the browser test needs it")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect, sync_playwright

    window = AppSettings.for_scenario().run_window
    n_days = (window[1] - window[0]).days + 1

    def day(n: float) -> str:  # the day the charts name after n days simulated
        return views.day_text(window, int(n))

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
            expect.set_options(timeout=30_000)

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
            # the charts are PNGs; each sits in a box titled with the numbers it draws (sim/app/page.py: _show)
            people = page.locator(".chart[title^='People by state on']")
            charts = {"people": people,
                      "corridor": page.locator(".chart[title^='The corridor on']"),
                      "arrivals": page.locator(".chart[title^='Arrivals in Minsk']"),
                      "returns": page.locator(".chart[title^='Leaving Belarus for home']")}

            def shows_day(n: float) -> None:  # every dated chart names the counter's day
                for name, chart in charts.items():
                    expect(chart, f"the {name} chart does not show {day(n)}").to_have_attribute(
                        "title", re.compile(re.escape(day(n))))

            expect(people.locator("img")).to_be_visible()
            shows_day(0)
            expect(page.get_by_text("The model runs with these settings.")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "app-01-loaded.png", full_page=True)

            # move a lever: Iraq's flight suspension two weeks earlier (keyboard on the slider), one
            # day at a time, each step seen on the page before the next: a busy machine may re-draw
            # the slider between two key presses, and a press sent meanwhile would be lost
            slider = page.locator(".date-iraq_flight_suspension [role=slider]")
            start = date(2021, 8, 6).toordinal()  # configs/scenario/baseline_2021.yaml

            def label(d: date) -> str:  # how the slider shows a day: 2021-Aug-6
                return f"{d.year}-{d:%b}-{d.day}"

            expect(page.get_by_text(label(date.fromordinal(start)), exact=True)).to_be_visible()
            for back in range(1, 15):
                slider.press("ArrowLeft")  # focuses the slider (as drawn now), then presses
                expect(page.get_by_text(label(date.fromordinal(start - back)), exact=True)).to_be_visible()
            expect(page.get_by_text("2021-Jul-23", exact=True)).to_be_visible()
            page.get_by_text("Lithuania pushes back").click()
            expect(page.get_by_text(re.compile("press RESET"))).to_be_visible()
            command = page.get_by_text(re.compile("levers.iraq_flight_suspension.when.start=2021-07-23"))
            expect(command).to_be_visible()
            expect(command).to_contain_text("levers.lt_pushbacks.enabled=false")
            page.screenshot(path=ARTIFACTS / "app-02-lever-moved.png", full_page=True)

            page.get_by_role("button", name="Reset").click()
            expect(page.get_by_text("The model runs with these settings.")).to_be_visible()
            expect(time_text).to_have_text("Time: 0.0")
            shows_day(0)
            before = people.get_attribute("title")

            for n in (1, 2, 3):  # one Step is one render interval (7 days)
                step.click()
                expect(time_text).to_have_text(f"Time: {7.0 * n}")
                shows_day(7 * n)
            after = people.get_attribute("title")
            assert before != after, f"the people-by-state chart did not change after stepping: {after!r}"
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
            shows_day(21)

            # play, and pause while the run is still going: Mesa's play interval at 201 ms leaves the
            # run at least 12 s (58 redraws) to catch it on any machine (at 1 ms a busy machine may
            # show no redraw before the run's end, and ❚❚ is then disabled)
            play, pause = page.get_by_role("button", name="▶"), page.get_by_role("button", name="❚❚")
            interval = page.get_by_role("slider", name="Play Interval (ms)")
            interval.focus()
            for _ in range(20):  # step 10 ms from 1
                interval.press("ArrowRight")
            expect(interval).to_have_attribute("aria-valuenow", "201")

            def state():
                return time_text.inner_text(), people.get_attribute("title")

            play.click()
            expect(step).to_be_disabled()  # Mesa disables Step while playing
            expect(time_text).not_to_have_text("Time: 21.0", timeout=90_000)  # playing advances the model
            try:
                pause.click(timeout=15_000)
                paused = True
            except PlaywrightTimeout:  # ❚❚ is disabled only once the run is over
                expect(pause).to_be_disabled()
                paused = False
            if paused:
                expect(play).to_be_enabled()
                expect(step).to_be_enabled()
                shown, _ = _settled(page, state)  # the counter no longer changes
                t2 = float(shown.split(":")[1])
                assert 21 < t2 < n_days, f"paused at {t2}"
                shows_day(t2)
                # it moves again only when asked: one Step is exactly 7 days more
                step.click()
                expect(time_text).to_have_text(f"Time: {t2 + 7}")
                shows_day(t2 + 7)
                assert _settled(page, state)[0] == f"Time: {t2 + 7}"
                page.screenshot(path=ARTIFACTS / "app-04-paused.png", full_page=True)

                # play to the end at the default interval (1 ms): the speed a student sees
                interval.focus()
                interval.press("Home")
                expect(interval).to_have_attribute("aria-valuenow", "1")
                t0, w0 = _time(time_text), time.monotonic()
                play.click()
                expect(pause).to_be_disabled(timeout=300_000)  # the run is over
                w1 = time.monotonic()
            # the run is over: its last day is shown and nothing can step it further
            shown, _ = _settled(page, state)
            t3 = float(shown.split(":")[1])
            assert t3 >= n_days, f"the run stopped at {t3} of {n_days} days"
            expect(step).to_be_disabled()
            shows_day(n_days)
            page.screenshot(path=ARTIFACTS / "app-05-run-over.png", full_page=True)
            load = f"population 20,000; load average {os.getloadavg()[0]:.1f}"
            (ARTIFACTS / "app-speed.txt").write_text(  # information only: nothing asserts a speed
                f"{(n_days - t0) / (w1 - w0):.1f} days per second while playing to the end ({n_days - t0:.0f} days "
                f"in {w1 - w0:.1f} s; {load}); paused at day {t2:.0f} on the way\n" if paused else
                f"the run ended before the pause, at 201 ms a redraw ({load})\n")
            browser.close()
    finally:
        _stop(proc)
    server_log = log.read_text()
    assert not blocked, f"the page asked for addresses beyond this machine: {blocked[:5]}"
    assert not problems, "errors in the page:\n" + "\n".join(problems[:10])
    for bad in ("Traceback", "Could not load URL", "error in step"):
        assert bad not in server_log, f"'{bad}' in the server's log ({log})"

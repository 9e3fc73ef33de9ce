"""What a run is called for people: its world's places and its scenario's meta, from the config.

No code names a world's places: figures, the terminal summary, the comparison report and the
app label what they draw with the names the world's config gives them (``world.transit``:
its state and entry points; ``world.segments``: the states that guard them; ``world.groups``:
the origin groups reported together), and a scenario's title, baseline and the levers the
app offers come from its ``meta`` section (and the question it answers from its file's
``# Question:`` comment). :class:`Labels` holds the words; ``Labels()`` is
the neutral wording for a table drawn without its config (``the transit country``)::

    labels = Labels.of(cfg)
    labels.say("Person-days in {transit}")     # 'Person-days in Belarus' in the 2021 world

Text written for :meth:`Labels.say` names a place only through its fields (``{transit}``,
``{city}``, ``{destination}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sim.model.config import Config, load_config
from sim.running.paths import CONFIG_DIR


def place(id_: str) -> str:
    """An id of the config written for a reader: ``minsk`` -> ``Minsk``, ``st_petersburg`` ->
    ``St Petersburg`` (each word's first letter upper case, the rest as written)."""
    return " ".join(w[:1].upper() + w[1:] for w in str(id_).split("_") if w)


def either(names: Iterable[str]) -> str:
    """``A``, ``A or B``, ``A, B or C`` ('' for none)."""
    names = list(dict.fromkeys(names))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + (f" or {names[-1]}" if names else "")


def _config(cfg: Config | Mapping[str, Any]) -> Config:
    return cfg if isinstance(cfg, Config) else load_config(dict(cfg))


@dataclass(frozen=True)
class Labels:
    """The words for a world's places, as its config names them.

    Attributes:
        transit: the transit state (``world.transit.state``).
        city: where people arrive in it (``world.transit.entry_points``' ids, as places).
        destination: the states guarding the border segments (``world.segments[].state``).
        groups: origin group id -> its label (``world.groups``).
        segment_states: segment id -> the state guarding it.
    """

    transit: str = "the transit country"
    city: str = "the city"
    destination: str = "the destination"
    groups: Mapping[str, str] = field(default_factory=dict)
    segment_states: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: Config | Mapping[str, Any]) -> Labels:
        """The labels of a config's world (a :class:`Config` or its plain dict); a name the world
        leaves empty keeps the neutral word."""
        w = _config(cfg).world
        default = cls()
        return cls(
            transit=w.transit.state or default.transit,
            city=either(place(e.id) for e in w.transit.entry_points if e.id) or default.city,
            destination=either(s.state for s in w.segments if s.state) or default.destination,
            groups=dict(w.groups),
            segment_states={s.id: s.state for s in w.segments if s.state},
        )

    def say(self, text: str) -> str:
        """``text`` with ``{transit}``, ``{city}`` and ``{destination}`` filled in."""
        return text.format(transit=self.transit, city=self.city, destination=self.destination)

    def group(self, group_id: str) -> str:
        """An origin group's label (its id, as a place, if the world does not name it)."""
        return self.groups.get(group_id, place(group_id))

    def guarded_by(self, segment: str) -> str:
        """The state guarding a segment (the destination's words if unknown)."""
        return self.segment_states.get(segment, self.destination)


# the daily table's metrics a trigger may watch, in words (docs/outputs.md); others are their names
METRIC_WORDS = {
    "in_transit_country": "people in {transit} (in {city} or at the border)",
    "in_city": "people in {city}",
    "at_border": "people at the border",
    "intending": "people intending to leave",
    "in_destination": "people who have reached {destination} (caught and kept, or unseen)",
    "arrivals": "arrivals in {city} today",
    "attempts": "border attempts today, all segments",
    "turned_back": "attempts turned back today, all segments",
    "got_through": "people through unseen today, all segments",
    "deaths": "deaths at the border today",
    "repatriated": "people on free repatriation flights today",
}


def metric_words(metric: str, labels: Labels) -> str:
    """A metric of the daily table in words (its name with spaces if it has none)."""
    return labels.say(METRIC_WORDS[metric]) if metric in METRIC_WORDS else metric.replace("_", " ")


# --------------------------------------------------------------------------------------
# the scenario's meta: its title, its baseline, the levers shown
# --------------------------------------------------------------------------------------


@cache
def scenario_question(name: str, scenario_dir: Path = CONFIG_DIR / "scenario") -> str:
    """The question a scenario file answers: its comment line ``# Question: ...`` (the text
    after ``Question:``, first letter upper case; '' if the file has none)."""
    path = Path(scenario_dir) / f"{name}.yaml"
    if not path.is_file():
        return ""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.lstrip("# ").strip()
        if line.lstrip().startswith("#") and text.lower().startswith("question:"):
            text = text.split(":", 1)[1].strip()
            return text[:1].upper() + text[1:]
    return ""


def scenario_title(cfg: Config | Mapping[str, Any]) -> str:
    """The scenario's title (``meta.title``), or its name."""
    c = _config(cfg)
    return c.meta.title or c.scenario


def baseline_of(cfg: Config | Mapping[str, Any]) -> str:
    """The scenario this one is compared with (``meta.baseline``), or itself."""
    c = _config(cfg)
    return c.meta.baseline or c.scenario


def shown_levers(cfg: Config | Mapping[str, Any]) -> list[str]:
    """The levers the app offers to move (``meta.levers_shown``, those the scenario has), or all."""
    c = _config(cfg)
    return [n for n in c.meta.levers_shown if n in c.levers] if c.meta.levers_shown else list(c.levers)


def lever_label(name: str, actor: str) -> str:
    """A lever's name for a reader: ``iraq_flight_suspension`` of Iraq -> ``Iraq flight
    suspension``, ``uae_boarding_ban`` of UAE -> ``UAE boarding ban``, ``ru_escorts_to_border``
    of Russia -> ``Russia escorts to border`` (a first word that is the actor, or the start of
    its name, is written as the config writes the actor)."""
    words = name.split("_")
    if actor and words and len(words[0]) >= 2 and actor.lower().startswith(words[0].lower()):
        words[0] = actor
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:]

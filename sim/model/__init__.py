"""The model: one day of the corridor and its parts.

- :mod:`sim.model.model` — :class:`MigrationModel`, the day's wiring (levers → states →
  airlines → agencies → migrants → guards → record);
- :mod:`sim.model.config` — the configuration schema and its checks (no Hydra);
- :mod:`sim.model.world` — places, routes, visa channels, segments and the day's policy arrays;
- :mod:`sim.model.population` — the people as arrays, and the migrant rules as vectorised kernels;
- :mod:`sim.model.institutions` — travel agencies, airlines, states and border guards (Mesa agents);
- :mod:`sim.model.levers` — the policy levers: a schedule and an effect on the day's policy;
- :mod:`sim.model.allocate` — scarce things handed out (seats, visas, packages), never more than there is;
- :mod:`sim.model.rng` — the named, counter-based random streams;
- :mod:`sim.model.recorder` — the daily table and the run's summary.
"""

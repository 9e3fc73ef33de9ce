"""The interactive explorer (``corridor-app``): the Solara page (:mod:`sim.app.page`), the
model it steps beside the baseline (:mod:`sim.app.model`), its views (:mod:`sim.app.views`) and
the launcher of its local server (:mod:`sim.app.launch`)."""

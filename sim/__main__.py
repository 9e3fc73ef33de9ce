"""``python -m sim``: the same as the ``corridor`` command (see :mod:`sim.running.cli`)."""

from sim.running.cli import main

if __name__ == "__main__":
    main()

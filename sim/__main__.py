"""``python -m sim``: the same as the ``corridor`` command (see :mod:`sim.cli`)."""

from sim.cli import main

if __name__ == "__main__":
    main()

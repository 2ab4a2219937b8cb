"""``python -m dfbench``: the same command as ``dfbench`` (what ``torchrun -m dfbench`` runs)."""

from dfbench.cli import main

main()

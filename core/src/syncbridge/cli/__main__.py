"""``python -m syncbridge.cli``: the ``syncbridge`` command without its console script."""

from syncbridge.cli import main

main()

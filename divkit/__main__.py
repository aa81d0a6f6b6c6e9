"""``python -m divkit`` is the same as the ``divkit`` command."""

from divkit._cli import main

raise SystemExit(main())

"""Piccolo tables, migrations and engine set-up.

Piccolo finds its configuration through PICCOLO_CONF; the portal's lives here so
that `piccolo migrations …` and the app agree on one engine.
"""

import os

os.environ.setdefault("PICCOLO_CONF", "app.db.piccolo_conf")

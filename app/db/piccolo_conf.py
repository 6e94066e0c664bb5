"""Piccolo's project configuration (PICCOLO_CONF=app.db.piccolo_conf)."""

from piccolo.conf.apps import AppRegistry

from app.db.engine import engine_from_url
from app.settings import get_settings

DB = engine_from_url(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=["app.db.piccolo_app"])

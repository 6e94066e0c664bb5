from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer, Serial, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statistics rollup"

#: The figures as this migration creates them (app/domain/rollup.py may add more later,
#: each with its own migration).
UNIT_FIGURES = (
    "received",
    "received_online",
    "fee_dossiers",
    "paid_online",
    "resolved",
    "early",
    "on_time",
    "late",
    "refused",
    "withdrawn",
    "not_received",
    "ended",
    "ended_in_time",
    "ended_late",
    "resolution_seconds",
    "rated",
    "satisfied",
    "dissatisfied",
    "unhappy",
    "approved",
    "electronic_results",
    "digitised",
    "i1_sum",
    "i2_sum",
    "i2_count",
    "i3_sum",
    "i3_count",
    "i4_sum",
    "i4_count",
    "i7_sum",
    "in_unit",
    "resolved_online",
    "late_online",
    "open_change",
    "overdue_change",
)
OFFICER_FIGURES = (
    "steps",
    "i1_sum",
    "i2_sum",
    "i3_sum",
    "i3_count",
    "i4_sum",
    "i4_count",
    "i7_sum",
)


def _params(**extra):
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    tables = (
        ("StatsMonth", "stats_month", (("unit_code", 20), ("procedure_code", 20)), UNIT_FIGURES),
        (
            "StatsOfficerMonth",
            "stats_officer_month",
            (("actor", 64), ("step_unit", 20), ("unit_code", 20), ("procedure_code", 20)),
            OFFICER_FIGURES,
        ),
    )
    for class_name, tablename, texts, figures in tables:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        columns = [
            ("id", Serial, _params(primary_key=True)),
            ("month", Integer, _params(default=0)),
            *[(name, Varchar, _params(length=length, default="")) for name, length in texts],
            *[(name, BigInt, _params(default=0)) for name in figures],
        ]
        for name, column_class, params in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=params,
                schema=None,
            )

    return manager

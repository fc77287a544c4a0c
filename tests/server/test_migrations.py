"""The Alembic history builds exactly the schema the models describe."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

import common.sql
import federation.models
import server.models
import settlement.models
from federation_harness import Databases
from server import db


def combined_metadata() -> MetaData:
    metadata = MetaData()
    for source in (server.models.Base.metadata, federation.models.Base.metadata, settlement.models.Base.metadata):
        for table in source.tables.values():
            table.to_metadata(metadata)
    return metadata


async def test_migrations_match_models_and_rerun_harmlessly(tmp_path: Path) -> None:
    databases = Databases(tmp_path)
    engine = db.create_engine(await databases.new("migrations"))
    try:
        await db.upgrade(engine)
        await db.upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), combined_metadata()))
        assert [d for d in diff if not _is_type_noise(d)] == []
    finally:
        await engine.dispose()
        await databases.drop_all()


def test_file_names_give_every_revision_and_the_head() -> None:
    """`db.upgrade` leaves Alembic unloaded when a database is at the head the file names give: Alembic's own."""
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    named = {path.name.split("_", 1)[0] for path in db.VERSIONS.glob("*.py")}
    assert named == {script.revision for script in scripts.walk_revisions()}
    assert db.head_revision() == scripts.get_current_head()


def _is_type_noise(change: object) -> bool:
    """UTCDateTime is a DateTime underneath; Alembic sees the decorator as a different type."""
    return (isinstance(change, list) and len(change) == 1 and change[0][0] == "modify_type"
            and isinstance(change[0][-1], common.sql.UTCDateTime))

"""scheduler: APScheduler's job store table.

APScheduler's SQLAlchemyJobStore would create this table itself on start; creating it here
instead means two schedulers started at the same moment never race on CREATE TABLE, and a
database user without DDL rights can run the scheduler. The table is not a model (see
newsletter.db.UNMODELLED_PREFIXES); its layout is the one SQLAlchemyJobStore defines.

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db  # noqa: F401

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), nullable=False),
        sa.Column("next_run_time", sa.Float(25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")

"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import newsletter.db

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=True),
    sa.Column('date_precision', sa.String(length=8), nullable=False),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('region', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('location_precision', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.Text(), nullable=True),
    sa.Column('info_request', sa.Text(), nullable=True),
    sa.Column('publication', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('matched_keywords', sa.JSON(), nullable=False),
    sa.Column('relevant', sa.Boolean(), nullable=False),
    sa.Column('suggested_section', sa.String(length=64), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("date_precision IN ('day', 'week', 'month')", name=op.f('ck_incidents_date_precision')),
    sa.CheckConstraint("location_precision IN ('city', 'region', 'country')", name=op.f('ck_incidents_location_precision')),
    sa.CheckConstraint("origin IN ('feed', 'volunteer', 'editor', 'import')", name=op.f('ck_incidents_origin')),
    sa.CheckConstraint("publication IN ('public', 'anonymised', 'internal')", name=op.f('ck_incidents_publication')),
    sa.CheckConstraint("state IN ('new', 'accepted', 'rejected', 'duplicate', 'needs_info', 'scheduled', 'published')", name=op.f('ck_incidents_state')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['incidents.id'], name=op.f('fk_incidents_merged_into_id_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('external_id', name=op.f('uq_incidents_external_id'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_city'), ['city'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_content_hash'), ['content_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_occurred_on'), ['occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_state'), ['state'], unique=False)
        batch_op.create_index('ix_incidents_state_created', ['state', 'created_at'], unique=False)

    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('started_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_job'), ['job'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('alias', sa.String(length=300), nullable=True),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('region', sa.String(length=200), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('consent', sa.String(length=16), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("consent IN ('name', 'alias', 'initials', 'none')", name=op.f('ck_persons_consent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_name'), ['name'], unique=False)

    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acquired_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sections')),
    sa.UniqueConstraint('slug', name=op.f('uq_sections_slug'))
    )
    op.create_table('sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('site_url', sa.String(length=2000), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('default_section', sa.String(length=64), nullable=True),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('exclude_keywords', sa.JSON(), nullable=False),
    sa.Column('poll_interval', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('etag', sa.String(length=500), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('next_check_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('feed', 'volunteer', 'api', 'import')", name=op.f('ck_sources_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_sources_name')),
    sa.UniqueConstraint('url', name=op.f('uq_sources_url'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_next_check_at'), ['next_check_at'], unique=False)

    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('consent_source', sa.String(length=200), nullable=False),
    sa.Column('consent_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bounce_count', sa.Integer(), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'confirmed', 'unsubscribed', 'bounced')", name=op.f('ck_subscribers_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('email', name=op.f('uq_subscribers_email')),
    sa.UniqueConstraint('token', name=op.f('uq_subscribers_token'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscribers_state'), ['state'], unique=False)

    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    sa.UniqueConstraint('email', name=op.f('uq_suppressions_email'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('editor', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)

    op.create_table('case_statuses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('article', sa.String(length=100), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source_url', sa.String(length=2000), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('summoned', 'searched', 'detained', 'pre_trial_detention', 'house_arrest', 'charged', 'on_trial', 'convicted_prison', 'restricted_freedom', 'suspended_sentence', 'fined', 'forced_psychiatric_examination', 'forced_psychiatric_placement', 'released', 'acquitted', 'in_exile', 'extradition_requested', 'prosecution_continues')", name=op.f('ck_case_statuses_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_case_statuses_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_case_statuses_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_case_statuses_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_statuses'))
    )
    with op.batch_alter_table('case_statuses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_statuses_person_id'), ['person_id'], unique=False)

    op.create_table('duplicate_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('open', 'merged', 'dismissed')", name=op.f('ck_duplicate_candidates_state')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_duplicate_candidates_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_id'], ['incidents.id'], name=op.f('fk_duplicate_candidates_other_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidates')),
    sa.UniqueConstraint('incident_id', 'other_id', name=op.f('uq_duplicate_candidates_incident_id'))
    )
    with op.batch_alter_table('duplicate_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duplicate_candidates_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duplicate_candidates_other_id'), ['other_id'], unique=False)

    op.create_table('incident_persons',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_persons_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_incident_persons_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'person_id', name=op.f('pk_incident_persons'))
    )
    op.create_table('incident_sections',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_sections_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_incident_sections_section_id_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'section_id', name=op.f('pk_incident_sections'))
    )
    op.create_table('incident_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('canonical_url', sa.String(length=2000), nullable=True),
    sa.Column('guid', sa.String(length=1000), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('published_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_sources_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_incident_sources_source_id_sources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_sources'))
    )
    with op.batch_alter_table('incident_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_sources_canonical_url'), ['canonical_url'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_sources_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index('ix_incident_sources_source_guid', ['source_id', 'guid'], unique=False)

    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('show_withheld_count', sa.Boolean(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('second_approved_by_id', sa.Integer(), nullable=True),
    sa.Column('second_approved_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('scheduled_for', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('draft', 'approved', 'scheduled', 'sending', 'sent')", name=op.f('ck_issues_state')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_issues_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['second_approved_by_id'], ['users.id'], name=op.f('fk_issues_second_approved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('number', name=op.f('uq_issues_number')),
    sa.UniqueConstraint('period', name=op.f('uq_issues_period'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', newsletter.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'bounced')", name=op.f('ck_deliveries_state')),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_deliveries_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_deliveries_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('issue_id', 'subscriber_id', name=op.f('uq_deliveries_issue_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_issue_state', ['issue_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('issue_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('headline', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_issue_items_incident_id_incidents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_items_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_issue_items_person_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_issue_items_section_id_sections'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_items'))
    )
    with op.batch_alter_table('issue_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_items_issue_id'), ['issue_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('receipt_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('api_token_id', sa.Integer(), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_token_id'], ['api_tokens.id'], name=op.f('fk_submissions_api_token_id_api_tokens'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_submissions_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_submissions_receipt_hash'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_incident_id'), ['incident_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.Column('stored_name', sa.String(length=100), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_attachments_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_attachments_submission_id_submissions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_attachments_stored_name'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_incident_id'), ['incident_id'], unique=False)

    op.create_table('submission_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', newsletter.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_messages_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_messages'))
    )
    with op.batch_alter_table('submission_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_messages_submission_id'), ['submission_id'], unique=False)

    _seed_sections()


def _seed_sections() -> None:
    """The sections of the seed newsletter (shared/seeds/001), in its order; editors can change them."""
    table = sa.table(
        "sections",
        sa.column("slug", sa.String),
        sa.column("title", sa.String),
        sa.column("description", sa.Text),
        sa.column("position", sa.Integer),
        sa.column("created_at", newsletter.db.UTCDateTime(timezone=True)),
    )
    now = newsletter.db.utcnow()
    rows = [
        ("repression", "Repression of independent voices", "Pressure on journalists, bloggers and civil society voices."),
        ("persecution", "Intensified political persecution", "Detentions, arrests, charges, trials and sentences of activists."),
        ("punitive-psychiatry", "Political persecution – Punitive psychiatry", "Forced psychiatric examinations and placements."),
        ("solidarity", "Solidary action", "Solidarity actions organised by human rights defenders on the ground."),
        ("legislation", "“Silencing state”", "Laws, rulings and official practice that restrict rights and freedoms."),
        ("international", "International corner", "Reactions of foreign governments, parliaments and international bodies."),
    ]
    op.bulk_insert(
        table,
        [
            {"slug": slug, "title": title, "description": desc, "position": i, "created_at": now}
            for i, (slug, title, desc) in enumerate(rows, start=1)
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table('submission_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_messages_submission_id'))

    op.drop_table('submission_messages')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_incident_id'))

    op.drop_table('attachments')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submissions_incident_id'))

    op.drop_table('submissions')
    with op.batch_alter_table('issue_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_items_issue_id'))

    op.drop_table('issue_items')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_subscriber_id'))
        batch_op.drop_index('ix_deliveries_issue_state')

    op.drop_table('deliveries')
    op.drop_table('issues')
    with op.batch_alter_table('incident_sources', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_sources_source_guid')
        batch_op.drop_index(batch_op.f('ix_incident_sources_incident_id'))
        batch_op.drop_index(batch_op.f('ix_incident_sources_canonical_url'))

    op.drop_table('incident_sources')
    op.drop_table('incident_sections')
    op.drop_table('incident_persons')
    with op.batch_alter_table('duplicate_candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duplicate_candidates_other_id'))
        batch_op.drop_index(batch_op.f('ix_duplicate_candidates_incident_id'))

    op.drop_table('duplicate_candidates')
    with op.batch_alter_table('case_statuses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_statuses_person_id'))

    op.drop_table('case_statuses')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
        batch_op.drop_index('ix_audit_log_entity')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    op.drop_table('api_tokens')
    op.drop_table('users')
    op.drop_table('suppressions')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_state'))

    op.drop_table('subscribers')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_next_check_at'))

    op.drop_table('sources')
    op.drop_table('sections')
    op.drop_table('scheduler_leases')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_name'))

    op.drop_table('persons')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_job'))

    op.drop_table('job_runs')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_state_created')
        batch_op.drop_index(batch_op.f('ix_incidents_state'))
        batch_op.drop_index(batch_op.f('ix_incidents_occurred_on'))
        batch_op.drop_index(batch_op.f('ix_incidents_created_at'))
        batch_op.drop_index(batch_op.f('ix_incidents_content_hash'))
        batch_op.drop_index(batch_op.f('ix_incidents_city'))

    op.drop_table('incidents')

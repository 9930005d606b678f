"""Operations: the scheduler's jobs, its lease, status, backups and the editors' digest."""

-- Every state a job has entered, with when: the timeline of the console's job page. Triggers
-- on import_jobs (jobs of both kinds) write it, so every statement that changes a status —
-- claiming, planning, pieces, finishing, failing, export jobs — is recorded without knowing it.
--
-- at is Unix nanoseconds, as every time in this database. A job's first state takes its
-- created_at and an ending state its completed_at, so the timeline agrees with the job's own
-- times; the states between take the database's clock (to the millisecond). A time is never earlier than the job's previous one:
-- the importer takes a job's completion time before it completes the job, and the clock that
-- wrote created_at may disagree with the database's, so an end can come out earlier than
-- the state before it; it then takes that state's time.
CREATE TABLE job_states (
	seq    INTEGER PRIMARY KEY,
	job_id TEXT NOT NULL,
	status TEXT NOT NULL,
	at     INTEGER NOT NULL
);
CREATE INDEX job_states_job ON job_states (job_id, seq);

CREATE TRIGGER job_states_insert AFTER INSERT ON import_jobs BEGIN
	INSERT INTO job_states (job_id, status, at) VALUES (NEW.id, NEW.status, NEW.created_at);
END;

CREATE TRIGGER job_states_update AFTER UPDATE OF status ON import_jobs
WHEN NEW.status IS NOT OLD.status BEGIN
	INSERT INTO job_states (job_id, status, at) SELECT NEW.id, NEW.status, max(
		CASE WHEN NEW.completed_at <> 0 AND NEW.completed_at IS NOT OLD.completed_at THEN NEW.completed_at
			ELSE CAST(round(unixepoch('subsec') * 1000) AS INTEGER) * 1000000 END,
		coalesce((SELECT max(at) FROM job_states WHERE job_id = NEW.id), 0));
END;

-- Jobs from before: when they were created and, for those that ended, how and when. The
-- states between were not recorded.
INSERT INTO job_states (job_id, status, at)
	SELECT id, 'CREATED', created_at FROM import_jobs ORDER BY seq;
INSERT INTO job_states (job_id, status, at)
	SELECT id, status, max(completed_at, created_at) FROM import_jobs
	WHERE status IN ('COMPLETED', 'FAILED') AND completed_at <> 0 ORDER BY seq;

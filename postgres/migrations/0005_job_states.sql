-- Every state a job has entered, with when: the timeline of the console's job page. Triggers
-- on import_jobs (jobs of both kinds) write it, so every statement that changes a status —
-- claiming, planning, pieces, finishing, failing, export jobs — is recorded without knowing it.
--
-- at is Unix nanoseconds, as every time in this database. A job's first state takes its
-- created_at and an ending state its completed_at, so the timeline agrees with the job's own
-- times; the states between take the database's clock (clock_timestamp(), the time of the
-- change, not of its transaction's start). A time is never earlier than the job's previous one:
-- the importer takes a job's completion time before it completes the job, and the clock that
-- wrote created_at may disagree with the database's, so an end can come out earlier than
-- the state before it; it then takes that state's time.
-- The job's row is locked by the change that fires the trigger, so a job's states are
-- numbered in the order they happened.
CREATE TABLE job_states (
	seq    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	job_id text NOT NULL,
	status text NOT NULL,
	at     bigint NOT NULL
);
CREATE INDEX job_states_job ON job_states (job_id, seq);

CREATE FUNCTION pinfold_job_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO job_states (job_id, status, at) SELECT NEW.id, NEW.status, greatest(
		CASE
			WHEN TG_OP = 'INSERT' THEN NEW.created_at
			WHEN NEW.completed_at <> 0 AND NEW.completed_at IS DISTINCT FROM OLD.completed_at THEN NEW.completed_at
			ELSE (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000
		END,
		(SELECT max(at) FROM job_states WHERE job_id = NEW.id));
	RETURN NULL;
END
$$;

CREATE TRIGGER job_states_insert AFTER INSERT ON import_jobs
	FOR EACH ROW EXECUTE FUNCTION pinfold_job_state();
CREATE TRIGGER job_states_update AFTER UPDATE OF status ON import_jobs
	FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status) EXECUTE FUNCTION pinfold_job_state();

-- Jobs from before: when they were created and, for those that ended, how and when. The
-- states between were not recorded.
INSERT INTO job_states (job_id, status, at)
	SELECT id, 'CREATED', created_at FROM import_jobs ORDER BY seq;
INSERT INTO job_states (job_id, status, at)
	SELECT id, status, greatest(completed_at, created_at) FROM import_jobs
	WHERE status IN ('COMPLETED', 'FAILED') AND completed_at <> 0 ORDER BY seq;

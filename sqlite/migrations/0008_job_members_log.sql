-- A job's segment members are appended as its pieces commit and put in order once, when the
-- job completes. Keyed by (job_id, endpoint_id), each piece inserted its members at random
-- endpoint IDs into a B-tree that grew with the job, about 80 bytes an entry, so that every
-- commit dirtied most of its pages (docs/performance.md). Now members land at the end of the
-- table and of the index on the job. A member added twice keeps its last channel: the job's
-- end reads them in endpoint ID order and, for one endpoint, in the order they were added
-- (rowid).
CREATE TABLE import_job_members_log (
	job_id       TEXT NOT NULL,
	endpoint_id  TEXT NOT NULL,
	channel_type TEXT NOT NULL
);
INSERT INTO import_job_members_log (job_id, endpoint_id, channel_type)
	SELECT job_id, endpoint_id, channel_type FROM import_job_members ORDER BY job_id, endpoint_id;
DROP TABLE import_job_members;
ALTER TABLE import_job_members_log RENAME TO import_job_members;
CREATE INDEX import_job_members_job ON import_job_members (job_id);

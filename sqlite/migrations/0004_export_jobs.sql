-- Export jobs run on the import jobs' tables and state machine: import_jobs and import_pieces
-- hold jobs and pieces of both kinds (the names are from when there was one). kind is IMPORT
-- or EXPORT; a piece's kind is its job's.
ALTER TABLE import_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'IMPORT';
DROP INDEX import_jobs_app;
DROP INDEX import_jobs_segment;
DROP INDEX import_jobs_status;
CREATE INDEX import_jobs_app ON import_jobs (app_id, kind, seq);
CREATE INDEX import_jobs_segment ON import_jobs (app_id, kind, segment_id, seq);
CREATE INDEX import_jobs_status ON import_jobs (kind, status, seq);

-- An export piece is a range of endpoint IDs written to the object bucket/key: the IDs from
-- the source's page at start_token through through_id ('' for no end), of segment_version
-- of the job's segment when it exports one. Import pieces leave these empty.
ALTER TABLE import_pieces ADD COLUMN start_token TEXT NOT NULL DEFAULT '';
ALTER TABLE import_pieces ADD COLUMN through_id TEXT NOT NULL DEFAULT '';
ALTER TABLE import_pieces ADD COLUMN segment_version INTEGER NOT NULL DEFAULT 0;

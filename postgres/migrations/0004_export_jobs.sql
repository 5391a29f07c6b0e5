-- Export jobs run on the import jobs' tables and state machine: import_jobs and import_pieces
-- hold jobs and pieces of both kinds (the names are from when there was one). kind is IMPORT
-- or EXPORT; a piece's kind is its job's.
ALTER TABLE import_jobs ADD COLUMN kind text NOT NULL DEFAULT 'IMPORT';
DROP INDEX import_jobs_app;
DROP INDEX import_jobs_segment;
DROP INDEX import_jobs_status;
CREATE INDEX import_jobs_app ON import_jobs (app_id, kind, seq);
CREATE INDEX import_jobs_segment ON import_jobs (app_id, kind, segment_id, seq);
CREATE INDEX import_jobs_status ON import_jobs (kind, status, seq);

-- An export piece is a range of endpoint IDs written to the object bucket/key: the IDs from
-- the source's page at start_token through through_id ('' for no end), of segment_version
-- of the job's segment when it exports one. Import pieces leave these empty.
ALTER TABLE import_pieces ADD COLUMN start_token text NOT NULL DEFAULT '';
ALTER TABLE import_pieces ADD COLUMN through_id text NOT NULL DEFAULT '';
ALTER TABLE import_pieces ADD COLUMN segment_version integer NOT NULL DEFAULT 0;

-- Endpoint IDs order by their bytes, as in SQLite and in Go: exports cut an app's or a
-- segment's endpoints into pieces by ID, and a piece's bounds must mean the same to the
-- database that lists the IDs and to the exporter that compares them. (Under a language
-- collation, "a-c" sorts after "ab"; by bytes, before.)
ALTER TABLE endpoints ALTER COLUMN id TYPE text COLLATE "C";
ALTER TABLE segment_members ALTER COLUMN endpoint_id TYPE text COLLATE "C";

-- Apps, endpoints, segments and import jobs. Times are Unix nanoseconds (UTC).
CREATE TABLE apps (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	tags       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- data holds the whole endpoint as JSON; the columns beside it are what queries select on.
CREATE TABLE endpoints (
	app_id       TEXT NOT NULL,
	id           TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	address      TEXT NOT NULL,
	channel_type TEXT NOT NULL,
	data         BLOB NOT NULL,
	PRIMARY KEY (app_id, id)
) WITHOUT ROWID;
CREATE INDEX endpoints_user ON endpoints (app_id, user_id) WHERE user_id <> '';

CREATE TABLE segments (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	app_id         TEXT NOT NULL,
	id             TEXT NOT NULL,
	type           TEXT NOT NULL,
	tags           TEXT NOT NULL,
	created_at     INTEGER NOT NULL,
	latest_version INTEGER NOT NULL,
	UNIQUE (app_id, id)
);

CREATE TABLE segment_versions (
	app_id     TEXT NOT NULL,
	segment_id TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	import     TEXT, -- SegmentImport as JSON for IMPORT segments
	PRIMARY KEY (app_id, segment_id, version)
) WITHOUT ROWID;

-- A member belongs to every version from the one that added it on (imports only add).
CREATE TABLE segment_members (
	app_id       TEXT NOT NULL,
	segment_id   TEXT NOT NULL,
	endpoint_id  TEXT NOT NULL,
	version      INTEGER NOT NULL,
	channel_type TEXT NOT NULL,
	PRIMARY KEY (app_id, segment_id, endpoint_id)
) WITHOUT ROWID;

CREATE TABLE import_jobs (
	seq              INTEGER PRIMARY KEY AUTOINCREMENT,
	id               TEXT NOT NULL UNIQUE,
	app_id           TEXT NOT NULL,
	segment_id       TEXT NOT NULL,
	definition       TEXT NOT NULL,
	status           TEXT NOT NULL,
	created_at       INTEGER NOT NULL,
	completed_at     INTEGER NOT NULL DEFAULT 0,
	total_pieces     INTEGER NOT NULL DEFAULT 0,
	completed_pieces INTEGER NOT NULL DEFAULT 0,
	failed_pieces    INTEGER NOT NULL DEFAULT 0,
	total_processed  INTEGER NOT NULL DEFAULT 0,
	total_failures   INTEGER NOT NULL DEFAULT 0,
	owner            TEXT NOT NULL DEFAULT '',
	lease_until      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX import_jobs_app ON import_jobs (app_id, seq);
CREATE INDEX import_jobs_segment ON import_jobs (app_id, segment_id, seq);
CREATE INDEX import_jobs_status ON import_jobs (status, seq);

CREATE TABLE import_pieces (
	job_id      TEXT NOT NULL,
	no          INTEGER NOT NULL,
	app_id      TEXT NOT NULL,
	bucket      TEXT NOT NULL,
	key         TEXT NOT NULL,
	etag        TEXT NOT NULL,
	start_byte  INTEGER NOT NULL,
	end_byte    INTEGER NOT NULL,
	first_line  INTEGER NOT NULL,
	header      TEXT NOT NULL,
	gzip        INTEGER NOT NULL,
	state       TEXT NOT NULL, -- pending, running, done, failed
	owner       TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	not_before  INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, no)
) WITHOUT ROWID;
CREATE INDEX import_pieces_state ON import_pieces (state, lease_until);

-- Every failure of a job. piece = -1 holds job-level failures, listed first.
CREATE TABLE import_failures (
	job_id  TEXT NOT NULL,
	piece   INTEGER NOT NULL,
	line    INTEGER NOT NULL,
	seq     INTEGER NOT NULL,
	message TEXT NOT NULL,
	PRIMARY KEY (job_id, piece, line, seq)
) WITHOUT ROWID;

-- Segment members found by a running job, moved into segment_members when it completes.
CREATE TABLE import_job_members (
	job_id       TEXT NOT NULL,
	endpoint_id  TEXT NOT NULL,
	channel_type TEXT NOT NULL,
	PRIMARY KEY (job_id, endpoint_id)
) WITHOUT ROWID;

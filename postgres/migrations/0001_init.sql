-- Apps, endpoints, segments and import jobs. Times are Unix nanoseconds (UTC), as in SQLite.
CREATE TABLE apps (
	seq        bigserial PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	name       text NOT NULL,
	tags       jsonb NOT NULL,
	created_at bigint NOT NULL
);

-- data holds the whole endpoint as JSON; the columns beside it are what queries select on.
CREATE TABLE endpoints (
	app_id       text NOT NULL,
	id           text NOT NULL,
	user_id      text NOT NULL,
	address      text NOT NULL,
	channel_type text NOT NULL,
	data         jsonb NOT NULL,
	PRIMARY KEY (app_id, id)
);
CREATE INDEX endpoints_user ON endpoints (app_id, user_id) WHERE user_id <> '';

CREATE TABLE segments (
	seq            bigserial PRIMARY KEY,
	app_id         text NOT NULL,
	id             text NOT NULL,
	type           text NOT NULL,
	tags           jsonb NOT NULL,
	created_at     bigint NOT NULL,
	latest_version integer NOT NULL,
	UNIQUE (app_id, id)
);

CREATE TABLE segment_versions (
	app_id     text NOT NULL,
	segment_id text NOT NULL,
	version    integer NOT NULL,
	name       text NOT NULL,
	updated_at bigint NOT NULL,
	import     jsonb,
	PRIMARY KEY (app_id, segment_id, version)
);

-- A member belongs to every version from the one that added it on (imports only add).
CREATE TABLE segment_members (
	app_id       text NOT NULL,
	segment_id   text NOT NULL,
	endpoint_id  text NOT NULL,
	version      integer NOT NULL,
	channel_type text NOT NULL,
	PRIMARY KEY (app_id, segment_id, endpoint_id)
);

CREATE TABLE import_jobs (
	seq              bigserial PRIMARY KEY,
	id               text NOT NULL UNIQUE,
	app_id           text NOT NULL,
	segment_id       text NOT NULL,
	definition       jsonb NOT NULL,
	status           text NOT NULL,
	created_at       bigint NOT NULL,
	completed_at     bigint NOT NULL DEFAULT 0,
	total_pieces     integer NOT NULL DEFAULT 0,
	completed_pieces integer NOT NULL DEFAULT 0,
	failed_pieces    integer NOT NULL DEFAULT 0,
	total_processed  bigint NOT NULL DEFAULT 0,
	total_failures   bigint NOT NULL DEFAULT 0,
	owner            text NOT NULL DEFAULT '',
	lease_until      bigint NOT NULL DEFAULT 0
);
CREATE INDEX import_jobs_app ON import_jobs (app_id, seq);
CREATE INDEX import_jobs_segment ON import_jobs (app_id, segment_id, seq);
CREATE INDEX import_jobs_status ON import_jobs (status, seq);

CREATE TABLE import_pieces (
	job_id      text NOT NULL,
	no          integer NOT NULL,
	app_id      text NOT NULL,
	bucket      text NOT NULL,
	key         text NOT NULL,
	etag        text NOT NULL,
	start_byte  bigint NOT NULL,
	end_byte    bigint NOT NULL,
	first_line  bigint NOT NULL,
	header      text NOT NULL,
	gzip        boolean NOT NULL,
	state       text NOT NULL, -- pending, running, done, failed
	owner       text NOT NULL DEFAULT '',
	lease_until bigint NOT NULL DEFAULT 0,
	not_before  bigint NOT NULL DEFAULT 0,
	attempts    integer NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, no)
);
CREATE INDEX import_pieces_waiting ON import_pieces (job_id, no) WHERE state IN ('pending', 'running');

-- Every failure of a job. piece = -1 holds job-level failures, listed first.
CREATE TABLE import_failures (
	job_id  text NOT NULL,
	piece   integer NOT NULL,
	line    bigint NOT NULL,
	seq     integer NOT NULL,
	message text NOT NULL,
	PRIMARY KEY (job_id, piece, line, seq)
);

-- Segment members found by a running job, moved into segment_members when it completes.
CREATE TABLE import_job_members (
	job_id       text NOT NULL,
	endpoint_id  text NOT NULL,
	channel_type text NOT NULL,
	PRIMARY KEY (job_id, endpoint_id)
);

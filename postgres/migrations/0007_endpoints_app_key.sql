-- Endpoints are keyed by their app's seq instead of its 32-character ID, as in the SQLite
-- store: every entry of the three indexes is that much smaller, and each comparison in them
-- starts with two integers instead of two strings that are always equal. PostgreSQL's own
-- work for a 12,372-row import piece fell by about a fifth (docs/performance.md). The table
-- is rebuilt rather than altered: a new column filled by an UPDATE would leave every row
-- twice in the table until a VACUUM FULL. An endpoint whose app no longer exists, which
-- DeleteApp never leaves behind, is not carried over: no statement could reach it.
CREATE TABLE endpoints_keyed (
	app          bigint NOT NULL,
	id           text COLLATE "C" NOT NULL,
	user_id      text COLLATE "C" NOT NULL,
	address      text COLLATE "C" NOT NULL,
	channel_type text NOT NULL,
	data         jsonb NOT NULL,
	PRIMARY KEY (app, id)
);
INSERT INTO endpoints_keyed (app, id, user_id, address, channel_type, data)
	SELECT a.seq, e.id, e.user_id, e.address, e.channel_type, e.data FROM endpoints e JOIN apps a ON a.id = e.app_id;
DROP TABLE endpoints;
ALTER TABLE endpoints_keyed RENAME TO endpoints;
ALTER INDEX endpoints_keyed_pkey RENAME TO endpoints_pkey;
CREATE INDEX endpoints_user ON endpoints (app, user_id) WHERE user_id <> '';
CREATE INDEX endpoints_address ON endpoints (app, address) WHERE address <> '';

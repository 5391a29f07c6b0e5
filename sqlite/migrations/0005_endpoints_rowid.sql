-- Endpoints move from a WITHOUT ROWID table to a rowid table with a unique index on the key.
--
-- A stored endpoint is 500–1,000 bytes of JSON. In a WITHOUT ROWID table every row lives in
-- the key's B-tree, interior pages included, so a 4 KiB page holds about four: the tree is
-- deep, and a random ID dirties a different page on the way down and at the leaf for nearly
-- every row written. SQLite's own guidance is WITHOUT ROWID for rows under a twentieth of a
-- page. In a rowid table new rows are appended (pages filled in order, about five rows each),
-- and the random IDs only land in the index of 80-byte (app_id, id) entries, fifty to a page.
CREATE TABLE endpoints_rowid (
	rid          INTEGER PRIMARY KEY,
	app_id       TEXT NOT NULL,
	id           TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	address      TEXT NOT NULL,
	channel_type TEXT NOT NULL,
	data         BLOB NOT NULL
);
INSERT INTO endpoints_rowid (app_id, id, user_id, address, channel_type, data)
	SELECT app_id, id, user_id, address, channel_type, data FROM endpoints ORDER BY app_id, id;
DROP TABLE endpoints;
ALTER TABLE endpoints_rowid RENAME TO endpoints;
CREATE UNIQUE INDEX endpoints_key ON endpoints (app_id, id);
CREATE INDEX endpoints_user ON endpoints (app_id, user_id) WHERE user_id <> '';
CREATE INDEX endpoints_address ON endpoints (app_id, address) WHERE address <> '';

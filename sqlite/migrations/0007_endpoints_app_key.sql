-- Endpoints name their app by its integer key (apps.seq) instead of its 32-character ID.
--
-- The app's ID led every entry of the three endpoint indexes: the key (app, id), the user and
-- the address. An import writes those at random IDs, so each piece's commit dirties an index
-- page for nearly every row, and the size of the entries decides how many pages that is. With
-- the ID gone from them, the entries are 30–40 bytes shorter, more of each index stays in the
-- write connection's cache, and transactions that write several pieces (sqlite/groupcommit.go)
-- share more of the pages they dirty: a bare loop of 1M random-ID upserts went from 15k to 29k
-- rows/s with both (docs/performance.md). apps.seq is AUTOINCREMENT: never reused.
--
-- Queries name the app by its ID as before and find the key with
-- (SELECT seq FROM apps WHERE id = ?), which SQLite evaluates once per statement. Endpoints
-- of an app that no longer exists are not carried over (deleting an app deletes its
-- endpoints; none should exist).
CREATE TABLE endpoints_keyed (
	rid          INTEGER PRIMARY KEY,
	app          INTEGER NOT NULL,
	id           TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	address      TEXT NOT NULL,
	channel_type TEXT NOT NULL,
	data         BLOB NOT NULL
);
INSERT INTO endpoints_keyed (app, id, user_id, address, channel_type, data)
	SELECT a.seq, e.id, e.user_id, e.address, e.channel_type, e.data
	FROM endpoints e JOIN apps a ON a.id = e.app_id ORDER BY a.seq, e.id;
DROP TABLE endpoints;
ALTER TABLE endpoints_keyed RENAME TO endpoints;
CREATE UNIQUE INDEX endpoints_key ON endpoints (app, id);
CREATE INDEX endpoints_user ON endpoints (app, user_id) WHERE user_id <> '';
CREATE INDEX endpoints_address ON endpoints (app, address) WHERE address <> '';

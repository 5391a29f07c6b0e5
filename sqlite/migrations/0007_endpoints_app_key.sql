-- The endpoint indexes get smaller: the app is named by its integer key (apps.seq) instead of
-- its 32-character ID, and the indexes on the user and the address hold a 64-bit hash of
-- the value (sqlite/keyhash.go) instead of the value.
--
-- An import writes these three indexes at random IDs, so each commit dirties an index page
-- for nearly every row, and the size of the entries decides how many pages that is and how
-- many stay in the write connection's cache. The key index stays (app, id): pages of
-- endpoints are read in ID order. apps.seq is AUTOINCREMENT, never reused. The numbers are in
-- docs/performance.md.
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
	user_hash    INTEGER, -- keyHash(user_id): NULL when user_id is ''
	address_hash INTEGER, -- keyHash(address): NULL when address is ''
	data         BLOB NOT NULL
);
INSERT INTO endpoints_keyed (app, id, user_id, address, channel_type, user_hash, address_hash, data)
	SELECT a.seq, e.id, e.user_id, e.address, e.channel_type, pinfold_key_hash(e.user_id), pinfold_key_hash(e.address), e.data
	FROM endpoints e JOIN apps a ON a.id = e.app_id ORDER BY a.seq, e.id;
DROP TABLE endpoints;
ALTER TABLE endpoints_keyed RENAME TO endpoints;
CREATE UNIQUE INDEX endpoints_key ON endpoints (app, id);
CREATE INDEX endpoints_user ON endpoints (app, user_hash) WHERE user_hash IS NOT NULL;
CREATE INDEX endpoints_address ON endpoints (app, address_hash) WHERE address_hash IS NOT NULL;

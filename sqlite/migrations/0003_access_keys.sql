-- Access keys beyond the root key (which is configuration, not data). The secret is kept as
-- given, because verifying a SigV4 signature needs it: protect the database like the
-- credentials file. app_ids is a JSON array of app IDs; [] means every app.
CREATE TABLE access_keys (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	secret     TEXT NOT NULL,
	app_ids    TEXT NOT NULL,
	read_only  INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
);

-- Access keys beyond the root key (which is configuration, not data). The secret is kept as
-- given, because verifying a SigV4 signature needs it: protect the database like the
-- credentials file. An empty app_ids means every app.
CREATE TABLE access_keys (
	seq        bigserial PRIMARY KEY,
	id         text NOT NULL UNIQUE,
	secret     text NOT NULL,
	app_ids    text[] NOT NULL,
	read_only  boolean NOT NULL,
	created_at bigint NOT NULL,
	revoked_at bigint NOT NULL DEFAULT 0
);

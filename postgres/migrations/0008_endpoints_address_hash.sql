-- The index behind the INACTIVE rule holds a 64-bit hash of each address, not the address:
-- FCM and APNs tokens run to 163 characters, which made it the largest of the endpoint
-- indexes and the costliest to insert into at random. The rule's UPDATE looks the batch's
-- hashes up in it and then compares the addresses themselves, so a collision costs a row
-- read, never a wrong match. hashtextextended is PostgreSQL's own hash of text (hash
-- partitioning's), the same across platforms and releases. An import piece's work in the
-- database fell by about 30% in a throwaway loop (docs/performance.md).
DROP INDEX endpoints_address;
CREATE INDEX endpoints_address ON endpoints (app, hashtextextended(address, 0)) WHERE address <> '';

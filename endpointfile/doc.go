// Package endpointfile decodes the endpoint files of Pinpoint import jobs: CSV with a header
// of dotted names, and newline-delimited JSON in EndpointRequest's shape (PINPOINT.md §3.3,
// §3.4). It also writes the files of export jobs (Encoder): one EndpointResponse per line,
// the JSON GetEndpoint answers, which the NDJSON decoder reads back whole. Both decoders stream: they read one physical line at a time, so memory stays bounded
// (about MaxLineBytes per decoder) whatever the size of the file, and every line yields at
// most one Row carrying either a validated *pinfold.EndpointUpdate or a precise error.
//
// The strings of a decoded update are not copied one by one: they share memory with the
// input around them (up to 64 KB of it, or the one line when it is longer), and the update
// and the arrays of attribute values share allocations with neighbouring rows (up to 9 KB
// and 16 KB). They are immutable, so keeping an update is safe, but it keeps that memory
// too: a caller that keeps a few updates out of many for a long time may want to copy them.
//
// Rules shared by both formats, where Pinpoint's documentation leaves room:
//
//   - A line is a record. Lines end with LF or CRLF; a last line without a terminator is
//     read. A UTF-8 byte order mark is stripped at the start of a file (the CSV header, or
//     line 1 of an NDJSON file). Row.Line is the physical 1-based line number, counting
//     blank lines and the header.
//   - Blank lines are skipped: empty or only spaces for CSV, only JSON whitespace for NDJSON.
//   - A line longer than MaxLineBytes is a row error (the line is skipped without being held
//     in memory); so is a line that is not valid UTF-8 (the message gives the byte offset).
//   - A row that sets nothing (every CSV cell empty, or a JSON object with only null or
//     read-only members) is a row error, "row sets no endpoint fields".
//   - Every decoded update is checked with Validate's rules; its error becomes the row's
//     error. (The decoders call (*pinfold.EndpointUpdate).ValidateChecked, which is told that
//     the line was valid UTF-8 and which attribute and metric entries it already checked.)
//     A NUL character in a value is a row error too, because no store can keep it.
//   - Row errors are *pinfold.Error values with code EINVALID whose message has no file or
//     line prefix; the importer adds "s3://bucket/key:LINE: ".
//
// CSV rules:
//
//   - The first line of the file is the header. Names are exactly those of PINPOINT.md §3.4
//     (case-sensitive) plus EndpointStatus. A bad header (empty, an unknown or empty name,
//     an Attributes.<name> whose name is too long, a repeated single-valued column) makes
//     NewCSVDecoder and HeaderLine return an EINVALID error naming the column: one failure
//     for the file instead of the same failure on every row.
//   - Attributes.<name> and User.UserAttributes.<name> may repeat; each column adds one value,
//     in column order, and an empty cell adds none. An attribute whose cells are all empty is
//     absent from the update. Every other column may appear once.
//   - An empty cell, quoted or not, is an absent field (nil), never "".
//   - Values are not trimmed. A value holding a comma or a double quote is wrapped in double
//     quotes with inner quotes doubled; a double quote inside an unquoted value, text after a
//     closing quote, and a quote left open at the end of the line are row errors. Line breaks
//     inside quoted values are not supported (Pinpoint forbids them): the next line is always
//     a new record.
//   - A tab, a NUL or a carriage return that does not end the line is a row error.
//   - Metrics.<name>, Location.Latitude and Location.Longitude must be decimal numbers
//     (sign, digits, point, exponent; no NaN, Inf or hex) that fit a float64.
//   - A User.UserId cell is one user ID. Pinpoint's note about several user IDs separated by
//     spaces on one line (PINPOINT.md §3.3, unconfirmed) is not interpreted.
//
// NDJSON rules:
//
//   - Each non-blank line is exactly one JSON object with EndpointRequest's members and
//     nesting (Demographic, Location, User) plus Id. Member names are case-sensitive, unlike
//     encoding/json's matching, and a repeated member is a row error.
//   - ApplicationId, CohortId and CreationDate, which Pinpoint writes in export files, are
//     accepted (string or null) and ignored. Any other unknown member is a row error naming
//     it with its path, e.g. unknown field "Location.Altitude".
//   - null for any member, or for one attribute or metric, means absent. An empty string is
//     present ("Address":"" sets the address to ""). An attribute given as [] is present with
//     no values, which clears it on merge.
//   - Attributes and User.UserAttributes values must be arrays of strings; Metrics values,
//     Latitude and Longitude must be numbers. Numbers follow JSON's grammar and must fit a
//     float64.
//   - The parser is hand-written for this one shape: it is exact about names and types, says
//     where a syntax error is (byte offset in the line), and allocates little. It accepts the
//     same JSON text as encoding/json, which the fuzz test checks.
package endpointfile

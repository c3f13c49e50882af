// Package ledger is danzen's evidence ledger: an append-only, hash-chained
// JSON-lines file that proves when each backup medium was powered, that
// each cut was verified, and which snapshots and checks ran. Auditors read
// it through the documents and can re-verify it with any tool.
//
// # Files in the ledger directory (/perm/danzen/ledger)
//
//	ledger.jsonl        the entries, one JSON object per line, each ending in "\n"
//	head.json           anchor: seq, hash and time of the last entry, replaced atomically after every append
//	ledger.torn-<time>  bytes of a line that was being written when the device stopped (moved aside at start)
//	ledger.lock         held (flock) by the one process that may append
//	reserve             4 MiB of zeros, space kept for evidence when the disk fills (reserve.go); not evidence
//	status-checkpoint.json  the dashboard's state up to a verified point of the chain (package status);
//	                    not evidence: missing or damaged, it is rebuilt from the entries
//
// # Entry encoding (what an auditor re-verifies)
//
// Each line is a JSON object whose members appear in exactly this order:
//
//	seq      integer, 1 for the first entry, +1 for each next one
//	time     string, RFC 3339 in UTC with "Z" and up to 9 fraction digits, trailing zeros dropped
//	         (Go's time.RFC3339Nano), e.g. "2025-01-31T17:00:00.25Z"
//	clock    string, how the clock that dated the entry was set: "ntp" (synchronised),
//	         "rtc" (the board's hardware clock, not synchronised) or "unsynced"; omitted
//	         when the writer did not say (entries written before it was recorded, the CLI)
//	kind     string, never empty: one of the kinds declared in kinds.go (Kinds lists
//	         them with the type of each one's data)
//	medium   string, omitted when empty
//	actor    string, omitted when empty ("system" or a user name)
//	message  object {"ja": "…", "en": "…"}: what happened, in both languages; omitted
//	         when empty. Entries written before danzen kept the languages apart hold
//	         one string "日本語 / English" here instead (testdata/v0).
//	data     the kind's data (a JSON object of the declared type), omitted when the
//	         kind carries none; written compact with object keys sorted and numbers
//	         exactly as given
//	prev     string, lowercase hex SHA-256 of the previous entry; for seq 1 it is
//	         GenesisHash (64 "0" characters)
//	hash     string, lowercase hex SHA-256 of the canonical encoding (below)
//
// No whitespace is written between tokens. Strings are escaped as Go's
// encoding/json escapes them (so "<", ">", "&" appear as \u003c, \u003e, \u0026;
// other non-ASCII text is plain UTF-8).
//
// The canonical encoding of an entry is the line itself without its final
// `,"hash":"<64 hex>"` member, that is, the JSON object with members seq … prev
// in the order above. Because the hash member is always last and always 64
// hex digits, an auditor does not need to reproduce the JSON encoder:
//
//	line  = one line of ledger.jsonl without its "\n"
//	body  = line[:len(line)-75] + "}"          // drop `,"hash":"` + 64 hex + `"}` and close the object
//	check = hex(sha256(body)) == line's hash   // and == next line's prev
//
// A valid ledger also has seq 1, 2, 3 … without gaps, prev of each line equal
// to hash of the line before (GenesisHash for the first), and head.json equal
// to the last line's seq and hash. head.json may lag exactly one entry behind
// when the device stopped between writing a line and replacing head.json; the
// next start repairs it.
//
// # What the chain does and does not prove
//
// Editing, deleting, inserting or reordering a line, and cutting entries off
// the end, are detected. The chain has no secret key: someone with write
// access who rewrites every later line and head.json can forge a consistent
// ledger. The documents therefore print the head hash, so a copy held by the
// hospital or the auditor pins the ledger up to that point.
//
// # Crash handling
//
// Every entry is written with one write and fsynced before Append returns.
// A line cut short by a power loss (no trailing "\n", or an unparsable last
// line) is never taken into the chain: Open copies its bytes to
// ledger.torn-<time>, truncates the ledger to the last complete line and
// appends an "interrupted" entry naming the side file. Any other damage
// makes Open fail, because appending after a broken chain would hide it.
//
// # When the chain is checked
//
// Open checks the whole chain, or, given Options.From (an Anchor: a point
// an earlier check reached, which danzend keeps in the status checkpoint),
// that entry against the file and only the lines after it, so a start
// costs the same after ten years. danzend verifies the whole chain daily
// (Verify) and records each verification as a "ledger.verified" entry;
// after one fails, the next start checks the whole chain again.
package ledger

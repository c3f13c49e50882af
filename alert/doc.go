// Package alert tells hospital IT staff at once when something needs them:
// a failed or missed backup cycle, a medium that could not be verified
// powered off, low staging space, a new 注意 finding at the WAN edge, a
// broken evidence ledger, a failed restore drill, an export that looks
// like ransomware, or a pull that left something out: files refused for
// the first time (pull_refused), files not complete in two pulls in a row
// (pull_pending), an export with no complete file (pull_empty), or an
// export whose staged files or bytes fell by more than the source's
// drop_alert_percent (default 20) and stay so (pull_dropped). Each pull
// alert is keyed by source and cleared once a pull shows it mended.
//
// An Alert is built by one of the constructors (CycleFailed, MediumNotOff,
// …) so that wording and dedup keys stay the same everywhere. A Notifier
// built from a Spec sends it to every configured channel — mail over SMTP
// and a JSON webhook — retrying transient failures, and suppresses repeats
// of the same dedup key within Spec.RepeatInterval so that a condition that
// persists does not flood a one-person IT department. A change of state
// (resolved, fired again, or escalated in severity) is always sent.
//
// What each alert asks of hospital staff and of the maintenance vendor is
// its cause's Guide (Guides, Explain): the status page, the history and
// the operations annex show the same words, so they cannot disagree.
//
// Secrets are never part of the Spec: the SMTP password and the webhook
// token are read, at each send, from files (mode 0600) that the Spec names.
// Credentials are never sent over a connection without TLS.
//
// # Webhook body
//
// One JSON object, UTF-8, POSTed with Content-Type application/json:
//
//	kind        "cycle_failed" | "medium_not_off" | "cycle_missed" | "staging_low" | "scan_finding" | "ledger_failed" |
//	            "drill_failed" | "source_anomaly" | "ledger_full" | "pull_refused" | "pull_pending" |
//	            "pull_empty" | "pull_dropped"
//	severity    "critical" | "error" | "warning" | "info" (info: resolved)
//	gateway_id  string
//	medium      string, omitted when the alert is not about one medium
//	time        RFC 3339 in the configured time_zone (e.g. +09:00)
//	title_ja, title_en, body_ja, body_en  strings
//	detail      string, omitted when empty (technical cause, as logged)
//	dedup_key   string, stable for one condition, e.g. "medium_not_off/gw1/disk-a"
//	resolved    bool, true when the condition has cleared
//	text        the whole message as plain text (Japanese first), for chat tools
//
// An optional token is sent as "Authorization: Bearer <token>".
package alert

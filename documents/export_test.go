package documents

// The page's words the runbook quotes, for TestRunbookQuotesThePage.
var (
	PageWords   = pageWords
	PageFormats = pageFormats
	// AcceptancePageWords are those the acceptance test quotes.
	AcceptancePageWords = acceptancePageWords
)

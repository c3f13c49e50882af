package config

// docs/config.md is generated from the types of this package and of
// those it embeds; a test fails when it is not what this writes.
//go:generate go run ./cmd/configdoc -out ../docs/config.md

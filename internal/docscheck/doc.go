// Package docscheck holds the tests that keep the repository's prose
// documents true to the code (docs/threat-model.md names its proofs).
package docscheck

package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
)

// TestDocsCommand generates the English documents with PDFs from a fresh
// configuration (no source, no medium, nothing filled in yet): every file
// is written, and every empty person field is reported.
func TestDocsCommand(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	cfg.Documents.HospitalName = "Test Hospital"
	cfgPath := filepath.Join(dir, "config.json")
	if err := config.Save(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "docs")
	got, code := run(t, bin, "docs", "--config", cfgPath, "--out", out, "--lang", "en", "--from", "2026-10-01", "--to", "2026-10-08", "--pdf")
	if code != 0 {
		t.Fatalf("docs exited %d:\n%s", code, got)
	}
	for _, id := range []string{"offline-backup-plan", "operations-annex", "build-runbook", "recovery-sheet", "evidence-report"} {
		for _, ext := range []string{"html", "md", "pdf"} {
			b, err := os.ReadFile(filepath.Join(out, id+".en."+ext))
			if err != nil || len(b) == 0 {
				t.Errorf("%s.en.%s: %v", id, ext, err)
			}
		}
		if _, err := os.Stat(filepath.Join(out, id+".ja.html")); err == nil {
			t.Errorf("--lang en wrote the Japanese %s", id)
		}
	}
	for _, want := range []string{"fields are not filled in", "documents.responsible", "documents.media_storage", "documents.password_storage"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	plan, _ := os.ReadFile(filepath.Join(out, "offline-backup-plan.en.html"))
	for _, want := range []string{"Test Hospital", "No medium is configured", "2026"} {
		if !strings.Contains(string(plan), want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	if _, code := run(t, bin, "docs", "--config", cfgPath, "--out", out, "--lang", "fr"); code != 2 {
		t.Errorf("--lang fr exited %d, want 2", code)
	}
	if got, code := run(t, bin, "docs", "--config", cfgPath, "--out", out, "--from", "2026-10-08", "--to", "2026-10-01"); code != 2 {
		t.Errorf("reversed period exited %d, want 2:\n%s", code, got)
	}
}

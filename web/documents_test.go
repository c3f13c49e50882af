package web_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/ledger"
)

// TestDocumentsPage: every role may download the documents, only the
// vendor admin may fill in their fields, and a download name is only ever
// one the generator made.
func TestDocumentsPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	admin := e.login("admin", adminPW)

	page := admin.get("/documents")
	if page.code != http.StatusOK {
		t.Fatalf("GET /documents: %d", page.code)
	}
	for _, want := range []string{"/documents/offline-backup-plan.ja.html?", "/documents/evidence-report.en.md?", "documents.hospital_name", `id="document-fields"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the documents page lacks %q", want)
		}
	}

	// Download: an attachment with the page certificate's fingerprint.
	r := admin.get("/documents/build-runbook.en.html?from=2026-10-01&to=2026-10-08")
	if r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q", r.code, r.header.Get("Content-Disposition"))
	}
	if !strings.Contains(r.body, e.certs.Fingerprint()) || !strings.Contains(r.body, documents.MissingMarker.EN) {
		t.Error("the runbook lacks the certificate fingerprint or the not-filled-in marker")
	}

	// Traversal and unknown names are refused without reading anything.
	for _, p := range []string{"/documents/..%2fconfig.json", "/documents/..%2F..%2Fsecrets", "/documents/%2e%2e", "/documents/config.json",
		"/documents/offline-backup-plan.ja.html%2f..%2f..%2fconfig.json", "/documents/offline-backup-plan.fr.html"} {
		r := admin.get(p)
		if r.code == http.StatusOK || strings.Contains(r.body, "staging_dir") {
			t.Errorf("GET %s: %d, served %d bytes", p, r.code, len(r.body))
		}
	}
	if r := admin.get("/documents/../config.json"); r.code == http.StatusOK {
		t.Errorf("GET /documents/../config.json: %d", r.code)
	}

	// Not logged in: no document.
	if r := e.client().get("/documents/recovery-sheet.ja.html"); r.code != http.StatusSeeOther || strings.Contains(r.body, "restic") {
		t.Errorf("anonymous download: %d", r.code)
	}

	// An auditor downloads, but cannot change the fields.
	auditor := e.addUser("auditor1", auth.RoleAuditor)
	if r := auditor.get("/documents/evidence-report.ja.md"); r.code != http.StatusOK || !strings.Contains(r.body, "オフライン証跡報告書") {
		t.Errorf("auditor download: %d", r.code)
	}
	if r := auditor.get("/documents"); strings.Contains(r.body, `id="document-fields"`) {
		t.Error("the auditor is shown the fields form")
	}
	if r := auditor.post("/documents/fields", url.Values{"hospital_name": {"forged"}}); r.code != http.StatusForbidden {
		t.Errorf("auditor POST /documents/fields: %d, want 403", r.code)
	}

	// The admin fills the fields; a bad address is shown beside its field.
	bad := admin.post("/documents/fields", url.Values{"hospital_name": {"さくら総合病院"}, "gateway_address": {"not-an-ip"}})
	if len(fieldErrors(bad.body, "gateway_address")) == 0 {
		t.Fatalf("no message beside gateway_address:\n%s", bad.body)
	}
	if e.g.Config().Documents.HospitalName != "" {
		t.Fatal("an invalid form was applied")
	}
	ok := admin.post("/documents/fields", url.Values{"hospital_name": {"さくら総合病院"}, "systems_covered": {"電子カルテ、レセプト"},
		"rto": {"4h"}, "gateway_address": {"10.1.2.50"}, "sftp_chroot": {"/srv/danzen-chroot"}})
	if ok.code != http.StatusSeeOther {
		t.Fatalf("save fields: %d\n%s", ok.code, ok.body)
	}
	d := e.g.Config().Documents
	if d.HospitalName != "さくら総合病院" || len(d.SystemsCovered) != 2 || d.SystemsCovered[1] != "レセプト" || d.GatewayAddress != "10.1.2.50" {
		t.Fatalf("fields not applied: %+v", d)
	}
	if len(e.entries(ledger.KindConfigChange)) == 0 {
		t.Error("the change is not in the ledger")
	}
	plan := admin.get("/documents/offline-backup-plan.ja.html")
	if !strings.Contains(plan.body, "さくら総合病院") || !strings.Contains(plan.body, "4時間") {
		t.Error("the plan does not show the saved fields")
	}
}

// TestDocumentsPageInBrowser fills the document fields in headless
// Chromium and opens the generated plan; any console error fails.
func TestDocumentsPageInBrowser(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser("/documents", "documents")
	b.step("fill", chromedp.SendKeys(chromedp.ID("doc-hospital_name"), "さくら総合病院"),
		chromedp.SendKeys(chromedp.ID("doc-responsible"), "山田 花子"),
		chromedp.Click(chromedp.ID("save-fields")), chromedp.WaitVisible(chromedp.ID("flash")))
	if got := e.g.Config().Documents; got.HospitalName != "さくら総合病院" || got.Responsible != "山田 花子" {
		t.Fatalf("fields after saving in the browser: %+v", got)
	}
	b.shot("documents-page")
	// The download is an attachment: open it as the saved file would be.
	plan := e.login("admin", adminPW).get("/documents/offline-backup-plan.ja.html")
	f := filepath.Join(t.TempDir(), "plan.html")
	if err := os.WriteFile(f, []byte(plan.body), 0o644); err != nil {
		t.Fatal(err)
	}
	b.step("open plan", chromedp.Navigate("file://"+f), chromedp.WaitVisible(chromedp.CSS("h1")))
	if head, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(".doc-head"))); !strings.Contains(head, "さくら総合病院") {
		t.Errorf("plan header %q", head)
	}
}

// TestDocumentsHoldNoSecret plants a restic password and an SSH private key
// and downloads every generated file: none holds them, while the runbook
// carries the public half for authorized_keys.
func TestDocumentsHoldNoSecret(t *testing.T) {
	srv := startSSH(t)
	var planted []string
	e := newEnv(t, envOptions{configure: withSecrets(t, srv, &planted)})
	c := e.login("admin", adminPW)
	n := 0
	for _, info := range documents.All {
		for _, lg := range documents.Langs {
			for _, format := range []string{documents.FormatHTML, documents.FormatMarkdown} {
				r := c.get("/documents/" + documents.FileName(info.ID, lg, format))
				if r.code != http.StatusOK {
					t.Fatalf("%s.%s.%s: %d", info.ID, lg, format, r.code)
				}
				n++
				for _, s := range planted {
					if strings.Contains(r.body, s) {
						t.Errorf("%s.%s.%s holds a planted secret", info.ID, lg, format)
					}
				}
				if info.ID == "build-runbook" && !strings.Contains(r.body, "ssh-ed25519 AAAA") {
					t.Errorf("runbook.%s.%s lacks the public key", lg, format)
				}
			}
		}
	}
	if n != len(documents.All)*len(documents.Langs)*2 || n < 20 {
		t.Fatalf("%d files downloaded", n)
	}
}

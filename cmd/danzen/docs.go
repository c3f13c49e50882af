package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/documents/pdf"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/web"
)

// runDocs: `danzen docs` writes the plan, annex, runbook, recovery sheet
// and evidence report from a configuration and its ledger.
func runDocs(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("docs")
	out := fs.String("out", "", "output directory")
	fromS := fs.String("from", "", "evidence period start, YYYY-MM-DD in the configuration's time zone (default: 30 days before --to)")
	toS := fs.String("to", "", "evidence period end, YYYY-MM-DD, not included (default: tomorrow, so today is included)")
	langS := fs.String("lang", "", "the documents' language, ja or en (default: both)")
	withPDF := fs.Bool("pdf", false, "also print every document to PDF with headless Chromium")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return badUsage("docs")
	}
	if *langS != "" && *langS != "ja" && *langS != "en" {
		return usageError{msg.Sprintf("--lang は ja か en です(%q は使えません)", "--lang must be ja or en, not %q", *langS)}
	}
	set, files, err := buildDocuments(ctx, fs.config, *fromS, *toS)
	if err != nil {
		return err
	}
	if *langS != "" {
		var keep []documents.File
		for _, f := range files {
			if strings.Contains(f.Name, "."+*langS+".") {
				keep = append(keep, f)
			}
		}
		files = keep
	}
	if err := writeDocuments(ctx, c, *out, files, *withPDF); err != nil {
		return err
	}
	if len(set.Missing) > 0 {
		// On stderr: the list of files on stdout stays a list of files.
		s := c.errs
		s.say(msg.Sprintf("未記入の項目が %d 件あります(設定の documents で記入してください):", "%d fields are not filled in (set them under documents in the configuration):", len(set.Missing)))
		for _, m := range set.Missing {
			s.line("  " + m.Localize(s.lang))
		}
	}
	return nil
}

// buildDocuments makes every document from the configuration at cfgPath,
// its ledger for the period, its newest self-scan and the page's
// certificate beside it.
func buildDocuments(ctx context.Context, cfgPath, from, to string) (*documents.Set, []documents.File, error) {
	cfg, _, err := config.LoadUnfinished(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	start, end, err := documents.Period(cfg.TimeZone, from, to, time.Now())
	if err != nil {
		return nil, nil, usageError{msg.TextOf(err)}
	}
	in, err := documents.Gather(ctx, cfg, start, end, time.Now())
	if err != nil {
		return nil, nil, err
	}
	in.Scan, in.ScanErr = documents.LatestScan(filepath.Dir(cfgPath), cfg)
	// The page's certificate lives beside the configuration on the appliance.
	if fp, err := web.Fingerprint(filepath.Join(filepath.Dir(cfgPath), "tls")); err == nil {
		in.CertFingerprint = fp
	}
	set, err := documents.Build(in)
	if err != nil {
		return nil, nil, err
	}
	files, err := set.Files()
	if err != nil {
		return nil, nil, err
	}
	return set, files, nil
}

// writeDocuments writes files into dir, with a PDF of each HTML document
// when withPDF, and lists on stdout what it wrote.
func writeDocuments(ctx context.Context, c *cli, dir string, files []documents.File, withPDF bool) error {
	var printer documents.PDFPrinter // nil: no PDF
	if withPDF {
		tmp, err := os.MkdirTemp("", "danzen-chromium-")
		if err != nil {
			return err
		}
		defer func() {
			if err := os.RemoveAll(tmp); err != nil {
				c.log.Warn("cannot remove Chromium's temporary profile", "dir", tmp, "err", err)
			}
		}()
		p, err := pdf.NewPrinter(ctx, pdf.FindChromium(), tmp)
		if err != nil {
			return err
		}
		defer p.Close()
		printer = p
	}
	names, err := documents.WriteAll(ctx, dir, files, printer)
	for _, n := range names {
		c.out.line(filepath.Join(dir, n))
	}
	return err
}

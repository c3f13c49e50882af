package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/web"
)

// runDocs: `danzen docs` writes the plan, annex, runbook, recovery sheet
// and evidence report from a configuration and its ledger.
func runDocs(ctx context.Context, _ *slog.Logger, args []string) error {
	fs := newFlags("docs")
	out := fs.String("out", "", "output directory")
	fromS := fs.String("from", "", "evidence period start, YYYY-MM-DD in the configuration's time zone (default: 30 days before --to)")
	toS := fs.String("to", "", "evidence period end, YYYY-MM-DD, not included (default: tomorrow, so today is included)")
	langS := fs.String("lang", "", "ja or en (default: both)")
	pdf := fs.Bool("pdf", false, "also print every document to PDF with headless Chromium")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"usage: danzen docs --config FILE --out DIR [--from DATE --to DATE] [--lang ja|en] [--pdf]"}
	}
	if *langS != "" && *langS != "ja" && *langS != "en" {
		return usageError{fmt.Sprintf("--lang は ja か en です / --lang must be ja or en, not %q", *langS)}
	}
	cfg, err := config.Load(fs.config)
	if err != nil {
		return err
	}
	from, to, err := documents.Period(cfg.TimeZone, *fromS, *toS, time.Now())
	if err != nil {
		return usageError{err.Error()}
	}
	in, err := documents.Gather(ctx, cfg, from, to, time.Now())
	if err != nil {
		return err
	}
	in.Scan, in.ScanErr = documents.LatestScan(filepath.Dir(fs.config), cfg)
	// The page's certificate lives beside the configuration on the appliance.
	if fp, err := web.Fingerprint(filepath.Join(filepath.Dir(fs.config), "tls")); err == nil {
		in.CertFingerprint = fp
	}
	set, err := documents.Build(in)
	if err != nil {
		return err
	}
	files, err := set.Files()
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
	var printer *documents.Printer
	if *pdf {
		tmp, err := os.MkdirTemp("", "danzen-chromium-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if printer, err = documents.NewPrinter(ctx, documents.FindChromium(), tmp); err != nil {
			return err
		}
		defer printer.Close()
	}
	names, err := documents.WriteAll(ctx, *out, files, printer)
	for _, n := range names {
		fmt.Println(filepath.Join(*out, n))
	}
	if err != nil {
		return err
	}
	if len(set.Missing) > 0 {
		fmt.Fprintf(os.Stderr, "未記入の項目が %d 件あります(設定の documents で記入してください) / %d fields are not filled in (set them under documents in the configuration):\n", len(set.Missing), len(set.Missing))
		for _, m := range set.Missing {
			fmt.Fprintln(os.Stderr, "  "+m.String())
		}
	}
	return nil
}

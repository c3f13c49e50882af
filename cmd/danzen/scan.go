package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// runScan: `danzen scan` scans the connection points of the register, or
// imports and exports the register as CSV.
func runScan(ctx context.Context, c *cli, args []string) (err error) {
	fs := newFlags("scan")
	fs.Lookup("config").Usage += " (its scan section)"
	format := fs.String("format", "text", "report on stdout: text, html, csv or json")
	ports := fs.String("ports", "", "TCP ports instead of the configured ones (e.g. 1-1024,3389)")
	importCSV := fs.String("import-csv", "", "replace the register with this CSV (回線・機器情報記入シート) and exit")
	exportCSV := fs.String("export-csv", "", "write the register as CSV to this file (- for stdout) and exit")
	csvEncoding := fs.String("csv-encoding", "utf-8", "--export-csv in utf-8 (with a byte order mark, for Excel) or cp932 (Shift_JIS)")
	cfg, err := fs.loadUnfinished(args)
	if err != nil {
		return err
	}
	c.inZone(cfg)
	regPath, _ := netprobe.Files(fs.config, cfg.Scan)
	switch {
	case *importCSV != "":
		return importRegister(c.out, *importCSV, regPath, cfg.Scan)
	case *exportCSV != "":
		enc, err := register.ParseEncoding(*csvEncoding)
		if err != nil {
			return usageError{msg.TextOf(msg.Wrap(err, "--csv-encoding", "--csv-encoding"))}
		}
		return exportRegister(c.out, regPath, *exportCSV, enc)
	}
	write := map[string]func(*netprobe.Report, io.Writer) error{
		"text": c.out.scanReport, "html": c.out.scanPage, "csv": (*netprobe.Report).WriteCSV, "json": (*netprobe.Report).WriteJSON,
	}[*format]
	if write == nil {
		return usageError{msg.T("--format は text, html, csv, json のいずれかです", "--format is text, html, csv or json")}
	}
	if *ports != "" {
		if _, err := config.ParsePorts(*ports); err != nil {
			return usageError{msg.TextOf(msg.Wrap(err, "--ports", "--ports"))}
		}
		cfg.Scan.TCPPorts = *ports
	}
	// Through the gateway, like the page's and the schedule's scans: it
	// waits for a running job, records the scan in the ledger and alerts
	// new 注意 findings. ConfigPath puts the register and reports beside
	// the configuration file.
	g, err := gateway.Open(ctx, cfg, gateway.Options{Logger: c.log, ConfigPath: fs.config})
	if errors.Is(err, ledger.ErrInUse) {
		return msg.Errorf("%w\ndanzend が動作中なら、ページの「自己診断」(/scan)の「今すぐ調査」で調査してください",
			"%w\nif danzend is running, scan from the page instead: Self-scan (/scan), \"Scan now\"", err)
	}
	if err != nil {
		return err
	}
	defer closeGateway(g, &err)
	r, err := g.Scan(ctx, "cli")
	if err != nil {
		return err
	}
	if err := write(r, c.out.w); err != nil {
		return err
	}
	_, dir := netprobe.Files(fs.config, cfg.Scan)
	c.errs.say(msg.Sprintf("保存先: %s(注意 %d 件)", "saved in: %s (注意: %d)", dir, r.Cautions()))
	return nil
}

// importRegister replaces the register at regPath with the CSV in file.
func importRegister(s *screen, file, regPath string, sc config.Scan) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	reg, err := register.ReadCSV(f)
	// Read-only: closing cannot lose what was read.
	_ = f.Close()
	if err != nil {
		return msg.Errorf("%s: %w", "%s: %w", file, err)
	}
	if err := netprobe.CheckAddresses(reg, sc); err != nil {
		return msg.Errorf("%s: %w", "%s: %w", file, err)
	}
	if err := register.Save(regPath, reg); err != nil {
		return err
	}
	s.say(msg.Sprintf("接続点 %d 件を %s に登録しました", "%d connection points saved to %s", len(reg.Points), regPath))
	return nil
}

// exportRegister writes the register at regPath as CSV in enc to file
// ("-" is stdout).
func exportRegister(s *screen, regPath, file string, enc register.Encoding) error {
	reg, err := register.Load(regPath)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := register.WriteCSVAs(&b, reg, enc); err != nil {
		return err
	}
	if file == "-" {
		s.write(b.String())
		return nil
	}
	return atomicfile.Write(file, []byte(b.String()), 0o644)
}

// scanPage writes r as the standalone page, its times in the screen's zone.
func (s *screen) scanPage(r *netprobe.Report, w io.Writer) error { return r.WriteHTML(w, s.zone) }

// scanReport writes r as text in the screen's language.
func (s *screen) scanReport(r *netprobe.Report, _ io.Writer) error {
	s.say(msg.Sprintf("外部ネットワーク接続点 調査結果(%s、脆弱性情報 %s)", "external connection points (%s, feed %s)",
		s.zone.Minute(r.Started), r.FeedDate))
	for _, row := range r.Rows() {
		s.line(fmt.Sprintf("%d | %s | %s | %s | %s", row.No, row.ID, row.Device, row.Addresses, row.Attention))
		for _, l := range row.Lines {
			if s.lang == msg.Both {
				s.line("    " + l.JA + "\n    " + l.EN)
			} else {
				s.sayf("    ", l)
			}
		}
	}
	if d := r.Changes; d != nil {
		s.say(msg.Sprintf("前回(%s)から: 開いた %d、閉じた %d、新しい注意 %d、解消 %d", "since %s: opened %d, closed %d, new 注意 %d, resolved %d",
			s.zone.Minute(d.Previous), len(d.Opened), len(d.Closed), len(d.NewCautions), len(d.Resolved)))
	}
	return s.err
}
